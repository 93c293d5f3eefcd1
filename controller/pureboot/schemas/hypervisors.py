"""Hypervisor connection schemas."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..models import PROVIDERS
from .common import StrictBoolean, short_text


class HypervisorInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", error="letters, digits, '.', '_', '-' (max 128)"))
    provider = ma.fields.String(required=True, validate=ma.validate.OneOf(PROVIDERS))
    endpoint = short_text(1024, 1, required=True,
                     metadata={"description": "e.g. qemu+ssh://host/system, https://engine/ovirt-engine/api"})
    username = short_text(255, allow_none=True)
    password = ma.fields.String(load_only=True, allow_none=True, validate=ma.validate.Length(min=1, max=4096),
                                metadata={"description": "write-only, stored encrypted; on PATCH a change "
                                          "needs four-eye approval (202)"})
    verify_tls = StrictBoolean()
    options = ma.fields.Dict(keys=ma.fields.String())
    description = short_text(4096, allow_none=True)


class HypervisorPatch(HypervisorInput):
    name = ma.fields.String(validate=HypervisorInput._declared_fields["name"].validators)
    provider = ma.fields.String(validate=ma.validate.OneOf(PROVIDERS))
    endpoint = short_text(1024, 1)


class HypervisorOutput(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Function(lambda h: url_for("hypervisors.HypervisorItem", hypervisor_id=h.id))
    name = ma.fields.String()
    provider = ma.fields.String()
    endpoint = ma.fields.String()
    username = ma.fields.String(allow_none=True)
    has_password = ma.fields.Function(lambda h: h.password_encrypted is not None)
    verify_tls = StrictBoolean()
    options = ma.fields.Dict()
    description = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
