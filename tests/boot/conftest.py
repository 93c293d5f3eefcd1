"""Helpers for the boot tests: workflows, nodes in a given state, app variants."""

from __future__ import annotations

import pytest

from pureboot.app import create_app
from pureboot.config import Settings

MAC = "52:54:00:12:34:56"
PXE_WORKFLOW = {"name": "debian-12", "tasks": [
    {"type": "pxe_boot", "kernel": "debian/linux", "initrd": "debian/initrd.gz",
     "cmdline": "auto=true priority=critical", "autoinstall": "debian/preseed.cfg"},
    {"type": "reboot"}], "playbooks": {"post_install": "playbooks/post_install.yml"}}
IMAGE_WORKFLOW = {"name": "image", "tasks": [{"type": "image_deploy", "image": "http://x/img.raw"}]}


@pytest.fixture
def make_app(settings):
    """An app with settings overrides, e.g. make_app(discovery=False)."""
    apps = []

    def build(**overrides):
        if "auth_required" in Settings.__dataclass_fields__:  # admin calls made anonymously here
            overrides.setdefault("auth_required", False)
        application = create_app(settings.with_overrides(**overrides))
        application.config["TESTING"] = True
        apps.append(application)
        return application
    yield build
    for application in apps:
        application.extensions["pureboot.db"].dispose()


@pytest.fixture
def workflow(client):
    response = client.post("/api/v1/workflows", json=PXE_WORKFLOW)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def register(client, mac=MAC, workflow_id=None, **extra):
    body = {"mac": mac, **extra}
    if workflow_id is not None:
        body["workflow_id"] = workflow_id
    response = client.post("/api/v1/nodes", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def set_state(db, node_id, state):
    """Put a node straight into `state` (test setup only; bypasses the table)."""
    from pureboot.models import Node
    with db.session() as session:
        session.get(Node, node_id).state = state


def installing_node(client, workflow, mac=MAC):
    """A node that has booted into its install; returns (node, token)."""
    node = register(client, mac, workflow["id"])
    body = client.get(f"/api/v1/next?mac={mac}").get_json()
    assert body["action"] == "install" and body["token"]
    return node, body["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
