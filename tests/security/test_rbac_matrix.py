"""RBAC: walk EVERY operation of the OpenAPI document with every role and anonymously.

Expectations for the endpoints that exist today are written out by hand below (so the test
does not just restate rbac.py); operations added later by other parts are held to the
matrix in rbac.py, and must not be open unless the matrix says so.
"""

import re

import pytest

from pureboot import rbac

ROLES = ("user", "auditor", "operator", "admin")
ALL = set(ROLES)
READERS = {"auditor", "operator", "admin"}  # read nodes... everyone; read the rest: not "user"
OPEN = "open"

# (METHOD, path) -> roles allowed, or OPEN (no authentication at all)
EXPECTED = {
    ("GET", "/api/v1/ping"): OPEN,
    ("POST", "/api/v1/auth/token"): OPEN,
    ("POST", "/api/v1/auth/refresh"): OPEN,
    ("GET", "/api/v1/me"): ALL,
    ("POST", "/api/v1/me/password"): ALL,
    ("GET", "/api/v1/tokens"): ALL,
    ("POST", "/api/v1/tokens"): ALL,
    ("GET", "/api/v1/tokens/{token_id}"): ALL,
    ("DELETE", "/api/v1/tokens/{token_id}"): ALL,
    ("GET", "/api/v1/nodes"): ALL,
    ("POST", "/api/v1/nodes"): {"operator", "admin"},
    ("GET", "/api/v1/nodes/{node_id}"): ALL,
    ("PATCH", "/api/v1/nodes/{node_id}"): {"operator", "admin"},
    ("DELETE", "/api/v1/nodes/{node_id}"): {"operator", "admin"},
    ("GET", "/api/v1/nodes/{node_id}/state"): ALL,
    ("PATCH", "/api/v1/nodes/{node_id}/state"): {"operator", "admin"},
    ("GET", "/api/v1/nodes/{node_id}/events"): ALL,
    ("POST", "/api/v1/nodes/{node_id}/inventory"): {"operator", "admin"},
    ("POST", "/api/v1/nodes/{node_id}/approve"): {"admin"},
    ("GET", "/api/v1/workflows"): READERS,
    ("POST", "/api/v1/workflows"): {"operator", "admin"},
    ("GET", "/api/v1/workflows/{workflow_id}"): READERS,
    ("PATCH", "/api/v1/workflows/{workflow_id}"): {"operator", "admin"},
    ("DELETE", "/api/v1/workflows/{workflow_id}"): {"operator", "admin"},
    ("GET", "/api/v1/workflows/{workflow_id}/versions"): READERS,
    ("GET", "/api/v1/workflows/{workflow_id}/versions/{version}"): READERS,
    ("GET", "/api/v1/templates"): READERS,
    ("POST", "/api/v1/templates"): {"operator", "admin"},
    ("GET", "/api/v1/templates/{template_id}"): READERS,
    ("PATCH", "/api/v1/templates/{template_id}"): {"operator", "admin"},
    ("DELETE", "/api/v1/templates/{template_id}"): {"operator", "admin"},
    ("GET", "/api/v1/templates/{template_id}/content"): READERS,
    ("PUT", "/api/v1/templates/{template_id}/content"): {"operator", "admin"},
    ("GET", "/api/v1/hypervisors"): READERS,
    ("POST", "/api/v1/hypervisors"): {"admin"},
    ("GET", "/api/v1/hypervisors/{hypervisor_id}"): READERS,
    ("PATCH", "/api/v1/hypervisors/{hypervisor_id}"): {"admin"},
    ("DELETE", "/api/v1/hypervisors/{hypervisor_id}"): {"admin"},
    ("GET", "/api/v1/approvals"): READERS,
    ("POST", "/api/v1/approvals"): {"operator", "admin"},
    ("GET", "/api/v1/approvals/{approval_id}"): READERS,
    ("POST", "/api/v1/approvals/{approval_id}/approve"): {"admin"},
    ("POST", "/api/v1/approvals/{approval_id}/deny"): {"admin"},
    ("POST", "/api/v1/approvals/{approval_id}/cancel"): {"operator", "admin"},
    ("GET", "/api/v1/audit"): {"auditor", "admin"},
    ("GET", "/api/v1/audit/verify"): {"auditor", "admin"},
    ("POST", "/api/v1/audit/clear"): {"admin"},
    ("GET", "/api/v1/users"): {"auditor", "admin"},
    ("POST", "/api/v1/users"): {"admin"},
    ("GET", "/api/v1/users/{user_id}"): {"auditor", "admin"},
    ("PATCH", "/api/v1/users/{user_id}"): {"admin"},
    ("DELETE", "/api/v1/users/{user_id}"): {"admin"},
    ("GET", "/api/v1/credentials"): READERS,
    ("POST", "/api/v1/credentials"): {"admin"},
    ("GET", "/api/v1/credentials/{credential_id}"): READERS,
    ("PATCH", "/api/v1/credentials/{credential_id}"): {"admin"},
    ("DELETE", "/api/v1/credentials/{credential_id}"): {"admin"},
    ("GET", "/api/v1/settings"): {"auditor", "admin"},
    ("PATCH", "/api/v1/settings"): {"admin"},
}
METHODS = ("get", "post", "put", "patch", "delete")


