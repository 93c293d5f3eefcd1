"""Input the OpenAPI document forbids is refused (schemathesis negative_data_rejection findings)."""

import pytest


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_json_booleans_are_only_true_or_false(client, value):
    body = {"name": "w", "url": "http://127.0.0.1:9/h", "active": value}
    refused = client.post("/api/v1/webhooks", json=body)
    assert refused.status_code == 422, refused.get_json()
    assert "active" in str(refused.get_json()["errors"])
    hv = client.post("/api/v1/hypervisors", json={"name": "h", "provider": "libvirt",
                                                  "endpoint": "qemu:///system", "verify_tls": value})
    assert hv.status_code == 422
    assert client.post("/api/v1/webhooks", json=body | {"active": False}).get_json()["active"] is False


def test_query_booleans_still_parse_strings(client):
    client.post("/api/v1/workflows", json={"name": "wf", "tasks": [{"type": "inventory"}]})
    assert client.get("/api/v1/workflows?active=true").status_code == 200
    assert client.get("/api/v1/workflows?active=0").status_code == 200


@pytest.mark.parametrize("path,body", [("/api/v1/workflows/1", {"active": False}),
                                       ("/api/v1/webhooks/1", {"active": False})])
def test_patch_without_a_body_is_refused(client, path, body):
    client.post("/api/v1/workflows", json={"name": "wf", "tasks": [{"type": "inventory"}]})
    client.post("/api/v1/webhooks", json={"name": "w", "url": "http://127.0.0.1:9/h"})
    empty = client.patch(path)
    assert empty.status_code == 400 and "body" in empty.get_json()["message"]
    assert client.patch(path, json=body).status_code == 200
