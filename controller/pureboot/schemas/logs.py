"""Node log lines: what clients (the Ansible callback, tools) send and get back."""

from __future__ import annotations

import json

import marshmallow as ma

from .common import short_text

LEVELS = ("debug", "info", "warning", "error")


class LogInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    level = ma.fields.String(load_default="info", validate=ma.validate.OneOf(LEVELS))
    source = ma.fields.String(load_default="api", validate=ma.validate.Regexp(
        r"^[a-z][a-z0-9_.-]{0,31}$", error="lower-case word, at most 32 characters"))
    message = short_text(4096, 1, required=True)
    context = ma.fields.Dict(keys=ma.fields.String(), load_default=dict,
                             metadata={"description": "structured details, e.g. an Ansible run's per-host stats"})

    @ma.validates("context")
    def _bounded(self, value, **kwargs):
        # A log row is not a blob store: keep contexts small enough to list in bulk.
        if len(json.dumps(value, default=str)) > 65536:
            raise ma.ValidationError("at most 64 KiB of JSON")


class LogOutput(ma.Schema):
    id = ma.fields.Integer()
    node = ma.fields.Integer(attribute="node_id")
    level = ma.fields.String()
    source = ma.fields.String()
    message = ma.fields.String()
    context = ma.fields.Dict()
    created_at = ma.fields.DateTime()
