"""Workflows: PRD shape in JSON or YAML, typed tasks, immutable versions."""

from __future__ import annotations

import yaml

from .helpers import WORKFLOW, make_node, make_workflow, ok, set_state


def test_create_in_prd_shape_round_trips(client):
    workflow = make_workflow(client)
    assert workflow["version"] == 1 and workflow["tasks"] == WORKFLOW["tasks"]
    assert ok(client.get(workflow["url"])) == workflow


def test_yaml_body_is_accepted(client):
    body = yaml.safe_dump({**WORKFLOW, "name": "from-yaml"})
    created = ok(client.post("/api/v1/workflows", data=body, content_type="application/yaml"), 201)
    assert created["name"] == "from-yaml" and created["tasks"][0]["type"] == "pxe_boot"


def test_task_validation_names_the_task_and_field(client):
    bad = {**WORKFLOW, "tasks": [{"type": "pxe_boot"}, {"type": "teleport"},
                                 {"type": "disk_wipe", "method": "burn"}, {"type": "reboot", "colour": 1}]}
    errors = ok(client.post("/api/v1/workflows", json=bad), 422)["errors"]["tasks"]
    assert errors["0"] == {"kernel": ["required by pxe_boot"]}
    assert "unknown task type" in errors["1"]["type"][0]
    assert errors["2"]["method"] == ["one of quick, zero, secure"]
    assert "colour" in errors["3"]
    assert ok(client.get("/api/v1/workflows"))["count"] == 0


def test_duplicate_name_is_409(client):
    make_workflow(client)
    ok(client.post("/api/v1/workflows", json=WORKFLOW), 409)


def test_patch_creates_versions_and_keeps_old_ones_immutable(client):
    workflow = make_workflow(client)
    node = make_node(client, workflow_id=workflow["id"])
    assert node["workflow_version"] == 1
    v2 = ok(client.patch(workflow["url"], json={"tasks": [{"type": "reboot"}]}))
    assert v2["version"] == 2 and v2["tasks"] == [{"type": "reboot"}]
    v1 = ok(client.get(f"{workflow['url']}/versions/1"))
    assert v1["tasks"] == WORKFLOW["tasks"] and v1["in_use"] is True
    assert ok(client.get(node["url"]))["workflow_version"] == 1  # the node keeps what it was given
    versions = ok(client.get(f"{workflow['url']}/versions"))
    assert [v["version"] for v in versions["results"]] == [1, 2]
    ok(client.get(f"{workflow['url']}/versions/9"), 404)


def test_metadata_patch_does_not_add_a_version(client):
    workflow = make_workflow(client)
    patched = ok(client.patch(workflow["url"], json={"active": False}))
    assert patched["version"] == 1 and patched["active"] is False
    node = make_node(client)
    body = ok(set_state(client, node["id"], "pending", workflow_id=workflow["id"]), 422)
    assert "workflow_id" in body["errors"]


def test_delete_refused_while_assigned(client):
    workflow = make_workflow(client)
    node = make_node(client, workflow_id=workflow["id"])
    assert ok(client.delete(workflow["url"]), 409)["nodes"] == 1
    ok(set_state(client, node["id"], "discovered"))
    assert client.delete(workflow["url"]).status_code == 204
    ok(client.get(workflow["url"]), 404)
