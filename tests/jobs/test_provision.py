"""A provisioning run is a job: the agent reports ready, the workflow's playbook runs on it.

The node is the real agent userland (its dropbear and Python, tests/support/agent_host.py)
in a network namespace; the controller is the real app with the thread executor running
ansible-runner. The flow is the agent's: check in anonymously (token), ask /next with the
token (engine ansible + the run's public key), start sshd, report ready with the host key.
"""

from __future__ import annotations

import os

import pytest

from tests.jobs.conftest import all_events, wait_job
from tests.support import agent_host as host_mod

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, chroot)")]
BOTH_EXECUTORS = pytest.mark.parametrize("executor", ["thread", "celery"])

WRITE_MARKER = """
- name: Provision
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the marker
      ansible.builtin.copy:
        content: "provisioned node {{ pureboot_node_id }}\\n"
        dest: /tmp/provisioned
    - name: Check the agent's kernel
      ansible.builtin.command: uname -s
      changed_when: false
"""
FAIL_AT_TASK_3 = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
    - name: Inventory the hardware
      pureboot.pureboot.hardware_facts:
    - name: Refuse the disk
      ansible.builtin.fail:
        msg: "disk /dev/vda is too small for the image"
    - ansible.builtin.command: "true"
"""


@pytest.fixture
def executor():
    """The thread executor; the tests marked BOTH_EXECUTORS also run on a Celery worker."""
    return "thread"


@pytest.fixture(scope="module")
def agent_root(tmp_path_factory):
    return host_mod.unpack_agent(tmp_path_factory.mktemp("agent-provision"))[0]


def _installing_node(jobs_app, client, name: str, playbook_text: str, mac: str) -> tuple[int, str]:
    """A node in installing with a playbook workflow, and the token its agent got."""
    workflow = client.post("/api/v1/workflows", json={"name": name, "playbook_text": playbook_text})
    assert workflow.status_code == 201, workflow.get_json()
    node = client.post("/api/v1/nodes", json={"mac": mac, "hostname": name, "workflow_id": workflow.get_json()["id"]})
    node_id = node.get_json()["id"]
    assert client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "installing"}).status_code == 200
    spec = jobs_app.test_client().get(f"/api/v1/next?mac={mac}").get_json()  # the netboot check-in
    return node_id, spec["token"]


def _agent_spec(jobs_app, token: str) -> dict:
    spec = jobs_app.test_client().get("/api/v1/next", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert spec["engine"] == "ansible" and spec["tasks"] == [], spec
    assert spec["ssh"]["authorized_key"].startswith("ssh-ed25519 ")
    return spec


def _ready(jobs_app, token: str, host) -> dict:
    response = jobs_app.test_client().post("/api/v1/report", headers={"Authorization": f"Bearer {token}"},
                                           json={"status": "ready", "address": host.ip, "host_key": host.host_key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@BOTH_EXECUTORS
def test_ready_agent_runs_the_workflow_playbook_as_a_job(jobs_app, jobs_client, agent_root, tmp_path):
    node_id, token = _installing_node(jobs_app, jobs_client, "prov-ok", WRITE_MARKER, "52:54:00:7a:00:01")
    spec = _agent_spec(jobs_app, token)
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        first, again = _ready(jobs_app, token, host), _ready(jobs_app, token, host)
        assert first["job_id"] == again["job_id"]  # ready twice: one job
        job = wait_job(jobs_client, first["job_id"])
        assert job["status"] == "successful", job["job_explanation"]
        assert (agent_root / "tmp" / "provisioned").read_text() == f"provisioned node {node_id}\n"
    node = jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()
    assert node["state"] == "installed" and (node["install_progress"], node["install_phase"]) == (100, "done")
    assert _keys(jobs_app, node_id) == 0  # no post-install playbook: the run's key died with it
    listed = jobs_client.get(node["related"]["jobs"]).get_json()
    assert [j["id"] for j in listed["results"]] == [first["job_id"]]
    tasks = [e["event_data"].get("task") for e in all_events(jobs_client, first["job_id"])
             if e["event"] == "runner_on_ok"]
    assert tasks == ["Write the marker", "Check the agent's kernel"]
    stdout = jobs_client.get(f"/api/v1/jobs/{first['job_id']}/stdout").get_data(as_text=True)
    assert "TASK [Write the marker]" in stdout and "PRIVATE KEY" not in stdout


def test_a_failing_task_fails_the_node_with_its_message(jobs_app, jobs_client, agent_root, tmp_path):
    node_id, token = _installing_node(jobs_app, jobs_client, "prov-fail", FAIL_AT_TASK_3, "52:54:00:7a:00:02")
    spec = _agent_spec(jobs_app, token)
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        job = wait_job(jobs_client, _ready(jobs_app, token, host)["job_id"])
    assert job["status"] == "failed" and "disk /dev/vda is too small" in job["job_explanation"]
    node = jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()
    assert node["state"] == "failed"
    events = jobs_client.get(f"/api/v1/nodes/{node_id}/events").get_json()["results"]
    assert any("disk /dev/vda is too small" in (e.get("reason") or "") for e in events), events
    logs = jobs_client.get(f"/api/v1/nodes/{node_id}/logs").get_json()["results"]
    assert any("task 'Refuse the disk'" in line["message"] for line in logs), logs
    ran = [e["event_data"].get("task") for e in all_events(jobs_client, job["id"]) if e["event"] == "runner_on_start"]
    assert ran[1:] == ["Inventory the hardware", "Refuse the disk"]  # task 3 failed: nothing after it
    assert jobs_client.get(f"/api/v1/jobs?node={node_id}").get_json()["count"] == 1  # no retry


def test_a_host_presenting_another_key_gets_no_run(jobs_app, jobs_client, agent_root, tmp_path):
    """The pinned host key is what the job trusts: an impostor's key fails the connection."""
    node_id, token = _installing_node(jobs_app, jobs_client, "prov-pin", WRITE_MARKER, "52:54:00:7a:00:03")
    spec = _agent_spec(jobs_app, token)
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        (agent_root / "tmp" / "provisioned").unlink(missing_ok=True)
        impostor = host_mod.AgentHost(host.ip, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBIJ6v6HOWXL7I6QknnM1xpVSdPcTL"
                                      "Q6ySsOFzMVnp9", host.known_hosts)
        job = wait_job(jobs_client, _ready(jobs_app, token, impostor)["job_id"])
    assert job["status"] in ("failed", "error") and not (agent_root / "tmp" / "provisioned").exists()
    assert jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()["state"] == "failed"


