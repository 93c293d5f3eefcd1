"""Four-eye approvals (PRD 12.2): critical actions wait for a different approver.

* A request records action, target, payload, reason, requester and an expiry
  (``approval_window`` seconds, per action via ``approval_windows``).
* Only a user whose role is in ``approver_roles`` and who is NOT the requester may approve
  or deny; the check is on the server and cannot be skipped.
* Approving claims the request with one conditional UPDATE (pending -> approved, not
  expired, not by the requester): of two simultaneous approvals exactly one matches a row,
  so the action executes once.
* Expired requests never execute; they are marked expired when next touched.

Actions register an executor with :func:`action`; the node lifecycle's approval
transitions (reprovision, deprovision, migrate) are built in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import events, lifecycle, rbac
from ..config import Settings
from ..errors import Conflict, Forbidden, Invalid, NotFound, PureBootError
from ..models import Approval, utcnow
from ..secrets import box
from . import audit
from . import nodes as node_service


@dataclass
class Plan:
    """What a request would do: validated target/payload and a sentence for humans."""

    target_type: str
    target_id: str | None
    payload: dict[str, Any]
    summary: str


@dataclass(frozen=True)
class Action:
    name: str
    prepare: Callable[[Session, Any, dict[str, Any]], Plan]  # validate at request time
    execute: Callable[[Session, Approval, "rbac.Principal"], dict[str, Any]]


ACTIONS: dict[str, Action] = {}


def action(name: str, prepare, execute) -> None:
    """Register a four-eye action (other modules add theirs, e.g. credential.update)."""
    ACTIONS[name] = Action(name, prepare, execute)


def window_for(settings: Settings, name: str) -> int:
    for item in settings.approval_windows.split(","):
        key, _, value = item.partition("=")
        if key.strip() == name and value.strip().isdigit():
            return int(value)
    return settings.approval_window


# -- requesting -----------------------------------------------------------------------------

def plan(session: Session, name: str, target_id: Any, payload: dict[str, Any]) -> Plan:
    spec = ACTIONS.get(name)
    if spec is None:
        raise Invalid(f"unknown action {name}", errors={"action": [f"one of {', '.join(sorted(ACTIONS))}"]})
    return spec.prepare(session, target_id, payload or {})


def request_action(session: Session, name: str, target_id: Any, payload: dict[str, Any] | None,
                   reason: str | None, principal: rbac.Principal, *, secret: Any = None) -> Approval:
    """Create a pending approval; commits. `secret` is stored encrypted and never returned."""
    needed = rbac.ACTION_PERMISSIONS.get(name)
    if needed and not rbac.can(needed):
        raise Forbidden(f"role {principal.role} may not request {name}", code="forbidden", needs=needed)
    planned = plan(session, name, target_id, payload or {})
    settings = current_app.config["PUREBOOT"]
    now = utcnow()
    row = Approval(action=name, target_type=planned.target_type, target_id=planned.target_id,
                   payload=planned.payload, reason=reason, status="pending", requester=principal.username,
                   requester_id=principal.id, created_at=now,
                   expires_at=now + timedelta(seconds=window_for(settings, name)),
                   secret_payload_encrypted=box().encrypt_json(secret) if secret is not None else None)
    session.add(row)
    session.flush()
    audit.record("approval.request", target=("approval", row.id), session=session,
                 details={"action": name, "target": [planned.target_type, planned.target_id],
                          "summary": planned.summary, "reason": reason})
    _publish(session, row, "pending")
    session.commit()
    return row


def dry_run(session: Session, name: str, target_id: Any, payload: dict[str, Any] | None) -> dict[str, Any]:
    planned = plan(session, name, target_id, payload or {})
    settings = current_app.config["PUREBOOT"]
    return {"dry_run": True, "action": name, "target_type": planned.target_type,
            "target_id": planned.target_id, "payload": planned.payload, "summary": planned.summary,
            "approval_required": True, "approver_roles": sorted(rbac.approver_roles()),
            "expires_in": window_for(settings, name)}


# -- deciding ---------------------------------------------------------------------------------

def get(session: Session, approval_id: int) -> Approval:
    row = session.get(Approval, approval_id)
    if row is None:
        raise NotFound(f"approval {approval_id} not found")
    return row


def expire_stale(session: Session) -> int:
    """Mark every pending request past its window expired (they can never execute)."""
    result = session.execute(update(Approval).where(Approval.status == "pending", Approval.expires_at <= utcnow())
                             .values(status="expired"))
    session.commit()  # always: even a no-op UPDATE holds SQLite's write lock until the transaction ends
    return result.rowcount


def _is_requester(row: Approval, principal: rbac.Principal) -> bool:
    same_id = row.requester_id is not None and row.requester_id == principal.id
    return same_id or row.requester == principal.username


def _refuse_if_not_pending(session: Session, row: Approval) -> None:
    if row.status == "pending" and row.expires_at <= utcnow():
        expire_stale(session)
        session.refresh(row)
    if row.status == "expired":
        raise Conflict(f"approval {row.id} expired at {row.expires_at.isoformat()}; request it again",
                       code="approval_expired", approval_status=row.status)
    if row.status != "pending":
        raise Conflict(f"approval {row.id} is already {row.status}", code="approval_decided",
                       approval_status=row.status)


def _claim(session: Session, row: Approval, principal: rbac.Principal, status: str, comment: str | None) -> bool:
    """pending -> status, atomically; False when someone else decided first or it expired."""
    now = utcnow()
    stmt = (update(Approval)
            .where(Approval.id == row.id, Approval.status == "pending", Approval.expires_at > now,
                   Approval.requester != principal.username)
            .values(status=status, approver=principal.username, approver_id=principal.id,
                    decided_at=now, comment=comment))
    claimed = session.execute(stmt).rowcount == 1
    if claimed:
        _publish(session, row, status, principal.username)
    session.commit()
    session.refresh(row)
    return claimed


def _check_decider(session: Session, row: Approval, principal: rbac.Principal) -> None:
    if _is_requester(row, principal):
        audit.record("approval.self_approval", target=("approval", row.id), outcome="denied",
                     details={"action": row.action})
        raise Forbidden("you requested this action: a different person must approve or deny it (four-eye)",
                        code="self_approval")
    _refuse_if_not_pending(session, row)


def approve(session: Session, approval_id: int, principal: rbac.Principal, comment: str | None = None) -> Approval:
    row = get(session, approval_id)
    _check_decider(session, row, principal)
    if not _claim(session, row, principal, "approved", comment):
        _refuse_if_not_pending(session, row)  # raises with what happened instead
    audit.record("approval.approve", target=("approval", row.id), details={"action": row.action})
    return _execute(session, row, principal)


def deny(session: Session, approval_id: int, principal: rbac.Principal, comment: str | None = None) -> Approval:
    row = get(session, approval_id)
    _check_decider(session, row, principal)
    if not _claim(session, row, principal, "denied", comment):
        _refuse_if_not_pending(session, row)
    audit.record("approval.deny", target=("approval", row.id), details={"action": row.action, "comment": comment})
    return row


def cancel(session: Session, approval_id: int, principal: rbac.Principal) -> Approval:
    row = get(session, approval_id)
    if not _is_requester(row, principal) and principal.role != "admin":
        raise Forbidden("only the requester (or an admin) may cancel a request", code="forbidden")
    _refuse_if_not_pending(session, row)
    done = session.execute(update(Approval).where(Approval.id == row.id, Approval.status == "pending")
                           .values(status="cancelled", decided_at=utcnow())).rowcount
    if done:
        _publish(session, row, "cancelled")
    session.commit()
    session.refresh(row)
    if not done:
        _refuse_if_not_pending(session, row)
    audit.record("approval.cancel", target=("approval", row.id), details={"action": row.action})
    return row


def _execute(session: Session, row: Approval, principal: rbac.Principal) -> Approval:
    """Run the claimed action once; the outcome lands on the approval and in the audit log."""
    try:
        result = ACTIONS[row.action].execute(session, row, principal)
        row.status, row.result, row.executed_at = "executed", result, utcnow()
        audit.record("approval.execute", target=("approval", row.id), session=session,
                     details={"action": row.action, "target": [row.target_type, row.target_id],
                              "requester": row.requester, "approver": principal.username, "result": result})
        _publish(session, row, "executed", principal.username)
        session.commit()
    except (PureBootError, StaleDataError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, PureBootError) else "the target changed concurrently"
        if session.execute(update(Approval).where(Approval.id == row.id, Approval.status == "approved")
                           .values(status="failed", error=message, executed_at=utcnow())).rowcount:
            _publish(session, row, "failed", principal.username)
        session.commit()
        session.refresh(row)
        audit.record("approval.execute", target=("approval", row.id), outcome="failure",
                     details={"action": row.action, "error": message})
    return row


def _publish(session: Session, row: Approval, status: str, approver: str | None = None) -> None:
    """An approval.status event with the change (ids and names only: no payload, no secret)."""
    node_id = int(row.target_id) if row.target_type == "node" and str(row.target_id).isdigit() else None
    events.publish(session, "approval.status", {
        "approval_id": row.id, "action": row.action, "status": status, "target_type": row.target_type,
        "target_id": row.target_id, "node_id": node_id, "requester": row.requester, "approver": approver})


def pending_for(session: Session, target_type: str, target_id: Any) -> list[Approval]:
    expire_stale(session)
    return list(session.scalars(select(Approval).where(
        Approval.target_type == target_type, Approval.target_id == str(target_id),
        Approval.status == "pending").order_by(Approval.id)))


# -- built-in actions: lifecycle transitions that need approval ---------------------------------

def _node_prepare(lifecycle_action: str):
    def prepare(session: Session, target_id: Any, payload: dict[str, Any]) -> Plan:
        try:
            node = node_service.get_node(session, int(target_id))
        except (TypeError, ValueError):
            raise Invalid("target_id must be a node id", errors={"target_id": ["a node id"]}) from None
        step = next((t for t in lifecycle.TRANSITIONS if t.source == node.state
                     and t.action == lifecycle_action and t.approval), None)
        if step is None:
            raise Conflict(f"node {node.id} in state {node.state} cannot {lifecycle_action}",
                           allowed=lifecycle.allowed_targets(node.state), state=node.state)
        data = {"from_state": node.state, "to_state": step.target.value}
        if payload.get("workflow_id") is not None:
            data["workflow_id"] = int(payload["workflow_id"])
        return Plan("node", str(node.id), data,
                    f"node {node.id} ({node.hostname or node.mac}): {node.state} -> {step.target.value} "
                    f"({lifecycle_action})")
    return prepare


def _node_execute(session: Session, row: Approval, principal: rbac.Principal) -> dict[str, Any]:
    node = node_service.get_node(session, int(row.target_id))
    if node.state != row.payload["from_state"]:
        raise Conflict(f"node {node.id} is now {node.state}, not {row.payload['from_state']} as when requested")
    params = {"workflow_id": row.payload["workflow_id"]} if "workflow_id" in row.payload else {}
    ctx = node_service.TransitionContext(
        principal.username, row.reason, approved=True, params=params,
        details={"approval": {"id": row.id, "requested_by": row.requester, "approved_by": principal.username}})
    node_service.transition(session, node, row.payload["to_state"], ctx, commit=False)
    session.flush()
    return {"node": node.id, "from": row.payload["from_state"], "to": node.state}


for _name in sorted({t.action for t in lifecycle.TRANSITIONS if t.approval}):
    action(f"node.{_name}", _node_prepare(_name), _node_execute)


def node_action_for(source: str, target: str) -> str | None:
    """The approval action name of the lifecycle step source -> target, if it needs one."""
    step = lifecycle.find(source, target)
    return f"node.{step.action}" if step is not None and step.approval else None
