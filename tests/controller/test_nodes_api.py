"""Node registry API: round-trips, validation, errors, lifecycle over HTTP."""

from __future__ import annotations

import pytest

from .helpers import make_node, make_workflow, ok, set_state


@pytest.mark.parametrize("spelling", ["AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "aa:bb:cc:dd:ee:0f",
                                      "AABBCCDDEE0F", "01-aa-bb-cc-dd-ee-0f"])
def test_mac_spellings_normalise_to_one_form(client, spelling):
    assert make_node(client, spelling)["mac"] == "aa:bb:cc:dd:ee:0f"


def test_duplicate_mac_in_another_spelling_is_409(client):
    make_node(client, "aa:bb:cc:dd:ee:ff")
    body = ok(client.post("/api/v1/nodes", json={"mac": "AABB.CCDD.EEFF"}), 409)
    assert body["errors"] == {"mac": ["already registered"]}
    assert ok(client.get("/api/v1/nodes"))["count"] == 1


def test_create_get_patch_round_trip(client):
    node = make_node(client, hostname="Web-01.example.com", serial="SN1", arch="arm64", firmware="uefi",
                     platform="rpi", site="lab", tags=["web", "edge"], hardware={"cpus": 4},
                     system_uuid="4c4c4544-0038-5a10-8052-b4c04f4d4c31", ip_address="10.1.2.3")
    assert node["state"] == "discovered" and node["hostname"] == "web-01.example.com"
    assert node["url"] == f"/api/v1/nodes/{node['id']}"
    assert node["related"]["events"] == f"/api/v1/nodes/{node['id']}/events"
    assert ok(client.get(node["url"])) == node
    patched = ok(client.patch(node["url"], json={"site": "dc2", "tags": ["db"]}))
    assert (patched["site"], patched["tags"], patched["hostname"]) == ("dc2", ["db"], "web-01.example.com")


def test_create_with_workflow_starts_pending_and_pins_version(client):
    workflow = make_workflow(client)
    node = make_node(client, workflow_id=workflow["id"])
    assert node["state"] == "pending"
    assert (node["workflow"], node["workflow_version"]) == (workflow["id"], 1)
    events = ok(client.get(f"{node['url']}/events"))["results"]
    assert [(e["from_state"], e["to_state"]) for e in events] == [(None, "discovered"), ("discovered", "pending")]


@pytest.mark.parametrize("body,field", [
    ({"mac": "zz:zz"}, "mac"),
    ({}, "mac"),
    ({"mac": "52:54:00:00:00:01", "hostname": "-bad-"}, "hostname"),
    ({"mac": "52:54:00:00:00:01", "ip_address": "300.1.1.1"}, "ip_address"),
    ({"mac": "52:54:00:00:00:01", "arch": "sparc"}, "arch"),
    ({"mac": "52:54:00:00:00:01", "system_uuid": "nope"}, "system_uuid"),
    ({"mac": "52:54:00:00:00:01", "tags": "web"}, "tags"),
    ({"mac": "52:54:00:00:00:01", "state": "active"}, "state"),
    ({"mac": "52:54:00:00:00:01", "workflow_id": 999}, "workflow_id"),
    ({"mac": 12}, "mac"),
])
def test_bad_input_is_422_per_field_and_writes_nothing(client, body, field):
    error = ok(client.post("/api/v1/nodes", json=body), 422)
    assert set(error) >= {"code", "status", "message", "errors"} and error["code"] == 422
    assert field in error["errors"]
    assert ok(client.get("/api/v1/nodes"))["count"] == 0


@pytest.mark.parametrize("data,content_type,status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 422),
    ("null", "application/json", 422),
    ("mac: [", "application/yaml", 400),
])
def test_malformed_bodies_get_json_errors(client, data, content_type, status):
    response = client.post("/api/v1/nodes", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["code"] == status


def test_unknown_ids_and_routes_are_json_404(client):
    for url in ("/api/v1/nodes/4242", "/api/v1/nodes/4242/events", "/api/v1/nope"):
        body = ok(client.get(url), 404)
        assert body["code"] == 404 and "message" in body
    assert ok(client.put("/api/v1/nodes"), 405)["code"] == 405


def test_illegal_transition_is_409_with_allowed_states(client):
    node = make_node(client)
    body = ok(set_state(client, node["id"], "installed"), 409)
    assert body["allowed"] == ["pending", "retired"] and body["state"] == "discovered"
    assert ok(client.get(node["url"]))["state"] == "discovered"


def test_state_walk_over_http(client):
    workflow = make_workflow(client)
    node = make_node(client)
    assert ok(client.get(f"{node['url']}/state")) == {"state": "discovered", "allowed": ["pending", "retired"]}
    assert ok(set_state(client, node["id"], "pending", workflow_id=workflow["id"]))["state"] == "pending"
    for state in ("installing", "installed", "active"):
        assert ok(set_state(client, node["id"], state, reason=f"to {state}"))["state"] == state
    deferred = ok(set_state(client, node["id"], "pending"), 202)  # four-eye: an approval request, no change
    assert deferred["action"] == "node.reprovision" and deferred["status"] == "pending"
    events = ok(client.get(f"{node['url']}/events?order_by=-id&page_size=1"))
    assert events["count"] == 5 and events["results"][0]["to_state"] == "active"
    assert events["results"][0]["reason"] == "to active"


def test_state_value_is_validated(client):
    node = make_node(client)
    assert "state" in ok(set_state(client, node["id"], "reprovision"), 422)["errors"]


def test_delete_retires_and_keeps_the_record(client):
    node = make_node(client)
    assert ok(client.delete(node["url"]))["state"] == "retired"
    assert ok(client.get(node["url"]))["state"] == "retired"
    assert ok(client.delete(node["url"]))["state"] == "retired"  # idempotent


def test_delete_of_installing_node_is_refused(client):
    workflow = make_workflow(client)
    node = make_node(client, workflow_id=workflow["id"])
    ok(set_state(client, node["id"], "installing"))
    assert ok(client.delete(node["url"]), 409)["state"] == "installing"


def test_patch_mac_clash_and_workflow_rules(client):
    workflow = make_workflow(client)
    a, b = make_node(client, "52:54:00:00:00:0a"), make_node(client, "52:54:00:00:00:0b")
    ok(client.patch(b["url"], json={"mac": "52-54-00-00-00-0A"}), 409)
    ok(client.patch(a["url"], json={"workflow_id": workflow["id"]}))
    ok(set_state(client, a["id"], "pending"))
    ok(set_state(client, a["id"], "installing"))
    assert ok(client.patch(a["url"], json={"workflow_id": None}), 409)["state"] == "installing"
