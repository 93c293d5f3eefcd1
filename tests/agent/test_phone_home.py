"""Phone-home: token derivation, authentication, installed -> active, hooks, revocation."""

from __future__ import annotations

import pytest

from pureboot.models import Node, NodeEvent
from pureboot.services import phone_home
from pureboot.services.nodes import TransitionContext, transition


@pytest.fixture
def workflow(client):
    resp = client.post("/api/v1/workflows", json={"name": "img", "tasks": [
        {"type": "image_deploy", "image": 1, "inject": True}]})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _node(client, workflow, mac="52:54:00:00:00:01") -> int:
    resp = client.post("/api/v1/nodes", json={"mac": mac, "workflow_id": workflow})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _move(app, db, node_id, *states):
    with app.app_context(), db.session() as s:
        node = s.get(Node, node_id)
        for state in states:
            transition(s, node, state, TransitionContext("test"), commit=False)


def _credentials(app, db, node_id):
    with db.session() as s:
        return phone_home.credentials(app.config["PUREBOOT"], s.get(Node, node_id))


def _post(client, node_id, token, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/nodes/{node_id}/phone-home", json=body, headers=headers)


def test_install_mints_credentials_and_phone_home_activates(app, client, db, workflow):
    node_id = _node(client, workflow)
    assert _credentials(app, db, node_id) is None  # pending: no install yet
    _move(app, db, node_id, "installing")
    creds = _credentials(app, db, node_id)
    assert creds["url"].endswith(f"/api/v1/nodes/{node_id}/phone-home")
    assert len(creds["token"]) == 64
    assert _credentials(app, db, node_id) == creds  # /next can hand it out again, unchanged

    early = _post(client, node_id, creds["token"], ip="10.1.2.3")
    assert early.status_code == 409  # still installing
    _move(app, db, node_id, "installed")
    resp = _post(client, node_id, creds["token"], ip="10.1.2.3", hostname="web1")
    assert resp.status_code == 200, resp.json
    assert resp.json == {"node_id": node_id, "state": "active", "ip_address": "10.1.2.3", "claimed_by": None}
    with db.session() as s:
        node = s.get(Node, node_id)
        assert (node.state, node.ip_address, node.hostname) == ("active", "10.1.2.3", "web1")
        assert node.phone_home_at is not None
        event = s.query(NodeEvent).filter_by(node_id=node_id, action="activate").one()
        assert event.actor == "node" and event.details["phone_home"]["ip"] == "10.1.2.3"
    # Later boots of the same image still check in (IP update), without a transition.
    again = _post(client, node_id, creds["token"])
    assert again.status_code == 200 and again.json["state"] == "active"
    assert again.json["ip_address"] == "127.0.0.1"  # the peer address when the body has none


def test_wrong_missing_or_foreign_token_changes_nothing(app, client, db, workflow):
    a = _node(client, workflow, "52:54:00:00:00:0a")
    b = _node(client, workflow, "52:54:00:00:00:0b")
    _move(app, db, a, "installing", "installed")
    _move(app, db, b, "installing", "installed")
    token_b = _credentials(app, db, b)["token"]
    for node_id, token in ((a, None), (a, "x" * 64), (a, token_b), (9999, token_b)):
        resp = _post(client, node_id, token, ip="10.0.0.9")
        assert resp.status_code == 401, (node_id, resp.json)
        assert "phone-home token" in resp.json["message"]
    with db.session() as s:
        assert s.get(Node, a).state == "installed" and s.get(Node, a).ip_address is None


def test_bad_ip_is_rejected(app, client, db, workflow):
    node_id = _node(client, workflow)
    _move(app, db, node_id, "installing", "installed")
    resp = _post(client, node_id, _credentials(app, db, node_id)["token"], ip="not-an-ip")
    assert resp.status_code == 422
    with db.session() as s:
        assert s.get(Node, node_id).state == "installed"


def test_a_claiming_hook_keeps_the_node_installed(app, client, db, workflow):
    seen = []

    def launch_post_install(session, node):
        seen.append((node.id, node.ip_address))
        return True

    phone_home.POST_INSTALL_HOOKS.append(launch_post_install)
    try:
        node_id = _node(client, workflow)
        _move(app, db, node_id, "installing", "installed")
        resp = _post(client, node_id, _credentials(app, db, node_id)["token"], ip="10.9.9.9")
    finally:
        phone_home.POST_INSTALL_HOOKS.remove(launch_post_install)
    assert resp.status_code == 200
    assert resp.json["state"] == "installed" and resp.json["claimed_by"] == "launch_post_install"
    assert seen == [(node_id, "10.9.9.9")]


def test_new_install_or_leaving_revokes_the_token(app, client, db, workflow):
    node_id = _node(client, workflow)
    _move(app, db, node_id, "installing")
    first = _credentials(app, db, node_id)["token"]
    _move(app, db, node_id, "failed")
    assert _credentials(app, db, node_id) is None
    _move(app, db, node_id, "pending", "installing", "installed")
    second = _credentials(app, db, node_id)["token"]
    assert second != first
    assert _post(client, node_id, first).status_code == 401
    assert _post(client, node_id, second).status_code == 200


def test_next_gives_phone_home_credentials_only_to_the_token_holder(app, client, db, workflow):
    node_id = _node(client, workflow, "52:54:00:00:00:42")
    booted = client.get("/api/v1/next?mac=52:54:00:00:00:42")  # iPXE check-in: starts the install
    assert booted.status_code == 200, booted.json
    assert booted.json["state"] == "installing" and "phone_home" not in booted.json
    agent = client.get("/api/v1/next", headers={"Authorization": f"Bearer {booted.json['token']}"})
    assert agent.status_code == 200, agent.json
    assert agent.json["phone_home"] == _credentials(app, db, node_id)
    assert agent.json["engine"] == "ansible" and agent.json["ssh"]["authorized_key"]
    again = client.get("/api/v1/next", headers={"Authorization": f"Bearer {booted.json['token']}"})
    assert again.json["phone_home"] == agent.json["phone_home"]  # stable: no rotation
