"""Users, login, tokens."""

from __future__ import annotations

import marshmallow as ma

from ..models import ROLES
from .common import StrictBoolean, short_text

USERNAME = ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$",
                              error="letters, digits, '.', '_', '@', '-' (max 64)")
PASSWORD = ma.validate.Length(min=8, max=1024)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class LoginInput(Strict):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024))


class RefreshInput(Strict):
    refresh_token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=4096))


class TokenOutput(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds the access token lives"})


class UserInput(Strict):
    username = ma.fields.String(required=True, validate=USERNAME)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    password = ma.fields.String(load_only=True, validate=PASSWORD,
                                metadata={"description": "write-only; omit for externally authenticated users"})
    email = short_text(255, allow_none=True)
    full_name = short_text(255, allow_none=True)
    active = StrictBoolean()


class UserPatch(Strict):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    password = ma.fields.String(load_only=True, validate=PASSWORD)
    email = short_text(255, allow_none=True)
    full_name = short_text(255, allow_none=True)
    active = StrictBoolean()


class UserOutput(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    role = ma.fields.String()
    source = ma.fields.String()
    active = StrictBoolean()
    email = ma.fields.String(allow_none=True)
    full_name = ma.fields.String(allow_none=True)
    has_password = ma.fields.Function(lambda u: bool(u.password_hash))
    elevated_role = ma.fields.String(allow_none=True, metadata={"description": "emergency access role, if granted"})
    elevated_until = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    last_login_at = ma.fields.DateTime(allow_none=True)


class MeOutput(UserOutput):
    permissions = ma.fields.List(ma.fields.String())
    authenticated_via = ma.fields.String()


class PasswordChange(Strict):
    current_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=1024))
    new_password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)


class ApiTokenInput(Strict):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    expires_at = ma.fields.AwareDateTime(allow_none=True, default_timezone=None,
                                         metadata={"description": "optional expiry (ISO 8601 with timezone)"})


class ApiTokenOutput(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "first characters of the token, to tell tokens apart"})
    user = ma.fields.Function(lambda t: t.user.username)
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    last_used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)


class ApiTokenCreated(ApiTokenOutput):
    token = ma.fields.String(required=True, metadata={"description": "shown once: store it now"})
