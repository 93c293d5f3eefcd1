"""Four-eye approval requests."""

from __future__ import annotations

import marshmallow as ma

from ..models import APPROVAL_STATUSES
from .common import StrictBoolean, short_text


class ApprovalInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    action = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                              metadata={"description": "e.g. node.reprovision, node.deprovision, node.migrate"})
    target_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                                 metadata={"description": "id of the target (e.g. the node id)"})
    payload = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    reason = short_text(2048, 1, required=True)
    dry_run = StrictBoolean(load_default=False, metadata={"description": "only tell what would happen"})


class DecisionInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    comment = short_text(2048, allow_none=True)


class NodeApproveInput(DecisionInput):
    approval_id = ma.fields.Integer(metadata={"description": "which request, when the node has several"})


class DryRunArgs(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False)


class ApprovalOutput(ma.Schema):
    id = ma.fields.Integer()
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.String(allow_none=True)
    payload = ma.fields.Dict()
    has_secret_payload = ma.fields.Function(lambda a: a.secret_payload_encrypted is not None)
    reason = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(APPROVAL_STATUSES)})
    requester = ma.fields.String()
    approver = ma.fields.String(allow_none=True)
    comment = ma.fields.String(allow_none=True)
    result = ma.fields.Dict(allow_none=True)
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    executed_at = ma.fields.DateTime(allow_none=True)


class DryRunOutput(ma.Schema):
    dry_run = StrictBoolean()
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.String(allow_none=True)
    payload = ma.fields.Dict()
    summary = ma.fields.String()
    approval_required = StrictBoolean()
    approver_roles = ma.fields.List(ma.fields.String())
    expires_in = ma.fields.Integer(allow_none=True)
