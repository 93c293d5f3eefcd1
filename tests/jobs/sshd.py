"""A real OpenSSH server in a network namespace, as a stand-in for a freshly installed node.

Namespace and interfaces are named pb-jobs-* / pbj*; everything is torn down, and
the sshd is stopped by its PID.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


class SshHost:
    def __init__(self, workdir: Path):
        tag = secrets.token_hex(3)
        self.ns, self.host_if, self.ns_if = f"pb-jobs-{tag}", f"pbjh{tag}", f"pbjn{tag}"
        octet = int(tag[:2], 16) % 250 + 2
        self.host_ip, self.ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
        self.dir = workdir
        self.authorized_keys = workdir / "authorized_keys"
        self.authorized_keys.write_text(  # a key that must survive the install key's removal
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeepThisOperatorKeyxxxxxxxxxxxxxxxxxxxxxxx operator\n")
        self.proc: subprocess.Popen | None = None
        try:
            self._network()
            self._sshd()
        except Exception:
            self.close()
            raise

    def _network(self) -> None:
        _run("ip", "netns", "add", self.ns)
        _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _run("ip", "link", "set", self.ns_if, "netns", self.ns)
        _run("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        _run("ip", "link", "set", self.host_if, "up")
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{self.ip}/30", "dev", self.ns_if],
                    ["ip", "link", "set", self.ns_if, "up"]):
            _run("ip", "netns", "exec", self.ns, *cmd)

    def _sshd(self) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        hostkey = self.dir / "host_ed25519"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey))
        config = self.dir / "sshd_config"
        config.write_text(f"""ListenAddress {self.ip}
Port 22
HostKey {hostkey}
PidFile {self.dir / 'sshd.pid'}
AuthorizedKeysFile {self.authorized_keys}
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
        self.log = self.dir / "sshd.log"
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((self.ip, 22), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start: {self.log.read_text()}") from None
                time.sleep(0.1)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # `ip netns exec` execs sshd: same PID
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def available() -> str | None:
    """Why this test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "ssh-keygen", "ssh-agent"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not Path("/usr/sbin/sshd").exists():
        return "openssh-server is not installed (scripts/apt-packages.txt)"
    return None
