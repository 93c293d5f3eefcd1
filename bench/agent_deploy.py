#!/usr/bin/env python3
"""Deploy agent benchmark: throughput vs plain dd, power-on to active, agent size and boot.

    sudo PYTHONPATH=controller:. python bench/agent_deploy.py [--sizes 1,4] [--skip-active]

Everything runs for real in a private network namespace: `pureboot serve`, the boot
service, site DHCP, QEMU (TCG) VMs with virtio disks. For each image size (GiB, raw,
random content) it measures

* task list: a VM network-boots the agent, reports ready, and its provisioning job runs the
  translated task list (role ``pureboot.pureboot.image_deploy``: ``disk_image`` streams the
  template onto the disk and reads it back; its time from the evidence);
* dd: the same kind of VM boots the same kernel + initramfs with a one-line init that
  runs ``curl URL | dd of=/dev/vda bs=1M conv=fsync`` from the same controller URL;

* playbook: the same image deployed by a workflow that is a playbook: the agent reports
  ready and the provisioning job runs ``pureboot.pureboot.disk_image`` on it over SSH
  (write time from the module's result; plus ready -> first task and one ping task's
  SSH + module round trip, from the job's events);

and prints the throughputs and their ratios, then power-on -> active for a small
bootable image (install, reboot, boot own disk, phone home), agent size, and the time
from power-on to the agent's first check-in. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "controller"), str(ROOT)]

from pureboot.agent import cpio  # noqa: E402
from pureboot.agent.builder import build as build_agent  # noqa: E402
from tests.support import diskimage, qemu  # noqa: E402
from tests.support.bootenv import debian_kernel  # noqa: E402
from tests.support.netlab import NetLab  # noqa: E402
from tests.support.playbooks import DEPLOY_PLAYBOOK  # noqa: E402
from tests.support.site import Site  # noqa: E402

GiB = 1 << 30
DD_INIT = """#!/bin/sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
while read -r ko; do insmod "$ko" 2>/dev/null; done < /etc/modules.order
ip link set eth0 up
udhcpc -s /usr/share/udhcpc/default.script -i eth0 -n -q -f -t 10 >/dev/null 2>&1
read -r t0 _ < /proc/uptime
curl -sS {url} | dd of=/dev/vda bs=1M conv=fsync 2>/dev/null
read -r t1 _ < /proc/uptime
echo "BENCH-DD start=$t0 end=$t1"
poweroff -f
"""


def random_image(path: Path, size: int) -> Path:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        for i in range(size >> 20):
            out.write(block[i % 251:] + block[:i % 251])  # no two MiB alike
    return path


def dd_initrd(agent: Path, url: str, dest: Path) -> Path:
    raw = io.BytesIO()
    cpio.write(raw, [cpio.file("bench-dd.sh", DD_INIT.format(url=url).encode(), 0o755)])
    dest.write_bytes((agent / "initrd.img").read_bytes() + gzip.compress(raw.getvalue()))
    return dest


def tasklist_run(site: Site, lab: NetLab, work: Path, template: dict, size: int, name: str) -> dict:
    """A task-list workflow: translated into the image_deploy role, run by the node's job."""
    workflow = site.api("POST", "/api/v1/workflows", json={
        "name": f"bench-{name}", "tasks": [{"type": "image_deploy", "image": template["id"]}]}).json()
    disk = qemu.blank_disk(work / f"{name}.disk", f"{(size >> 20) + 64}M")
    vm = qemu.VM(lab, work, name, disk=disk, boot=("net", "disk"), memory=1024)
    node = site.api("POST", "/api/v1/nodes", json={"mac": vm.mac, "workflow_id": workflow["id"]}).json()
    vm.start()
    try:
        vm.wait_for(r"pureboot: controller: node \d+ state=installing", timeout=300)
        checkin = time.monotonic() - vm.started_at
        job_id = int(vm.wait_for(r"pureboot: ready: job (\d+)", timeout=300).group(1))
        ready = time.monotonic() - vm.started_at
        site.wait_state(node["id"], "installed", timeout=7200, vm=vm)
        total = time.monotonic() - vm.started_at
    finally:
        vm.stop()
    disk.unlink()
    event = next(e for e in reversed(site.events(node["id"])) if e["action"] == "complete")
    deploy = event["details"]["evidence"]["deploy"]
    job = site.api("GET", f"/api/v1/jobs/{job_id}").json()
    return {"checkin_s": checkin, "ready_s": ready, "total_s": total, "write_s": deploy["seconds"],
            "verify_s": deploy["verify_seconds"] or 0.0, "bytes": deploy["bytes"], "job_s": job["elapsed"]}


