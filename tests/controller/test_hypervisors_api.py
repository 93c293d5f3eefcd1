from .helpers import ok


def test_hypervisor_crud(client):
    body = {"name": "lab-kvm", "provider": "libvirt", "endpoint": "qemu:///system", "options": {"pool": "default"}}
    created = ok(client.post("/api/v1/hypervisors", json=body), 201)
    assert created["provider"] == "libvirt" and created["url"] == f"/api/v1/hypervisors/{created['id']}"
    ok(client.post("/api/v1/hypervisors", json=body), 409)
    assert ok(client.patch(created["url"], json={"verify_tls": False}))["verify_tls"] is False
    assert ok(client.get("/api/v1/hypervisors?provider=libvirt"))["count"] == 1
    assert "provider" in ok(client.post("/api/v1/hypervisors", json={**body, "name": "x", "provider": "xen"}),
                            422)["errors"]
    assert client.delete(created["url"]).status_code == 204
    ok(client.get(created["url"]), 404)
