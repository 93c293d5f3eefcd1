"""Edge cases of the provisioning steps, one VM each, against a real controller: the agent
reports ready and the node's job runs the translated task list on it.

The agent kernel is booted directly (QEMU -kernel/-initrd) with the command line the
controller hands out on check-in (GET /api/v1/next?mac=..., the same call iPXE makes),
so these runs skip the network-boot stage that test_agent_deploy.py covers.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from pureboot.agent.builder import build as build_agent
from tests.support import netlab as netlab_mod
from tests.support import qemu
from tests.support.bootenv import unavailable_reason as bootenv_reason
from tests.support.site import Site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    for reason in (netlab_mod.unavailable_reason(), qemu.unavailable_reason(), bootenv_reason()):
        if reason:
            pytest.skip(reason)
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("e2fsprogs missing")
    base = tmp_path_factory.mktemp("agent-tasks")
    build_agent(base / "agent")
    lab = netlab_mod.NetLab("pb-agent-t")
    try:
        site = Site(lab, base / "site", agent=base / "agent", boot_service=False)
        yield {"site": site, "lab": lab, "base": base}
    finally:
        lab.close()


def _run_agent(env, tmp_path, name, tasks, disk, *, state=None, timeout=240):
    """Register a node with `tasks`, check in like iPXE would, boot the agent, wait for it to stop."""
    site = env["site"]
    workflow = site.api("POST", "/api/v1/workflows", json={"name": name, "tasks": tasks}).json()
    vm = qemu.VM(env["lab"], tmp_path, name, disk=disk, boot=("disk",), memory=768,
                 extra_args=["-no-reboot"])
    node = site.api("POST", "/api/v1/nodes", json={"mac": vm.mac, "workflow_id": workflow["id"]}).json()
    if state:
        site.force_states(node["id"], state)
    spec = site.api("GET", f"/api/v1/next?mac={vm.mac}").json()
    assert spec.get("token") and "pureboot.token=" in spec["cmdline"], spec
    vm.kernel, vm.initrd = env["base"] / "agent" / "vmlinuz", env["base"] / "agent" / "initrd.img"
    vm.append = spec["cmdline"].replace("console=tty0", "")
    vm.start()
    try:
        vm.wait_exit(timeout)
    finally:
        vm.stop()
    return site.node(node["id"]), site.events(node["id"]), vm


def _ext4_image(work, size_mib=40):
    """MBR disk with one ext4 partition from 1 MiB, holding a marker file."""
    part = work / "part.img"
    subprocess.run(["truncate", "-s", f"{size_mib - 1}M", str(part)], check=True)
    (work / "root").mkdir()
    (work / "root" / "marker").write_text("pureboot qcow2\n")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "pbroot", "-d", str(work / "root"), str(part)], check=True)
    raw = work / "image.raw"
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(raw)], check=True)
    subprocess.run(["sfdisk", "-q", str(raw)], input="label: dos\nstart=2048, type=83\n", text=True, check=True)
    subprocess.run(["dd", f"if={part}", f"of={raw}", "bs=1M", "seek=1", "conv=notrunc", "status=none"], check=True)
    return raw


def test_qcow2_image_is_converted_verified_and_grown(env, tmp_path):
    raw = _ext4_image(tmp_path)
    qcow = tmp_path / "image.qcow2"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(qcow)], check=True)
    template = env["site"].upload_template(qcow, "tasks-qcow2", "qcow2")
    disk = qemu.blank_disk(tmp_path / "disk.raw", "128M")
    node, events, vm = _run_agent(env, tmp_path, "qcow2", [
        {"type": "image_deploy", "image": template["id"], "grow_partition": True}], disk)
    assert node["state"] == "installed", (node["state_reason"], vm.tail())
    deploy = events[-1]["details"]["evidence"]["deploy"]
    assert deploy["format"] == "qcow2" and deploy["verified"] is True
    assert deploy["bytes"] == raw.stat().st_size  # the virtual size; written as allocated, read back
    table = json.loads(subprocess.run(["sfdisk", "-J", str(disk)], capture_output=True, check=True).stdout)
    part = table["partitiontable"]["partitions"][0]
    assert part["start"] + part["size"] == 128 * 2048  # the partition now ends at the disk's end
    fs = tmp_path / "fs.img"
    subprocess.run(["dd", f"if={disk}", f"of={fs}", "bs=1M", "skip=1", "status=none"], check=True)
    info = subprocess.run(["dumpe2fs", "-h", str(fs)], capture_output=True, text=True, check=True).stdout
    blocks = int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("Block count")))
    block_size = int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("Block size")))
    assert blocks * block_size > 120 * 1024 * 1024  # resize2fs grew the filesystem too
    cat = subprocess.run(["debugfs", "-R", "cat /marker", str(fs)], capture_output=True, text=True)
    assert cat.stdout == "pureboot qcow2\n"


def test_require_hardware_erase_fails_without_falling_back(env, tmp_path):
    disk = tmp_path / "used.raw"
    disk.write_bytes(b"\xaa" * (8 << 20))
    node, events, vm = _run_agent(env, tmp_path, "hw-erase", [
        {"type": "disk_wipe", "method": "secure", "require_hardware_erase": True}], disk,
        state=("installing", "installed", "active", "deprovisioning"))
    assert node["state"] == "failed", (node["state_reason"], vm.tail())
    assert "require_hardware_erase" in node["state_reason"] and events[-1]["actor"].startswith("job:")
    assert disk.read_bytes() == b"\xaa" * (8 << 20)  # nothing was overwritten instead


@pytest.mark.parametrize("case", ["missing", "too-small"])
def test_unusable_image_fails_with_the_reason(env, tmp_path, case):
    site = env["site"]
    if case == "missing":
        task = {"type": "image_deploy", "url": f"{site.url}/api/v1/templates/987654/content"}
        disk, expected = qemu.blank_disk(tmp_path / "disk.raw", "64M"), "HTTP 404"
    else:
        image = tmp_path / "big.raw"
        image.write_bytes(b"\x01" * (24 << 20))
        template = site.upload_template(image, "tasks-big")
        task = {"type": "image_deploy", "image": template["id"]}
        disk, expected = qemu.blank_disk(tmp_path / "disk.raw", "16M"), "too small"
    node, events, vm = _run_agent(env, tmp_path, f"bad-{case}", [task], disk)
    assert node["state"] == "failed", (node["state_reason"], vm.tail())
    assert expected in node["state_reason"]
    assert [e["action"] for e in events][-1] == "fail"
