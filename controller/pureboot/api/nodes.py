"""/api/v1/nodes: the node registry and its lifecycle (PRD 8.1)."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import String, cast, select

from ..db import get_session
from ..errors import Conflict, Invalid
from ..lifecycle import State, allowed_targets, guards_for
from ..lifecycle import find as find_transition
from ..models import Node, NodeEvent, Workflow
from ..rbac import current_principal
from ..schemas.approvals import ApprovalOutput, DryRunArgs
from ..schemas.common import MacAddress
from ..schemas.nodes import NodeEventOutput, NodeInput, NodeOutput, NodePatch, NodeStateInfo, StateChange
from ..services import approvals as approval_service
from ..services import audit, inventory
from ..services import nodes as service
from ..services.nodes import TransitionContext
from .actor import current_actor
from . import etag
from .approvals import accepted
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("nodes", __name__, url_prefix="/api/v1/nodes", description="Node registry and lifecycle")

NODE_FILTERS = {
    "state": Filter(Node.state, fields.String(validate=validate.OneOf([s.value for s in State])),
                    lookups=("exact", "in")),
    "mac": Filter(Node.mac, MacAddress(), lookups=("exact", "icontains")),
    "hostname": Filter(Node.hostname, lookups=("exact", "icontains", "isnull")),
    "serial": Filter(Node.serial, lookups=("exact", "icontains")),
    "system_uuid": Filter(Node.system_uuid),
    "site": Filter(Node.site, lookups=("exact", "in", "isnull")),
    "arch": Filter(Node.arch, lookups=("exact", "in")),
    "firmware": Filter(Node.firmware),
    "platform": Filter(Node.platform, lookups=("exact", "in")),
    "workflow": Filter(Node.workflow_id, fields.Integer(), lookups=("exact", "isnull")),
    "ip_address": Filter(Node.ip_address, lookups=("exact", "icontains", "isnull")),
    "tag": Filter(Node.tags, apply=lambda stmt, tag: stmt.where(
        cast(Node.tags, String).like('%' + '"' + tag.replace('"', '') + '"' + '%'))),
}
NodeListArgs = list_args("NodeListArgs", NODE_FILTERS,
                         ("id", "mac", "hostname", "state", "site", "created_at", "updated_at", "last_seen_at"))
EventListArgs = list_args("NodeEventListArgs", {
    "action": Filter(NodeEvent.action, lookups=("exact", "in")),
    "to_state": Filter(NodeEvent.to_state),
    "actor": Filter(NodeEvent.actor, lookups=("exact", "icontains")),
}, ("id", "created_at"))


@blp.route("")
class NodeList(MethodView):
    @blp.arguments(NodeListArgs, location="query")
    @blp.response(200, page_schema(NodeOutput, "NodePage"))
    def get(self, args):
        """List nodes (filters: state, mac, hostname__icontains, site, tag, ...)"""
        session = get_session()
        stmt = apply_order(apply_filters(select(Node), args, NODE_FILTERS), Node, args.get("order_by"))
        return paginate(session, stmt, args)

    @blp.arguments(NodeInput)
    @blp.response(201, NodeOutput)
    @blp.alt_response(409, description="a node with this MAC exists")
    @etag.versioned
    def post(self, data):
        """Register a node (discovered, or pending when workflow_id is given)"""
        session = get_session()
        _check_workflow(session, data.get("workflow_id"))
        node = service.create_node(session, data, current_actor())
        session.commit()
        return node


@blp.route("/<int:node_id>")
class NodeItem(MethodView):
    @blp.response(200, NodeOutput)
    @etag.versioned
    def get(self, node_id):
        """Node details"""
        return service.get_node(get_session(), node_id)

    @blp.arguments(NodePatch)
    @blp.response(200, NodeOutput)
    @etag.versioned
    def patch(self, data, node_id):
        """Change a node's attributes (not its state: see /state)"""
        session = get_session()
        node = service.get_node(session, node_id)
        with etag.guarded(session, node):
            service.update_node(session, node, data)
            session.commit()
        return node

    @blp.response(200, NodeOutput)
    @etag.versioned
    def delete(self, node_id):
        """Retire a node; the record and its history are kept (PRD 8.1)"""
        session = get_session()
        node = service.get_node(session, node_id)
        if node.state != State.RETIRED:
            source = node.state
            with etag.guarded(session, node):
                service.transition(session, node, State.RETIRED,
                                   TransitionContext(current_actor(), "deleted via API"))
            audit.record("node.transition", target=("node", node.id),
                         details={"from": source, "to": node.state, "reason": "deleted via API"})
        return node