def _seconds(stamp: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def playbook_run(site: Site, lab: NetLab, work: Path, template: dict, size: int, name: str) -> dict:
    workflow = site.api("POST", "/api/v1/workflows", json={
        "name": f"bench-{name}", "playbook_text": DEPLOY_PLAYBOOK,
        "variables": {"pureboot_templates": [template["id"]]}}).json()
    disk = qemu.blank_disk(work / f"{name}.disk", f"{(size >> 20) + 64}M")
    vm = qemu.VM(lab, work, name, disk=disk, boot=("net", "disk"), memory=1024)
    node = site.api("POST", "/api/v1/nodes", json={"mac": vm.mac, "workflow_id": workflow["id"]}).json()
    vm.start()
    try:
        job_id = int(vm.wait_for(r"pureboot: ready: job (\d+)", timeout=300).group(1))
        site.wait_state(node["id"], "installed", timeout=7200, vm=vm)
    finally:
        vm.stop()
    disk.unlink()
    job = site.api("GET", f"/api/v1/jobs/{job_id}").json()
    events = site.api("GET", f"/api/v1/jobs/{job_id}/events?page_size=200").json()["results"]
    starts = {e["event_data"].get("task"): _seconds(e["created"]) for e in events if e["event"] == "runner_on_start"}
    oks = {e["event_data"].get("task"): e for e in events if e["event"] == "runner_on_ok"}
    result = oks["Deploy the image"]["event_data"]["res"]
    return {"write_s": result["seconds"], "bytes": result["bytes"],
            "ready_to_first_task_s": min(starts.values()) - _seconds(job["created"]),
            "ping_task_s": _seconds(oks["Reach the agent"]["created"]) - starts["Reach the agent"]}


def dd_run(site: Site, lab: NetLab, work: Path, agent: Path, template: dict, size: int, name: str) -> dict:
    url = f"{site.url}/api/v1/templates/{template['id']}/content"
    initrd = dd_initrd(agent, url, work / f"{name}.initrd")
    disk = qemu.blank_disk(work / f"{name}.disk", f"{(size >> 20) + 64}M")
    vm = qemu.VM(lab, work, name, disk=disk, boot=("disk",), memory=1024, kernel=agent / "vmlinuz",
                 initrd=initrd, append="console=ttyS0 rdinit=/bench-dd.sh")
    vm.start()
    try:
        match = vm.wait_for(r"BENCH-DD start=([\d.]+) end=([\d.]+)", timeout=7200)
    finally:
        vm.stop()
    disk.unlink()
    return {"write_s": float(match.group(2)) - float(match.group(1))}


def power_on_to_active(site: Site, lab: NetLab, work: Path, kernel) -> dict:
    image = diskimage.build_image(work / "bootable.raw", kernel)
    template = site.upload_template(image, "bench-bootable")
    workflow = site.api("POST", "/api/v1/workflows", json={"name": "bench-active", "tasks": [
        {"type": "image_deploy", "image": template["id"], "inject": True}]}).json()
    disk = qemu.blank_disk(work / "active.disk", "128M")
    vm = qemu.VM(lab, work, "active", disk=disk, boot=("net", "disk"), memory=768)
    node = site.api("POST", "/api/v1/nodes", json={"mac": vm.mac, "workflow_id": workflow["id"]}).json()
    vm.start()
    try:
        site.wait_state(node["id"], "installed", timeout=600, vm=vm)
        installed = time.monotonic() - vm.started_at
        site.wait_state(node["id"], "active", timeout=600, vm=vm)
        active = time.monotonic() - vm.started_at
    finally:
        vm.stop()
    return {"installed_s": installed, "active_s": active, "image_bytes": image.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4", help="image sizes in GiB (comma-separated)")
    parser.add_argument("--skip-active", action="store_true", help="skip the power-on -> active run")
    parser.add_argument("--workdir", help="scratch directory (needs ~3x the largest size free)")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="pb-agent-bench-", dir=args.workdir))
    kernel = debian_kernel()
    started = time.monotonic()
    manifest = build_agent(work / "agent")
    print(f"agent {manifest['version']}: built in {time.monotonic() - started:.1f}s; "
          f"vmlinuz {manifest['files']['vmlinuz']['size'] / 1e6:.1f} MB, "
          f"initrd.img {manifest['files']['initrd.img']['size'] / 1e6:.1f} MB", flush=True)
    with NetLab("pb-agent-b") as lab:
        site = Site(lab, work / "site", agent=work / "agent")
        if not args.skip_active:
            active = power_on_to_active(site, lab, work, kernel)
            print(f"power-on -> installed {active['installed_s']:.1f}s, -> active {active['active_s']:.1f}s "
                  f"({active['image_bytes'] >> 20} MiB bootable image, BIOS)", flush=True)
        for gib in sizes:
            size = int(gib * GiB)
            image = random_image(work / f"image-{gib}g.raw", size)
            template = site.upload_template(image, f"bench-{gib}g")
            image.unlink()  # the controller has its copy
            dd = dd_run(site, lab, work, work / "agent", template, size, f"dd-{gib}g")
            tasks = tasklist_run(site, lab, work, template, size, f"tasks-{gib}g")
            playbook = playbook_run(site, lab, work, template, size, f"playbook-{gib}g")
            mb = size / 1e6
            verified = tasks["write_s"] + tasks["verify_s"]
            print(f"{gib:g} GiB: dd {mb / dd['write_s']:.1f} MB/s ({dd['write_s']:.1f}s) | task list "
                  f"(image_deploy role) write {mb / tasks['write_s']:.1f} MB/s ({tasks['write_s']:.1f}s), "
                  f"ratio {dd['write_s'] / tasks['write_s']:.2f}; with the read-back hash that checks the "
                  f"sha256 {mb / verified:.1f} MB/s ({verified:.1f}s), ratio {dd['write_s'] / verified:.2f}; power-on -> "
                  f"check-in {tasks['checkin_s']:.1f}s, -> ready {tasks['ready_s']:.1f}s, -> installed "
                  f"{tasks['total_s']:.1f}s (job {tasks['job_s']:.1f}s)", flush=True)
            print(f"{gib:g} GiB: playbook job (disk_image over SSH) {mb / playbook['write_s']:.1f} MB/s "
                  f"({playbook['write_s']:.1f}s), ratio {dd['write_s'] / playbook['write_s']:.2f} against dd; "
                  f"ready -> first task {playbook['ready_to_first_task_s']:.1f}s, one ping task "
                  f"(SSH + module) {playbook['ping_task_s']:.2f}s", flush=True)
            site.api("DELETE", f"/api/v1/templates/{template['id']}")


if __name__ == "__main__":
    main()
