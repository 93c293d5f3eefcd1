"""The stock workflow playbooks by FQCN with ansible-playbook alone: no controller, an image file for a disk.

deploy_image streams an image from a local HTTP server into a file (with a bearer token read from a file,
which must never show in the output), refuses a wrong checksum (and zeroes the first MiB), and inventory
publishes the hardware facts through set_stats (the results_json callback prints the custom stats).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest

MiB = 1024 * 1024
TOKEN = "pb-node-" + os.urandom(12).hex()


def run(ansible, playbook, tmp_path, extra):
    """ansible-playbook pureboot.pureboot.<playbook> on localhost; results by task name without the role prefix."""
    extra_file = tmp_path / ("vars-%d.json" % len(list(tmp_path.glob("vars-*.json"))))
    extra_file.write_text(json.dumps(extra))
    rc, results, report = ansible.run("pureboot.pureboot." + playbook, "-i", "localhost,", "-c", "local",
                                      "-e", "@%s" % extra_file)
    return rc, {name.split(" : ")[-1]: hosts[0] for name, hosts in results.items() if hosts}, report


def test_deploy_image_into_a_file(local_ansible, web, tmp_path):
    root, url, seen = web
    raw = b"\0" * 512 + os.urandom(2 * MiB) + b"\0" * 512
    (root / "disk.raw").write_bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\xff" * (4 * MiB))
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    extra = {"image_deploy_url": url + "/disk.raw?sig=secret", "image_deploy_dest": str(disk),
             "image_deploy_checksum": "sha256:" + digest, "image_deploy_token_file": str(token_file),
             "image_deploy_headers": {"X-Node": "n1"}, "image_deploy_state_dir": str(tmp_path / "state")}
    rc, res, report = run(local_ansible, "deploy_image", tmp_path, extra)
    assert rc == 0, report
    assert disk.read_bytes()[:len(raw)] == raw and disk.stat().st_size == 4 * MiB
    assert seen and set(seen) == {"Bearer " + TOKEN}  # every request (format probe, stream)
    assert TOKEN not in json.dumps(report)  # results, invocations and stderr alike
    deploy = report["custom_stats"]["_run"]["pureboot_evidence"]["deploy"]
    assert deploy["dest"] == str(disk) and deploy["url"] == url + "/disk.raw"
    assert deploy["sha256"] == digest == deploy["image_sha256"] and deploy["bytes"] == len(raw)
    assert deploy["verified"] is True and deploy["format"] == "raw" and deploy["seconds"] >= 0
    assert res["Write the image"]["changed"] is True
    assert res["Inventory the disks to pick the target"]["skipped"]  # dest given: no hardware_facts

    rc, res, report = run(local_ansible, "deploy_image", tmp_path, extra)
    assert rc == 0 and res["Write the image"]["changed"] is False, report  # the module's marker


@pytest.mark.skipif(not (shutil.which("sfdisk") and shutil.which("mkfs.ext4") and shutil.which("losetup")),
                    reason="needs sfdisk, mkfs.ext4 and losetup")
def test_deploy_image_injects_files_and_stays_idempotent(local_ansible, web, tmp_path):
    root, url, _ = web
    image = root / "disk.raw"
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(["sfdisk", "--quiet", str(image)], input="start=2048, type=83\n", text=True, check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "offset=1048576", str(image), "7M"], check=True)
    secret = "inject-secret-" + os.urandom(8).hex()
    extra = {"image_deploy_url": url + "/disk.raw", "image_deploy_dest": str(tmp_path / "disk.img"),
             "image_deploy_checksum": hashlib.sha256(image.read_bytes()).hexdigest(),
             "image_deploy_state_dir": str(tmp_path / "state"),
             "image_deploy_inject_files": [{"path": "etc/pureboot.json", "content": secret, "mode": "0600"}]}
    rc, res, report = run(local_ansible, "deploy_image", tmp_path, extra)
    assert rc == 0, report
    assert res["Write the image"]["changed"] and res["Inject files into the image"]["changed"]
    assert secret not in json.dumps(report)
    # The second run finds the image (inject_files refreshed disk_image's marker) and the file.
    rc, res, report = run(local_ansible, "deploy_image", tmp_path, extra)
    assert rc == 0, report
    assert not res["Write the image"]["changed"] and not res["Inject files into the image"]["changed"]


def test_deploy_image_wrong_checksum_zeroes_the_start(local_ansible, web, tmp_path):
    root, url, _ = web
    (root / "disk.raw").write_bytes(os.urandom(2 * MiB))
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\xff" * (3 * MiB))
    rc, res, report = run(local_ansible, "deploy_image", tmp_path, {
        "image_deploy_url": url + "/disk.raw", "image_deploy_dest": str(disk), "image_deploy_checksum": "0" * 64,
        "image_deploy_state_dir": str(tmp_path / "state")})
    assert rc != 0
    failed = res["Write the image"]
    assert failed["failed"] and "checksum mismatch" in failed["msg"], failed
    assert disk.read_bytes()[:MiB] == b"\0" * MiB
    assert "pureboot_evidence" not in report["custom_stats"].get("_run", {})


def test_inventory_publishes_the_hardware(local_ansible, tmp_path):
    rc, res, report = run(local_ansible, "inventory", tmp_path, {})
    assert rc == 0, report
    hardware = report["custom_stats"]["_run"]["pureboot_hardware"]
    assert hardware == res["Read the hardware inventory"]["ansible_facts"]["pureboot_hardware"]
    assert hardware["cpu"]["count"] >= 1 and hardware["memory"]["total_bytes"] > 0
    assert {"disks", "nics", "dmi", "firmware"} <= set(hardware)
