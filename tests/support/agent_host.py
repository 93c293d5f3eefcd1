"""The built agent as an SSH host without a VM: its initramfs unpacked, its dropbear in a chroot.

A network namespace and veth pair per host (pb-agent-* / pbah*, pban*); everything is torn
down and dropbear is stopped by its PID. What a netbooted node offers a provisioning job:
the agent's /usr/bin/python3 and busybox, reached over SSH with a pinned host key.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pureboot.agent.builder import build


def unpack_agent(base: Path) -> tuple[Path, dict]:
    """Build (cached by input digest) and unpack the agent; returns (root, manifest)."""
    manifest = build(base / "agent", cache_dir=None)
    root = base / "root"
    root.mkdir()
    with open(base / "agent" / "initrd.img", "rb") as initrd:
        unpacked = subprocess.run(["sh", "-c", "gzip -dc | cpio -idm --quiet"], stdin=initrd, cwd=root)
    assert unpacked.returncode == 0
    _run("chroot", str(root), "/bin/busybox", "--install", "-s")  # what the agent's init does first
    return root, manifest


@dataclass
class AgentHost:
    ip: str
    host_key: str  # "<type> <base64>" as the agent reports it
    known_hosts: Path


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@contextmanager
def agent_host(root: Path, tmp_path: Path, authorized_key: str):
    """dropbear from the agent image in a chroot in a fresh namespace, trusting `authorized_key`."""
    tag = secrets.token_hex(3)
    ns, host_if, ns_if = f"pb-agent-{tag}", f"pbah{tag}", f"pban{tag}"
    octet = int(tag[:2], 16) % 250 + 2
    host_ip, ip = f"10.214.{octet}.1", f"10.214.{octet}.2"
    ssh_dir = root / "root" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (ssh_dir / "authorized_keys").write_text(authorized_key.strip() + "\n")
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
        yield AgentHost(ip, " ".join(host_line.split()[:2]), known_hosts)
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
