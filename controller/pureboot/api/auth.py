"""/api/v1/auth (login, refresh), /api/v1/me, /api/v1/tokens (API tokens for automation)."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.views import MethodView
from sqlalchemy import select

from .. import rbac
from ..db import get_session
from ..errors import Invalid, NotFound, Unauthorized
from ..models import ApiToken, utcnow
from ..schemas.users import (
    ApiTokenCreated,
    ApiTokenInput,
    ApiTokenOutput,
    LoginInput,
    MeOutput,
    PasswordChange,
    RefreshInput,
    TokenOutput,
)
from ..services import audit
from ..services import users as service
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Login, tokens and the current user")

TokenListArgs = list_args("ApiTokenListArgs", {"name": Filter(ApiToken.name, lookups=("exact", "icontains"))},
                          ("id", "name", "created_at"))


def _settings():
    return current_app.config["PUREBOOT"]


def _key() -> str:
    return current_app.config["SECRET_KEY"]


@blp.route("/auth/token")
class Login(MethodView):
    @blp.doc(security=[])
    @blp.arguments(LoginInput)
    @blp.response(200, TokenOutput)
    @blp.alt_response(401, description="wrong username or password")
    @blp.alt_response(429, description="too many attempts")
    def post(self, data):
        """Log in: a short-lived access token (JWT) and a refresh token"""
        session = get_session()
        user = service.authenticate(session, _settings(), data["username"], data["password"])
        if user is None:
            audit.record("auth.login", actor=data["username"][:128], outcome="failure",
                         target=("user", data["username"][:64]))
            raise Unauthorized("wrong username or password", code="invalid_credentials")
        user.last_login_at = utcnow()
        audit.record("auth.login", actor=user.username, target=("user", user.id), session=session,
                     details={"role": user.role})
        session.commit()
        return vars(service.issue_tokens(user, _settings(), _key()))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RefreshInput)
    @blp.response(200, TokenOutput)
    @blp.alt_response(401, description="refresh token invalid, expired or revoked")
    def post(self, data):
        """Trade a refresh token for a new access + refresh token pair"""
        _user, pair = service.refresh(get_session(), data["refresh_token"], _settings(), _key())
        return vars(pair)


def _me_user(session):
    principal = rbac.current_principal()
    if principal.id is None:  # auth_required=false: the anonymous admin has no row
        return None, principal
    return service.get_user(session, principal.id), principal


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeOutput)
    def get(self):
        """Who am I: user, role, effective permissions"""
        user, principal = _me_user(get_session())
        perms = sorted(rbac.permissions_for(principal.role, rbac.approver_roles()))
        body = MeOutput().dump(user) if user is not None else {"username": principal.username, "role": principal.role}
        body.update(role=principal.role, permissions=perms, authenticated_via=principal.via)  # effective role
        return jsonify(body)


@blp.route("/me/password")
class MyPassword(MethodView):
    @blp.arguments(PasswordChange)
    @blp.response(204)
    @blp.alt_response(403, description="current password wrong")
    def post(self, data):
        """Change my password (refresh tokens issued before stop working)"""
        session = get_session()
        user, _ = _me_user(session)
        if user is None or user.source != "local" or not service.check_password(user, data["current_password"]):
            audit.record("user.password", target=("user", getattr(user, "id", None)), outcome="failure")
            raise Invalid("current password is wrong", errors={"current_password": ["wrong password"]})
        service.update_user(session, user, {"password": data["new_password"]})
        audit.record("user.password", target=("user", user.id), session=session)
        session.commit()


def _tokens_query():
    stmt = select(ApiToken)
    if not rbac.can("users:write"):  # admins see everyone's tokens; others their own
        stmt = stmt.where(ApiToken.user_id == rbac.current_principal().id)
    return stmt


def _get_token(session, token_id: int) -> ApiToken:
    row = session.scalars(_tokens_query().where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound(f"API token {token_id} not found")
    return row


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenListArgs, location="query")
    @blp.response(200, page_schema(ApiTokenOutput, "ApiTokenPage"))
    def get(self, args):
        """List API tokens (yours; admins see all). The token text is never shown again."""
        stmt = apply_order(apply_filters(_tokens_query(), args, TokenListArgs.filters), ApiToken, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(ApiTokenInput)
    @blp.response(201, ApiTokenCreated)
    def post(self, data):
        """Create an API token for yourself; the response is the only time it is shown"""
        session = get_session()
        user, _ = _me_user(session)
        if user is None:
            raise Invalid("the anonymous user (auth_required=false) cannot own API tokens")
        row, text = service.create_api_token(session, user, data["name"], data.get("expires_at"))
        audit.record("token.create", target=("api_token", row.id), session=session,
                     details={"name": row.name, "expires_at": row.expires_at})
        session.commit()
        row.token = text  # a plain attribute, not a column: this response is the only copy
        return row


@blp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.response(200, ApiTokenOutput)
    def get(self, token_id):
        """One API token (metadata only)"""
        return _get_token(get_session(), token_id)

    @blp.response(204)
    def delete(self, token_id):
        """Revoke an API token (it stops working at once)"""
        session = get_session()
        row = _get_token(session, token_id)
        service.revoke_api_token(row)
        audit.record("token.revoke", target=("api_token", row.id), session=session,
                     details={"owner": row.user.username})
        session.commit()
