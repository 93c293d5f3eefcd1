"""Template metadata schemas."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..models import TEMPLATE_KINDS
from .common import StrictBoolean, short_text

SHA256 = ma.validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 hex digits")


class TemplateInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", error="letters, digits, '.', '_', '-' (max 128)"))
    version = short_text(64, load_default="1")
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(TEMPLATE_KINDS))
    description = short_text(4096, allow_none=True)
    sha256 = ma.fields.String(validate=SHA256, allow_none=True,
                              metadata={"description": "expected checksum; an upload that differs is refused"})
    location = ma.fields.Url(allow_none=True, schemes={"http", "https", "nfs", "iscsi"},
                             metadata={"description": "external location, for templates not stored here"})
    filename = short_text(255, allow_none=True)


class TemplatePatch(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    description = short_text(4096, allow_none=True)


class TemplateUploadArgs(ma.Schema):
    """Metadata in the query string when the body is the raw file."""

    class Meta:
        unknown = ma.RAISE

    name = TemplateInput._declared_fields["name"]
    version = short_text(64, load_default="1")
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(TEMPLATE_KINDS))
    description = short_text(4096)
    sha256 = ma.fields.String(validate=SHA256)
    filename = short_text(255)


class TemplateOutput(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Function(lambda t: url_for("templates.TemplateItem", template_id=t.id))
    name = ma.fields.String()
    version = ma.fields.String()
    kind = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    filename = ma.fields.String(allow_none=True)
    location = ma.fields.String(allow_none=True)
    stored = StrictBoolean()
    download_url = ma.fields.Function(
        lambda t: url_for("templates.TemplateContent", template_id=t.id) if t.stored else t.location)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
