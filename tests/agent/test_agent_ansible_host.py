"""The built agent is an Ansible-managed host: its own dropbear and Python run real modules.

The agent's initramfs is unpacked and its dropbear started in a chroot inside a network
namespace the test creates; `ansible-playbook` then reaches it over SSH with the host key
pinned (no StrictHostKeyChecking=no) and runs modules with the agent's /usr/bin/python3:
exactly what a provisioning job does against a netbooted node, without the VM.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pureboot.collection import collections_path
from tests.support import agent_host as host_mod
from tests.support.agent_host import unpack_agent

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None,
                                 reason="needs root (netns, chroot) and Debian's apt")]


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def agent_root(tmp_path_factory):
    return unpack_agent(tmp_path_factory.mktemp("agent-host"))


@pytest.fixture
def agent_host(agent_root, tmp_path):
    """(ip, known_hosts, private key file) of the agent's dropbear trusting a fresh key."""
    key = tmp_path / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    with host_mod.agent_host(agent_root[0], tmp_path, (tmp_path / "id_ed25519.pub").read_text()) as host:
        yield host.ip, host.known_hosts, key


PLAYBOOK = """
- hosts: agent
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
    - name: Run a command with the agent's busybox
      ansible.builtin.command: uname -s
      register: uname
    - name: Transfer a file (dropbear has no SFTP, so piped transfer)
      ansible.builtin.copy:
        content: "written by ansible\\n"
        dest: /tmp/marker
    - ansible.builtin.slurp:
        src: /tmp/marker
      register: marker
    - ansible.builtin.assert:
        that:
          - uname.stdout == "Linux"
          - (marker.content | b64decode) == "written by ansible\\n"
"""


def _inventory(ip: str, known_hosts: Path, key: Path) -> dict:
    return {"all": {"hosts": {"agent": {
        "ansible_host": ip, "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_private_key_file": str(key), "ansible_pipelining": True,
        "ansible_ssh_transfer_method": "piped",
        "ansible_ssh_common_args": f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={known_hosts}"}}}}


def _ansible(tmp_path: Path, playbook: str, inventory: dict) -> subprocess.CompletedProcess:
    (tmp_path / "play.yml").write_text(playbook)
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_HOST_KEY_CHECKING="true",
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    return subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml")],
                          env=env, capture_output=True, text=True, timeout=300)


def test_manifest_names_python_and_ssh(agent_root):
    _root, manifest = agent_root
    packages = " ".join(manifest["packages"])
    for package in ("busybox-static=", "python3.11-minimal=", "libpython3.11-stdlib=", "dropbear-bin="):
        assert package in packages
    assert manifest["python"] == "/usr/bin/python3" and manifest["ssh"] == "dropbear"


def test_agent_runs_modules_over_ssh_with_pinned_host_key(agent_host, tmp_path):
    ip, known_hosts, key = agent_host
    result = _ansible(tmp_path, PLAYBOOK, _inventory(ip, known_hosts, key))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "ok=5" in result.stdout and "failed=0" in result.stdout


def test_a_different_host_key_is_refused(agent_host, tmp_path):
    """The pinned key is what protects the run: a host presenting another key gets nothing."""
    ip, known_hosts, key = agent_host
    other = tmp_path / "other"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other))
    known_hosts.write_text(f"{ip} {' '.join((tmp_path / 'other.pub').read_text().split()[:2])}\n")
    result = _ansible(tmp_path, PLAYBOOK, _inventory(ip, known_hosts, key))
    assert result.returncode != 0 and "UNREACHABLE" in result.stdout
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in result.stdout + result.stderr or \
           "Host key verification failed" in result.stdout + result.stderr
