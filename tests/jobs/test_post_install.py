"""Post-install on phone-home with an ephemeral SSH key, against a real sshd in a netns."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from pureboot.jobs.post_install import install_public_key
from pureboot.models import Job, JobEvent, Node, NodeKey
from pureboot.secrets import SecretBox
from pureboot.services.phone_home import run_post_install_hooks

from . import sshd
from .conftest import PLAYBOOKS, wait_job

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sshd.available() is not None, reason=str(sshd.available()))]


@pytest.fixture
def ssh_host(tmp_path):
    (tmp_path / "node").mkdir()
    host = sshd.SshHost(tmp_path / "node")  # a directory the test controls
    yield host
    host.close()


def _installed_node(client, db, jobs_app, ssh_host, variables) -> tuple[int, str, str]:
    """A node that went pending -> installing (key minted) -> installed, key on the host."""
    workflow = client.post("/api/v1/workflows", json={
        "name": "with-post-install", "tasks": [{"type": "inventory"}],
        "playbooks": {"post_install": str(PLAYBOOKS / "post_install.yml")},
        "variables": {"pureboot_authorized_keys_file": str(ssh_host.authorized_keys),
                      "ansible_python_interpreter": "/usr/bin/python3", **variables}})
    assert workflow.status_code == 201, workflow.get_json()
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:6a:00:01", "ip_address": ssh_host.ip,
                                              "hostname": "node1", "workflow_id": workflow.get_json()["id"]})
    node_id = node.get_json()["id"]
    assert client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "installing"}).status_code == 200
    assert "private" not in json.dumps(client.get(f"/api/v1/nodes/{node_id}").get_json()).lower()
    with db.session() as session:
        node = session.get(Node, node_id)
        public = install_public_key(node)
        private = SecretBox.for_settings(jobs_app.config["PUREBOOT"]).decrypt(session.scalar(
            select(NodeKey.private_key_encrypted).where(NodeKey.node_id == node_id)))
    assert public.startswith("ssh-ed25519 ") and "BEGIN OPENSSH PRIVATE KEY" in private
    # What the installer does with ssh_authorized_keys from the install config:
    with ssh_host.authorized_keys.open("a") as fh:
        fh.write(public + "\n")
    assert client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "installed"}).status_code == 200
    return node_id, public, private


def _phone_home(jobs_app, db, node_id) -> int:
    with jobs_app.app_context():
        with db.sessions() as session:
            assert run_post_install_hooks(session, session.get(Node, node_id)) is True
            session.commit()
            return session.scalar(select(Job.id).where(Job.node_id == node_id))


def _assert_key_gone_and_never_shown(client, db, ssh_host, node_id, job_id, public, private, caplog, jobs_app,
                                     extra_logs: str = ""):
    keys = ssh_host.authorized_keys.read_text()
    assert public not in keys and "operator" in keys  # only the install key removed
    with db.session() as session:
        assert session.scalar(select(NodeKey).where(NodeKey.node_id == node_id)) is None
        events = [e.event_data | {"stdout": e.stdout} for e in session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id))]
    body = private.split("\n")[1]  # a line of the key's base64 body
    stdout = client.get(f"/api/v1/jobs/{job_id}/stdout?format=txt_download").get_data(as_text=True)
    job_json = json.dumps(client.get(f"/api/v1/jobs/{job_id}").get_json())
    artifacts = "".join(p.read_text(errors="replace") for p in Path(
        jobs_app.config["PUREBOOT"].data_dir, "jobs", str(job_id)).rglob("*") if p.is_file())
    for text in (stdout, json.dumps(events), job_json, caplog.text, artifacts, extra_logs):
        assert body not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize("executor", ["thread", "celery"])
def test_post_install_success_activates_node(jobs_client, jobs_app, db, ssh_host, caplog, tmp_path,
                                             executor, celery_workers, database_url):
    caplog.set_level(logging.DEBUG)
    marker = tmp_path / "configured.txt"
    node_id, public, private = _installed_node(jobs_client, db, jobs_app, ssh_host, {"marker_path": str(marker)})
    job_id = _phone_home(jobs_app, db, node_id)
    job = wait_job(jobs_client, job_id, timeout=120)
    assert job["status"] == "successful", job["job_explanation"]
    assert marker.read_text() == "configured node1 (52:54:00:6a:00:01)\n"
    node = _wait_state(jobs_client, node_id, "active")
    assert node["state_reason"] == "post-install playbook succeeded"
    history = jobs_client.get(f"/api/v1/nodes/{node_id}/events").get_json()["results"]
    assert history[-1]["actor"] == f"job:{job_id}" and history[-1]["to_state"] == "active"
    worker_log = celery_workers(database_url).log.read_text() if executor == "celery" else ""
    _assert_key_gone_and_never_shown(jobs_client, db, ssh_host, node_id, job_id, public, private, caplog, jobs_app,
                                     worker_log)


@pytest.mark.parametrize("executor", ["thread"])
def test_post_install_failure_fails_node_and_still_removes_key(jobs_client, jobs_app, db, ssh_host, caplog, tmp_path):
    node_id, public, private = _installed_node(jobs_client, db, jobs_app, ssh_host, {
        "marker_path": str(tmp_path / "m.txt"), "fail_post_install": True})
    job_id = _phone_home(jobs_app, db, node_id)
    job = wait_job(jobs_client, job_id, timeout=120)
    assert job["status"] == "failed"
    node = _wait_state(jobs_client, node_id, "failed")
    assert f"post-install job {job_id} failed" in node["state_reason"]
    assert "post-install refused on purpose" in node["state_reason"]
    _assert_key_gone_and_never_shown(jobs_client, db, ssh_host, node_id, job_id, public, private, caplog, jobs_app)


def _wait_state(client, node_id, state, timeout=20) -> dict:
    deadline = time.monotonic() + timeout
    while (node := client.get(f"/api/v1/nodes/{node_id}").get_json())["state"] != state:
        assert time.monotonic() < deadline, node
        time.sleep(0.1)
    return node


@pytest.mark.parametrize("executor", ["thread"])
def test_internal_launch_with_in_memory_key(jobs_app, jobs_client, db, ssh_host, tmp_path):
    """Internal callers may hand a private key in memory (thread executor only)."""
    import subprocess

    from pureboot.jobs import service
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    private = (tmp_path / "k").read_text()
    (tmp_path / "k").unlink()  # the only copy is now in memory
    with ssh_host.authorized_keys.open("a") as fh:
        fh.write((tmp_path / "k.pub").read_text())
    hostvars = {"ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
    with db.session() as session:
        job = service.create_job(session, jobs_app.config["PUREBOOT"], name="internal", launched_by="system",
                                 playbook=str(PLAYBOOKS / "hello.yml"), inventory={"hosts": {ssh_host.ip: hostvars}})
    jobs_app.extensions["pureboot.jobs"].submit(job.id, {"ssh_private_key": private})
    done = wait_job(jobs_client, job.id)
    assert done["status"] == "successful", done["job_explanation"]
    text = jobs_client.get(f"/api/v1/jobs/{job.id}/stdout").get_data(as_text=True)
    assert f"hello world from {ssh_host.ip}" in text and "PRIVATE KEY" not in text
    leftovers = [p for p in Path(jobs_app.config["PUREBOOT"].data_dir, "jobs", str(job.id)).rglob("*") if p.is_file()]
    assert not any(private.split("\n")[1] in p.read_text(errors="replace") for p in leftovers)
    assert not list(Path(jobs_app.config["PUREBOOT"].data_dir).rglob("ssh_key_data"))


@pytest.mark.parametrize("executor", ["celery"])
def test_celery_refuses_in_memory_secrets(jobs_app, db):
    from pureboot.errors import Invalid
    from pureboot.jobs import service
    with db.session() as session:
        job = service.create_job(session, jobs_app.config["PUREBOOT"], name="internal",
                                 playbook=str(PLAYBOOKS / "hello.yml"),
                                 launched_by="system", inventory={"hosts": ["10.0.0.1"]})
    with pytest.raises(Invalid, match="thread executor"):
        jobs_app.extensions["pureboot.jobs"].submit(job.id, {"ssh_private_key": "x"})
    with db.session() as session:
        assert session.get(Job, job.id).status == "error"  # never left pending without a reason
