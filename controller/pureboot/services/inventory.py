"""Discovery inventory (MAAS "commissioning", adapted): a discovered node boots the agent
once; the provisioning job runs the stock ``pureboot.pureboot.inventory`` playbook on it
and stores the facts it publishes (jobs/provision.py); the agent then powers off (or
reboots, setting ``discovery_after_inventory``).

* "collected" is the key MARKER in the node's ``hardware`` JSON, set here when the
  inventory report is stored; no column. A discovered node without it boots the agent
  in inventory mode (boot/decision.py); with it, it boots local and waits for an admin.
* The agent's token for this boot has inventory scope (services/tokens.py): it may report
  ``ready`` (which starts the job) and ``status: inventoried`` (facts gathered by another
  agent), once; storing the facts, or the job failing, kills the token.
* An admin asks for a fresh inventory with :func:`request_inventory` (clears MARKER).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import lifecycle
from ..errors import Conflict, Invalid
from ..models import Node, NodeEvent, utcnow
from ..shared import boot_decision
from . import tokens

MARKER = boot_decision.INVENTORY_MARKER
STATUS = "inventoried"
STATES = (lifecycle.State.DISCOVERED.value,)  # where an inventory boot happens


def collected(node: Node | None) -> bool:
    return node is not None and bool((node.hardware or {}).get(MARKER))


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
    store_facts(session, node, facts, actor="node", reason=data.get("message") or "hardware inventory collected")


def summary(facts: dict[str, Any]) -> dict[str, Any]:
    """The event's digest of the facts (pureboot.pureboot.hardware_facts' shape)."""
    return {"cpu_threads": (facts.get("cpu") or {}).get("count"),
            "memory_bytes": (facts.get("memory") or {}).get("total_bytes"),
            "disks": len(facts.get("disks") or []), "nics": len(facts.get("nics") or []),
            "firmware": (facts.get("firmware") or {}).get("mode")}


def store_facts(session: Session, node: Node, facts: dict[str, Any], *, actor: str, reason: str) -> None:
    """Replace the node's facts with an inventory's (not committed) and end its inventory boot."""
    collected_at = utcnow().isoformat()
    # The new facts replace the old ones: a disk that was pulled must not linger.
    node.hardware = {**facts, MARKER: collected_at}
    session.add(NodeEvent(node_id=node.id, from_state=node.state, to_state=node.state, action="inventory",
                          actor=actor, reason=reason,
                          details={"inventory": summary(facts), "collected_at": collected_at}))
    end_inventory(node)


def end_inventory(node: Node) -> None:
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
