"""Audit: every sensitive operation appends; the hash chain exposes edits and deletions."""

import threading

from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from pureboot.models import AuditEntry
from pureboot.services import audit


def _verify(client):
    response = client.get("/api/v1/audit/verify")
    assert response.status_code == 200
    return response.get_json()


def _some_entries(client, count=5):
    for i in range(count):
        client.post("/api/v1/nodes", json={"mac": f"52:54:00:bb:00:{i:02x}"})
        client.post("/api/v1/users", json={"username": f"u{i}", "role": "user"})


def test_entries_say_who_what_target_when_ip_outcome(client, anon_client):
    client.post("/api/v1/users", json={"username": "eve", "role": "auditor"})
    anon_client.post("/api/v1/auth/token", json={"username": "eve", "password": "wrong-password"})
    entries = client.get("/api/v1/audit?order_by=-seq").get_json()["results"]
    failed = next(e for e in entries if e["action"] == "auth.login")
    assert failed["actor"] == "eve" and failed["outcome"] == "failure" and failed["source_ip"] == "127.0.0.1"
    created = next(e for e in entries if e["action"] == "user.create")
    assert created["actor"] == "admin" and created["target_type"] == "user" and created["created_at"]
    assert _verify(client)["ok"] is True


def test_filters_and_access(client, client_as):
    _some_entries(client, 2)
    only = client.get("/api/v1/audit?action=user.create&actor=admin").get_json()
    assert only["count"] == 2 and {e["action"] for e in only["results"]} == {"user.create"}
    assert client_as("auditor").get("/api/v1/audit").status_code == 200
    assert client_as("operator").get("/api/v1/audit").status_code == 403
    assert client_as("user").get("/api/v1/audit/verify").status_code == 403
    denied = client.get("/api/v1/audit?action=access.denied").get_json()["results"]
    assert {e["actor"] for e in denied} == {"operator", "user"}


def test_verify_detects_an_edited_entry(client, db):
    _some_entries(client)
    assert _verify(client)["ok"] is True
    with db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else"))
    result = _verify(client)
    assert result["ok"] is False
    assert {"seq": 3, "problem": "content does not match its hash (edited)"} in result["problems"]


def test_verify_detects_deleted_entries_in_the_middle_and_at_the_end(client, db):
    _some_entries(client)
    with db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    problems = _verify(client)["problems"]
    assert any(p["seq"] == 5 and "missing" in p["problem"] for p in problems)
    with db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 4))
    result = _verify(client)  # the rest links up, but the tip no longer matches the head
    assert result["ok"] is False and "newest entries are missing" in result["problems"][-1]["problem"]


def test_cli_verify_exit_codes(app, client, db, settings, monkeypatch):
    _some_entries(client, 2)
    monkeypatch.setenv("PUREBOOT_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PUREBOOT_DATABASE_URL", settings.database_url)
    from pureboot.cli import main
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and ok.output.startswith("OK:")
    with db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(outcome="success-ish"))
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1 and "TAMPERED" in bad.output


def test_concurrent_appends_never_fork_the_chain(app, db):
    def append(n):
        with app.app_context():
            for i in range(10):
                audit.record("test.concurrent", actor=f"t{n}", details={"i": i})

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 60
        assert s.scalar(select(func.count(func.distinct(AuditEntry.prev_hash)))) == 60
        result = audit.verify(s)
    assert result.ok, result.problems
    assert (result.first_seq, result.last_seq, result.checked) == (1, 60, 60)


def test_clearing_needs_an_approval_and_the_rest_still_verifies(client, client_as, db):
    _some_entries(client, 3)
    with db.session() as s:
        cut = s.scalar(select(func.max(AuditEntry.seq)))
    requested = client.post("/api/v1/audit/clear", json={"before_seq": cut, "reason": "retention"})
    assert requested.status_code == 202 and requested.get_json()["action"] == "audit.clear"
    with db.session() as s:
        assert s.scalar(select(func.min(AuditEntry.seq))) == 1  # nothing cleared yet
    assert client_as("operator").post("/api/v1/audit/clear", json={"before_seq": 2, "reason": "x"}).status_code == 403
    done = client_as("admin", "other-admin").post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={})
    assert done.get_json()["status"] == "executed" and done.get_json()["result"]["deleted"] == cut - 1
    with db.session() as s:
        assert s.scalar(select(func.min(AuditEntry.seq))) == cut
    assert _verify(client)["ok"] is True
    with db.session() as s:  # deleting the first survivor is still detected
        s.execute(delete(AuditEntry).where(AuditEntry.seq == cut))
    assert _verify(client)["ok"] is False


def test_transitions_are_audited(client):
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:dd:00:01"}).get_json()
    client.patch(f"/api/v1/nodes/{node['id']}/state", json={"state": "retired", "reason": "gone"})
    entry = client.get("/api/v1/audit?action=node.transition").get_json()["results"][0]
    assert entry["target_id"] == str(node["id"]) and entry["details"] == {"from": "discovered", "to": "retired",
                                                                          "reason": "gone"}
