"""Identity: passwords, JWT access/refresh, /me, API tokens, user management."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from pureboot.models import ApiToken, AuditEntry, User
from tests.support.auth import ensure_user


def _login(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_password_is_argon2_hashed_and_login_issues_jwt(app, db, anon_client):
    ensure_user(app, "alice", "operator", "correct horse battery")
    with db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    body = _login(anon_client, "alice", "correct horse battery").get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    me = anon_client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "alice" and me.get_json()["role"] == "operator"
    assert "nodes:write" in me.get_json()["permissions"]
    assert "password" not in me.get_json() and "password_hash" not in me.get_json()


def test_wrong_password_and_unknown_user_are_401_and_audited(app, db, anon_client):
    ensure_user(app, "bob", "user", "s3cret-password")
    for name, password in (("bob", "wrong-password"), ("nobody", "whatever-pass")):
        response = _login(anon_client, name, password)
        assert response.status_code == 401
        assert response.get_json()["code"] == "invalid_credentials"
    with db.session() as s:
        failures = s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login",
                                                      AuditEntry.outcome == "failure")).all()
    assert sorted(e.actor for e in failures) == ["bob", "nobody"]
    assert all(e.source_ip == "127.0.0.1" for e in failures)


def test_refresh_rotates_and_dies_on_password_change(app, anon_client):
    ensure_user(app, "carol", "auditor", "first-password")
    pair = _login(anon_client, "carol", "first-password").get_json()
    fresh = anon_client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200 and fresh.get_json()["access_token"]
    # an access token is not a refresh token
    assert anon_client.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}).status_code == 401
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    changed = anon_client.post("/api/v1/me/password", headers=headers,
                               json={"current_password": "first-password", "new_password": "second-password"})
    assert changed.status_code == 204
    assert anon_client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert _login(anon_client, "carol", "first-password").status_code == 401
    assert _login(anon_client, "carol", "second-password").status_code == 200


def test_anonymous_gets_401_with_www_authenticate(anon_client):
    response = anon_client.get("/api/v1/nodes")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["status"] == "Unauthorized"
    bad = anon_client.get("/api/v1/nodes", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "invalid_token"
    assert anon_client.get("/api/v1/ping").status_code == 200


def test_disabled_user_token_stops_working(app, client, client_as):
    operator = client_as("operator")
    assert operator.get("/api/v1/nodes").status_code == 200
    user_id = client.get("/api/v1/users?username=operator").get_json()["results"][0]["id"]
    assert client.patch(f"/api/v1/users/{user_id}", json={"active": False}).status_code == 200
    assert operator.get("/api/v1/nodes").status_code == 401


def test_api_token_shown_once_stored_hashed_revocable(app, db, client_as, anon_client):
    operator = client_as("operator")
    created = operator.post("/api/v1/tokens", json={"name": "ci"})
    assert created.status_code == 201
    text = created.get_json()["token"]
    assert text.startswith("pbt_")
    listed = operator.get("/api/v1/tokens").get_json()["results"]
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    with db.session() as s:
        assert text not in [r.token_hash for r in s.scalars(select(ApiToken))]
    headers = {"Authorization": f"Bearer {text}"}
    assert anon_client.get("/api/v1/me", headers=headers).get_json()["authenticated_via"] == "api_token"
    assert anon_client.post("/api/v1/nodes", headers=headers, json={"mac": "52:54:00:00:00:01"}).status_code == 201
    # another non-admin cannot see or revoke it
    assert client_as("auditor").delete(f"/api/v1/tokens/{created.get_json()['id']}").status_code == 404
    assert operator.delete(f"/api/v1/tokens/{created.get_json()['id']}").status_code == 204
    assert anon_client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_token_expiry(app, db, client, anon_client):
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    text = client.post("/api/v1/tokens", json={"name": "short", "expires_at": soon}).get_json()["token"]
    headers = {"Authorization": f"Bearer {text}"}
    assert anon_client.get("/api/v1/me", headers=headers).status_code == 200
    with db.session() as s:
        s.execute(update(ApiToken).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    response = anon_client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "token_expired"
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    assert client.post("/api/v1/tokens", json={"name": "x", "expires_at": past}).status_code == 422


def test_admin_manages_users_and_role_changes_are_audited(client, client_as):
    created = client.post("/api/v1/users", json={"username": "dave", "role": "user", "password": "dave-password"})
    assert created.status_code == 201 and "password" not in created.get_json()
    assert created.get_json()["has_password"] is True
    assert client.post("/api/v1/users", json={"username": "dave", "role": "user"}).status_code == 409
    user_id = created.get_json()["id"]
    assert client.patch(f"/api/v1/users/{user_id}", json={"role": "operator"}).get_json()["role"] == "operator"
    audit = client.get("/api/v1/audit?action=user.role").get_json()["results"]
    assert audit[0]["details"]["changes"]["role"] == {"from": "user", "to": "operator"}
    assert audit[0]["actor"] == "admin"
    assert client_as("operator").post("/api/v1/users", json={"username": "x", "role": "admin"}).status_code == 403


def test_admins_cannot_lock_themselves_out_nor_remove_the_last_admin(client, client_as, db):
    me = client.get("/api/v1/me").get_json()
    response = client.patch(f"/api/v1/users/{me['id']}", json={"role": "operator"})
    assert response.status_code == 409 and response.get_json()["code"] == "self_lockout"
    assert client.delete(f"/api/v1/users/{me['id']}").status_code == 409
    other = client_as("admin", "admin2")
    last = other.patch(f"/api/v1/users/{me['id']}", json={"role": "operator"})
    assert last.status_code == 200  # admin2 remains
    admin2_id = other.get("/api/v1/me").get_json()["id"]
    with db.session() as s:  # admin2 is now the only admin: nobody may remove it
        import pytest

        from pureboot.errors import Conflict
        from pureboot.services.users import get_user, update_user
        with pytest.raises(Conflict):
            update_user(s, get_user(s, admin2_id), {"active": False})


def test_auth_not_required_makes_anonymous_an_admin(app, anon_client):
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(auth_required=False)
    assert anon_client.get("/api/v1/nodes").status_code == 200
    assert anon_client.get("/api/v1/me").get_json()["authenticated_via"] == "anonymous"


def test_external_authenticator_seam(app, db, anon_client):
    """An LDAP/SAML/OAuth2 backend plugs in through register_authenticator (here: a directory
    that knows one user), and local users keep working alongside it."""
    from pureboot.services import users as service

    class Directory:
        name = "directory"

        def authenticate(self, session, username, password):
            if (username, password) != ("ext-bob", "directory-pass"):
                return None
            return service.get_by_username(session, username) or service.create_user(
                session, username, "auditor", source="directory")

    service.register_authenticator("directory", lambda settings: Directory())
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(authenticators="local,directory")
    ensure_user(app, "local-amy", "user", "local-password")
    assert _login(anon_client, "ext-bob", "directory-pass").status_code == 200
    assert _login(anon_client, "ext-bob", "wrong").status_code == 401
    assert _login(anon_client, "local-amy", "local-password").status_code == 200
    with db.session() as s:
        bob = service.get_by_username(s, "ext-bob")
        assert bob.source == "directory" and bob.password_hash is None


def test_credential_access_is_audited(app, client):
    created = client.post("/api/v1/credentials", json={"name": "wh", "kind": "webhook",
                                                       "secrets": {"token": "hook-token-1"}}).get_json()
    from pureboot.services import credentials
    with app.test_request_context():
        from pureboot.db import get_session
        assert credentials.reveal(get_session(), created["id"], "job 7") == {"token": "hook-token-1"}
    entry = client.get("/api/v1/audit?action=credential.access").get_json()["results"][0]
    assert entry["target_id"] == str(created["id"]) and entry["details"] == {"purpose": "job 7"}
