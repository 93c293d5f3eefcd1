"""Node registry operations: lookup, registration and lifecycle transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import (
    collection,  # noqa: F401  (makes module_utils importable)
    events,
    lifecycle,
)
from ..errors import Conflict, Invalid, NotFound
from ..models import Node, NodeEvent, Workflow, utcnow
from ..shared import mac


@dataclass
class TransitionContext:
    """Who asks for a transition and why; effects may add details for the event."""

    actor: str
    reason: str | None = None
    approved: bool = False  # set only by an executed four-eye approval
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def get_node(session: Session, node_id: int) -> Node:
    node = session.get(Node, node_id)
    if node is None:
        raise NotFound(f"node {node_id} not found")
    return node


def find_by_mac(session: Session, address: str) -> Node | None:
    return session.scalars(select(Node).where(Node.mac == mac.normalize_mac(address))).first()


def _mac_taken(address: str) -> Conflict:
    return Conflict(f"a node with MAC {address} already exists", errors={"mac": ["already registered"]})


def create_node(session: Session, data: dict[str, Any], actor: str) -> Node:
    """Register a node. It starts discovered, or pending when a workflow is given."""
    data = dict(data)
    data["mac"] = mac.normalize_mac(data["mac"])
    reserved = mac.reserved_reason(data["mac"])
    if reserved:  # every way in (API, check-in, modules) registers through here
        raise Invalid(f"cannot register {data['mac']}: {reserved}", errors={"mac": [reserved]})
    workflow_id = data.pop("workflow_id", None)
    node = Node(**{"hardware": {}, "tags": [], **data, "state": lifecycle.State.DISCOVERED.value})
    session.add(node)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _mac_taken(data["mac"]) from None
    session.add(NodeEvent(node_id=node.id, from_state=None, to_state=node.state, action="register",
                          actor=actor, details={}))
    if workflow_id is not None:
        node.workflow_id = workflow_id
        transition(session, node, lifecycle.State.PENDING.value, TransitionContext(actor, "registered with a workflow"),
                   commit=False)
    return node


def transition(session: Session, node: Node, target: str, ctx: TransitionContext,
               *, commit: bool = True) -> NodeEvent:
    """Move `node` to `target` in one database transaction, or raise Conflict.

    The node row carries a version counter: if another request changed it since we
    read it, the UPDATE matches no row and this call fails with 409 instead of
    overwriting the other change.
    """
    source = node.state
    step = lifecycle.find(source, target)
    if step is None:
        raise Conflict(f"node {node.id} cannot go from {source} to {target}",
                       allowed=lifecycle.allowed_targets(source), state=source)
    if step.approval and not ctx.approved:
        raise Conflict(f"{step.action} ({source} -> {target}) is a critical action: "
                       "it needs a second person's approval (POST /api/v1/approvals)",
                       code="approval_required", action=step.action,
                       allowed=lifecycle.allowed_targets(source), state=source)
    for check in lifecycle.guards_for(step):
        check(session, node, step, ctx)
    node.state = step.target.value
    node.state_reason = ctx.reason
    node.state_changed_at = utcnow()
    for run in lifecycle.effects_for(step):
        run(session, node, step, ctx)
    event = NodeEvent(node_id=node.id, from_state=source, to_state=node.state, action=step.action,
                      actor=ctx.actor, reason=ctx.reason, details=ctx.details)
    session.add(event)
    # In the same transaction: the event exists if and only if the transition commits.
    events.publish(session, "node.state", {"node_id": node.id, "from": source, "to": node.state,
                                           "action": step.action, "actor": ctx.actor, "reason": ctx.reason})
    if commit:
        _write(session, node, session.commit)
    return event


def save(session: Session, node: Node) -> None:
    """Commit a change of `node`; someone else's concurrent change of it becomes a 409."""
    _write(session, node, session.commit)


def _write(session: Session, node: Node, write) -> None:
    """Flush or commit; a concurrent change of the node (version mismatch) becomes a 409."""
    try:
        write()
    except StaleDataError:
        session.rollback()
        raise Conflict(f"node {node.id} was changed by someone else; reload and retry",
                       code="concurrent_update") from None


# -- built-in guards and effects ---------------------------------------------------------

@lifecycle.guard("has_workflow")
def _has_workflow(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    workflow_id = ctx.params.get("workflow_id", node.workflow_id)
    if workflow_id is None:
        raise Invalid(f"{step.action} needs a workflow: set workflow_id first or pass it with the transition",
                      errors={"workflow_id": ["required for this transition"]})
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or not workflow.active:
        raise Invalid(f"workflow {workflow_id} does not exist or is inactive",
                      errors={"workflow_id": ["unknown or inactive workflow"]})
    node.workflow_id = workflow.id


@lifecycle.effect("pin_workflow")
def _pin_workflow(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    """Pin the node to the workflow's current version and freeze that version."""
    version = session.get(Workflow, node.workflow_id).current
    version.in_use = True
    node.workflow_version_id = version.id
    ctx.details.setdefault("workflow", {"id": node.workflow_id, "version": version.version})


@lifecycle.effect("unpin_workflow")
def _unpin_workflow(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    node.workflow_id = None
    node.workflow_version_id = None


@lifecycle.effect("archive_config")
def _archive_config(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    """Reprovision keeps what the node was, in the event (PRD 6.2)."""
    version = node.workflow_version
    ctx.details["archived"] = {
        "workflow_id": version.workflow_id if version else None,
        "workflow_version": version.version if version else None,
        "hostname": node.hostname, "ip_address": node.ip_address,
        "hardware": node.hardware, "tags": node.tags,
    }
    node.install_progress = None
    node.install_phase = None


@lifecycle.effect("start_install")
def _start_install(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    node.install_progress = 0
    node.install_phase = "booting"


@lifecycle.effect("end_install")
def _end_install(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    if step.target == lifecycle.State.INSTALLED:
        node.install_progress = 100
        node.install_phase = "done"


lifecycle.check_hooks_registered()


def update_node(session: Session, node: Node, data: dict[str, Any]) -> None:
    """Apply a PATCH. Workflow changes are allowed only while nothing is being installed."""
    if "workflow_id" in data and data["workflow_id"] != node.workflow_id:
        if node.state not in (lifecycle.State.DISCOVERED, lifecycle.State.PENDING,
                              lifecycle.State.FAILED, lifecycle.State.RETIRED):
            raise Conflict(f"cannot change the workflow of a node in state {node.state}",
                           state=node.state)
        workflow_id = data.pop("workflow_id")
        if workflow_id is not None and session.get(Workflow, workflow_id) is None:
            raise Invalid("unknown workflow", errors={"workflow_id": [f"workflow {workflow_id} does not exist"]})
        if workflow_id is None and node.state == lifecycle.State.PENDING:
            raise Conflict("a pending node needs a workflow; move it back to discovered first", state=node.state)
        node.workflow_id = workflow_id
        if node.state == lifecycle.State.PENDING:
            _pin_workflow(session, node, None, TransitionContext("system"))
        else:
            node.workflow_version_id = None
    if "mac" in data:
        clash = find_by_mac(session, data["mac"])
        if clash is not None and clash.id != node.id:
            raise _mac_taken(data["mac"])
    for key, value in data.items():
        setattr(node, key, value)
    _write(session, node, session.flush)
