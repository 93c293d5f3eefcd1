"""A bare IPv6 router advertisement for iPXE, unicast to the soliciting client.

iPXE waits 13-16 s for an IPv6 router on every start. Answering its router
solicitation with an RA (router lifetime 0: we are not a default router, no prefixes)
ends the wait. iPXE ignores an RA sent to ff02::1, so we send it to the solicitor's
link-local address.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading

from .backoff import Backoff, ErrorLog

log = logging.getLogger("pureboot.bootsvc.ra")
ROUTER_SOLICITATION, ROUTER_ADVERTISEMENT = 133, 134
# type, code, checksum (kernel fills it), cur hop limit, flags, router lifetime, reachable, retrans
BARE_RA = struct.pack("!BBHBBHII", ROUTER_ADVERTISEMENT, 0, 0, 64, 0, 0, 0, 0)


def _icmp6_filter_rs_only() -> bytes:
    """ICMP6_FILTER: block every type but router solicitation (bit set = blocked)."""
    words = [0xFFFFFFFF] * 8
    words[ROUTER_SOLICITATION >> 5] &= ~(1 << (ROUTER_SOLICITATION & 31))
    return struct.pack("=8I", *words)


class RouterAdvertiser:
    def __init__(self, interface: str):
        self.interface = interface
        self.index = socket.if_nametoindex(interface)
        self._stop = threading.Event()
        self.answered = 0
        self.backoff = Backoff("IPv6 RA loop", log)
        self.packet_errors = ErrorLog("IPv6 RA reply", log)
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        try:
            self._configure(interface)
        except OSError:
            self.sock.close()
            raise

    def _configure(self, interface: str) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, 25, interface.encode())  # SO_BINDTODEVICE
        self.sock.setsockopt(socket.IPPROTO_ICMPV6, 1, _icmp6_filter_rs_only())  # ICMP6_FILTER
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        group = socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", self.index)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group)

    def serve_forever(self) -> None:
        log.info("answering IPv6 router solicitations on %s (bare RA, unicast)", self.interface)
        self.backoff.run(self._stop, self._receive_once, errors=(OSError, ValueError))

    def _receive_once(self) -> None:
        ready, _, _ = select.select([self.sock], [], [], 0.5)
        if ready:
            self._answer_one()

    def _answer_one(self) -> None:
        try:
            data, source = self.sock.recvfrom(1500)
            self.handle(data, source)
        except Exception as exc:  # noqa: BLE001 - never die on one packet
            log.debug("dropped ICMPv6 packet: %s", exc)
            self.packet_errors.failed(exc)
        else:
            self.packet_errors.ok()

    def handle(self, data: bytes, source) -> None:
        if len(data) < 8 or data[0] != ROUTER_SOLICITATION or data[1] != 0:
            return
        address = source[0].split("%", 1)[0]
        if not address.lower().startswith("fe80:"):
            return  # unspecified source (::) or not link-local: nothing to unicast to
        self.sock.sendto(BARE_RA, (address, 0, 0, self.index))
        self.answered += 1
        log.debug("sent RA to %s", address)

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
