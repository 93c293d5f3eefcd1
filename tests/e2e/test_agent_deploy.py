"""Issue 4 end to end: VMs network-boot the agent, deploy an image, boot their own disk.

Everything is real: QEMU (TCG) VMs on a bridge in a private namespace, site DHCP, the
boot service (proxy-DHCP + IPv6 RA), the controller (`pureboot serve`, SQLite), the
agent built from Debian packages, and a bootable test image (SYSLINUX + GRUB + a
busybox init that phones home). Each phase's time is printed (run with -s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest

from pureboot.agent.builder import build as build_agent
from tests.support import diskimage, qemu
from tests.support import netlab as netlab_mod
from tests.support.bootenv import debian_kernel as fetch_debian_kernel
from tests.support.playbooks import DEPLOY_PLAYBOOK
from tests.support.bootenv import unavailable_reason as bootenv_reason
from tests.support.site import Site, boot_service_available

pytestmark = pytest.mark.slow
ZERO_SHA = "0" * 64


def _skip_reason() -> str | None:
    for reason in (netlab_mod.unavailable_reason(), qemu.unavailable_reason("uefi"), bootenv_reason(),
                   diskimage.unavailable_reason()):
        if reason:
            return reason
    if not boot_service_available():
        return "the boot service (pureboot.bootsvc) is not in this tree yet"
    return None


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("agent-e2e")
    started = time.monotonic()
    kernel = fetch_debian_kernel()
    manifest = build_agent(base / "agent", cache_dir=None)
    image = diskimage.build_image(base / "image.raw", kernel)
    subprocess.run(["zstd", "-q", "-f", str(image), "-o", str(base / "image.raw.zst")], check=True)
    print(f"\n[setup] agent {manifest['version']} "
          f"(initrd {manifest['files']['initrd.img']['size'] / 1e6:.1f} MB) and test image built "
          f"in {time.monotonic() - started:.1f}s")
    lab = netlab_mod.NetLab("pb-agent-e")
    try:
        site = Site(lab, base / "site", agent=base / "agent")
        raw = site.upload_template(image, "e2e-image", "raw")
        zst = site.upload_template(base / "image.raw.zst", "e2e-image-zst", "raw")
        (base / "small.raw").write_bytes(os.urandom(2 << 20))
        small = site.upload_template(base / "small.raw", "e2e-small", "raw")
        yield {"site": site, "lab": lab, "base": base, "image": image, "raw": raw, "zst": zst, "small": small}
    finally:
        lab.close()


def _workflow(site, name, tasks) -> int:
    resp = site.api("POST", "/api/v1/workflows", json={"name": name, "tasks": tasks})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _node(site, vm, workflow_id, firmware) -> int:
    resp = site.api("POST", "/api/v1/nodes", json={"mac": vm.mac, "workflow_id": workflow_id,
                                                   "firmware": firmware, "platform": "vm"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["state"] == "pending"
    return resp.json()["id"]


def provision_job(site, node_id, status) -> str:
    """The node's one provisioning job: its status, events in order; returns its stdout."""
    jobs = site.api("GET", f"/api/v1/jobs?node={node_id}").json()["results"]
    assert len(jobs) == 1 and jobs[0]["status"] == status, jobs
    events = site.api("GET", f"/api/v1/jobs/{jobs[0]['id']}/events?page_size=200").json()["results"]
    counters = [e["counter"] for e in events]
    assert counters == sorted(counters) and events[-1]["event"] == "playbook_on_stats", counters
    assert [e["event"] for e in events if e["event"].startswith("playbook_on_")][0] == "playbook_on_start"
    return site.api("GET", f"/api/v1/jobs/{jobs[0]['id']}/stdout?format=txt").text


