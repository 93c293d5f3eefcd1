"""Discovery inventory (MAAS "commissioning", adapted): a discovered node boots the agent
once, which posts its hardware facts and powers off (or reboots).

* "collected" is the key MARKER in the node's ``hardware`` JSON, set here when the
  inventory report is stored; no column. A discovered node without it boots the agent
  in inventory mode (boot/decision.py); with it, it boots local and waits for an admin.
* The agent's token for this boot has inventory scope (services/tokens.py): the only
  report it can make is ``status: inventoried``, accepted once; storing it kills the token.
* An admin asks for a fresh inventory with :func:`request_inventory` (clears MARKER).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import lifecycle
from ..config import Settings
from ..errors import Conflict, Invalid
from ..models import Node, NodeEvent, utcnow
from ..shared import boot_decision
from . import tokens

MARKER = boot_decision.INVENTORY_MARKER
STATUS = "inventoried"
STATES = (lifecycle.State.DISCOVERED.value,)  # where an inventory boot happens


def collected(node: Node | None) -> bool:
    return node is not None and bool((node.hardware or {}).get(MARKER))


def agent_tasks(settings: Settings) -> list[dict[str, Any]]:
    """The task list /api/v1/next hands an inventorying agent: inventory, then power off
    (or reboot) as ``discovery_after_inventory`` says."""
    return [{"type": "inventory"},
            {"type": "reboot", "poweroff": settings.discovery_after_inventory == "poweroff"}]


def apply(session: Session, node: Node, data: dict[str, Any]) -> None:
    """Store the facts of an inventory report (not committed). The caller checked the token."""
    if node.state not in STATES:
        raise Conflict(f"status {STATUS!r} cannot be reported by a node in state {node.state}",
                       state=node.state)
    if collected(node):
        raise Conflict(f"node {node.id} already has its inventory (taken {node.hardware[MARKER]}); "
                       "an admin can ask for a new one (POST /api/v1/nodes/{id}/inventory)",
                       code="already_inventoried", state=node.state)
    facts = data.get("hardware")
    if not facts:
        raise Invalid("an inventory report needs the hardware facts",
                      errors={"hardware": ["required with status inventoried"]})
    collected_at = utcnow().isoformat()
    # The new facts replace the old ones: a disk that was pulled must not linger.
    node.hardware = {**facts, MARKER: collected_at}
    summary = {"cpu_threads": (facts.get("cpu") or {}).get("threads"), "memory_bytes": facts.get("memory_bytes"),
               "disks": len(facts.get("disks") or []), "nics": len(facts.get("nics") or []),
               "firmware": facts.get("firmware")}
    session.add(NodeEvent(node_id=node.id, from_state=node.state, to_state=node.state, action="inventory",
                          actor="node", reason=data.get("message") or "hardware inventory collected",
                          details={"inventory": summary, "collected_at": collected_at}))
    tokens.revoke_token(node)  # one inventory per boot: the token has done its job


def request_inventory(session: Session, node: Node, actor: str) -> None:
    """Clear MARKER so the node's next network boot inventories again (not committed)."""
    if node.state not in STATES:
        raise Conflict(f"node {node.id} is {node.state}: only a discovered node can be inventoried",
                       code="invalid_state", state=node.state, allowed=list(STATES))
    hardware = dict(node.hardware or {})
    previous = hardware.pop(MARKER, None)
    node.hardware = hardware  # the old facts stay visible until the new ones arrive
    session.add(NodeEvent(node_id=node.id, from_state=node.state, to_state=node.state,
                          action="inventory_request", actor=actor, reason="new inventory requested",
                          details={"previous": previous}))
