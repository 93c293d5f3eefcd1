"""Boot-service loops under a persistent error: they back off and log once, then recover once."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import pytest

from pureboot.bootsvc import dhcp
from pureboot.bootsvc.backoff import Backoff
from pureboot.bootsvc.client import ControllerClient
from pureboot.bootsvc.dhcpserver import DhcpServer
from pureboot.bootsvc.tftp import FileSource, TftpService

from .procs import free_port

WINDOW = 1.5  # seconds of failure watched; 0.05 s doubling to 0.4 s allows ~7 attempts


def _fast(backoff: Backoff) -> None:
    backoff.first, backoff.cap, backoff.healthy_after = 0.05, 0.4, 0.3


def _messages(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


class FailingSocket:
    """A socket whose select() fails (EBADF) until `healthy` is set; counts the attempts."""

    def __init__(self):
        self.real = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.healthy = threading.Event()
        self.attempts = 0

    def fileno(self) -> int:
        self.attempts += 1
        if not self.healthy.is_set():
            raise OSError(errno.EBADF, "Bad file descriptor")
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()


def _run(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_dhcp_loop_backs_off_logs_once_and_recovers_once(caplog):
    server = DhcpServer(ControllerClient("http://127.0.0.1:9"), dhcp.Loaders(http_base="http://c"),
                        server_ip="127.0.0.1", interface=None)
    _fast(server.backoff)
    sock = FailingSocket()
    server.sockets = [sock]
    with caplog.at_level(logging.INFO, logger="pureboot.bootsvc"):
        thread = _run(server.serve_forever)
        time.sleep(WINDOW)
        failed_attempts = sock.attempts
        sock.healthy.set()
        time.sleep(2.0)  # 0.5 s select timeouts; recovery after 0.3 s without failure
        server.stop()
        thread.join(5)
    assert 3 <= failed_attempts <= 10, failed_attempts  # retried, but not spinning
    assert len(_messages(caplog, "DHCP receive loop failing")) == 1
    assert len(_messages(caplog, "DHCP receive loop recovered")) == 1
    assert not thread.is_alive()


def test_tftp_loop_backs_off_logs_once_and_recovers_once(tmp_path, caplog):
    service = TftpService(FileSource(str(tmp_path), None))
    _fast(service.backoff)
    calls, healthy = [], threading.Event()

    def listen(address, port):  # tftpy's loop: failing, then running until stopped
        calls.append(time.monotonic())
        if not healthy.is_set():
            raise OSError(errno.EBADF, "Bad file descriptor")
        service._stop.wait()

    service.server.listen = listen
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", free_port(socket.SOCK_DGRAM)))
    with caplog.at_level(logging.INFO, logger="pureboot.bootsvc"):
        thread = _run(lambda: service.serve_forever(sock))
        time.sleep(WINDOW)
        failed_attempts = len(calls)
        healthy.set()
        time.sleep(1.5)  # the next attempt (<= 0.4 s) stays up 0.3 s: recovered
        service.stop()
        thread.join(5)
    assert 3 <= failed_attempts <= 10, failed_attempts
    assert len(_messages(caplog, "TFTP loop failing")) == 1
    assert len(_messages(caplog, "TFTP loop recovered")) == 1
    assert not thread.is_alive() and sock.fileno() == -1  # the loop closed its socket


def test_backoff_delay_doubles_up_to_the_cap_and_resets_on_recovery():
    backoff = Backoff("x", logging.getLogger("test"), first=0.1, cap=1.0, healthy_after=0)
    delays = []
    for _ in range(6):
        backoff.failed(OSError("down"))
        delays.append(backoff.delay)
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    backoff.ok()
    assert backoff.delay == 0 and not backoff.failing


def test_a_new_error_is_logged_a_repeated_one_is_not(caplog):
    backoff = Backoff("loop", logging.getLogger("pureboot.bootsvc.test"))
    with caplog.at_level(logging.ERROR, logger="pureboot.bootsvc"):
        for exc in (OSError("a"), OSError("a"), OSError("a"), ValueError("b"), ValueError("b")):
            backoff.failed(exc)
    assert _messages(caplog, "loop failing") == [
        f"loop failing: {what}; retrying with backoff (up to 30 s apart), logged again only if it changes"
        for what in ("OSError: a", "ValueError: b")]


def test_unreachable_controller_is_logged_once_not_per_request(caplog):
    client = ControllerClient(f"http://127.0.0.1:{free_port()}", timeout=0.5, cache_ttl=0)
    with caplog.at_level(logging.INFO, logger="pureboot.bootsvc"):
        answers = [client.dhcp(f"52:54:00:00:00:{i:02x}") for i in range(5)]
    assert all(a.offline and not a.serve for a in answers)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_ra_loop_backs_off_and_logs_once(caplog):
    from pureboot.bootsvc.ra import RouterAdvertiser
    try:
        ra = RouterAdvertiser("lo")
    except OSError as exc:
        pytest.skip(f"no raw ICMPv6 socket here: {exc}")
    _fast(ra.backoff)
    real, ra.sock = ra.sock, FailingSocket()
    real.close()
    with caplog.at_level(logging.INFO, logger="pureboot.bootsvc"):
        thread = _run(ra.serve_forever)
        time.sleep(WINDOW)
        ra.stop()
        thread.join(5)
    assert 3 <= ra.sock.attempts <= 10, ra.sock.attempts
    assert len(_messages(caplog, "IPv6 RA loop failing")) == 1
    assert not thread.is_alive()