class Clock:
    def __init__(self, label):
        self.label, self.start, self.last = label, time.monotonic(), time.monotonic()

    def phase(self, name):
        now = time.monotonic()
        print(f"[{self.label}] {name}: +{now - self.last:.1f}s (t={now - self.start:.1f}s)")
        self.last = now


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_deploy_then_boot_own_disk_and_phone_home(env, firmware, tmp_path):
    site, lab = env["site"], env["lab"]
    template = env["raw"] if firmware == "bios" else env["zst"]  # raw and raw.zst streams
    workflow = _workflow(site, f"e2e-{firmware}", [
        {"type": "inventory"},
        {"type": "image_deploy", "image": template["id"], "inject": True}])
    disk = qemu.blank_disk(tmp_path / "disk.raw", "128M")
    vm = qemu.VM(lab, tmp_path, f"deploy-{firmware}", firmware=firmware, disk=disk,
                 boot=("net", "disk"), memory=768, uefi_network_entries=False)
    node_id = _node(site, vm, workflow, firmware)
    clock = Clock(firmware)
    vm.start()
    try:
        vm.wait_for(r"pureboot: controller: node \d+ state=installing", timeout=120)
        clock.phase("power-on -> agent checked in")
        site.wait_state(node_id, "installed", timeout=120, vm=vm)
        clock.phase("agent deployed, verified, reported installed")
        first = vm.wait_for(r"pb-image: phone-home from (\S+): (.*)", timeout=120)
        site.wait_state(node_id, "active", timeout=30, vm=vm)
        clock.phase("rebooted into its own disk, phoned home -> active")
        vm.wait_for(r"pb-image: boot 2 from disk", timeout=120)
        second = vm.wait_for(r"pb-image: phone-home from (\S+): (.*)", timeout=60, start=first.end())
        assert vm.wait_exit(60) == 0
        clock.phase("second boot from disk, phoned home, powered off")
    finally:
        vm.stop()
    log = vm.serial()
    assert log.count("pureboot: agent ") == 1 and log.count("starting (") == 1  # one agent run only
    assert f"({firmware})" in log
    node = site.node(node_id)
    assert node["state"] == "active" and node["ip_address"] == first.group(1) == second.group(1)
    assert json.loads(first.group(2))["state"] == json.loads(second.group(2))["state"] == "active"
    hardware = node["hardware"]
    assert hardware["firmware"]["mode"] == firmware and hardware["nics"][0]["mac"] == vm.mac
    assert hardware["disks"][0]["size_bytes"] == 128 * 1024 * 1024 and hardware["memory"]["total_bytes"] > 500e6
    events = site.events(node_id)
    actions = [e["action"] for e in events]
    assert actions[-3:] == ["install", "complete", "activate"], actions
    assert actions.count("install") == 1  # the second boot went to the disk, not to an install
    deploy = events[-2]["details"]["evidence"]["deploy"]
    image_sha = hashlib.sha256(env["image"].read_bytes()).hexdigest()
    assert deploy["verified"] is True and deploy["image_sha256"] == image_sha
    assert deploy["bytes"] == env["image"].stat().st_size
    stdout = provision_job(site, node_id, "successful")
    for step in ("pureboot.pureboot.inventory", "pureboot.pureboot.image_deploy"):
        assert step in stdout, stdout[-3000:]
    assert "pbn_" not in stdout  # the node token stays on the node
    with open(disk, "rb") as fh:  # the partition table landed as in the image
        assert fh.read(512) == env["image"].read_bytes()[:512]


def test_deprovision_wipes_the_disk_with_evidence(env, tmp_path):
    site, lab = env["site"], env["lab"]
    workflow = _workflow(site, "e2e-wipe", [{"type": "disk_wipe", "method": "secure"}])
    disk = tmp_path / "used.raw"
    shutil.copyfile(env["image"], disk)
    with open(disk, "ab") as fh:  # a used disk: an OS and data
        fh.write(os.urandom(16 * 1024 * 1024))
    size = disk.stat().st_size
    vm = qemu.VM(lab, tmp_path, "wipe", firmware="bios", disk=disk, boot=("net", "disk"), memory=768)
    node_id = _node(site, vm, workflow, "bios")
    site.force_states(node_id, ["installing", "installed", "active", "deprovisioning"])
    clock = Clock("wipe")
    vm.start()
    try:
        site.wait_state(node_id, "retired", timeout=180, vm=vm)
        clock.phase(f"agent wiped {size >> 20} MiB, reported wiped -> retired")
        assert vm.wait_exit(60) == 0  # powered off, not rebooted into anything
    finally:
        vm.stop()
    with open(disk, "rb") as fh:
        while chunk := fh.read(1 << 20):
            assert chunk.count(0) == len(chunk), "the disk still holds data"
    event = site.events(node_id)[-1]
    assert event["action"] == "wiped" and event["actor"].startswith("job:")
    wipe = event["details"]["evidence"]["wipe"]
    assert len(wipe) == 1 and wipe[0]["disk"] == "/dev/vda" and wipe[0]["bytes"] == size
    assert wipe[0]["method"].startswith("secure:") and wipe[0]["verification"]["all_zero"] is True
    assert "pureboot.pureboot.deprovision" in provision_job(site, node_id, "successful")


