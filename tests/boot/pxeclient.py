"""A PXE client over loopback: DHCP DISCOVER/REQUEST like firmware and iPXE send them."""

from __future__ import annotations

import random
import socket
import struct

from scapy.layers.dhcp import BOOTP, DHCP

ARCH_BIOS, ARCH_UEFI_X64, ARCH_UEFI_ARM64, ARCH_HTTP_X64 = 0, 7, 11, 16


def discover(mac: str, *, arch: int | None = ARCH_BIOS, ipxe: bool = False, vendor: str | None = None,
             msg_type: int = 1, uuid: bytes | None = b"\x00" + bytes(range(16))) -> bytes:
    chaddr = bytes.fromhex(mac.replace(":", "")) + b"\0" * 10
    options: list = [("message-type", msg_type)]
    if vendor is None:
        vendor = "HTTPClient:Arch:00016" if arch == ARCH_HTTP_X64 else f"PXEClient:Arch:{arch or 0:05d}:UNDI:002001"
    if vendor:
        options.append(("vendor_class_id", vendor.encode()))
    if arch is not None:
        options.append(("pxe_client_architecture", struct.pack("!H", arch)))
    if uuid:
        options.append(("pxe_client_machine_identifier", uuid))
    if ipxe:
        options.append(("user_class", b"iPXE"))
    options.append("end")
    packet = BOOTP(op=1, xid=random.getrandbits(32), flags=0x8000, chaddr=chaddr) / DHCP(options=options)
    return bytes(packet)


def exchange(port: int, payload: bytes, timeout: float = 3.0) -> dict | None:
    """Send `payload` to 127.0.0.1:port; the parsed reply or None when nobody answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        sock.sendto(payload, ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(4096)
        except socket.timeout:
            return None
    return parse_reply(data)


def parse_reply(data: bytes) -> dict:
    packet = BOOTP(data)
    options = {o[0]: o[1] for o in packet[DHCP].options if isinstance(o, tuple)}
    return {"op": packet.op, "xid": packet.xid, "yiaddr": packet.yiaddr, "siaddr": packet.siaddr,
            "file": packet.file.rstrip(b"\0").decode(), "options": options}
