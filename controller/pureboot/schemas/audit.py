"""Audit log entries and chain verification."""

from __future__ import annotations

import marshmallow as ma

from .common import StrictBoolean, short_text


class AuditOutput(ma.Schema):
    id = ma.fields.Integer()
    seq = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    source_ip = ma.fields.String(allow_none=True)
    outcome = ma.fields.String()
    details = ma.fields.Dict()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class VerifyOutput(ma.Schema):
    ok = StrictBoolean(required=True)
    checked = ma.fields.Integer(required=True)
    first_seq = ma.fields.Integer(allow_none=True)
    last_seq = ma.fields.Integer(allow_none=True)
    problems = ma.fields.List(ma.fields.Dict())


class ClearInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    before_seq = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=2**62),
                                   metadata={"description": "delete entries with a smaller seq"})
    reason = short_text(2048, 1, required=True)
