"""A port the boot service needs is taken: it exits at start with one message, no traceback."""

from __future__ import annotations

import socket
import subprocess

import pytest

from pureboot.bootsvc.service import BootConfig, BootService
from pureboot.bootsvc.sockets import BindError

from .procs import env, free_port, pureboot


def _hold(port: int, reuse: bool = False) -> socket.socket:
    """Another process's socket on 127.0.0.1:port (SO_REUSEADDR: how dnsmasq & co bind)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _ports() -> dict[str, int]:
    return {name: free_port(socket.SOCK_DGRAM) for name in ("tftp", "dhcp", "pxe")}


def _assert_free(port: int) -> None:
    """Nothing holds the port any more: an exclusive bind (no SO_REUSEADDR) succeeds."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", port))


def _site_dhcp_server(port: int) -> socket.socket:
    """A DHCP server on this host as udhcpd/dnsmasq bind: SO_REUSEADDR, on the interface."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    sock.bind(("0.0.0.0", port))
    return sock


def _config(tmp_path, ports, **extra) -> BootConfig:
    return BootConfig(controller="http://127.0.0.1:9", interface="lo", address="127.0.0.1",
                      tftp_root=str(tmp_path), ra=False, tftp_port=ports["tftp"], dhcp_port=ports["dhcp"],
                      pxe_port=ports["pxe"], **extra)


def test_cli_exits_with_one_message_naming_port_and_option(tmp_path):
    ports = _ports()
    with _hold(ports["tftp"]), _hold(ports["dhcp"], reuse=True):
        result = subprocess.run(pureboot(
            "boot", "--controller", "http://127.0.0.1:9", "--interface", "lo", "--address", "127.0.0.1",
            "--tftp-root", str(tmp_path), "--tftp-port", str(ports["tftp"]), "--dhcp-port", str(ports["dhcp"]),
            "--pxe-port", str(ports["pxe"]), "--no-ra"), env=env(), capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    [line] = result.stderr.splitlines()  # one message
    assert line.startswith("Error: cannot start the boot service:")
    assert f"TFTP UDP 127.0.0.1:{ports['tftp']} is already in use" in line and "--tftp-port" in line
    # SO_REUSEADDR on the holder would let a reusing socket share the port on Linux: still a conflict
    assert f"DHCP UDP 0.0.0.0:{ports['dhcp']} on lo is already in use" in line and "--dhcp-port" in line
    assert "--pxe-port" not in line


@pytest.mark.parametrize("taken,option", [("tftp", "--tftp-port"), ("dhcp", "--dhcp-port"), ("pxe", "--pxe-port")])
def test_start_closes_what_it_bound_before_failing(tmp_path, taken, option):
    ports = _ports()
    service = BootService(_config(tmp_path, ports))
    with _hold(ports[taken]):
        with pytest.raises(BindError, match=f":{ports[taken]}.*already in use.*{option}"):
            service.start()
    assert not service.threads
    for port in ports.values():
        _assert_free(port)


def test_proxy_dhcp_shares_the_port_with_a_local_dhcp_server_only_when_asked(tmp_path):
    ports = _ports()
    with _site_dhcp_server(ports["dhcp"]):
        with pytest.raises(BindError, match="already in use.*--dhcp-port.*--share-dhcp-port"):
            BootService(_config(tmp_path, ports)).start()
        service = BootService(_config(tmp_path, ports, share_dhcp_port=True))
        service.start()
        try:
            assert [t.is_alive() for t in service.threads] == [True, True]
        finally:
            service.stop()


def test_sharing_still_fails_against_a_socket_that_does_not_share(tmp_path):
    ports = _ports()
    with _hold(ports["dhcp"]):  # no SO_REUSEADDR: the kernel refuses the shared bind too
        with pytest.raises(BindError, match=f"DHCP UDP 0.0.0.0:{ports['dhcp']} on lo is already in use"):
            BootService(_config(tmp_path, ports, share_dhcp_port=True)).start()


def test_full_dhcp_refuses_to_share_the_port(tmp_path):
    with pytest.raises(SystemExit, match="proxy mode"):
        BootService(_config(tmp_path, _ports(), share_dhcp_port=True, dhcp_mode="full", pool="10.0.0.2-10.0.0.9"))
