"""POST /api/v1/report: token required, results move the node, logs are capped."""

from sqlalchemy import func, select

from pureboot.models import Log, Node, NodeEvent

from .conftest import MAC, bearer, installing_node, register, set_state


def _state(db, node_id):
    with db.session() as session:
        return session.get(Node, node_id).state


def test_missing_or_invalid_token_is_401_and_nothing_changes(client, db, workflow):
    node, token = installing_node(client, workflow)
    for headers in ({}, bearer("nope"), {"Authorization": f"Basic {token}"}, bearer(token[:-1])):
        response = client.post("/api/v1/report", json={"status": "installed", "logs": ["x"]}, headers=headers)
        assert response.status_code == 401, headers
    assert _state(db, node["id"]) == "installing"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Log)) == 0


def test_progress_then_installed_then_token_is_dead(client, db, workflow):
    node, token = installing_node(client, workflow)
    body = client.post("/api/v1/report", headers=bearer(token), json={
        "status": "installing", "progress": 40, "phase": "partitioning", "logs": ["one", "two"],
        "hardware": {"cpus": 4}}).get_json()
    assert (body["state"], body["progress"], body["phase"]) == ("installing", 40, "partitioning")
    response = client.post("/api/v1/report", headers=bearer(token), json={"status": "installed", "node_id": node["id"]})
    assert response.status_code == 200 and response.get_json()["state"] == "installed"
    got = client.get(f"/api/v1/nodes/{node['id']}").get_json()
    assert got["hardware"]["cpus"] == 4 and got["install_progress"] == 100
    again = client.post("/api/v1/report", headers=bearer(token), json={"status": "installing", "progress": 1})
    assert again.status_code == 401
    assert client.get(f"/api/v1/next?mac={MAC}").get_json()["action"] == "local"


def test_failed_records_reason(client, db, workflow):
    node, token = installing_node(client, workflow)
    client.post("/api/v1/report", headers=bearer(token), json={"status": "failed", "message": "disk not found"})
    assert _state(db, node["id"]) == "failed"
    with db.session() as session:
        event = session.scalars(select(NodeEvent).order_by(NodeEvent.id.desc())).first()
        assert (event.to_state, event.reason, event.actor) == ("failed", "disk not found", "node")


def test_wiped_retires_with_evidence(client, db):
    node = register(client, MAC)
    set_state(db, node["id"], "deprovisioning")
    token = client.get(f"/api/v1/next?mac={MAC}").get_json()["token"]
    evidence = {"disks": [{"name": "/dev/vda", "method": "blkdiscard", "verified": True}]}
    response = client.post("/api/v1/report", headers=bearer(token), json={"status": "wiped", "evidence": evidence})
    assert response.status_code == 200 and response.get_json()["state"] == "retired"
    with db.session() as session:
        event = session.scalars(select(NodeEvent).where(NodeEvent.to_state == "retired")).one()
        assert event.details["evidence"] == evidence


def test_node_id_mismatch_is_403(client, db, workflow):
    node, token = installing_node(client, workflow)
    body = {"status": "installed", "node_id": node["id"] + 1}
    response = client.post("/api/v1/report", headers=bearer(token), json=body)
    assert response.status_code == 403
    assert _state(db, node["id"]) == "installing"


def test_status_impossible_in_state_is_409(client, workflow):
    _, token = installing_node(client, workflow)
    assert client.post("/api/v1/report", headers=bearer(token), json={"status": "wiped"}).status_code == 409


def test_bad_bodies_are_json_errors(client, workflow):
    _, token = installing_node(client, workflow)
    for body in ({"status": "done"}, {"status": "installing", "progress": 101}, {"status": "installing", "x": 1},
                 {"status": "installing", "logs": "notalist"}, []):
        response = client.post("/api/v1/report", headers=bearer(token), json=body)
        assert response.status_code == 422 and response.get_json()["code"] == 422, body
    response = client.post("/api/v1/report", headers=bearer(token), data="{", content_type="application/json")
    assert response.status_code == 422


def test_logs_are_capped_per_node_dropping_oldest(client, db, workflow):
    node, token = installing_node(client, workflow)
    line = "x" * 1000
    for batch in range(10):
        logs = [f"{batch:02d}-{i:02d}-{line}" for i in range(10)]
        assert client.post("/api/v1/report", headers=bearer(token),
                           json={"status": "installing", "logs": logs}).status_code == 200
    with db.session() as session:
        messages = session.scalars(select(Log.message).where(Log.node_id == node["id"]).order_by(Log.id)).all()
    total = sum(len(m.encode()) for m in messages)
    assert 64 * 1024 - 1006 < total <= 64 * 1024
    assert messages[-1].startswith("09-09-")  # newest kept
    assert not any(m.startswith("00-") for m in messages)  # oldest dropped
