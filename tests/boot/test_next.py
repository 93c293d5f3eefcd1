"""GET /api/v1/next: the decision applied to the registry, on SQLite and PostgreSQL."""

import hashlib

from sqlalchemy import select

from pureboot.models import Node, NodeEvent

from .conftest import MAC, bearer, installing_node, register, set_state


def _node(db, mac=MAC):
    with db.session() as session:
        return session.scalars(select(Node).where(Node.mac == mac)).one()


def test_unknown_mac_is_registered_discovered_and_boots_the_agent_to_inventory(client, db):
    body = client.get("/api/v1/next?mac=52-54-00-12-34-56&arch=x86_64&firmware=uefi&serial=ABC").get_json()
    assert body["action"] == "agent" and body["state"] == "discovered"
    assert body["kernel"].endswith("/boot/agent/vmlinuz") and f"pureboot.token={body['token']}" in body["cmdline"]
    node = _node(db)
    assert (node.firmware, node.arch, node.serial) == ("uefi", "x86_64", "ABC")
    assert node.last_seen_at is not None
    assert node.install_token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    # a second boot (inventory not posted yet) does not register it twice; last booter wins
    again = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert again["node_id"] == body["node_id"] and again["token"] != body["token"]
    assert client.get("/api/v1/next", headers=bearer(body["token"])).status_code == 401


def test_discovery_off_ignores_unknown_and_registers_nothing(make_app, db):
    client = make_app(discovery=False).test_client()
    body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert body["action"] == "ignore" and body["node_id"] is None
    with db.session() as session:
        assert session.scalars(select(Node)).all() == []


def test_pending_starts_install_with_token(client, db, workflow):
    node = register(client, MAC, workflow["id"])
    body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert body["action"] == "install" and body["state"] == "installing"
    assert body["workflow"] == "debian-12" and body["workflow_version"] == 1
    assert body["kernel"] == "http://127.0.0.1:8080/boot/files/debian/linux"
    assert body["autoinstall"] == "http://127.0.0.1:8080/boot/files/debian/preseed.cfg"
    assert body["post_install"] == ["playbooks/post_install.yml"]
    assert [t["type"] for t in body["tasks"]] == ["pxe_boot", "reboot"]
    token = body["token"]
    assert token.startswith("pbn_") and len(token) >= 4 + 43  # 32 random bytes, urlsafe base64
    assert f"pureboot.token={token}" in body["cmdline"]
    assert f"pureboot.node={node['id']} " in body["cmdline"] + " "
    assert body["cmdline"].startswith("auto=true priority=critical ")
    stored = _node(db)
    assert stored.install_token_hash == hashlib.sha256(token.encode()).hexdigest()
    with db.session() as session:
        event = session.scalars(select(NodeEvent).where(NodeEvent.to_state == "installing")).one()
        assert event.actor == "boot" and token not in str(event.details)


def test_installing_reboot_rotates_token(client, workflow):
    _, first = installing_node(client, workflow)
    body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert body["action"] == "install" and body["token"] != first
    assert client.get("/api/v1/next", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/next", headers=bearer(body["token"])).status_code == 200


def test_token_holder_gets_tasks_without_rotation(client, db, workflow):
    _, token = installing_node(client, workflow)
    before = _node(db).install_token_hash
    body = client.get("/api/v1/next", headers=bearer(token)).get_json()
    assert body["action"] == "install" and "token" not in body
    assert [t["type"] for t in body["tasks"]] == ["pxe_boot", "reboot"]
    assert _node(db).install_token_hash == before


def test_token_for_another_mac_is_refused(client, workflow):
    _, token = installing_node(client, workflow)
    response = client.get("/api/v1/next?mac=52:54:00:99:99:99", headers=bearer(token))
    assert response.status_code == 401


def test_bad_node_token_is_401_and_changes_nothing(client, db, workflow):
    register(client, MAC, workflow["id"])
    response = client.get(f"/api/v1/next?mac={MAC}", headers=bearer("pbn_" + "x" * 43))
    assert response.status_code == 401
    assert _node(db).state == "pending"


def test_user_bearer_token_is_not_a_node_token(client, db, workflow):
    """A user's JWT on a boot endpoint is ignored: it is an ordinary check-in."""
    register(client, MAC, workflow["id"])
    body = client.get(f"/api/v1/next?mac={MAC}", headers=bearer("eyJhbGciOi.eyJzdWIi.c2ln")).get_json()
    assert body["action"] == "install" and body["token"].startswith("pbn_")


def test_installed_and_active_boot_local(client, db, workflow):
    node = register(client, MAC, workflow["id"])
    for state in ("installed", "active", "failed"):
        set_state(db, node["id"], state)
        body = client.get(f"/api/v1/next?mac={MAC}").get_json()
        assert body["action"] == "local" and body["kernel"] is None and "token" not in body
        assert _node(db).state == state  # Rule C: nothing reinstalls


def test_retired_is_ignored(client, db):
    node = register(client, MAC)
    set_state(db, node["id"], "retired")
    assert client.get(f"/api/v1/next?mac={MAC}").get_json()["action"] == "ignore"


def test_deprovisioning_boots_the_agent_with_token(client, db):
    node = register(client, MAC)
    set_state(db, node["id"], "deprovisioning")
    body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert body["action"] == "agent" and body["token"]
    assert body["kernel"] == "http://127.0.0.1:8080/boot/agent/vmlinuz"
    assert "pureboot.token=" in body["cmdline"]


def test_token_dies_when_node_leaves_installing(client, db, workflow):
    node, token = installing_node(client, workflow)
    response = client.patch(f"/api/v1/nodes/{node['id']}/state", json={"state": "failed", "reason": "x"})
    assert response.status_code == 200
    assert _node(db).install_token_hash is None
    assert client.get("/api/v1/next", headers=bearer(token)).status_code == 401


def test_operator_started_install_mints_token_then_boot_rotates(client, db, workflow):
    node = register(client, MAC, workflow["id"])
    client.patch(f"/api/v1/nodes/{node['id']}/state", json={"state": "installing"})
    assert _node(db).install_token_hash is not None
    body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert body["action"] == "install" and body["token"]


def test_bad_input_is_a_json_error(client):
    for url in ("/api/v1/next", "/api/v1/next?mac=nope", "/api/v1/boot/dhcp", "/api/v1/next?mac=" + "a" * 5000):
        response = client.get(url)
        assert response.status_code == 422, url
        assert response.get_json()["code"] == 422


def test_dhcp_answer_has_no_side_effects(client, db, workflow):
    body = client.get(f"/api/v1/boot/dhcp?mac={MAC}").get_json()
    assert body == {"serve": True, "state": None, "known": False, "node_id": None,
                    "reason": "unknown MAC, discovery on"}
    with db.session() as session:
        assert session.scalars(select(Node)).all() == []
    node = register(client, MAC, workflow["id"])
    assert client.get(f"/api/v1/boot/dhcp?mac={MAC}").get_json()["serve"] is True
    set_state(db, node["id"], "active")
    assert client.get(f"/api/v1/boot/dhcp?mac={MAC}").get_json()["serve"] is False
    assert _node(db).state == "active"
