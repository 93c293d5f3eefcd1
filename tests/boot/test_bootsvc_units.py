"""Boot-service pieces without sockets: loader choice, packet parsing, ports, paths."""

from __future__ import annotations

import logging

import pytest

from pureboot.bootsvc import dhcp, service
from pureboot.bootsvc.tftp import normalize

from .pxeclient import ARCH_BIOS, ARCH_HTTP_X64, discover

LOADERS = dhcp.Loaders(http_base="http://ctl:8080")


@pytest.mark.parametrize("arch,ipxe,offline,expected", [
    (0, False, False, "undionly.kpxe"), (7, False, False, "snponly.efi"), (9, False, False, "snponly.efi"),
    (6, False, False, "ipxe.efi"), (11, False, False, "grubaa64.efi"), (None, False, False, "undionly.kpxe"),
    (16, False, False, "http://ctl:8080/boot/files/snponly.efi"),
    (19, False, False, "http://ctl:8080/boot/files/grubaa64.efi"),
    (0, True, False, "http://ctl:8080/boot/ipxe"), (7, True, True, "pureboot/local.ipxe")])
def test_loader_by_arch(arch, ipxe, offline, expected):
    request = dhcp.parse(discover("52:54:00:00:00:01", arch=arch, ipxe=ipxe))
    assert LOADERS.boot_file(request, offline=offline) == expected


def test_parse_reads_pxe_fields():
    request = dhcp.parse(discover("52:54:00:00:00:02", arch=ARCH_HTTP_X64))
    assert (request.mac, request.arch, request.msg_type) == ("52:54:00:00:00:02", 16, 1)
    assert request.is_pxe and request.is_http_boot and not request.is_ipxe


@pytest.mark.parametrize("data", [b"", b"\x01" * 239, bytes(300), discover("52:54:00:00:00:03")[:240]])
def test_parse_rejects_garbage(data):
    with pytest.raises(dhcp.Malformed):
        dhcp.parse(data)


def test_reply_echoes_uuid_and_is_proxy():
    request = dhcp.parse(discover("52:54:00:00:00:04", arch=ARCH_BIOS))
    raw = dhcp.reply(request, server_ip="10.0.0.1", boot_file="undionly.kpxe")
    assert raw[0] == 2 and raw[16:20] == bytes(4)  # BOOTREPLY, yiaddr 0.0.0.0
    assert b"PXEClient" in raw and b"undionly.kpxe" in raw


@pytest.mark.parametrize("name,expected", [
    ("undionly.kpxe", "undionly.kpxe"), ("/a//b/./c", "a/b/c"), ("a\\b", "a/b"),
    ("../x", None), ("a/../../x", None), ("", None), ("a\0b", None)])
def test_tftp_normalize(name, expected):
    assert normalize(name) == expected


def test_unprivileged_ports_are_logged(monkeypatch, caplog):
    monkeypatch.setattr(service.os, "geteuid", lambda: 1000)
    config = service.BootConfig(controller="http://c", interface="lo", tftp_root="/tmp")
    with caplog.at_level(logging.WARNING, logger="pureboot.bootsvc"):
        assert service._ports(config) == (6969, 6767, 6711)
    assert "unprivileged ports" in caplog.text
    monkeypatch.setattr(service.os, "geteuid", lambda: 0)
    assert service._ports(config) == (69, 67, 4011)
