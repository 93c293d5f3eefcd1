"""/api/v1/audit: the tamper-evident audit log (auditors and admins)."""

from __future__ import annotations

from datetime import datetime

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select

from .. import rbac
from ..db import get_session
from ..models import AuditEntry
from ..schemas.approvals import ApprovalOutput
from ..schemas.audit import AuditOutput, ClearInput, VerifyOutput
from ..services import approvals as approval_service
from ..services import audit as service
from .approvals import accepted
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log: append-only, hash-chained")

FILTERS = {
    "actor": Filter(AuditEntry.actor, lookups=("exact", "icontains")),
    "action": Filter(AuditEntry.action, lookups=("exact", "in", "icontains")),
    "target_type": Filter(AuditEntry.target_type),
    "target_id": Filter(AuditEntry.target_id),
    "outcome": Filter(AuditEntry.outcome, lookups=("exact", "in")),
    "source_ip": Filter(AuditEntry.source_ip),
    "created_at": Filter(AuditEntry.created_at, fields.AwareDateTime(), lookups=("gt", "lt")),
    "seq": Filter(AuditEntry.seq, fields.Integer(), lookups=("exact", "gt", "lt")),
}
AuditListArgs = list_args("AuditListArgs", FILTERS, ("id", "seq", "created_at", "actor", "action"))


@blp.route("")
class AuditList(MethodView):
    @blp.arguments(AuditListArgs, location="query")
    @blp.response(200, page_schema(AuditOutput, "AuditPage"))
    def get(self, args):
        """Audit entries (filters: actor, action, target, outcome, source_ip, created_at__gt/lt, seq__gt/lt)"""
        stmt = apply_order(apply_filters(select(AuditEntry), args, FILTERS), AuditEntry, args.get("order_by"))
        return paginate(get_session(), stmt, args)


@blp.route("/verify")
class AuditVerify(MethodView):
    @blp.response(200, VerifyOutput)
    def get(self):
        """Recompute the hash chain: detects edited, deleted or reordered entries"""
        return vars(service.verify(get_session()))


@blp.route("/clear")
class AuditClear(MethodView):
    @blp.arguments(ClearInput)
    @blp.response(202, ApprovalOutput)
    def post(self, data):
        """Request clearing old entries: never immediate, it needs a second admin's approval"""
        row = approval_service.request_action(get_session(), "audit.clear", "log", {"before_seq": data["before_seq"]},
                                              data["reason"], rbac.current_principal())
        return accepted(row)


def _prepare(session, target_id, payload):
    before = payload.get("before_seq")
    if not isinstance(before, int) or isinstance(before, bool) or before < 1:
        from ..errors import Invalid
        raise Invalid("before_seq must be a positive integer", errors={"payload": {"before_seq": ["positive integer"]}})
    return approval_service.Plan("audit", "log", {"before_seq": before},
                                 f"delete audit entries with seq < {before} (an anchor keeps the chain verifiable)")


def _execute(session, approval, principal):
    count = service.clear(session, approval.payload["before_seq"], principal.username)
    return {"deleted": count, "cleared_at": datetime.now().astimezone().isoformat()}


approval_service.action("audit.clear", _prepare, _execute)
