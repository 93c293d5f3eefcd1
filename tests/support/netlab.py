"""A private network for VM tests: a namespace with a bridge, taps for VMs and a veth.

Layout (one lab)::

    host namespace                 lab namespace  <prefix>-<pid>-<rand>
    --------------                 ------------------------------------------
    <host_if> 10.A.B.254/24  <---> veth0 --+
                                           br0 10.A.B.1/24  (servers bind here)
                          VM taps: tap0 ---+
                                   tap1 ---+

Processes that must see the VMs' broadcast traffic (DHCP, TFTP, the controller)
run inside the namespace with :meth:`NetLab.popen`; the test process itself reaches
them from the host at ``lab.server_ip`` through the veth. Nothing is routed further:
packets go only to the namespace this lab made. :meth:`NetLab.close` kills every
process the lab started (by PID) and deletes the namespace, which takes the bridge,
taps and veth with it.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence


class LabUnavailable(RuntimeError):
    """The machine cannot host a lab (not root, no `ip`); tests should skip."""


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing (no tap devices)"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _used_subnets() -> set[ipaddress.IPv4Network]:
    out = _ip("-4", "-o", "addr", "show").stdout
    nets = set()
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            nets.add(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    return nets


def _pick_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.200-249.x.0 that no host interface uses (labs run concurrently)."""
    used = _used_subnets()
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{random.randint(200, 249)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise LabUnavailable("no free 10.x.y.0/24 subnet for a lab")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale(prefix: str) -> list[str]:
    """Delete namespaces named <prefix>-<pid>-* whose creating process is gone."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        rest = name[len(prefix) + 1:] if name.startswith(prefix + "-") else ""
        pid = rest.split("-")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


class NetLab:
    """One namespace + bridge + veth; create taps with :meth:`add_tap`.

    ``NetLab("pb-agent")`` builds the lab immediately; use it as a context manager
    or call :meth:`close` (idempotent) in a finalizer.
    """

    def __init__(self, prefix: str):
        reason = unavailable_reason()
        if reason:
            raise LabUnavailable(reason)
        if not prefix or len(prefix) > 20:
            raise ValueError("prefix must be 1-20 characters (e.g. 'pb-agent')")
        cleanup_stale(prefix)
        token = "%04x" % random.getrandbits(16)
        self.prefix = prefix
        self.ns = f"{prefix}-{os.getpid()}-{token}"
        self.host_if = f"{prefix.replace('-', '')[:8]}{token}"[:15]
        self.bridge = "br0"
        self.subnet = _pick_subnet()
        hosts = list(self.subnet.hosts())
        self.server_ip = str(hosts[0])   # the bridge, inside the namespace
        self.host_ip = str(hosts[-1])    # the veth end in the host namespace
        self.taps: list[str] = []
        self._procs: list[subprocess.Popen] = []
        self._closed = False
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- set-up / tear-down ----------------------------------------------------------

    def _build(self) -> None:
        _ip("netns", "add", self.ns)
        self.run(["ip", "link", "set", "lo", "up"])
        self.run(["ip", "link", "add", self.bridge, "type", "bridge", "forward_delay", "0"])
        self.run(["ip", "addr", "add", f"{self.server_ip}/{self.subnet.prefixlen}", "dev", self.bridge])
        self.run(["ip", "link", "set", self.bridge, "up"])
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", "veth0", "netns", self.ns)
        self.run(["ip", "link", "set", "veth0", "master", self.bridge, "up"])
        _ip("addr", "add", f"{self.host_ip}/{self.subnet.prefixlen}", "dev", self.host_if)
        _ip("link", "set", self.host_if, "up")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in reversed(self._procs):
            self.kill(proc)
        _ip("netns", "del", self.ns, check=False)
        _ip("link", "del", self.host_if, check=False)  # normally gone with its peer

    def __enter__(self) -> "NetLab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- devices ---------------------------------------------------------------------

    def add_tap(self) -> str:
        """A new tap (tap0, tap1, ...) on the bridge, for one VM's NIC."""
        name = f"tap{len(self.taps)}"
        self.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
        self.run(["ip", "link", "set", name, "master", self.bridge, "up"])
        self.taps.append(name)
        return name

    def address(self, index: int) -> str:
        """The index-th host address of the lab subnet (1 = server, 2.. free for VMs/DHCP)."""
        return str(self.subnet.network_address + index)

    # -- processes -------------------------------------------------------------------

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *argv]

    def run(self, argv: Sequence[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        result = subprocess.run(self.wrap(argv), **kw)
        if check and result.returncode != 0:
            raise RuntimeError(f"in {self.ns}: {' '.join(argv)} failed: {result.stderr}")
        return result

    def popen(self, argv: Sequence[str], **kw) -> subprocess.Popen:
        """Start `argv` inside the namespace in its own process group; killed at close().

        `ip netns exec` execs the command, so ``proc.pid`` is the command itself.
        """
        kw.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.wrap(argv), **kw)
        self._procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group of `proc` (by its PID), SIGKILL after `timeout`."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout)
        return proc.returncode

    def start_dhcp(self, workdir: Path, first: int = 100, last: int = 199,
                   options: Sequence[str] = ()) -> subprocess.Popen:
        """A plain DHCP server (busybox udhcpd) handing out .first-.last on the bridge.

        It plays the site's DHCP server: addresses only, no boot options unless given
        (`options`: extra udhcpd.conf lines such as ``"opt bootfile ..."``).
        """
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        conf = workdir / "udhcpd.conf"
        leases = workdir / "udhcpd.leases"
        leases.touch()
        conf.write_text("\n".join([
            f"start {self.address(first)}", f"end {self.address(last)}", f"interface {self.bridge}",
            f"lease_file {leases}", f"pidfile {workdir / 'udhcpd.pid'}",
            f"opt subnet {self.subnet.netmask}", "opt lease 3600", *options, ""]))
        busybox = shutil.which("busybox") or "/bin/busybox"
        return self.popen([busybox, "udhcpd", "-f", str(conf)],
                          stdout=subprocess.DEVNULL, stderr=open(workdir / "udhcpd.log", "wb"))

    def wait_port(self, port: int, host: str | None = None, timeout: float = 30.0) -> None:
        """Wait until something accepts TCP connections on host:port (from the host side)."""
        import socket
        host = host or self.server_ip
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
                time.sleep(0.2)
