"""`pureboot boot`: run DHCP, TFTP and RA threads for one site until signalled."""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import os
import signal
import socket
import struct
import threading
from dataclasses import dataclass, field

from .client import ControllerClient
from .dhcp import Loaders
from .dhcpserver import DhcpServer, Pool, PoolConfig
from .sockets import BindError, Endpoint, bind_all
from .tftp import FileSource, TftpService

log = logging.getLogger("pureboot.bootsvc")
UNPRIVILEGED = {"tftp": 6969, "dhcp": 6767, "pxe": 6711}


@dataclass
class BootConfig:
    controller: str
    interface: str
    tftp_root: str
    public_url: str | None = None
    address: str | None = None
    dhcp_mode: str = "proxy"
    pool: str | None = None  # START-END
    netmask: str | None = None
    router: str | None = None
    dns: tuple[str, ...] = ()
    lease_time: int = 3600
    tftp_port: int | None = None
    dhcp_port: int | None = None
    pxe_port: int | None = None
    bios_loader: str = "ipxe"
    uefi_loader: str = "ipxe"
    timeout: float = 2.0
    cache_ttl: float = 5.0
    ca_bundle: str | None = None  # PEM CAs for an https:// controller; None: the system store
    ra: bool = True
    answer_installed: bool = False
    share_dhcp_port: bool = False  # proxy mode: share port 67 with a DHCP server on this host
    extra_loaders: dict[int, str] = field(default_factory=dict)


def interface_ipv4(interface: str) -> tuple[str, str]:
    """(address, netmask) of an interface, via SIOCGIFADDR/SIOCGIFNETMASK."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        packed = struct.pack("256s", interface.encode()[:15])
        try:
            address = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), 0x8915, packed)[20:24])
            netmask = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), 0x891B, packed)[20:24])
        except OSError as exc:
            raise SystemExit(f"interface {interface} has no IPv4 address ({exc}); pass --address") from None
    return address, netmask


def _ports(config: BootConfig) -> tuple[int, int, int]:
    root = os.geteuid() == 0
    ports = (config.tftp_port or (69 if root else UNPRIVILEGED["tftp"]),
             config.dhcp_port or (67 if root else UNPRIVILEGED["dhcp"]),
             config.pxe_port or (4011 if root else UNPRIVILEGED["pxe"]))
    if not root and not (config.tftp_port and config.dhcp_port and config.pxe_port):
        log.warning("not running as root: using unprivileged ports TFTP %d, DHCP %d, PXE %d; "
                    "real PXE clients need 69/67/4011 (run as root or grant CAP_NET_BIND_SERVICE)", *ports)
    return ports


def _pool(config: BootConfig, netmask: str) -> Pool | None:
    if config.dhcp_mode != "full":
        return None
    if config.share_dhcp_port:
        raise SystemExit("--share-dhcp-port is for proxy mode; a full DHCP server must not share port 67")
    if not config.pool or "-" not in config.pool:
        raise SystemExit("--dhcp-mode full needs --pool START-END")
    start, end = (part.strip() for part in config.pool.split("-", 1))
    ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)
    return Pool(PoolConfig(start, end, config.netmask or netmask, config.router, tuple(config.dns),
                           config.lease_time))


class BootService:
    def __init__(self, config: BootConfig):
        self.config = config
        address, netmask = (config.address, config.netmask or "255.255.255.0") if config.address \
            else interface_ipv4(config.interface)
        self.address = address
        self.tftp_port, self.dhcp_port, self.pxe_port = _ports(config)
        public = (config.public_url or config.controller).rstrip("/")
        self.client = ControllerClient(config.controller, timeout=config.timeout, cache_ttl=config.cache_ttl,
                                       ca_bundle=config.ca_bundle)
        loaders = Loaders(http_base=public,
                          bios="lpxelinux.0" if config.bios_loader == "pxelinux" else "undionly.kpxe",
                          uefi_x64="grubx64.efi" if config.uefi_loader == "grub" else "snponly.efi",
                          extra=dict(config.extra_loaders))
        self.dhcp = DhcpServer(self.client, loaders, server_ip=address, interface=config.interface,
                               port=self.dhcp_port, pxe_port=self.pxe_port, pool=_pool(config, netmask),
                               answer_installed=config.answer_installed, share_port=config.share_dhcp_port)
        self.tftp = TftpService(FileSource(config.tftp_root, self.client, address))
        self.ra = None
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Bind every port first: a conflict stops the service here (BindError), not later."""
        tftp = Endpoint("TFTP", self.address, self.tftp_port, "--tftp-port")
        try:
            bound = bind_all([tftp, *self.dhcp.endpoints()])
        except BindError:
            self.stop()
            raise
        self.dhcp.attach([sock for endpoint, sock in bound.items() if endpoint is not tftp])
        self.ra = self._router_advertiser()
        self._thread("dhcp", self.dhcp.serve_forever)
        self._thread("tftp", lambda: self.tftp.serve_forever(bound[tftp]))
        if self.ra:
            self._thread("ra", self.ra.serve_forever)
        log.info("boot service up: interface %s (%s), controller %s, DHCP mode %s",
                 self.config.interface, self.address, self.config.controller, self.config.dhcp_mode)

    def _router_advertiser(self):
        """A raw ICMPv6 socket (no port to conflict on); without it iPXE only starts slower."""
        if not self.config.ra or self.config.interface == "lo":
            return None
        try:
            from .ra import RouterAdvertiser
            return RouterAdvertiser(self.config.interface)
        except OSError as exc:
            log.warning("IPv6 RA disabled (%s): iPXE will wait ~15 s for a router on each start; "
                        "--no-ra silences this", exc)
            return None

    def _thread(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=f"pureboot-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.dhcp.stop()
        self.tftp.stop()
        if self.ra:
            self.ra.stop()

    def run_until_signalled(self) -> None:
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        self.start()
        while not done.wait(1):
            dead = [t.name for t in self.threads if not t.is_alive()]
            if dead:
                log.error("service thread(s) ended unexpectedly: %s; exiting", ", ".join(dead))
                break
        self.stop()
