"""The built agent is an Ansible-managed host: its own dropbear and Python run real modules.

The agent's initramfs is unpacked and its dropbear started in a chroot inside a network
namespace the test creates; `ansible-playbook` then reaches it over SSH with the host key
pinned (no StrictHostKeyChecking=no) and runs modules with the agent's /usr/bin/python3:
exactly what a provisioning job does against a netbooted node, without the VM.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pureboot.agent.builder import build
from pureboot.collection import collections_path

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None,
                                 reason="needs root (netns, chroot) and Debian's apt")]


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def agent_root(tmp_path_factory):
    base = tmp_path_factory.mktemp("agent-host")
    manifest = build(base / "agent", cache_dir=None)
    root = base / "root"
    root.mkdir()
    with open(base / "agent" / "initrd.img", "rb") as initrd:
        unpacked = subprocess.run(["sh", "-c", "gzip -dc | cpio -idm --quiet"], stdin=initrd, cwd=root)
    assert unpacked.returncode == 0
    _run("chroot", str(root), "/bin/busybox", "--install", "-s")  # what the agent's init does first
    return root, manifest


@pytest.fixture
def agent_host(agent_root, tmp_path):
    """dropbear from the agent image, in a chroot, in a fresh namespace: (ip, known_hosts, key)."""
    root, _manifest = agent_root
    tag = secrets.token_hex(3)
    ns, host_if, ns_if = f"pb-agent-{tag}", f"pbah{tag}", f"pban{tag}"
    octet = int(tag[:2], 16) % 250 + 2
    host_ip, ip = f"10.214.{octet}.1", f"10.214.{octet}.2"
    key = tmp_path / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    ssh_dir = root / "root" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (ssh_dir / "authorized_keys").write_text((tmp_path / "id_ed25519.pub").read_text())
    (ssh_dir / "authorized_keys").chmod(0o600)
    (root / "etc" / "dropbear").mkdir(exist_ok=True)
    hostkey = root / "etc" / "dropbear" / "host_ed25519"
    hostkey.unlink(missing_ok=True)
    _run("chroot", str(root), "/usr/bin/dropbearkey", "-t", "ed25519", "-f", "/etc/dropbear/host_ed25519")
    public = _run("chroot", str(root), "/usr/bin/dropbearkey", "-y", "-f", "/etc/dropbear/host_ed25519")
    host_line = next(line for line in public.splitlines() if line.startswith("ssh-ed25519"))
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{ip} {' '.join(host_line.split()[:2])}\n")
    proc = None
    try:
        _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _run("ip", "link", "set", ns_if, "netns", ns)
        _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{ip}/30", "dev", ns_if],
                    ["ip", "link", "set", ns_if, "up"]):
            _run("ip", "netns", "exec", ns, *cmd)
        # the agent's init mounts these; a private mount namespace keeps them off the host
        boot = (f"mount --bind /dev {root}/dev && mount -t proc proc {root}/proc && "
                f"exec chroot {root} /usr/sbin/dropbear -F -E -s -p {ip}:22 -r /etc/dropbear/host_ed25519")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "unshare", "-m", "sh", "-c", boot],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_port(ns, ip, proc)
        yield ip, known_hosts, key
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _wait_port(ns: str, ip: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dropbear exited: {proc.stdout.read().decode(errors='replace')}")
        try:
            with socket.create_connection((ip, 22), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("dropbear did not listen within 15 s")


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
