"""Webhook schemas. The secret is write-only: output only says whether one is set."""

from __future__ import annotations

import marshmallow as ma

from ..services.webhooks import EVENT_TYPES
from .common import StrictBoolean, short_text


class WebhookInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    event_types = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(EVENT_TYPES)),
                                 metadata={"description": "empty: every event"})
    secret = short_text(4096, minimum=8, load_only=True, allow_none=True,
                        metadata={"description": "HMAC-SHA256 key; write-only, never returned"})
    active = StrictBoolean()
    max_attempts = ma.fields.Integer(validate=ma.validate.Range(min=1, max=20))


class WebhookPatch(WebhookInput):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=128))
    url = ma.fields.Url(schemes={"http", "https"}, require_tld=False)


class WebhookOutput(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    url = ma.fields.String()
    event_types = ma.fields.List(ma.fields.String())
    has_secret = ma.fields.Function(lambda w: w.secret_encrypted is not None)
    active = StrictBoolean()
    max_attempts = ma.fields.Integer()
    last_status = ma.fields.String()
    last_delivery_at = ma.fields.DateTime(allow_none=True)
    created = ma.fields.DateTime(attribute="created_at")
    modified = ma.fields.DateTime(attribute="updated_at")
