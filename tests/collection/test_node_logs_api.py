"""POST/GET /api/v1/nodes/{id}/logs: where the Ansible report callback records runs."""


def _node(client, mac="52:54:00:aa:00:01"):
    response = client.post("/api/v1/nodes", json={"mac": mac, "hostname": "n1"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_post_then_list_logs_in_order_with_filters(client):
    node_id = _node(client)
    first = client.post(f"/api/v1/nodes/{node_id}/logs", json={
        "source": "ansible", "message": "playbook site.yml: ok",
        "context": {"ok": 3, "changed": 1, "failed": 0, "failed_tasks": []}})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["context"]["changed"] == 1
    client.post(f"/api/v1/nodes/{node_id}/logs", json={"message": "by hand", "level": "warning"})
    page = client.get(f"/api/v1/nodes/{node_id}/logs").get_json()
    assert page["count"] == 2 and page["next"] is None
    assert [r["message"] for r in page["results"]] == ["playbook site.yml: ok", "by hand"]
    assert page["results"][1]["source"] == "api"
    only = client.get(f"/api/v1/nodes/{node_id}/logs?source=ansible").get_json()
    assert [r["source"] for r in only["results"]] == ["ansible"]
    warned = client.get(f"/api/v1/nodes/{node_id}/logs?level=warning").get_json()
    assert warned["count"] == 1


def test_logs_of_unknown_node_and_bad_input_are_json_errors(client):
    assert client.get("/api/v1/nodes/999/logs").status_code == 404
    missing = client.post("/api/v1/nodes/999/logs", json={"message": "x"})
    assert missing.status_code == 404 and missing.get_json()["message"]
    node_id = _node(client)
    bad = client.post(f"/api/v1/nodes/{node_id}/logs", json={"message": "", "level": "loud", "extra": 1})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"message", "level", "extra"}
    huge = client.post(f"/api/v1/nodes/{node_id}/logs", json={"message": "x", "context": {"blob": "y" * 70000}})
    assert huge.status_code == 422
    assert client.get(f"/api/v1/nodes/{node_id}/logs").get_json()["count"] == 0