@pytest.mark.parametrize("body,field", [
    ({"status": "ready", "host_key": "ssh-ed25519 AAAA"}, "address"),
    ({"status": "ready", "address": "127.0.0.1", "host_key": "ssh-ed25519 AAAA"}, "address"),
    ({"status": "ready", "address": "10.0.0.9", "host_key": "not a key"}, "host_key"),
])
def test_bad_ready_reports_are_refused_and_start_nothing(jobs_app, jobs_client, body, field):
    node_id, token = _installing_node(jobs_app, jobs_client, "prov-bad", WRITE_MARKER, "52:54:00:7a:00:04")
    response = jobs_app.test_client().post("/api/v1/report", headers={"Authorization": f"Bearer {token}"}, json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert jobs_client.get(f"/api/v1/jobs?node={node_id}").get_json()["count"] == 0


def _force(jobs_app, node_id: int, states) -> None:
    """Walk the node through `states` as an approved admin (four-eye is not the subject here)."""
    from pureboot.models import Node
    from pureboot.services.nodes import TransitionContext, transition
    database = jobs_app.extensions["pureboot.db"]
    with jobs_app.app_context(), database.session() as session:
        node = session.get(Node, node_id)
        for state in states:
            transition(session, node, state, TransitionContext("admin", "forced by the test", approved=True),
                       commit=False)


def _agent_boot(jobs_app, mac: str) -> tuple[str, dict]:
    """The netboot check-in (token), then the agent's own /next (the run key)."""
    booted = jobs_app.test_client().get(f"/api/v1/next?mac={mac}").get_json()
    assert booted["action"] == "agent" and booted["token"], booted
    return booted["token"], _agent_spec(jobs_app, booted["token"])


def _keys(jobs_app, node_id: int) -> int:
    from sqlalchemy import func, select

    from pureboot.models import NodeKey
    with jobs_app.app_context(), jobs_app.extensions["pureboot.db"].session() as session:
        return session.scalar(select(func.count()).select_from(NodeKey).where(NodeKey.node_id == node_id))


def test_deprovision_runs_the_workflows_wipe_steps_as_a_job(jobs_app, jobs_client, agent_root, tmp_path):
    """The task list's disk_wipe, translated (role deprovision), wipes with evidence -> retired."""
    mac = "52:54:00:7a:00:05"
    disk = agent_root / "tmp" / "disk.img"
    disk.write_bytes(b"\xaa" * (4 << 20))
    workflow = jobs_client.post("/api/v1/workflows", json={"name": "prov-wipe", "tasks": [
        {"type": "image_deploy", "url": "http://images.invalid/never.raw"},
        {"type": "disk_wipe", "method": "zero", "disks": ["/tmp/disk.img"]}]}).get_json()
    node_id = jobs_client.post("/api/v1/nodes", json={"mac": mac, "workflow_id": workflow["id"]}).get_json()["id"]
    _force(jobs_app, node_id, ["installing", "installed", "active", "deprovisioning"])
    token, spec = _agent_boot(jobs_app, mac)
    assert spec["after"] == "poweroff"
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        job = wait_job(jobs_client, _ready(jobs_app, token, host)["job_id"], timeout=180)
    assert job["status"] == "successful", job["job_explanation"]
    assert job["playbook"] == f"workflow-version:{workflow['id']}:deprovision"
    assert disk.read_bytes() == bytes(4 << 20)
    node = jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()
    assert node["state"] == "retired"
    event = jobs_client.get(f"/api/v1/nodes/{node_id}/events?order_by=-id").get_json()["results"][0]
    wipe = event["details"]["evidence"]["wipe"]
    assert wipe[0]["disk"] == "/tmp/disk.img" and wipe[0]["method"].startswith("zero")
    assert wipe[0]["verification"]["all_zero"] is True and event["actor"] == f"job:{job['id']}"
    stdout = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout").get_data(as_text=True)
    assert "pureboot.pureboot.deprovision" in stdout and "image_deploy" not in stdout
    assert _keys(jobs_app, node_id) == 0  # the run's key pair died with the run


@BOTH_EXECUTORS
def test_a_discovered_node_is_inventoried_by_the_stock_playbook(jobs_app, jobs_client, agent_root, tmp_path):
    mac = "52:54:00:7a:00:06"
    token, spec = _agent_boot(jobs_app, mac)  # unknown MAC: registered, inventory boot
    node_id = spec["node_id"]
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        job = wait_job(jobs_client, _ready(jobs_app, token, host)["job_id"], timeout=180)
    assert job["status"] == "successful", job["job_explanation"]
    assert job["playbook"] == "pureboot.pureboot.inventory"
    node = jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()
    assert node["state"] == "discovered" and node["hardware"]["inventoried_at"]
    assert node["hardware"]["cpu"]["count"] >= 1 and node["hardware"]["memory"]["total_bytes"] > 0
    events = jobs_client.get(f"/api/v1/nodes/{node_id}/events?order_by=id").get_json()["results"]
    assert [(e["action"], e["actor"]) for e in events][-1] == ("inventory", f"job:{job['id']}")
    # the token is used up; the anonymous check-in now boots it local, waiting for an admin
    assert jobs_app.test_client().get("/api/v1/next", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert jobs_app.test_client().get(f"/api/v1/next?mac={mac}").get_json()["action"] == "discover"
    assert _keys(jobs_app, node_id) == 0
