"""The boot service as a real process against a real controller, over loopback."""

from __future__ import annotations

import io
import os
import time

import pytest
import tftpy

from .procs import BootService, Controller
from .pxeclient import ARCH_BIOS, ARCH_HTTP_X64, ARCH_UEFI_ARM64, ARCH_UEFI_X64, discover, exchange

PXE_WORKFLOW = {"name": "deb", "tasks": [{"type": "pxe_boot", "kernel": "debian/linux",
                                          "initrd": "debian/initrd.gz", "cmdline": "auto=true"}]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("site")
    root = base / "tftp"
    (root / "rpi").mkdir(parents=True)
    (root / "undionly.kpxe").write_bytes(os.urandom(70000))
    (root / "rpi" / "start4.elf").write_bytes(b"pi firmware")
    (base / "secret").write_text("outside the root")
    (root / "escape").symlink_to(base / "secret")
    controller = Controller(base / "data")
    service = BootService(controller.url, root, base / "boot.log")
    workflow = controller.api("POST", "/api/v1/workflows", json=PXE_WORKFLOW).json()
    yield {"controller": controller, "service": service, "root": root, "workflow": workflow, "base": base}
    service.stop()
    controller.stop()


def _register(site, mac, state=None, **extra):
    body = {"mac": mac, **extra}
    if state == "pending":
        body["workflow_id"] = site["workflow"]["id"]
    node = site["controller"].api("POST", "/api/v1/nodes", json=body).json()
    if state not in (None, "pending"):
        reply = site["controller"].api("PATCH", f"/api/v1/nodes/{node['id']}/state", json={"state": state})
        assert reply.status_code == 200, reply.text
    return node


def _tftp_get(port, name, **options) -> bytes:
    out = io.BytesIO()
    tftpy.TftpClient("127.0.0.1", port, options=options).download(name, out, timeout=2, retries=1)
    return out.getvalue()


def test_bios_pxe_gets_undionly_with_pxe_options(site):
    reply = exchange(site["service"].dhcp_port, discover("52:54:00:aa:00:01", arch=ARCH_BIOS))
    assert reply is not None and reply["op"] == 2 and reply["options"]["message-type"] == 2
    assert reply["file"] == "undionly.kpxe" and reply["siaddr"] == "127.0.0.1" and reply["yiaddr"] == "0.0.0.0"
    assert reply["options"]["vendor_class_id"] == b"PXEClient"
    assert reply["options"]["vendor_specific"] == bytes([6, 1, 8, 255])
    assert reply["options"]["pxe_client_machine_identifier"] == b"\x00" + bytes(range(16))
    assert "lease_time" not in reply["options"]  # proxy: no address


@pytest.mark.parametrize("arch,expected", [(ARCH_UEFI_X64, "snponly.efi"), (ARCH_UEFI_ARM64, "grubaa64.efi")])
def test_uefi_loader_by_option_93(site, arch, expected):
    reply = exchange(site["service"].dhcp_port, discover("52:54:00:aa:00:02", arch=arch))
    assert reply["file"] == expected


def test_ipxe_gets_http_entry_script(site):
    reply = exchange(site["service"].dhcp_port, discover("52:54:00:aa:00:03", arch=ARCH_UEFI_X64, ipxe=True))
    assert reply["file"] == f"{site['controller'].url}/boot/ipxe"
    script = site["controller"].api("GET", "/boot/ipxe").text
    assert "chain --replace" in script


def test_uefi_http_boot_gets_http_url_and_httpclient(site):
    reply = exchange(site["service"].dhcp_port, discover("52:54:00:aa:00:04", arch=ARCH_HTTP_X64))
    assert reply["file"] == f"{site['controller'].url}/boot/files/snponly.efi"
    assert reply["options"]["vendor_class_id"] == b"HTTPClient"


def test_port_4011_request_is_acked(site):
    reply = exchange(site["service"].pxe_port, discover("52:54:00:aa:00:05", arch=ARCH_UEFI_X64, msg_type=3))
    assert reply["options"]["message-type"] == 5 and reply["file"] == "snponly.efi"


def test_raspberry_pi_gets_pi_boot_option_43(site):
    reply = exchange(site["service"].dhcp_port, discover("dc:a6:32:aa:00:06", arch=ARCH_BIOS))
    assert b"Raspberry Pi Boot" in reply["options"]["vendor_specific"]


def test_rule_e_only_provisioning_states_are_answered(site):
    _register(site, "52:54:00:bb:00:01", "pending")
    _register(site, "52:54:00:bb:00:02", "retired")
    _register(site, "52:54:00:bb:00:03")  # discovered
    port = site["service"].dhcp_port
    assert exchange(port, discover("52:54:00:bb:00:01")) is not None
    assert exchange(port, discover("52:54:00:bb:00:03")) is not None
    assert exchange(port, discover("52:54:00:bb:00:02"), timeout=1.5) is None


def test_proxy_ignores_clients_that_are_not_pxe(site):
    assert exchange(site["service"].dhcp_port, discover("52:54:00:aa:00:07", arch=None, vendor=""),
                    timeout=1.5) is None


def test_tftp_static_with_blksize_and_tsize(site):
    expected = (site["root"] / "undionly.kpxe").read_bytes()
    assert _tftp_get(site["service"].tftp_port, "undionly.kpxe", blksize=1468, tsize=0) == expected
    assert _tftp_get(site["service"].tftp_port, "/undionly.kpxe") == expected


@pytest.mark.parametrize("name", ["../secret", "escape", "/etc/passwd", "rpi/../../secret", "nonexistent"])
def test_tftp_never_leaves_the_root(site, name):
    with pytest.raises(tftpy.TftpException):
        _tftp_get(site["service"].tftp_port, name)


def test_tftp_refuses_uploads(site, tmp_path):
    source = tmp_path / "upload.bin"
    source.write_bytes(b"x" * 100)
    client = tftpy.TftpClient("127.0.0.1", site["service"].tftp_port)
    with pytest.raises(tftpy.TftpException, match="Access violation"):
        client.upload("uploaded.bin", str(source), timeout=2, retries=1)
    assert not (site["root"] / "uploaded.bin").exists()


def test_tftp_dynamic_pxelinux_config_from_controller(site):
    node = _register(site, "52:54:00:cc:00:01", "pending")
    config = _tftp_get(site["service"].tftp_port, "pxelinux.cfg/01-52-54-00-cc-00-01", tsize=0).decode()
    assert "KERNEL http://" in config and "pureboot.token=" in config
    state = site["controller"].api("GET", f"/api/v1/nodes/{node['id']}").json()["state"]
    assert state == "installing"
    grub = _tftp_get(site["service"].tftp_port, "grub/grub.cfg-01-52-54-00-cc-00-01").decode()
    assert "linux (http,127.0.0.1:" in grub


def test_tftp_raspberry_pi_files(site):
    _register(site, "dc:a6:32:cc:00:02", "pending", serial="9abc1234")
    port = site["service"].tftp_port
    assert "kernel=linux" in _tftp_get(port, "9abc1234/config.txt").decode()
    assert "pureboot.token=" in _tftp_get(port, "9abc1234/cmdline.txt").decode()
    assert _tftp_get(port, "9abc1234/start4.elf") == b"pi firmware"  # shared firmware
    with pytest.raises(tftpy.TftpException):
        _tftp_get(port, "deadbeef/config.txt")  # unknown Pi: next boot mode


def test_rule_e_answers_are_cached_briefly(site):
    from pureboot.bootsvc.client import ControllerClient
    client = ControllerClient(site["controller"].url, cache_ttl=0.5)
    node = _register(site, "52:54:00:dd:00:01")
    assert client.dhcp("52:54:00:dd:00:01").serve is True
    site["controller"].api("PATCH", f"/api/v1/nodes/{node['id']}/state", json={"state": "retired"})
    assert client.dhcp("52:54:00:dd:00:01").serve is True  # cached
    time.sleep(0.6)
    assert client.dhcp("52:54:00:dd:00:01").serve is False