def _from_matrix(method, path):
    needed = rbac.required_permission(method, path)
    if needed in rbac.OPEN:
        return OPEN
    return {role for role in ROLES if rbac.role_has(role, needed)}


def _operations(anon_client):
    spec = anon_client.get("/api/v1/openapi.json").get_json()
    return [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops if m in METHODS]


def _call(client, method, path):
    concrete = re.sub(r"\{[^}]+\}", "999999", path)  # ids nobody has: no side effects
    kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
    return client.open(concrete, method=method, **kwargs)


@pytest.fixture
def clients(client_as, anon_client):
    made = {role: client_as(role) for role in ROLES}
    made[None] = anon_client
    return made


def test_every_operation_of_the_openapi_document_obeys_the_matrix(clients):
    operations = _operations(clients[None])
    assert len(operations) >= len(EXPECTED)
    missing = sorted(set(EXPECTED) - set(operations))
    assert not missing, f"documented expectations for operations that vanished: {missing}"
    failures = []
    for method, path in operations:
        allowed = EXPECTED.get((method, path), _from_matrix(method, path))
        assert allowed == _from_matrix(method, path), f"rbac.py disagrees with the test for {method} {path}"
        anonymous = None
        for role in (None,) + ROLES:
            response = _call(clients[role], method, path)
            status = response.status_code
            if allowed == OPEN:
                # the guard stays out: everyone gets what anonymous gets (boot endpoints may
                # still answer 401 themselves, for a missing per-node token)
                anonymous = status if role is None else anonymous
                body = response.get_json(silent=True) or {}
                ok = status == anonymous and body.get("code") not in ("unauthenticated", "forbidden")
            elif role is None:
                ok = status == 401
            elif role in allowed:
                ok = status not in (401, 403)
            else:
                ok = status == 403
            if not ok:
                failures.append(f"{role or 'anonymous'} {method} {path} -> {status} (allowed: {allowed})")
    assert not failures, "\n".join(failures)


def test_boot_endpoints_are_open_by_nature_even_before_they_exist():
    for method, path in (("GET", "/boot/ipxe"), ("GET", "/api/v1/next"), ("POST", "/api/v1/report"),
                         ("GET", "/api/v1/boot/dhcp"), ("POST", "/api/v1/nodes/<int:node_id>/phone-home")):
        assert rbac.required_permission(method, path) == rbac.BOOT


def test_an_unknown_endpoint_is_admin_only(app, client_as, anon_client):
    app.add_url_rule("/api/v1/brand-new-thing", "brand_new", lambda: {"ok": True}, methods=["GET", "POST"])
    assert rbac.required_permission("GET", "/api/v1/brand-new-thing") == rbac.UNMAPPED
    assert anon_client.get("/api/v1/brand-new-thing").status_code == 401
    for role in ("user", "auditor", "operator"):
        assert client_as(role).get("/api/v1/brand-new-thing").status_code == 403
    assert client_as("admin").get("/api/v1/brand-new-thing").status_code == 200


def test_approver_roles_are_configurable(app, client_as):
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(approver_roles="admin,operator")
    assert client_as("operator").post("/api/v1/approvals/1/approve", json={}).status_code == 404
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(approver_roles="operator")
    assert client_as("admin").post("/api/v1/approvals/1/approve", json={}).status_code == 403


def test_users_see_only_their_own_jobs(app):
    from flask import g
    with app.test_request_context():
        g.user = rbac.Principal(1, "u1", "user", "jwt")
        assert rbac.own_only("jobs") == "u1" and rbac.can("jobs:read_own") and not rbac.can("jobs:read")
        for role in ("auditor", "operator", "admin"):
            g.user = rbac.Principal(2, "x", role, "jwt")
            assert rbac.own_only("jobs") is None
    assert rbac.required_permission("GET", "/api/v1/jobs/<int:job_id>/stdout") == ("jobs:read", "jobs:read_own")
    assert rbac.required_permission("POST", "/api/v1/job_templates/<int:id>/launch") == "jobs:run"
