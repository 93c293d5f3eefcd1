"""The one place every request is authenticated and authorised (rbac.py holds the matrix)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, request

from .. import rbac
from ..db import get_session
from ..errors import Forbidden, Unauthorized
from ..models import utcnow
from ..services import audit, tokens
from ..services import users as user_service

log = logging.getLogger("pureboot.auth")


def _rule() -> str:
    return request.url_rule.rule if request.url_rule is not None else request.path


def _authenticate() -> rbac.Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("use 'Authorization: Bearer <token>'", code="invalid_token")
    session = get_session()
    if token.startswith(tokens.PREFIX):  # the deploy agent, with its node's install token
        node = tokens.verify_node_token(session, token)
        return rbac.Principal(None, f"node:{node.id}", rbac.NODE_ROLE, "node_token", node_id=node.id)
    if token.startswith(user_service.TOKEN_PREFIX):
        user, row = user_service.user_from_api_token(session, token)
        return rbac.Principal(user.id, user.username, user.effective_role(utcnow()), "api_token", row.id)
    user = user_service.user_from_access_token(session, token, current_app.config["SECRET_KEY"])
    return rbac.Principal(user.id, user.username, user.effective_role(utcnow()), "jwt")


def _anonymous_admin() -> rbac.Principal:
    return rbac.Principal(None, "anonymous", "admin", "anonymous")


def authorize() -> None:
    """before_request: decide from the matrix; 401 without identity, 403 without permission."""
    needed = rbac.required_permission(request.method, _rule())
    g.permission = needed
    if needed in rbac.OPEN:
        return  # boot endpoints carry per-node tokens in the same header: never parse them here
    principal = _authenticate()
    if principal is None:
        if current_app.config["PUREBOOT"].auth_required:
            raise Unauthorized("authentication required: POST /api/v1/auth/token, then send "
                               "'Authorization: Bearer <access_token>'", code="unauthenticated")
        principal = _anonymous_admin()
    g.user = principal
    if not rbac.role_has(principal.role, needed, rbac.approver_roles()):
        audit.record("access.denied", outcome="denied",
                     details={"method": request.method, "path": request.path, "needs": _text(needed)})
        raise Forbidden(f"role {principal.role} may not {request.method} {request.path}",
                        code="forbidden", needs=_text(needed))


def _text(permission) -> str:
    return " or ".join(permission) if isinstance(permission, tuple) else permission


def _www_authenticate(response):
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="pureboot"')
    return response


def register(app: Flask) -> None:
    app.before_request(authorize)
    app.after_request(_www_authenticate)
