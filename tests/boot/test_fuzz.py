"""Thousands of random and mutated DHCP/TFTP packets: dropped, logged, service still serves."""

from __future__ import annotations

import io
import random
import socket
import struct

import pytest
import tftpy

from .procs import BootService, Controller
from .pxeclient import ARCH_BIOS, ARCH_UEFI_X64, discover, exchange

SEED = 20261123


def _mutate(rng: random.Random, valid: bytes) -> bytes:
    data = bytearray(valid)
    kind = rng.randrange(5)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:  # truncate
        data = data[:rng.randrange(len(data))]
    elif kind == 2:  # corrupt option lengths after the magic cookie
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(240, len(data))] = rng.choice([0, 1, 255, 254, 128])
    elif kind == 3:  # append junk
        data += rng.randbytes(rng.randint(1, 600))
    else:  # fully random
        data = bytearray(rng.randbytes(rng.randint(0, 1500)))
    return bytes(data)


def _tftp_packets(rng: random.Random):
    names = [b"undionly.kpxe", b"../../etc/passwd", b"pxelinux.cfg/01-52-54-00-ee-00-01", b"\xff\xfe", b""]
    modes = [b"octet", b"netascii", b"\xff", b""]
    for _ in range(1500):
        op = rng.choice([1, 2, 3, 4, 5, 6, 0, 7, 999])
        if op in (1, 2) and rng.random() < 0.7:
            body = rng.choice(names) + b"\0" + rng.choice(modes) + b"\0"
            if rng.random() < 0.5:
                body += b"blksize\0" + rng.choice([b"0", b"7", b"70000", b"abc", b"1468"]) + b"\0"
            if rng.random() < 0.3:
                body += b"tsize\0"  # option without value
        else:
            body = rng.randbytes(rng.randint(0, 600))
        yield struct.pack("!H", op % 65536) + body if rng.random() < 0.9 else rng.randbytes(rng.randint(0, 3))


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "tftp"
    root.mkdir()
    (root / "undionly.kpxe").write_bytes(b"\x55" * 5000)
    controller = Controller(base / "data")
    service = BootService(controller.url, root, base / "boot.log")
    yield controller, service
    service.stop()
    controller.stop()


def test_fuzz_dhcp_and_tftp_then_still_serving(running):
    controller, service = running
    rng = random.Random(SEED)
    valid = [discover(f"52:54:00:ee:{i:02x}:01", arch=a, ipxe=i % 2 == 0)
             for i, a in enumerate([ARCH_BIOS, ARCH_UEFI_X64] * 4)]
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(2500):
            port = rng.choice([service.dhcp_port, service.pxe_port])
            sock.sendto(_mutate(rng, rng.choice(valid)), ("127.0.0.1", port))
            sent += 1
        for packet in _tftp_packets(rng):
            # a fresh source port per packet: each one opens a new TFTP session
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as one:
                one.sendto(packet, ("127.0.0.1", service.tftp_port))
            sent += 1
    assert sent >= 4000
    assert service.alive()
    # A valid request is still answered. Like a real PXE client, retransmit: right after the
    # burst the kernel's UDP receive buffer may still be full and drop a single datagram.
    reply = None
    for _ in range(10):
        reply = exchange(service.dhcp_port, discover("52:54:00:ef:00:01", arch=ARCH_BIOS), timeout=3)
        if reply is not None:
            break
    assert reply is not None and reply["file"] == "undionly.kpxe"
    out = io.BytesIO()
    tftpy.TftpClient("127.0.0.1", service.tftp_port, options={"blksize": 1468}).download(
        "undionly.kpxe", out, timeout=5, retries=3)
    assert out.getvalue() == b"\x55" * 5000
    log = service.log_path.read_text(errors="replace")
    assert "dropped malformed DHCP packet" in log
    assert "Traceback" not in log or "dropped DHCP packet from" in log
