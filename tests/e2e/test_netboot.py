"""Issue 3 end to end: QEMU VMs really netboot through our DHCP, TFTP and controller.

In a lab namespace: the controller (`pureboot serve`), the boot service (`pureboot boot`,
full DHCP so the lab needs no other server) and three VMs:

* a BIOS VM (SeaBIOS + iPXE ROM) and a UEFI VM (OVMF native PXE -> snponly.efi over our
  TFTP -> iPXE), both registered pending: they boot the installer (a busybox initramfs)
  with a per-node token, write a disk image, report `installed`, reboot, and then boot
  their own disk on the controller's "boot local" answer (BIOS: sanboot 0x80; UEFI:
  GRUB local-boot image that chainloads the disk's ESP);
* an unknown VM, which the controller registers as discovered and sends to the agent for
  its inventory (this site has no agent: iPXE falls back to the disk).

And the discovery inventory (issue 4): an unknown BIOS VM with a blank disk is registered
discovered on its first boot, boots the real agent (built from Debian packages), posts its
hardware facts, powers off; its second boot is sent to its disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from pureboot.shared import bootfiles
from tests.support import bootenv
from tests.support.qemu import blank_disk

pytestmark = [pytest.mark.slow, pytest.mark.netlab_prefix("pb-boot-e2e")]
ROOT = Path(__file__).resolve().parents[2]
PORT = 8080

INSTALLER = r"""
ip link set eth0 up
printf '#!/bin/sh\n[ "$1" = bound ] && ip addr add $ip/$mask dev $interface\nexit 0\n' > /udhcpc.sh
chmod +x /udhcpc.sh
udhcpc -i eth0 -q -n -t 10 -s /udhcpc.sh || echo "pb-e2e: no DHCP lease"
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    pureboot.url=*) URL="${arg#*=}";; pureboot.token=*) TOKEN="${arg#*=}";; pb.image=*) IMAGE="${arg#*=}";;
  esac
done
echo "pb-e2e: installing $IMAGE from $URL"
wget -q -O - "$URL/boot/files/$IMAGE" | dd of=/dev/vda bs=64k 2>/dev/null
sync
wget -q -O /dev/null --header "Authorization: Bearer $TOKEN" --header "Content-Type: application/json" \
  --post-data '{"status": "installed", "progress": 100, "logs": ["image written"]}' "$URL/api/v1/report" \
  && echo "pb-e2e: reported installed"
