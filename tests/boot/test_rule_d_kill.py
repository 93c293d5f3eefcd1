"""Rule D: kill the controller process; known nodes are still sent to their disks."""

from __future__ import annotations

import io
import time

import tftpy

from .procs import BootService, Controller
from .pxeclient import ARCH_BIOS, discover, exchange


def _tftp_get(port, name) -> bytes:
    out = io.BytesIO()
    tftpy.TftpClient("127.0.0.1", port).download(name, out, timeout=3, retries=1)
    return out.getvalue()


def test_controller_killed_known_node_boots_local(tmp_path):
    root = tmp_path / "tftp"
    root.mkdir()
    controller = Controller(tmp_path / "data")
    service = BootService(controller.url, root, tmp_path / "boot.log", "--cache-ttl", "0.2")
    try:
        workflow = controller.api("POST", "/api/v1/workflows", json={
            "name": "deb", "tasks": [{"type": "pxe_boot", "kernel": "k"}]}).json()
        mac, dashed = "52:54:00:dd:00:01", "01-52-54-00-dd-00-01"
        controller.api("POST", "/api/v1/nodes", json={"mac": mac, "workflow_id": workflow["id"]})
        online = exchange(service.dhcp_port, discover(mac, arch=ARCH_BIOS, ipxe=True))
        assert online["file"] == f"{controller.url}/boot/ipxe"  # the boot service now knows this MAC

        controller.kill()
        time.sleep(0.3)  # let the cached answer expire

        started = time.monotonic()
        offline = exchange(service.dhcp_port, discover(mac, arch=ARCH_BIOS, ipxe=True), timeout=6)
        elapsed = time.monotonic() - started
        assert offline is not None and offline["file"] == "pureboot/local.ipxe"
        assert elapsed < 4  # bounded: the controller gets --timeout (2 s), then we answer
        script = _tftp_get(service.tftp_port, "pureboot/local.ipxe").decode()
        assert "sanboot --no-describe --drive 0x80" in script
        assert "chain tftp://127.0.0.1/grub/localboot-x64.efi" in script  # UEFI: GRUB from us
        assert "LOCALBOOT 0" in _tftp_get(service.tftp_port, f"pxelinux.cfg/{dashed}").decode()
        grub = _tftp_get(service.tftp_port, f"grub/grub.cfg-{dashed}").decode()
        assert "chainloader (hd0)+1" in grub and "linux " not in grub
        # a BIOS PXE ROM still gets iPXE, which then asks again and gets the local script
        assert exchange(service.dhcp_port, discover(mac, arch=ARCH_BIOS))["file"] == "undionly.kpxe"
        # a MAC the service never saw is not answered while the controller is down
        assert exchange(service.dhcp_port, discover("52:54:00:dd:00:99"), timeout=4) is None
        assert service.alive()
    finally:
        service.stop()
        controller.stop()
