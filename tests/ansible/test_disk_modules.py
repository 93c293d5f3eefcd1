"""The node-side disk modules under ansible-playbook, by FQCN, against an image file (no controller)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess

import pytest

MiB = 1024 * 1024


def test_deploy_wipe_partition_and_facts_by_fqcn(local_ansible, web, tmp_path):
    root, url, _seen = web
    raw = b"\0" * 512 + os.urandom(3 * MiB) + b"\0" * MiB  # no chance of an MBR signature
    (root / "img.raw.gz").write_bytes(gzip.compress(raw))
    digest = hashlib.sha256((root / "img.raw.gz").read_bytes()).hexdigest()
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\xff" * (16 * MiB))
    image = {"url": url + "/img.raw.gz", "dest": str(disk), "checksum": "sha256:" + digest, "verify": "readback",
             "state_dir": str(tmp_path / "state")}
    rc, res, _ = local_ansible.playbook([
        {"name": "facts", "pureboot.pureboot.hardware_facts": {}},
        {"name": "wipe", "pureboot.pureboot.disk_wipe": {"disks": [str(disk)]}, "register": "wipe"},
        {"name": "deploy", "pureboot.pureboot.disk_image": image, "register": "deploy"},
        {"name": "again", "pureboot.pureboot.disk_image": image},
        {"name": "cpu", "ansible.builtin.debug": {"msg": "{{ pureboot_hardware.cpu.count }}"}},
    ])
    assert rc == 0, res
    assert res["wipe"]["evidence"][0]["method"].startswith("quick")
    assert res["deploy"]["changed"] and res["deploy"]["sha256"] == digest and res["deploy"]["verified"]
    assert res["again"]["changed"] is False
    assert int(res["cpu"]["msg"]) >= 1
    assert disk.read_bytes()[:len(raw)] == raw

    layout = {"device": str(disk), "force": True,
              "partitions": [{"size": "4MiB", "type": "efi"}, {"size": "rest", "type": "linux"}]}
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}], check=True,
                                        diff=True)
    assert rc == 0 and res["layout"]["changed"] and res["layout"]["table_written"], res
    assert subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True).returncode != 0
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}])
    assert rc == 0 and res["layout"]["changed"], res
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}])
    assert res["layout"]["changed"] is False, res


def test_inject_files_and_boot_order_by_fqcn(local_ansible, tmp_path):
    """inject_files into an ext4 partition of an image file; boot_order skipped as on a BIOS machine."""
    if os.geteuid() != 0 or not shutil.which("losetup") or not shutil.which("debugfs"):
        pytest.skip("needs root, losetup and debugfs")
    disk, part = tmp_path / "disk.img", tmp_path / "part.img"
    for path, size in ((disk, 24 * MiB), (part, 20 * MiB)):
        with open(path, "wb") as handle:
            handle.truncate(size)
    subprocess.run(["sfdisk", "-q", str(disk)], input="label: gpt\n1MiB,,L\n", text=True, check=True)
    subprocess.run(["mkfs.ext4", "-F", "-q", str(part)], check=True)
    with open(disk, "r+b") as handle:
        handle.seek(MiB)
        handle.write(part.read_bytes())
    inject = {"dest": str(disk), "files": [{"path": "pureboot.json", "content": '{"token": "t0ken-abc"}',
                                            "mode": "0600"}]}
    boot = {"order": ["PureBoot network", "debian"], "skip_on_bios": True, "efi_path": str(tmp_path / "no-efi")}
    rc, res, _ = local_ansible.playbook([
        {"name": "inject", "pureboot.pureboot.inject_files": inject},
        {"name": "again", "pureboot.pureboot.inject_files": inject},
        {"name": "boot", "pureboot.pureboot.boot_order": boot},
    ], diff=True)
    assert rc == 0, res
    assert res["inject"]["changed"] and res["inject"]["files"][0]["mode"] == "0600", res
    assert res["again"]["changed"] is False
    assert res["boot"]["changed"] is False and "skipped" in res["boot"]["msg"]
    with open(disk, "rb") as handle:
        handle.seek(MiB)
        part.write_bytes(handle.read(20 * MiB))
    content = subprocess.run(["debugfs", "-R", "cat /pureboot.json", str(part)], capture_output=True, text=True,
                             check=True).stdout
    assert content == '{"token": "t0ken-abc"}'
    assert subprocess.run(["losetup", "-j", str(disk)], capture_output=True, text=True).stdout == ""
