"""Small helpers for API tests."""

from __future__ import annotations

from typing import Any

WORKFLOW = {
    "name": "ubuntu-2404-server",
    "description": "Ubuntu 24.04 LTS Server Installation",
    "tasks": [
        {"type": "pxe_boot", "bootloader": "ipxe", "kernel": "/tftp/ubuntu/vmlinuz",
         "initrd": "/tftp/ubuntu/initrd", "cmdline": "ip=dhcp"},
        {"type": "image_deploy", "image": "/templates/ubuntu-2404.tar.gz", "target": "/dev/sda"},
        {"type": "reboot", "delay": 10},
    ],
}


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def make_workflow(client, **overrides) -> dict:
    return ok(client.post("/api/v1/workflows", json={**WORKFLOW, **overrides}), 201)


def make_node(client, mac: str = "52:54:00:00:00:01", **fields) -> dict:
    return ok(client.post("/api/v1/nodes", json={"mac": mac, **fields}), 201)


def set_state(client, node_id: int, state: str, **extra):
    return client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": state, **extra})
