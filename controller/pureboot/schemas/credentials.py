"""Credentials: secret fields are write-only (load_only) and never dumped."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..models import CREDENTIAL_KINDS
from .common import short_text

NAME = ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", error="letters, digits, '.', '_', '-' (max 128)")
SECRETS = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(
    sorted({f for fields in CREDENTIAL_KINDS.values() for f in fields}))),
    values=ma.fields.String(validate=ma.validate.Length(min=1, max=65536)), load_only=True,
    metadata={"description": "write-only secret fields per kind: " + "; ".join(
        f"{k}: {', '.join(v)}" for k, v in CREDENTIAL_KINDS.items())})


class CredentialInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=NAME)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(CREDENTIAL_KINDS)))
    username = short_text(255, allow_none=True)
    inputs = ma.fields.Dict(keys=ma.fields.String(), metadata={"description": "non-secret fields (domain, host, ...)"})
    description = short_text(4096, allow_none=True)
    secrets = SECRETS


class CredentialPatch(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(validate=NAME)
    username = short_text(255, allow_none=True)
    inputs = ma.fields.Dict(keys=ma.fields.String())
    description = short_text(4096, allow_none=True)
    secrets = SECRETS
    reason = short_text(2048, 1, load_only=True, metadata={"description": "why the secret changes (four-eye)"})


class CredentialOutput(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Function(lambda c: url_for("credentials.CredentialItem", credential_id=c.id))
    name = ma.fields.String()
    kind = ma.fields.String()
    username = ma.fields.String(allow_none=True)
    inputs = ma.fields.Dict()
    description = ma.fields.String(allow_none=True)
    secret_fields = ma.fields.List(ma.fields.String(),
                                   metadata={"description": "which secrets are set (never their values)"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
