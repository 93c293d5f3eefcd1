"""System-wide settings and emergency access: both only through a second person's approval."""

from tests.support.auth import ensure_user


def test_settings_change_waits_for_a_second_admin_then_applies(app, client, client_as):
    before = client.get("/api/v1/settings").get_json()
    assert before["values"]["approval_window"] == 3600 and before["overridden"] == []
    plan = client.patch("/api/v1/settings?dry_run=true", json={"changes": {"approval_window": 600}, "reason": "x"})
    assert plan.status_code == 200 and "3600 -> 600" in plan.get_json()["summary"]
    requested = client.patch("/api/v1/settings", json={"changes": {"approval_window": 600,
                                                                   "approver_roles": "admin,operator"},
                                                       "reason": "shorter window, operators approve"})
    assert requested.status_code == 202
    assert client.get("/api/v1/settings").get_json()["values"]["approval_window"] == 3600  # not yet
    assert client.post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={}).status_code == 403
    done = client_as("admin", "admin-two").post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={})
    assert done.get_json()["status"] == "executed", done.get_json()
    after = client.get("/api/v1/settings").get_json()
    assert after["values"]["approval_window"] == 600 and after["overridden"] == ["approval_window", "approver_roles"]
    assert app.config["PUREBOOT"].approver_roles == "admin,operator"
    assert client_as("operator").post("/api/v1/approvals/999/approve", json={}).status_code == 404  # may decide now


def test_invalid_or_unauthorised_settings_changes(client, client_as):
    bad = client.patch("/api/v1/settings", json={"changes": {"approver_roles": "root"}, "reason": "x"})
    assert bad.status_code == 422
    lots = client.patch("/api/v1/settings", json={"changes": {"rate_limit_login": "lots"}, "reason": "x"})
    assert lots.status_code == 422
    assert client.patch("/api/v1/settings", json={"changes": {"secret_key": "x"}, "reason": "x"}).status_code == 422
    assert client_as("operator").patch("/api/v1/settings", json={"changes": {"discovery": False},
                                                                  "reason": "x"}).status_code == 403
    assert client_as("auditor").get("/api/v1/settings").status_code == 200


def test_emergency_access_is_temporary_and_four_eye(app, client, client_as):
    operator = client_as("operator")
    assert operator.get("/api/v1/users").status_code == 403
    requested = operator.post("/api/v1/approvals", json={"action": "access.emergency", "target_id": "operator",
                                                          "payload": {"role": "admin", "minutes": 30},
                                                          "reason": "incident 42"})
    assert requested.status_code == 201
    assert operator.post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={}).status_code == 403
    done = client.post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={})
    assert done.get_json()["status"] == "executed"
    assert operator.get("/api/v1/users").status_code == 200
    assert operator.get("/api/v1/me").get_json()["role"] == "admin"
    # it lapses on its own
    from sqlalchemy import update

    from pureboot.models import User, utcnow
    with app.extensions["pureboot.db"].session() as s:
        s.execute(update(User).where(User.username == "operator").values(elevated_until=utcnow()))
    assert operator.get("/api/v1/users").status_code == 403
    too_long = operator.post("/api/v1/approvals", json={"action": "access.emergency", "target_id": "operator",
                                                         "payload": {"minutes": 100000}, "reason": "x"})
    assert too_long.status_code == 422
    ensure_user(app, "viewer", "user")
    assert client_as("user", "viewer").post("/api/v1/approvals", json={
        "action": "access.emergency", "target_id": "viewer", "reason": "x"}).status_code == 403
