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


def test_node_token_reaches_only_the_templates_its_workflow_names(client, anon_client):
    named = ok(client.post("/api/v1/templates?name=img&kind=raw", data=b"mine",
                           content_type="application/octet-stream"), 201)
    other = ok(client.post("/api/v1/templates?name=secret-image&kind=raw", data=b"not yours",
                           content_type="application/octet-stream"), 201)
    agent = {"Authorization": f"Bearer {_agent_token(client, anon_client)}"}
    listed = ok(anon_client.get("/api/v1/templates", headers=agent))
    assert [t["id"] for t in listed["results"]] == [named["id"]]
    assert ok(anon_client.get("/api/v1/templates?name=secret-image", headers=agent))["count"] == 0
    for url in (other["url"], other["download_url"]):
        response = anon_client.get(url, headers=agent)
        assert response.status_code == 403 and b"not yours" not in response.data, url
    assert anon_client.get(named["download_url"], headers=agent).data == b"mine"
    assert ok(client.get("/api/v1/templates"))["count"] == 2  # users still see everything


def test_node_token_scope_follows_a_template_id(client, anon_client):
    first = ok(client.post("/api/v1/templates?name=a&kind=raw", data=b"a", content_type="application/octet-stream"),
               201)
    second = ok(client.post("/api/v1/templates?name=b&kind=raw", data=b"b",
                            content_type="application/octet-stream"), 201)
    workflow = make_workflow(client, name="by-id", tasks=[{"type": "image_deploy", "image": second["id"]}])
    make_node(client, "52:54:00:00:77:02", workflow_id=workflow["id"])
    token = ok(anon_client.get("/api/v1/next?mac=52:54:00:00:77:02"))["token"]
    agent = {"Authorization": f"Bearer {token}"}
    assert anon_client.get(second["download_url"], headers=agent).data == b"b"
    assert anon_client.get(first["download_url"], headers=agent).status_code == 403
