"""An anonymous check-in cannot take an install token away from a running agent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from pureboot.models import Node, utcnow
from tests.controller.helpers import make_node, make_workflow, ok

MAC = "52:54:00:00:78:01"
ATTACKER = {"REMOTE_ADDR": "10.66.0.9"}  # not a boot_services address


def _installing(client, anon_client) -> str:
    workflow = make_workflow(client, tasks=[{"type": "image_deploy", "url": "http://x/img.raw"}])
    make_node(client, MAC, workflow_id=workflow["id"])
    spec = ok(anon_client.get(f"/api/v1/next?mac={MAC}"))
    assert spec["token"].startswith("pbn_")
    return spec["token"]


def _agent_call(anon_client, token) -> int:
    return anon_client.get(f"/api/v1/next?mac={MAC}", headers={"Authorization": f"Bearer {token}"}).status_code


def test_token_in_use_survives_an_anonymous_check_in(client, anon_client):
    token = _installing(client, anon_client)
    assert _agent_call(anon_client, token) == 200  # the agent uses it: the run is alive
    spec = ok(anon_client.get(f"/api/v1/next?mac={MAC}", environ_overrides=ATTACKER))
    assert spec["action"] == "local" and not spec.get("token") and "in use" in spec["reason"]
    assert _agent_call(anon_client, token) == 200
    assert ok(client.get("/api/v1/nodes/1"))["state"] == "installing"


def test_unused_token_is_replaced_by_the_next_boot_fetch(client, anon_client):
    first = _installing(client, anon_client)
    second = ok(anon_client.get(f"/api/v1/next?mac={MAC}"))["token"]  # e.g. pxelinux, then grub
    assert second != first and _agent_call(anon_client, second) == 200
    assert _agent_call(anon_client, first) == 401


def test_boot_service_dhcp_lets_a_real_reboot_rotate(client, anon_client):
    token = _installing(client, anon_client)
    assert _agent_call(anon_client, token) == 200
    ok(anon_client.get(f"/api/v1/boot/dhcp?mac={MAC}", environ_overrides=ATTACKER))  # forged: not counted
    assert ok(anon_client.get(f"/api/v1/next?mac={MAC}"))["action"] == "local"
    ok(anon_client.get(f"/api/v1/boot/dhcp?mac={MAC}"))  # the boot service (loopback) saw the node's DHCP
    fresh = ok(anon_client.get(f"/api/v1/next?mac={MAC}"))
    assert fresh["action"] == "install" and fresh["token"] != token
    assert _agent_call(anon_client, token) == 401


def test_silent_token_is_rotated_after_the_grace(client, anon_client, app):
    token = _installing(client, anon_client)
    assert _agent_call(anon_client, token) == 200
    grace = app.config["PUREBOOT"].token_rotation_grace
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        session.execute(update(Node).values(install_token_used_at=utcnow() - timedelta(seconds=grace + 1)))
    assert ok(anon_client.get(f"/api/v1/next?mac={MAC}", environ_overrides=ATTACKER))["token"] != token