@blp.route("/<int:node_id>/state")
class NodeState(MethodView):
    @blp.response(200, NodeStateInfo)
    def get(self, node_id):
        """Current state and the states it may go to"""
        node = service.get_node(get_session(), node_id)
        return {"state": node.state, "allowed": allowed_targets(node.state)}

    @blp.arguments(StateChange)
    @blp.arguments(DryRunArgs, location="query", as_kwargs=True)
    @blp.response(200, NodeOutput)
    @blp.alt_response(202, schema=ApprovalOutput,
                      description="critical action (reprovision, deprovision, migrate): an approval "
                                  "request was created; a different approver must approve it")
    @blp.alt_response(409, description="transition not allowed from the current state")
    def patch(self, data, node_id, dry_run=False):
        """Transition a node (validated against the lifecycle table; critical ones need four-eye)"""
        session = get_session()
        node = service.get_node(session, node_id)
        params = {"workflow_id": data["workflow_id"]} if "workflow_id" in data else {}
        action = approval_service.node_action_for(node.state, data["state"])
        if dry_run:
            return jsonify(_state_dry_run(session, node, data, action, params))
        if action is not None:
            return accepted(approval_service.request_action(
                session, action, node.id, params, data.get("reason"), current_principal()))
        source = node.state
        service.transition(session, node, data["state"],
                           TransitionContext(current_actor(), data.get("reason"), params=params))
        audit.record("node.transition", target=("node", node.id),
                     details={"from": source, "to": node.state, "reason": data.get("reason")})
        return node


def _state_dry_run(session, node, data, action, params) -> dict:
    """What PATCH /state would do. Only the table and the guards run (never the effects,
    which may act outside the database); whatever a guard touched is rolled back."""
    if action is not None:
        return approval_service.dry_run(session, action, node.id, params)
    source = node.state
    step = find_transition(source, data["state"])
    if step is None:
        raise Conflict(f"node {node.id} cannot go from {source} to {data['state']}",
                       allowed=allowed_targets(source), state=source)
    ctx = TransitionContext(current_actor(), data.get("reason"), params=params)
    try:
        for check in guards_for(step):
            check(session, node, step, ctx)
    finally:
        session.rollback()
    return {"dry_run": True, "action": f"node.{step.action}", "target_type": "node", "target_id": str(node.id),
            "payload": {"from_state": source, "to_state": data["state"], **params},
            "summary": f"node {node.id}: {source} -> {data['state']} ({step.action})", "approval_required": False,
            "approver_roles": [], "expires_in": None}


@blp.route("/<int:node_id>/inventory")
class NodeInventory(MethodView):
    @blp.response(200, NodeOutput)
    @blp.alt_response(409, description="the node is not discovered (only discovered nodes are inventoried)")
    def post(self, node_id):
        """Ask for a fresh hardware inventory: the node's next network boot runs the agent's inventory"""
        session = get_session()
        node = service.get_node(session, node_id)
        inventory.request_inventory(session, node, current_actor())
        audit.record("node.inventory", target=("node", node.id), details={"state": node.state}, session=session)
        service.save(session, node)
        return node


@blp.route("/<int:node_id>/events")
class NodeEvents(MethodView):
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, page_schema(NodeEventOutput, "NodeEventPage"))
    def get(self, args, node_id):
        """Transition history of a node, oldest first"""
        session = get_session()
        service.get_node(session, node_id)
        stmt = apply_filters(select(NodeEvent).where(NodeEvent.node_id == node_id), args, EventListArgs.filters)
        stmt = apply_order(stmt, NodeEvent, args.get("order_by"))
        return paginate(session, stmt, args)


def _check_workflow(session, workflow_id) -> None:
    if workflow_id is not None and session.get(Workflow, workflow_id) is None:
        raise Invalid("unknown workflow", errors={"workflow_id": [f"workflow {workflow_id} does not exist"]})
