"""Workflow validation knows the agent's task parameters."""

from __future__ import annotations

import pytest

from pureboot.task_types import validate_task


@pytest.mark.parametrize("task, field", [
    ({"type": "image_deploy"}, "image"),
    ({"type": "image_deploy", "url": "http://x/i.raw", "format": "vhdx"}, "format"),
    ({"type": "image_deploy", "image": 3, "bogus": 1}, "bogus"),
    ({"type": "disk_wipe", "method": "shred"}, "method"),
])
def test_invalid_agent_tasks_name_the_field(task, field):
    assert field in validate_task(task)


@pytest.mark.parametrize("task", [
    {"type": "image_deploy", "image": 3, "inject": True, "grow_partition": True, "sha256": "ab" * 32},
    {"type": "image_deploy", "url": "http://x/i.raw.zst", "format": "raw.zst", "retries": 3},
    {"type": "disk_wipe", "method": "secure", "require_hardware_erase": True, "disks": ["/dev/sda"]},
    {"type": "inventory"},
    {"type": "reboot", "poweroff": True, "delay": 5},
])
def test_valid_agent_tasks(task):
    assert validate_task(task) == {}


def test_workflow_api_rejects_an_image_deploy_without_source(client):
    resp = client.post("/api/v1/workflows", json={"name": "bad", "tasks": [{"type": "image_deploy"}]})
    assert resp.status_code == 422
    assert "image" in str(resp.json["errors"])
