"""Operators cannot run code on the controller host through jobs (jobs/policy.py)."""

from __future__ import annotations

import pytest

from tests.controller.helpers import ok

LOCAL = {"ansible_connection": "local"}


@pytest.fixture
def playbooks(tmp_path):
    path = tmp_path / "playbooks"
    path.mkdir()
    (path / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    return path


@pytest.fixture
def settings(settings, playbooks):
    return settings.with_overrides(playbook_dirs=str(playbooks))


def _template(playbook, inventory=None, **extra):
    return {"name": "t", "playbook": playbook, "inventory": inventory or {"hosts": ["10.0.0.5"]}, **extra}


def _refused(response, field):
    body = response.get_json()
    assert response.status_code == 422 and field in body["errors"], body
    return body["errors"][field][0]


def test_uploaded_template_is_never_a_playbook(client_as, app):
    operator = client_as("operator")
    evil = b"- hosts: localhost\n  tasks:\n    - ansible.builtin.raw: id > /tmp/pwned\n"
    uploaded = ok(operator.post("/api/v1/templates?name=evil&kind=raw", data=evil,
                                content_type="application/octet-stream"), 201)
    stored = [p for p in app.config["PUREBOOT"].templates_dir.rglob("*") if p.is_file()][0]
    assert uploaded["sha256"] and stored.read_bytes() == evil
    message = _refused(operator.post("/api/v1/job_templates", json=_template(str(stored))), "playbook")
    assert "uploaded templates" in message
    assert ok(operator.get("/api/v1/job_templates"))["count"] == 0


def test_playbooks_come_from_registered_dirs_or_collections(client_as, playbooks, tmp_path):
    operator = client_as("operator")
    ok(operator.post("/api/v1/job_templates", json=_template(str(playbooks / "site.yml"))), 201)
    ok(operator.post("/api/v1/job_templates", json=_template("pureboot.pureboot.deploy_image", name="fq")), 201)
    outside = tmp_path / "elsewhere.yml"
    outside.write_text("- hosts: all\n  tasks: []\n")
    (playbooks / "link.yml").symlink_to(outside)
    for path in (str(outside), str(playbooks / "link.yml"), str(playbooks / ".." / "elsewhere.yml"),
                 "relative/site.yml"):
        _refused(operator.post("/api/v1/job_templates", json=_template(path, name="x")), "playbook")


@pytest.mark.parametrize("inventory", [
    {"hosts": ["localhost"]}, {"hosts": ["127.0.0.1"]}, {"hosts": ["::1"]},
    {"hosts": {"db": {"ansible_host": "127.0.0.2"}}}, {"hosts": {"db": LOCAL}},
    {"hosts": {"db": {"ansible_ssh_common_args": "-o ProxyCommand='sh -c id'"}}},
    {"hosts": ["10.0.0.5"], "vars": LOCAL},
    {"hosts": {"db": {"note": "{{ lookup('pipe', 'id') }}"}}},
])
def test_operator_inline_inventory_cannot_reach_the_controller(client_as, playbooks, inventory):
    body = _template(str(playbooks / "site.yml"), inventory)
    _refused(client_as("operator").post("/api/v1/job_templates", json=body), "inventory")
    ok(client_as("admin").post("/api/v1/job_templates", json=body), 201)  # admins are trusted


def test_operator_extra_vars_set_no_connection_variables(client_as, playbooks):
    operator = client_as("operator")
    body = _template(str(playbooks / "site.yml"), extra_vars={"ansible_connection": "local"})
    _refused(operator.post("/api/v1/job_templates", json=body), "extra_vars")
    template = ok(operator.post("/api/v1/job_templates", json={
        **_template(str(playbooks / "site.yml")), "ask_extra_vars_on_launch": True,
        "ask_inventory_on_launch": True}), 201)
    launch = f"/api/v1/job_templates/{template['id']}/launch"
    _refused(operator.post(launch, json={"extra_vars": {"ansible_python_interpreter": "/bin/sh"}}), "extra_vars")
    _refused(operator.post(launch, json={"inventory": {"hosts": ["localhost"]}}), "inventory")
    assert ok(operator.get("/api/v1/jobs"))["count"] == 0
    _refused(operator.patch(template["url"], json={"playbook": "/etc/passwd"}), "playbook")


def test_registry_inventory_never_targets_loopback_nodes(db):
    """A node whose recorded IP is loopback (forged phone-home body, typo) is not a job target."""
    from pureboot.jobs import inventory
    from pureboot.models import Node
    addresses = {"52:54:00:70:00:01": "127.0.0.1", "52:54:00:70:00:02": "::1", "52:54:00:70:00:03": "0.0.0.0",
                 "52:54:00:70:00:04": "224.0.0.9", "52:54:00:70:00:05": "10.0.0.5"}
    with db.session() as session:
        for mac, ip in addresses.items():
            session.add(Node(mac=mac, ip_address=ip, hostname=f"n{mac[-1]}"))
    with db.session() as session:
        hosts = inventory.build(session, {"source": "registry", "filter": {}})["all"]["hosts"]
    assert [vars_["ansible_host"] for vars_ in hosts.values()] == ["10.0.0.5"]
