"""DHCP/PXE packets: parse a request, choose the loader, build the reply. No sockets here.

Loader choice (PXE spec, RFC 4578 option 93 client architecture):

    option 93   client                  gets
    ---------   ----------------------  --------------------------------------------------
    any         iPXE (option 77 "iPXE")  HTTP URL of the controller's iPXE entry script
    0           BIOS PXE                 undionly.kpxe (or lpxelinux.0 with --bios-loader pxelinux)
    6           UEFI IA32                ipxe.efi
    7, 9        UEFI x64                 snponly.efi (or grubx64.efi with --uefi-loader grub)
    11          UEFI ARM64               grubaa64.efi
    16          UEFI x64 HTTP boot       HTTP URL of snponly.efi (vendor class HTTPClient)
    19          UEFI ARM64 HTTP boot     HTTP URL of grubaa64.efi
    Raspberry Pi (by MAC OUI)            option 43 "Raspberry Pi Boot"; the Pi then uses TFTP

Every offer carries option 60 "PXEClient" and option 43 (discovery control: use the boot
file name) so neither iPXE nor UEFI firmware waits or asks again on port 4011.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from scapy.layers.dhcp import BOOTP, DHCP

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
HTTP_ARCHES = {16: "x64", 19: "arm64"}
RPI_OUIS = ("b8:27:eb", "dc:a6:32", "e4:5f:01", "d8:3a:dd", "2c:cf:67", "28:cd:c1")
# PXE vendor options: 6 = discovery control, 8 = "boot the file in the offer, no menu".
PXE_OPTION_43 = bytes([6, 1, 8, 255])
RPI_OPTION_43 = (bytes([6, 1, 3, 10, 4, 0]) + b"PXE" + bytes([9, 20, 0, 0, 17])
                 + b"Raspberry Pi Boot" + bytes([255]))


class Malformed(ValueError):
    """Not a DHCP request we can read; the caller logs and drops it."""


@dataclass(frozen=True)
class Request:
    mac: str
    xid: int
    msg_type: int
    flags: int
    ciaddr: str
    giaddr: str
    arch: int | None = None
    vendor_class: str = ""
    user_class: bytes = b""
    client_uuid: bytes | None = None
    requested_ip: str | None = None
    server_id: str | None = None

    @property
    def is_pxe(self) -> bool:
        return self.vendor_class.startswith(("PXEClient", "HTTPClient")) or self.is_ipxe

    @property
    def is_ipxe(self) -> bool:
        return b"iPXE" in self.user_class

    @property
    def is_http_boot(self) -> bool:
        return self.vendor_class.startswith("HTTPClient") or self.arch in HTTP_ARCHES

    @property
    def is_rpi(self) -> bool:
        return self.mac.startswith(RPI_OUIS)


def parse(data: bytes) -> Request:
    """Read a client's DHCP request. Raises Malformed for anything else."""
    if len(data) < 240 or data[0] != 1 or data[236:240] != b"\x63\x82\x53\x63":
        raise Malformed("not a BOOTREQUEST with the DHCP magic cookie")
    if data[1] != 1 or data[2] != 6:
        raise Malformed("not Ethernet (htype 1, hlen 6)")
    try:
        packet = BOOTP(data)
    except Exception as exc:  # noqa: BLE001 - scapy raises many kinds on garbage
        raise Malformed(f"unparseable: {exc}") from exc
    options = _options(packet)
    msg_type = options.get("message-type")
    if not isinstance(msg_type, int):
        raise Malformed("no DHCP message type")
    mac = ":".join(f"{b:02x}" for b in data[28:34])
    return Request(
        mac=mac, xid=struct.unpack("!I", data[4:8])[0], msg_type=msg_type,
        flags=struct.unpack("!H", data[10:12])[0],
        ciaddr=str(ipaddress.IPv4Address(data[12:16])), giaddr=str(ipaddress.IPv4Address(data[24:28])),
        arch=_arch(options.get("pxe_client_architecture")),
        vendor_class=_text(options.get("vendor_class_id")),
        user_class=_bytes(options.get("user_class")),
        client_uuid=_bytes(options.get("pxe_client_machine_identifier")) or None,
        requested_ip=_ip(options.get("requested_addr")), server_id=_ip(options.get("server_id")),
    )


