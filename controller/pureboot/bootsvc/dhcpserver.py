"""The DHCP responder: proxy-DHCP (default) or full DHCP with a pool, plus PXE port 4011.

It answers only clients the controller says to serve (Rule E); in proxy mode only PXE
and HTTP-boot clients. Every packet is handled inside a try: garbage is logged and
dropped, never fatal.
"""

from __future__ import annotations

import ipaddress
import logging
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import dhcp
from .backoff import Backoff, ErrorLog
from .client import ControllerClient
from .sockets import Endpoint

log = logging.getLogger("pureboot.bootsvc.dhcp")
#: With answer_installed, these known nodes are answered too, so the controller can send
#: them to their disk (Rule B) instead of UEFI firmware walking its netboot entries.
LOCAL_STATES = frozenset({"installed", "active", "failed"})


@dataclass
class PoolConfig:
    start: str
    end: str
    netmask: str
    router: str | None = None
    dns: tuple[str, ...] = ()
    lease_time: int = 3600


class Pool:
    """In-memory leases for full-DHCP mode: one address per MAC, reused on renewal."""

    def __init__(self, config: PoolConfig):
        self.config = config
        first, last = ipaddress.IPv4Address(config.start), ipaddress.IPv4Address(config.end)
        if last < first:
            raise ValueError("pool end is before pool start")
        self._free = [str(ipaddress.IPv4Address(i)) for i in range(int(first), int(last) + 1)]
        self._leases: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def lease_for(self, mac: str) -> dhcp.Lease | None:
        with self._lock:
            now = time.monotonic()
            if mac not in self._leases:
                self._reclaim(now)
                if not self._free:
                    return None
                self._leases[mac] = (self._free.pop(0), 0.0)
            ip = self._leases[mac][0]
            self._leases[mac] = (ip, now + self.config.lease_time)
        c = self.config
        return dhcp.Lease(ip, c.netmask, c.lease_time, c.router, c.dns)

    def _reclaim(self, now: float) -> None:
        for mac, (ip, expires) in list(self._leases.items()):
            if expires and expires < now:
                del self._leases[mac]
                self._free.append(ip)


class DhcpServer:
    def __init__(self, client: ControllerClient, loaders: dhcp.Loaders, *, server_ip: str,
                 interface: str | None, port: int = 67, pxe_port: int | None = 4011,
                 pool: Pool | None = None, workers: int = 8, answer_installed: bool = False,
                 share_port: bool = False):
        self.client, self.loaders, self.server_ip = client, loaders, server_ip
        self.interface, self.port, self.pxe_port, self.pool = interface, port, pxe_port, pool
        self.client_port = 68 if port == 67 else port + 1
        self.answer_installed = answer_installed
        self.share_port = share_port  # proxy mode: port 67 shared with a DHCP server on this host
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pb-dhcp")
        self._stop = threading.Event()
        self.sockets: list[socket.socket] = []
        self.handled = self.dropped = 0
        self.backoff = Backoff("DHCP receive loop", log)
        # per-packet tracebacks are at DEBUG already (_handle_safely)
        self.handler_errors = ErrorLog("DHCP reply (packets are dropped meanwhile)", log, traceback=False)

    def endpoints(self) -> list[Endpoint]:
        """The ports to bind: DHCP (67) and PXE (4011) on the interface, all addresses."""
        dhcp_port = Endpoint("DHCP", "0.0.0.0", self.port, "--dhcp-port", interface=self.interface,
                             broadcast=True, share=self.share_port, hint=self._share_hint())
        pxe_port = Endpoint("PXE", "0.0.0.0", self.pxe_port, "--pxe-port", interface=self.interface,
                            broadcast=True) if self.pxe_port else None
        return [endpoint for endpoint in (dhcp_port, pxe_port) if endpoint]

    def _share_hint(self) -> str:
        if self.pool is not None or self.share_port:
            return ""
        return ("; or, for proxy-DHCP next to this host's own DHCP server (one that shares the port, "
                "as dnsmasq and udhcpd do), --share-dhcp-port")

    def attach(self, sockets: list[socket.socket]) -> None:
        """Serve on sockets bound by the caller (all ports are bound up front, see sockets.py)."""
        self.sockets = list(sockets)
        for sock in self.sockets:
            log.info("DHCP %s listening on %s:%d", "proxy" if self.pool is None else "server",
                     self.interface or "*", sock.getsockname()[1])

    def serve_forever(self) -> None:
        self.backoff.run(self._stop, self._receive_once)

    def _receive_once(self) -> None:
        ready, _, _ = select.select(self.sockets, [], [], 0.5)
        for sock in ready:
            data, source = sock.recvfrom(4096)
            self._pool.submit(self._handle_safely, sock, data, source)

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for sock in self.sockets:
            sock.close()

    def _handle_safely(self, sock: socket.socket, data: bytes, source: tuple[str, int]) -> None:
        try:
            self.handle(sock, data, source)
        except dhcp.Malformed as exc:
            self.dropped += 1
            log.info("dropped malformed DHCP packet from %s:%s (%d bytes): %s", *source, len(data), exc)
        except Exception as exc:  # noqa: BLE001 - one bad packet must never stop the service
            self.dropped += 1
            log.debug("dropped DHCP packet from %s:%s after an error", *source, exc_info=exc)
            self.handler_errors.failed(exc)  # logged once per distinct error, not per packet
        else:
            self.handler_errors.ok()

    def handle(self, sock: socket.socket, data: bytes, source: tuple[str, int]) -> None:
        request = dhcp.parse(data)
        if request.msg_type not in (dhcp.DISCOVER, dhcp.REQUEST, dhcp.INFORM):
            return
        if request.msg_type == dhcp.REQUEST and not self._request_is_ours(request, sock):
            return
        if self.pool is None and not request.is_pxe:
            return  # proxy mode: address-only clients belong to the site's DHCP server
        answer = self.client.dhcp(request.mac, request.arch)
        if not answer.serve and not (self.answer_installed and request.is_pxe and answer.state in LOCAL_STATES):
            log.debug("not serving %s: %s", request.mac, answer.reason)
            return
        lease = None
        if self.pool is not None and request.msg_type != dhcp.INFORM:
            lease = self.pool.lease_for(request.mac)
            if lease is None:
                log.error("DHCP pool exhausted; cannot offer an address to %s", request.mac)
                return
        boot_file = self.loaders.boot_file(request, offline=answer.offline) if request.is_pxe else None
        packet = dhcp.reply(request, server_ip=self.server_ip, boot_file=boot_file, lease=lease)
        sock.sendto(packet, self._destination(request, source, sock))
        self.handled += 1
        log.info("%s %s (arch %s%s) -> %s (%s)", "offer" if request.msg_type == dhcp.DISCOVER else "ack",
                 request.mac, request.arch, ", iPXE" if request.is_ipxe else "", boot_file, answer.reason)

    def _request_is_ours(self, request: dhcp.Request, sock: socket.socket) -> bool:
        """REQUESTs on 4011 are for us; on 67 only in full mode, unless they name another server."""
        if sock.getsockname()[1] == self.pxe_port:
            return True
        return self.pool is not None and request.server_id in (None, self.server_ip)

    def _destination(self, request: dhcp.Request, source: tuple[str, int], sock: socket.socket):
        if request.giaddr != "0.0.0.0":
            return request.giaddr, self.port  # via a relay agent
        if source[0] != "0.0.0.0":
            return source  # the client has an address (port 4011, renewals, tests)
        return "255.255.255.255", self.client_port
