"""Role-based access control: THE permission matrix, enforced in one place (api/guard.py).

Two tables: what each role may do (ROLE_PERMISSIONS), and which permission each endpoint
and method needs (ROUTES, first match wins). An endpoint no rule matches needs
``unmapped``, which only admins hold, so a new endpoint is never accidentally open.

Roles (PRD 8.2, 17.6):
  * auditor  - reads everything, including the audit log; changes nothing.
  * user     - reads nodes and its own jobs.
  * operator - runs workflows and jobs, changes nodes/workflows/templates, requests
               critical actions (four-eye) but cannot approve them.
  * admin    - everything: users, credentials, settings, hypervisors, approvals, projects.
Which roles may *approve* four-eye requests is the ``approver_roles`` setting (default admin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from flask import current_app, g

# Special "permissions" that are not held but describe how an endpoint is reached.
PUBLIC = "public"  # no authentication (ping, OpenAPI document, Swagger UI, token refresh)
LOGIN = "login"  # public and rate limited per source IP + username (and per source IP)
REFRESH = "refresh"  # public, rate limited per source IP
BOOT = "boot"  # booting nodes: no user credentials (per-node tokens), rate limited per source
AUTHENTICATED = "authenticated"  # any signed-in user
UNMAPPED = "unmapped"  # not in the matrix: admin only
OPEN = frozenset({PUBLIC, LOGIN, REFRESH, BOOT})

DECIDE = "approvals:decide"
READ_EVERYTHING = frozenset({
    "nodes:read", "workflows:read", "templates:read", "hypervisors:read", "jobs:read",
    "approvals:read", "audit:read", "users:read", "credentials:read", "settings:read", "webhooks:read",
    "events:read",
})
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"*"}),
    "auditor": READ_EVERYTHING | {"tokens:own"},
    "operator": frozenset({
        "nodes:read", "nodes:write", "workflows:read", "workflows:write", "templates:read",
        "templates:write", "hypervisors:read", "jobs:read", "jobs:run", "approvals:read",
        "approvals:request", "credentials:read", "tokens:own", "events:read",
    }),
    "user": frozenset({"nodes:read", "jobs:read_own", "tokens:own"}),
}

# A booted agent holding its node's install token (not a user): it may stream the images
# its workflow names (services/node_scope.py), nothing else. Not a user role, so no user can be given it.
NODE_ROLE = "node"
NODE_PERMISSIONS = frozenset({"templates:read"})

READ = ("GET", "HEAD")
WRITE = ("POST", "PUT", "PATCH", "DELETE")
ANY = READ + WRITE + ("OPTIONS",)

# (methods, path pattern, permission or alternatives). `*` matches within and across segments.
ROUTES: tuple[tuple[tuple[str, ...], str, str | tuple[str, ...]], ...] = (
    (("OPTIONS",), "*", PUBLIC),
    (ANY, "/api/v1/ping", PUBLIC),
    (READ, "/api/v1/openapi.json", PUBLIC),
    (READ, "/api/v1/docs", PUBLIC),
    (READ, "/api/v1/docs/*", PUBLIC),
    # boot endpoints: open by nature, authenticated by their own per-node tokens
    (ANY, "/boot/*", BOOT),
    (ANY, "/api/v1/next", BOOT),
    (ANY, "/api/v1/boot/*", BOOT),
    (ANY, "/api/v1/report", BOOT),
    (ANY, "/api/v1/nodes/*/phone-home", BOOT),
    (("POST",), "/api/v1/auth/token", LOGIN),
    (("POST",), "/api/v1/auth/refresh", REFRESH),
    (ANY, "/api/v1/me", AUTHENTICATED),
    (ANY, "/api/v1/me/*", AUTHENTICATED),
    (READ + WRITE, "/api/v1/tokens", "tokens:own"),
    (READ + WRITE, "/api/v1/tokens/*", "tokens:own"),
    # four-eye
    (("POST",), "/api/v1/nodes/*/approve", DECIDE),
    (("POST",), "/api/v1/approvals/*/approve", DECIDE),
    (("POST",), "/api/v1/approvals/*/deny", DECIDE),
    (("POST",), "/api/v1/approvals/*/cancel", "approvals:request"),
    (READ, "/api/v1/approvals", "approvals:read"),
    (READ, "/api/v1/approvals/*", "approvals:read"),
    (("POST",), "/api/v1/approvals", "approvals:request"),
    (READ, "/api/v1/audit", "audit:read"),
    (READ, "/api/v1/audit/*", "audit:read"),
    (("POST",), "/api/v1/audit/clear", "audit:clear"),  # creates an approval, never clears at once
    # resources
    (READ, "/api/v1/nodes", "nodes:read"), (READ, "/api/v1/nodes/*", "nodes:read"),
    (WRITE, "/api/v1/nodes", "nodes:write"), (WRITE, "/api/v1/nodes/*", "nodes:write"),
    (READ, "/api/v1/workflows", "workflows:read"), (READ, "/api/v1/workflows/*", "workflows:read"),
    (WRITE, "/api/v1/workflows", "workflows:write"), (WRITE, "/api/v1/workflows/*", "workflows:write"),
    (READ, "/api/v1/templates", "templates:read"), (READ, "/api/v1/templates/*", "templates:read"),
    (WRITE, "/api/v1/templates", "templates:write"), (WRITE, "/api/v1/templates/*", "templates:write"),
    (READ, "/api/v1/hypervisors", "hypervisors:read"), (READ, "/api/v1/hypervisors/*", "hypervisors:read"),
    (WRITE, "/api/v1/hypervisors", "hypervisors:write"), (WRITE, "/api/v1/hypervisors/*", "hypervisors:write"),
    (READ, "/api/v1/jobs", ("jobs:read", "jobs:read_own")),
    (READ, "/api/v1/jobs/*", ("jobs:read", "jobs:read_own")),
    (WRITE, "/api/v1/jobs", "jobs:run"), (WRITE, "/api/v1/jobs/*", "jobs:run"),
    (READ, "/api/v1/job_templates", "jobs:read"), (READ, "/api/v1/job_templates/*", "jobs:read"),
    (("POST",), "/api/v1/job_templates/*/launch", "jobs:run"),
    (WRITE, "/api/v1/job_templates", "jobs:run"), (WRITE, "/api/v1/job_templates/*", "jobs:run"),
    # projects: any signed-in user reads them; only admins (no role holds projects:write) change
    # or sync them, since their playbooks run on the controller host
    (READ, "/api/v1/projects", AUTHENTICATED), (READ, "/api/v1/projects/*", AUTHENTICATED),
    (WRITE, "/api/v1/projects", "projects:write"), (WRITE, "/api/v1/projects/*", "projects:write"),
    (READ, "/api/v1/users", "users:read"), (READ, "/api/v1/users/*", "users:read"),
    (WRITE, "/api/v1/users", "users:write"), (WRITE, "/api/v1/users/*", "users:write"),
    (READ, "/api/v1/credentials", "credentials:read"), (READ, "/api/v1/credentials/*", "credentials:read"),
    (WRITE, "/api/v1/credentials", "credentials:write"), (WRITE, "/api/v1/credentials/*", "credentials:write"),
    (READ, "/api/v1/events", "events:read"),  # live stream of node/job events
    (READ, "/api/v1/webhooks", "webhooks:read"), (READ, "/api/v1/webhooks/*", "webhooks:read"),
    (WRITE, "/api/v1/webhooks", "webhooks:write"), (WRITE, "/api/v1/webhooks/*", "webhooks:write"),
    (READ, "/api/v1/settings", "settings:read"),
    (WRITE, "/api/v1/settings", "settings:write"),
)


# Who may *request* each four-eye action (POST /approvals checks this table too).
ACTION_PERMISSIONS: dict[str, str] = {
    "node.reprovision": "nodes:write",
    "node.deprovision": "nodes:write",
    "node.migrate": "nodes:write",
    "credential.update": "credentials:write",
    "credential.delete": "credentials:write",
    "hypervisor.password": "hypervisors:write",
    "settings.update": "settings:write",
    "audit.clear": "audit:clear",
    "access.emergency": "approvals:request",
}


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "/?$")


_COMPILED = [(frozenset(methods), _compile(pattern), perm) for methods, pattern, perm in ROUTES]
_RULE_VARS = re.compile(r"<[^>]+>")


def required_permission(method: str, path: str) -> str | tuple[str, ...]:
    """What a request needs. `path` is a URL path or a Flask rule (``<int:id>`` parts)."""
    path = _RULE_VARS.sub("x", path)
    method = "GET" if method == "HEAD" else method
    for methods, regex, perm in _COMPILED:
        if method in methods and regex.match(path):
            return perm
    return UNMAPPED


def approver_roles() -> frozenset[str]:
    return frozenset(r.strip() for r in current_app.config["PUREBOOT"].approver_roles.split(",") if r.strip())


def permissions_for(role: str, approvers: Iterable[str] = ("admin",)) -> frozenset[str]:
    perms = set(NODE_PERMISSIONS if role == NODE_ROLE else ROLE_PERMISSIONS.get(role, ()))
    if role in approvers:
        perms.add(DECIDE)
    return frozenset(perms)


def role_has(role: str, permission: str | tuple[str, ...], approvers: Iterable[str] = ("admin",)) -> bool:
    """Does `role` satisfy `permission` (any one of a tuple)? Admin's `*` covers all but decide."""
    if permission in OPEN:
        return True
    if permission == AUTHENTICATED:
        return role in ROLE_PERMISSIONS
    perms = permissions_for(role, approvers)
    wanted = permission if isinstance(permission, tuple) else (permission,)
    return any(p in perms or ("*" in perms and p != DECIDE) for p in wanted)


@dataclass(frozen=True)
class Principal:
    """Who is calling: set on ``g.user`` by the guard."""

    id: int | None
    username: str
    role: str
    via: str  # jwt, api_token, anonymous (auth_required=false)
    token_id: int | None = None
    node_id: int | None = None  # a deploy agent's install token: which node (services/node_scope.py)


def current_principal() -> Principal | None:
    return g.get("user")


def can(permission: str) -> bool:
    """For views that shape their output by role (e.g. a user sees only its own jobs)."""
    principal = current_principal()
    return principal is not None and role_has(principal.role, permission, approver_roles())


def own_only(kind: str) -> str | None:
    """The username to filter `kind` (e.g. "jobs") by, when the caller may see only its own."""
    principal = current_principal()
    if principal is None or can(f"{kind}:read"):
        return None
    return principal.username
