"""Node reports (PRD 8.3 step 3): progress, logs, results of install/wipe runs.

The caller is authenticated by its node token before anything here runs. Each status
is allowed only from the states where it makes sense; the resulting transition goes
through the lifecycle table like any other. A discovered node (inventory boot) may
report only ``inventoried``, once (services/inventory.py); every other status is a 409.
``ready`` (an agent up with sshd, for a workflow that is a playbook) starts the run's job
(jobs/provision.py); the job, not the agent, then reports the outcome.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import lifecycle
from ..errors import Conflict, Forbidden
from ..models import Log, Node
from . import inventory
from .nodes import TransitionContext, transition

S = lifecycle.State
#: (node state, reported status) -> target state (None: progress only, no transition)
REPORT_TABLE: dict[tuple[str, str], str | None] = {
    (S.INSTALLING, "installing"): None,
    (S.INSTALLING, "installed"): S.INSTALLED,
    (S.INSTALLING, "failed"): S.FAILED,
    (S.DEPROVISIONING, "installing"): None,  # progress of the wipe
    (S.DEPROVISIONING, "wiped"): S.RETIRED,
    (S.DEPROVISIONING, "failed"): S.FAILED,
    (S.MIGRATING, "installing"): None,
    (S.MIGRATING, "migrated"): S.DEPROVISIONING,
    (S.MIGRATING, "failed"): S.FAILED,
}
READY = "ready"
STATUSES = ("installing", "installed", "failed", "wiped", "migrated", READY, inventory.STATUS)


def apply_report(session: Session, node: Node, data: dict[str, Any], *, log_cap: int,
                 settings=None) -> dict[str, Any]:
    if data.get("node_id") is not None and data["node_id"] != node.id:
        raise Forbidden("this token belongs to another node")
    status = data["status"]
    if node.state in inventory.STATES and status == inventory.STATUS:
        # The only report of a discovered node (inventory-scope token): no transition.
        inventory.apply(session, node, data)
        return _commit(session, node, store_logs(session, node.id, data.get("logs") or [], log_cap))
    if status == READY:
        return _ready(session, settings, node, data, log_cap)
    key = (node.state, status)
    if key not in REPORT_TABLE:
        raise Conflict(f"status {status!r} cannot be reported by a node in state {node.state}",
                       state=node.state)
    if "progress" in data:
        node.install_progress = data["progress"]
    if data.get("phase"):
        node.install_phase = data["phase"]
    if data.get("hardware"):
        node.hardware = {**(node.hardware or {}), **data["hardware"]}
    dropped = store_logs(session, node.id, data.get("logs") or [], log_cap)
    target = REPORT_TABLE[key]
    if target is not None:
        details = {"report": {k: data[k] for k in ("phase", "progress", "message") if k in data}}
        if data.get("evidence"):
            details["evidence"] = data["evidence"]
        reason = data.get("message") or f"node reported {status}"
        transition(session, node, target, TransitionContext("node", reason, details=details), commit=False)
    return _commit(session, node, dropped)


def _ready(session: Session, settings, node: Node, data: dict[str, Any], log_cap: int) -> dict[str, Any]:
    from ..jobs import provision  # the job system imports services: import it when used
    address, host_key = provision.check_ready(data.get("address"), data.get("host_key"))
    job = provision.on_ready(session, settings, node, address, host_key)
    node.install_phase = "ready"
    dropped = store_logs(session, node.id, data.get("logs") or [], log_cap)
    return {**_commit(session, node, dropped), "job_id": job.id}


def _commit(session: Session, node: Node, dropped: int) -> dict[str, Any]:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict(f"node {node.id} was changed meanwhile; send the report again",
                       code="concurrent_update") from None
    return {"node_id": node.id, "state": node.state, "progress": node.install_progress,
            "phase": node.install_phase, "logs_dropped_bytes": dropped}


def store_logs(session: Session, node_id: int, lines: list[str], cap: int) -> int:
    """Append `lines`, then drop the node's oldest lines beyond `cap` bytes; returns bytes dropped."""
    for line in lines:
        tail = line.encode("utf-8", "replace")[-cap:].decode("utf-8", "ignore")
        session.add(Log(node_id=node_id, level="info", source="node", message=tail, context={}))
    session.flush()
    rows = session.execute(select(Log.id, Log.message).where(Log.node_id == node_id)
                           .order_by(Log.id.desc())).all()
    total, drop, dropped = 0, [], 0
    for log_id, message in rows:
        size = len(message.encode("utf-8"))
        total += size
        if total > cap:
            drop.append(log_id)
            dropped += size
    if drop:
        session.execute(delete(Log).where(Log.id.in_(drop)))
    return dropped
