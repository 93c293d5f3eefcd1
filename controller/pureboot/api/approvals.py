"""/api/v1/approvals: four-eye requests; POST /api/v1/nodes/{id}/approve (PRD 8.1 alias)."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from .. import rbac
from ..db import get_session
from ..errors import Conflict, NotFound
from ..models import APPROVAL_STATUSES, Approval
from ..schemas.approvals import ApprovalInput, ApprovalOutput, DecisionInput, DryRunArgs, DryRunOutput, NodeApproveInput
from ..services import approvals as service
from ..services import (
    emergency,  # noqa: F401  (registers access.emergency)
    settings_store,
)
from ..services import nodes as node_service
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("approvals", __name__, url_prefix="/api/v1", description="Four-eye approvals of critical actions")

FILTERS = {
    "status": Filter(Approval.status, fields.String(validate=validate.OneOf(APPROVAL_STATUSES)),
                     lookups=("exact", "in")),
    "action": Filter(Approval.action, lookups=("exact", "in")),
    "target_type": Filter(Approval.target_type),
    "target_id": Filter(Approval.target_id),
    "requester": Filter(Approval.requester),
    "approver": Filter(Approval.approver),
}
ApprovalListArgs = list_args("ApprovalListArgs", FILTERS, ("id", "created_at", "expires_at", "status"))


def accepted(approval: Approval):
    """202: the action waits for a second person (used by every endpoint that defers)."""
    response = jsonify(ApprovalOutput().dump(approval))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/approvals/{approval.id}"
    return response


@blp.route("/approvals")
class ApprovalList(MethodView):
    @blp.arguments(ApprovalListArgs, location="query")
    @blp.response(200, page_schema(ApprovalOutput, "ApprovalPage"))
    def get(self, args):
        """List approval requests (filters: status, action, target_type, target_id, requester)"""
        session = get_session()
        service.expire_stale(session)
        stmt = apply_order(apply_filters(select(Approval), args, FILTERS), Approval, args.get("order_by"))
        return paginate(session, stmt, args)

    @blp.arguments(ApprovalInput)
    @blp.arguments(DryRunArgs, location="query", as_kwargs=True)
    @blp.response(201, ApprovalOutput)
    @blp.alt_response(200, schema=DryRunOutput, description="dry run: what would happen, nothing created")
    @blp.alt_response(409, description="the target cannot take this action now")
    def post(self, data, dry_run=False):
        """Request a critical action; a different approver must approve it within its window"""
        session = get_session()
        if dry_run or data.pop("dry_run", False):
            return jsonify(DryRunOutput().dump(service.dry_run(session, data["action"], data["target_id"],
                                                               data["payload"])))
        return service.request_action(session, data["action"], data["target_id"], data["payload"],
                                      data["reason"], rbac.current_principal())


@blp.route("/approvals/<int:approval_id>")
class ApprovalItem(MethodView):
    @blp.response(200, ApprovalOutput)
    def get(self, approval_id):
        """One approval request"""
        session = get_session()
        service.expire_stale(session)
        return service.get(session, approval_id)


@blp.route("/approvals/<int:approval_id>/approve")
class ApprovalApprove(MethodView):
    @blp.arguments(DecisionInput)
    @blp.response(200, ApprovalOutput)
    @blp.alt_response(403, description="you requested it (four-eye), or your role may not approve")
    @blp.alt_response(409, description="already decided or expired")
    def post(self, data, approval_id):
        """Approve: the action executes now, exactly once (status executed or failed)"""
        return _approved(service.approve(get_session(), approval_id, rbac.current_principal(), data.get("comment")))


@blp.route("/approvals/<int:approval_id>/deny")
class ApprovalDeny(MethodView):
    @blp.arguments(DecisionInput)
    @blp.response(200, ApprovalOutput)
    @blp.alt_response(403, description="you requested it, or your role may not decide")
    @blp.alt_response(409, description="already decided or expired")
    def post(self, data, approval_id):
        """Deny: the action never executes; the decision is recorded"""
        return service.deny(get_session(), approval_id, rbac.current_principal(), data.get("comment"))


@blp.route("/approvals/<int:approval_id>/cancel")
class ApprovalCancel(MethodView):
    @blp.response(200, ApprovalOutput)
    @blp.alt_response(403, description="only the requester or an admin")
    @blp.alt_response(409, description="already decided or expired")
    def post(self, approval_id):
        """Withdraw your own pending request"""
        return service.cancel(get_session(), approval_id, rbac.current_principal())


@blp.route("/nodes/<int:node_id>/approve")
class NodeApprove(MethodView):
    @blp.arguments(NodeApproveInput)
    @blp.response(200, ApprovalOutput)
    @blp.alt_response(403, description="you requested it (four-eye), or your role may not approve")
    @blp.alt_response(409, description="no single pending request for this node")
    def post(self, data, node_id):
        """Approve the pending critical action of a node (PRD 8.1)"""
        session = get_session()
        node_service.get_node(session, node_id)
        pending = service.pending_for(session, "node", node_id)
        if "approval_id" in data:
            pending = [a for a in pending if a.id == data["approval_id"]]
            if not pending:
                raise NotFound(f"no pending approval {data['approval_id']} for node {node_id}")
        if not pending:
            raise Conflict(f"node {node_id} has no pending approval request", code="no_pending_approval")
        if len(pending) > 1:
            raise Conflict(f"node {node_id} has several pending requests; pass approval_id",
                           code="ambiguous_approval", approvals=[a.id for a in pending])
        return _approved(service.approve(session, pending[0].id, rbac.current_principal(), data.get("comment")))


def _approved(approval: Approval) -> Approval:
    if approval.action == "settings.update" and approval.status == "executed":
        settings_store.refresh(current_app, force=True)  # this worker at once; the others within seconds
    return approval
