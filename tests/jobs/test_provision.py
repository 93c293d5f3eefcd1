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

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, chroot)"),
              pytest.mark.parametrize("executor", ["thread"])]

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
FAIL_AT_TASK_2 = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
    - name: Refuse the disk
      ansible.builtin.fail:
        msg: "disk /dev/vda is too small for the image"
    - ansible.builtin.command: "true"
"""


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
    assert node["state"] == "installed"
    listed = jobs_client.get(node["related"]["jobs"]).get_json()
    assert [j["id"] for j in listed["results"]] == [first["job_id"]]
    tasks = [e["event_data"].get("task") for e in all_events(jobs_client, first["job_id"])
             if e["event"] == "runner_on_ok"]
    assert tasks == ["Write the marker", "Check the agent's kernel"]
    stdout = jobs_client.get(f"/api/v1/jobs/{first['job_id']}/stdout").get_data(as_text=True)
    assert "TASK [Write the marker]" in stdout and "PRIVATE KEY" not in stdout


def test_a_failing_task_fails_the_node_with_its_message(jobs_app, jobs_client, agent_root, tmp_path):
    node_id, token = _installing_node(jobs_app, jobs_client, "prov-fail", FAIL_AT_TASK_2, "52:54:00:7a:00:02")
    spec = _agent_spec(jobs_app, token)
    with host_mod.agent_host(agent_root, tmp_path, spec["ssh"]["authorized_key"]) as host:
        job = wait_job(jobs_client, _ready(jobs_app, token, host)["job_id"])
    assert job["status"] == "failed" and "disk /dev/vda is too small" in job["job_explanation"]
    node = jobs_client.get(f"/api/v1/nodes/{node_id}").get_json()
    assert node["state"] == "failed"
    events = jobs_client.get(f"/api/v1/nodes/{node_id}/events").get_json()["results"]
    assert any("disk /dev/vda is too small" in (e.get("reason") or "") for e in events), events


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