reboot -f
"""

# 16-bit boot sector: print a marker with int 10h (SeaBIOS copies it to serial), halt.
MBR_CODE = bytes.fromhex("31c08ed8be1a7cfcac08c07409b40ebb0700cd10ebf2faf4ebfd")
# SeaBIOS's serial console flushes lazily: the padding after the marker may never show.
BIOS_MARKER = b"PUREBOOT-LOCAL-DISK-BIOS ........\r\n\0"
UEFI_MARKER = "PUREBOOT-LOCAL-DISK-UEFI"


def _bios_image(path: Path) -> Path:
    sector = MBR_CODE + BIOS_MARKER
    path.write_bytes(sector + b"\0" * (510 - len(sector)) + b"\x55\xaa" + b"\0" * (1024 * 1024 - 512))
    return path


def _uefi_image(path: Path, workdir: Path) -> Path:
    """An MBR disk with a FAT ESP holding /EFI/BOOT/BOOTX64.EFI (a GRUB that prints a marker)."""
    loader = workdir / "disk-bootx64.efi"
    bootfiles.build_grub(str(loader), "x86_64-efi", ("normal", "echo", "sleep"),
                         f'echo "{UEFI_MARKER}"\nsleep 600\n')
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "9M"], check=True)
    subprocess.run(["sfdisk", "-q", str(path)], input="label: dos\nstart=2048, type=ef\n", text=True, check=True)
    subprocess.run(["mkfs.vfat", "--offset=2048", str(path), str(8 * 1024)], check=True, capture_output=True)
    image = f"{path}@@1M"
    subprocess.run(["mmd", "-i", image, "::/EFI", "::/EFI/BOOT"], check=True)
    subprocess.run(["mcopy", "-i", image, str(loader), "::/EFI/BOOT/BOOTX64.EFI"], check=True)
    return path


def _tools_missing() -> str | None:
    for tool in ("grub-mkimage", "mkfs.vfat", "mcopy", "sfdisk"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@pytest.fixture
def site(request, netlab, debian_kernel, tmp_path):
    """Controller + boot service (full DHCP); with the agent when the test asks for `agent_build`."""
    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    tftp = tmp_path / "tftp"
    assert not bootfiles.install(str(tftp))["failed"]
    e2e = tftp / "e2e"
    e2e.mkdir()
    shutil.copyfile(debian_kernel.vmlinuz, e2e / "vmlinuz")
    bootenv.build_initramfs(e2e / "initrd.gz", debian_kernel, INSTALLER)
    _bios_image(e2e / "disk-bios.img")
    _uefi_image(e2e / "disk-uefi.img", tmp_path)
    url = f"http://{netlab.server_ip}:{PORT}"
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}", PUREBOOT_DATA_DIR=str(tmp_path / "data"),
               PUREBOOT_LISTEN=f"{netlab.server_ip}:{PORT}", PUREBOOT_PUBLIC_URL=url, PUREBOOT_WORKERS="1",
               PUREBOOT_BOOT_FILES_DIR=str(tftp), PUREBOOT_SECRET_KEY="e2e",
               PUREBOOT_RATE_LIMITS_ENABLED="false", PUREBOOT_AUTH_REQUIRED="false",
               PUREBOOT_AGENT_CMDLINE="console=ttyS0")
    if "agent_build" in request.fixturenames:  # served at /boot/agent/ from <data_dir>/agent
        shutil.copytree(request.getfixturevalue("agent_build"), tmp_path / "data" / "agent")
    cli = [sys.executable, "-m", "pureboot.cli"]
    subprocess.run(cli + ["db", "upgrade"], env=env, check=True, capture_output=True)
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("controller", "boot")}
    controller = netlab.popen(cli + ["serve"], env=env, stdout=logs["controller"], stderr=subprocess.STDOUT)
    netlab.wait_port(PORT)
    pool = f"{netlab.address(100)}-{netlab.address(150)}"
    netlab.popen(cli + ["boot", "--controller", url, "--interface", "br0", "--tftp-root", str(tftp),
                        "--dhcp-mode", "full", "--pool", pool, "--answer-installed"],
                 env=env, stdout=logs["boot"], stderr=subprocess.STDOUT)
    yield {"url": url, "tmp": tmp_path, "controller": controller}
    for handle in logs.values():
        handle.close()


def _api(site, method, path, **kw):
    response = requests.request(method, site["url"] + path, timeout=30, **kw)
    assert response.status_code < 300, response.text
    return response.json()


def _install_workflow(site, name, image):
    return _api(site, "POST", "/api/v1/workflows", json={"name": name, "tasks": [
        {"type": "pxe_boot", "kernel": "e2e/vmlinuz", "initrd": "e2e/initrd.gz",
         "cmdline": f"console=ttyS0 panic=-1 pb.image={image}"}]})


def _state(site, node_id):
    return _api(site, "GET", f"/api/v1/nodes/{node_id}")["state"]


def test_bios_and_uefi_install_then_boot_disk_and_unknown_is_discovered(site, netlab, vm_factory, tmp_path):
    nodes, vms = {}, {}
    for firmware in ("bios", "uefi"):
        workflow = _install_workflow(site, f"e2e-{firmware}", f"e2e/disk-{firmware}.img")
        vm = vm_factory(netlab, name=firmware, firmware=firmware, disk=blank_disk(tmp_path / f"{firmware}.img", "64M"),
                        boot=("net", "disk"), memory=512)
        nodes[firmware] = _api(site, "POST", "/api/v1/nodes", json={
            "mac": vm.mac, "firmware": firmware, "workflow_id": workflow["id"]})
        assert nodes[firmware]["state"] == "pending"
        vms[firmware] = vm.start()
    started = time.monotonic()

    for firmware, vm in vms.items():
        vm.wait_for(r"pb-e2e: reported installed", timeout=600)
        print(f"{firmware}: installed and reported {time.monotonic() - started:.1f}s after power-on")
    assert {_state(site, n["id"]) for n in nodes.values()} == {"installed"}

    vms["bios"].wait_for(r"Booting from SAN device 0x80", timeout=300)
    vms["bios"].wait_for("PUREBOOT-LOCAL-DISK-BIOS", timeout=120)
    print(f"bios: local disk booted {time.monotonic() - started:.1f}s after power-on")
    vms["uefi"].wait_for(r"PureBoot: chainloading", timeout=600)
    vms["uefi"].wait_for(UEFI_MARKER, timeout=120)
    print(f"uefi: local disk booted {time.monotonic() - started:.1f}s after power-on")
    events = _api(site, "GET", f"/api/v1/nodes/{nodes['bios']['id']}/events")["results"]
    assert [(e["to_state"], e["actor"]) for e in events][-2:] == [("installing", "boot"), ("installed", "node")]
    for vm in vms.values():
        vm.stop()

    stranger = vm_factory(netlab, name="unknown", firmware="bios", boot=("net",))
    stranger.start()
    stranger.wait_for(r"PureBoot: agent: unknown MAC", timeout=300)
    stranger.stop()
    found = _api(site, "GET", f"/api/v1/nodes?mac={stranger.mac}")["results"]
    assert len(found) == 1 and found[0]["state"] == "discovered"

    # Rule D: the controller dies; the boot service still sends both machines to their disks.
    netlab.kill(site["controller"])
    time.sleep(6)  # let the boot service's cached answers (5 s) expire
    for vm in vms.values():
        vm.start()
    vms["bios"].wait_for(r"pureboot/local\.ipxe", timeout=300)
    vms["bios"].wait_for("PUREBOOT-LOCAL-DISK-BIOS", timeout=120)
    vms["uefi"].wait_for(r"tftp://\S+/grub/localboot-x64\.efi", timeout=600)
    vms["uefi"].wait_for(UEFI_MARKER, timeout=120)
    print("controller killed: both VMs booted their disks through the boot service alone")


def _wait_inventory(site, mac, vm, timeout):
    """Poll the registry until the node with `mac` has its inventory; fails early if the VM dies
    without one."""
    deadline = time.monotonic() + timeout
    while True:
        found = _api(site, "GET", f"/api/v1/nodes?mac={mac}")["results"]
        if found and found[0]["hardware"].get("inventoried_at"):
            return found[0]
        if time.monotonic() > deadline or not vm.running:
            raise AssertionError(f"no inventory for {mac} ({found})\n{vm.tail()}")
        time.sleep(0.5)


def test_unknown_bios_vm_is_inventoried_then_boots_local(site, netlab, vm_factory, agent_build, tmp_path):
    system_uuid = str(uuid.uuid4())
    disk_mib = 96
    vm = vm_factory(netlab, name="inventory", firmware="bios", boot=("net", "disk"), memory=768,
                    disk=blank_disk(tmp_path / "inventory.img", f"{disk_mib}M"), extra_args=["-uuid", system_uuid])
    assert _api(site, "GET", f"/api/v1/nodes?mac={vm.mac}")["results"] == []
    vm.start()
    started = time.monotonic()
    vm.wait_for(r"PureBoot: agent: unknown MAC: registered as discovered", timeout=300)
    node = _wait_inventory(site, vm.mac, vm, timeout=600)
    print(f"inventory: power-on -> inventory posted {time.monotonic() - started:.1f}s")
    assert vm.wait_exit(120) == 0  # discovery_after_inventory: poweroff (QEMU exits)
    print(f"inventory: power-on -> powered off {time.monotonic() - started:.1f}s")

    first = vm.serial()
    assert first.count("pureboot: agent ") == 1 and "state=discovered action=agent" in first
    hardware = node["hardware"]
    assert node["state"] == "discovered" and hardware["firmware"]["mode"] == "bios"
    assert vm.mac in [nic["mac"] for nic in hardware["nics"]]
    assert [disk["size_bytes"] for disk in hardware["disks"]] == [disk_mib << 20]
    assert hardware["dmi"]["uuid"] == system_uuid
    assert hardware["memory"]["total_bytes"] > 500e6 and hardware["cpu"]["count"] == 1
    events = _api(site, "GET", f"/api/v1/nodes/{node['id']}/events?order_by=id")["results"]
    assert [e["action"] for e in events] == ["register", "inventory"]
    jobs = _api(site, "GET", f"/api/v1/jobs?node={node['id']}")["results"]
    assert [(j["playbook"], j["status"]) for j in jobs] == [("pureboot.pureboot.inventory", "successful")]
    assert events[1]["actor"] == f"job:{jobs[0]['id']}"

    # Second boot: facts known, no workflow: the disk, not the agent.
    vm.start()
    vm.wait_for(r"PureBoot: discover: discovered: hardware inventoried", timeout=300)
    vm.wait_for(r"Booting from SAN device 0x80", timeout=120)
    vm.stop()
    assert "pureboot: agent" not in vm.serial()
    events = _api(site, "GET", f"/api/v1/nodes/{node['id']}/events?order_by=id")["results"]
    assert [e["action"] for e in events] == ["register", "inventory"]