def _options(packet) -> dict:
    dhcp = packet.getlayer(DHCP)
    if dhcp is None:
        raise Malformed("no DHCP options")
    out: dict = {}
    for item in dhcp.options:
        if isinstance(item, tuple) and len(item) >= 2:
            out.setdefault(item[0], item[1])
    return out


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    return b""


def _text(value) -> str:
    return _bytes(value).decode("ascii", "replace")


def _arch(value) -> int | None:
    raw = _bytes(value)
    return struct.unpack("!H", raw[:2])[0] if len(raw) >= 2 else None


def _ip(value) -> str | None:
    try:
        return str(ipaddress.IPv4Address(value)) if value else None
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Loaders:
    """Where each kind of client finds its first stage (TFTP paths, or HTTP for HTTP boot)."""

    http_base: str  # the controller as nodes reach it, e.g. http://10.0.0.1:8080
    bios: str = "undionly.kpxe"
    uefi_x64: str = "snponly.efi"
    uefi_ia32: str = "ipxe.efi"
    uefi_arm64: str = "grubaa64.efi"
    local_ipxe: str = "pureboot/local.ipxe"  # served by our TFTP (Rule D)
    extra: dict[int, str] = field(default_factory=dict)

    def boot_file(self, request: Request, *, offline: bool = False) -> str:
        if request.is_ipxe:
            return self.local_ipxe if offline else f"{self.http_base}/boot/ipxe"
        if request.is_http_boot:
            name = self.uefi_arm64 if HTTP_ARCHES.get(request.arch or 16) == "arm64" else self.uefi_x64
            return f"{self.http_base}/boot/files/{name}"
        if request.arch in self.extra:
            return self.extra[request.arch]
        return {None: self.bios, 0: self.bios, 6: self.uefi_ia32, 7: self.uefi_x64, 9: self.uefi_x64,
                11: self.uefi_arm64}.get(request.arch, self.bios)


@dataclass(frozen=True)
class Lease:
    """Address settings for full-DHCP mode (None in proxy mode)."""

    ip: str
    netmask: str
    lease_time: int
    router: str | None = None
    dns: tuple[str, ...] = ()


def reply(request: Request, *, server_ip: str, boot_file: str | None, lease: Lease | None = None) -> bytes:
    """The OFFER/ACK for `request`: proxy (no address) when `lease` is None."""
    msg_type = OFFER if request.msg_type == DISCOVER else ACK
    chaddr = bytes.fromhex(request.mac.replace(":", "")) + b"\0" * 10
    bootp = BOOTP(op=2, htype=1, hlen=6, xid=request.xid, flags=request.flags,
                  ciaddr=request.ciaddr if request.msg_type == INFORM else "0.0.0.0",
                  yiaddr=lease.ip if lease else "0.0.0.0", siaddr=server_ip, giaddr=request.giaddr,
                  chaddr=chaddr, file=(boot_file or "").encode()[:127])
    options: list = [("message-type", msg_type), ("server_id", server_ip)]
    if lease is not None:
        options += [("lease_time", lease.lease_time), ("subnet_mask", lease.netmask)]
        if lease.router:
            options.append(("router", lease.router))
        if lease.dns:
            options.append(("name_server", *lease.dns))
    if request.is_pxe and boot_file:
        options.append(("vendor_class_id", b"HTTPClient" if request.is_http_boot else b"PXEClient"))
        options.append(("vendor_specific", RPI_OPTION_43 if request.is_rpi else PXE_OPTION_43))
        options.append(("tftp_server_name", server_ip.encode()))
        options.append(("boot-file-name", boot_file.encode()))
        if request.client_uuid:
            options.append(("pxe_client_machine_identifier", request.client_uuid))
    options.append("end")
    return bytes(bootp / DHCP(options=options))
