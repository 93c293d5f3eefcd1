"""A deploy agent's install token reads templates (the image it streams) and nothing else."""

from __future__ import annotations

from tests.controller.helpers import make_node, make_workflow, ok


def _agent_token(client, anon_client) -> str:
    workflow = make_workflow(client, tasks=[{"type": "image_deploy", "image": "img"}])
    make_node(client, "52:54:00:00:77:01", workflow_id=workflow["id"])
    spec = ok(anon_client.get("/api/v1/next?mac=52:54:00:00:77:01"))
    assert spec["action"] in ("install", "agent") and spec["token"].startswith("pbn_")
    return spec["token"]


def test_node_token_streams_templates_only(client, anon_client):
    template = ok(client.post("/api/v1/templates?name=img&kind=raw", data=b"disk-bytes",
                              content_type="application/octet-stream"), 201)
    token = _agent_token(client, anon_client)
    agent = {"Authorization": f"Bearer {token}"}
    assert anon_client.get(template["download_url"], headers=agent).data == b"disk-bytes"
    assert ok(anon_client.get(template["url"], headers=agent))["sha256"] == template["sha256"]
    for method, url in (("get", "/api/v1/nodes"), ("get", "/api/v1/users"), ("delete", template["url"]),
                        ("post", "/api/v1/workflows")):
        assert getattr(anon_client, method)(url, headers=agent).status_code == 403, url


def test_node_token_dies_with_the_install(client, anon_client):
    template = ok(client.post("/api/v1/templates?name=img&kind=raw", data=b"x",
                              content_type="application/octet-stream"), 201)
    token = _agent_token(client, anon_client)
    ok(client.patch("/api/v1/nodes/1/state", json={"state": "failed", "reason": "test"}))
    response = anon_client.get(template["download_url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    forged = anon_client.get(template["download_url"], headers={"Authorization": "Bearer pbn_forged"})
    assert forged.status_code == 401
