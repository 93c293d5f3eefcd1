"""Binding the boot service's UDP ports up front, with one clear message on failure.

No SO_REUSEADDR or SO_REUSEPORT: on Linux either lets a second UDP socket share a port
another live socket holds (both must set it), which would hide a second DHCP or TFTP
server instead of failing. Nothing here needs them: receiving broadcasts needs none,
and services on other interfaces do not conflict because SO_BINDTODEVICE is set
before bind. The one exception is asked for: proxy-DHCP sharing port 67 with the
site's DHCP server on the same host (``--share-dhcp-port``, Endpoint.share).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable
from dataclasses import dataclass

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


class BindError(Exception):
    """A port the boot service needs could not be bound; the message says which and how to fix it."""


@dataclass(frozen=True)
class Endpoint:
    service: str  # what it is for, as the operator knows it: "TFTP", "DHCP", "PXE"
    address: str
    port: int
    option: str  # the `pureboot boot` option that changes the port
    interface: str | None = None
    broadcast: bool = False
    share: bool = False  # SO_REUSEADDR: only when the operator asked to share the port
    hint: str = ""  # appended to a conflict message

    def __str__(self) -> str:
        on = f" on {self.interface}" if self.interface else ""
        return f"{self.service} UDP {self.address}:{self.port}{on}"


def bind_udp(endpoint: Endpoint) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        if endpoint.share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if endpoint.broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if endpoint.interface:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, endpoint.interface.encode())
        sock.bind((endpoint.address, endpoint.port))
    except OSError:
        sock.close()
        raise
    return sock


def bind_all(endpoints: Iterable[Endpoint]) -> dict[Endpoint, socket.socket]:
    """Every endpoint bound, or BindError naming each that failed (the others are closed)."""
    bound: dict[Endpoint, socket.socket] = {}
    failures = []
    for endpoint in endpoints:
        try:
            bound[endpoint] = bind_udp(endpoint)
        except OSError as exc:
            failures.append(describe(endpoint, exc))
    if failures:
        for sock in bound.values():
            sock.close()
        raise BindError("cannot start the boot service: " + "; ".join(failures))
    return bound


def describe(endpoint: Endpoint, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"{endpoint} is already in use by another process (another {endpoint.service} server?); "
                f"stop it or choose another port with {endpoint.option}{endpoint.hint}")
    if exc.errno == errno.EACCES:
        return (f"{endpoint}: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, "
                f"or choose a port above 1023 with {endpoint.option}")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{endpoint}: the address is not on this host; check --address"
    if exc.errno == errno.ENODEV:
        return f"{endpoint}: no such interface; check --interface"
    return f"{endpoint}: {exc.strerror or exc}; check {endpoint.option}"
