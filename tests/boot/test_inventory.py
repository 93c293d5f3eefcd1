"""Discovery inventory (issue 4): a discovered node boots the agent once, with a token that
opens /next and the inventory report only; its job (the stock inventory playbook) or a
report stores the facts, then it boots local."""

import pytest
from sqlalchemy import select

from pureboot.config import Settings
from pureboot.models import Node, NodeEvent

from .conftest import MAC, bearer, installing_node, register

FACTS = {"cpu": {"model": "QEMU", "count": 2}, "memory": {"total_bytes": 512 << 20}, "firmware": {"mode": "bios"},
         "disks": [{"name": "vda", "size_bytes": 64 << 20, "rotational": True, "serial": "D1", "model": ""}],
         "nics": [{"name": "eth0", "mac": MAC, "driver": "virtio_net", "link": True}],
         "dmi": {"vendor": "QEMU", "product": "Standard PC", "serial": "", "uuid": "1234"}}


def _boot(client, mac=MAC):
    body = client.get(f"/api/v1/next?mac={mac}").get_json()
    assert body["action"] == "agent" and body["state"] == "discovered" and body["token"], body
    return body


def _report(client, token, **body):
    return client.post("/api/v1/report", headers=bearer(token), json={"status": "inventoried", **body})


def _events(db, node_id):
    with db.session() as session:
        return [(e.action, e.actor) for e in session.scalars(
            select(NodeEvent).where(NodeEvent.node_id == node_id).order_by(NodeEvent.id))]


def _hash(db, node_id):
    with db.session() as session:
        return session.get(Node, node_id).install_token_hash


def test_discovered_node_boots_the_agent_for_its_inventory_job_and_keeps_its_token(client):
    spec = _boot(client)
    assert (spec["engine"], spec["after"], spec["tasks"]) == ("ansible", "poweroff", [])
    assert "ssh" not in spec  # the run key goes only to the token holder
    held = client.get("/api/v1/next", headers=bearer(spec["token"])).get_json()
    assert (held["action"], held["state"], held["engine"]) == ("agent", "discovered", "ansible")
    assert held["ssh"]["authorized_key"].startswith("ssh-ed25519 ")
    assert "token" not in held and "phone_home" not in held


def test_inventory_run_even_when_a_workflow_is_set(client, workflow):
    node = register(client, MAC)
    assert client.patch(f"/api/v1/nodes/{node['id']}", json={"workflow_id": workflow["id"]}).status_code == 200
    spec = _boot(client)
    assert (spec["engine"], spec["tasks"], spec["autoinstall"]) == ("ansible", [], None)


def test_after_inventory_setting_reboot(make_app):
    client = make_app(discovery_after_inventory="reboot").test_client()
    assert _boot(client)["after"] == "reboot"


@pytest.mark.parametrize("value", ["halt", "", "true"])
def test_after_inventory_setting_is_validated(value):
    with pytest.raises(ValueError, match="discovery_after_inventory must be one of poweroff, reboot"):
        Settings().with_overrides(discovery_after_inventory=value)


def test_inventory_is_stored_once_then_the_node_boots_local(client, db):
    spec = _boot(client)
    response = _report(client, spec["token"], hardware=FACTS, logs=["inventory: 2 CPU(s)"],
                       message="agent finished 2 task(s)")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "discovered"
    node = client.get(f"/api/v1/nodes/{spec['node_id']}").get_json()
    assert node["state"] == "discovered" and node["hardware"]["nics"][0]["mac"] == MAC
    assert node["hardware"]["disks"][0]["size_bytes"] == 64 << 20 and node["hardware"]["inventoried_at"]
    assert _events(db, spec["node_id"])[-1] == ("inventory", "node")
    assert _hash(db, spec["node_id"]) is None  # the token is used up
    again = _report(client, spec["token"], hardware=FACTS)
    assert again.status_code == 401 and again.get_json()["message"]
    boot = client.get(f"/api/v1/next?mac={MAC}").get_json()
    assert (boot["action"], boot["kernel"], boot["tasks"]) == ("discover", None, []) and "token" not in boot


def test_inventory_token_reports_nothing_else(client, db):
    spec = _boot(client)
    for status in ("installing", "installed", "failed", "wiped", "migrated"):
        response = client.post("/api/v1/report", headers=bearer(spec["token"]), json={"status": status})
        assert response.status_code == 409 and response.get_json()["state"] == "discovered", status
    missing = _report(client, spec["token"])
    assert missing.status_code == 422 and "hardware" in missing.get_json()["errors"]
    assert _report(client, spec["token"] + "x", hardware=FACTS).status_code == 401
    assert _report(client, "pbn_forged", hardware=FACTS).status_code == 401
    node = client.get(f"/api/v1/nodes/{spec['node_id']}").get_json()
    assert node["state"] == "discovered" and node["hardware"] == {}
    assert _events(db, spec["node_id"]) == [("register", "boot")]


def test_inventory_token_is_not_a_node_principal(client, anon_client):
    template = client.post("/api/v1/templates?name=img&kind=raw", data=b"disk-bytes",
                           content_type="application/octet-stream").get_json()
    spec = _boot(anon_client)
    response = anon_client.get(template["download_url"], headers=bearer(spec["token"]))
    assert response.status_code == 401


def test_install_token_cannot_post_an_inventory(client, workflow):
    node, token = installing_node(client, workflow)
    response = _report(client, token, hardware=FACTS)
    assert response.status_code == 409 and response.get_json()["state"] == "installing"


def test_assigning_a_workflow_kills_the_inventory_token(client, db, workflow):
    spec = _boot(client)
    response = client.patch(f"/api/v1/nodes/{spec['node_id']}/state",
                            json={"state": "pending", "workflow_id": workflow["id"]})
    assert response.status_code == 200, response.get_json()
    assert _hash(db, spec["node_id"]) is None
    assert _report(client, spec["token"], hardware=FACTS).status_code == 401
    assert client.get("/api/v1/next", headers=bearer(spec["token"])).status_code == 401


def test_admin_asks_for_a_fresh_inventory(client, db):
    spec = _boot(client)
    assert _report(client, spec["token"], hardware=FACTS).status_code == 200
    response = client.post(f"/api/v1/nodes/{spec['node_id']}/inventory")
    assert response.status_code == 200, response.get_json()
    hardware = response.get_json()["hardware"]
    assert "inventoried_at" not in hardware and hardware["nics"] == FACTS["nics"]  # old facts kept meanwhile
    assert _events(db, spec["node_id"])[-1] == ("inventory_request", "admin")
    second = _boot(client)  # the next boot inventories again, with a new token
    assert second["token"] != spec["token"]
    more = {**FACTS, "memory": {"total_bytes": 1 << 30}}
    assert _report(client, second["token"], hardware=more).status_code == 200
    assert client.get(f"/api/v1/nodes/{spec['node_id']}").get_json()["hardware"]["memory"] == {"total_bytes": 1 << 30}


def test_fresh_inventory_only_for_discovered_nodes(client, workflow):
    node = register(client, MAC, workflow["id"])
    response = client.post(f"/api/v1/nodes/{node['id']}/inventory")
    body = response.get_json()
    assert response.status_code == 409 and body["state"] == "pending" and body["allowed"] == ["discovered"]
    assert client.post("/api/v1/nodes/999999/inventory").status_code == 404


def test_fresh_inventory_needs_nodes_write(client_as):
    node = register(client_as("admin"), MAC)
    for role, status in (("user", 403), ("auditor", 403), ("operator", 200)):
        assert client_as(role).post(f"/api/v1/nodes/{node['id']}/inventory").status_code == status, role