def test_bad_checksum_fails_and_never_installs(env, tmp_path):
    site, lab = env["site"], env["lab"]
    workflow = _workflow(site, "e2e-badsum", [
        {"type": "image_deploy", "image": env["small"]["id"], "sha256": ZERO_SHA}])
    disk = qemu.blank_disk(tmp_path / "disk.raw", "128M")
    vm = qemu.VM(lab, tmp_path, "badsum", firmware="bios", disk=disk, boot=("net", "disk"), memory=768)
    node_id = _node(site, vm, workflow, "bios")
    clock = Clock("bad-sha256")
    vm.start()
    try:
        node = site.wait_state(node_id, {"failed", "installed"}, timeout=180, vm=vm)
        clock.phase("agent refused the image -> failed")
        assert vm.wait_exit(60) == 0  # powers off: never boots a disk it could not verify
    finally:
        vm.stop()
    assert node["state"] == "failed"
    assert "checksum mismatch" in node["state_reason"] and ZERO_SHA in node["state_reason"]
    assert [e["action"] for e in site.events(node_id)][-2:] == ["install", "fail"]
    stdout = provision_job(site, node_id, "failed")  # one job: the failure is final, no retry
    assert "checksum mismatch" in stdout and "pureboot.pureboot.image_deploy" in stdout
    with open(disk, "rb") as fh:  # what was streamed before the mismatch showed cannot boot
        assert fh.read(1 << 20) == bytes(1 << 20)


def test_playbook_workflow_runs_as_a_job_on_the_agent(env, tmp_path):
    """Workflows are playbooks: the agent reports ready, the job runs the modules on it."""
    site, lab = env["site"], env["lab"]
    resp = site.api("POST", "/api/v1/workflows", json={
        "name": "e2e-playbook", "playbook_text": DEPLOY_PLAYBOOK,
        "variables": {"pureboot_templates": [env["zst"]["id"]]}})
    assert resp.status_code == 201, resp.text
    disk = qemu.blank_disk(tmp_path / "disk.raw", "128M")
    vm = qemu.VM(lab, tmp_path, "playbook-bios", firmware="bios", disk=disk, boot=("net", "disk"), memory=768)
    node_id = _node(site, vm, resp.json()["id"], "bios")
    clock = Clock("playbook")
    vm.start()
    try:
        vm.wait_for(r"pureboot: ready: job (\d+)", timeout=150)
        clock.phase("power-on -> agent sshd up, ready")
        site.wait_state(node_id, "installed", timeout=150, vm=vm)
        clock.phase("provisioning job deployed the image -> installed")
        vm.wait_for(r"pb-image: boot 1 from disk \(bios\)", timeout=120)
        clock.phase("rebooted into its own disk")
    finally:
        vm.stop()
    jobs = site.api("GET", f"/api/v1/jobs?node={node_id}").json()["results"]
    assert len(jobs) == 1 and jobs[0]["status"] == "successful", jobs
    stdout = site.api("GET", f"/api/v1/jobs/{jobs[0]['id']}/stdout?format=txt").text
    for task in ("Reach the agent", "Read the node token", "Deploy the image"):
        assert f"TASK [{task}" in stdout, stdout[-3000:]
    assert "Bearer" not in stdout and env["zst"]["id"] is not None
    with open(disk, "rb") as fh, open(env["image"], "rb") as image:
        assert fh.read(1 << 20) == image.read(1 << 20)  # the image landed on the disk
