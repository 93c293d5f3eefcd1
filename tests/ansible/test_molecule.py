"""Molecule (default/delegated driver) scenarios against localhost.

- default: boot_server converges into a temporary TFTP root, a second converge changes nothing
  (idempotence), then check mode, then the loaders and the systemd unit are verified.
- image_deploy, deprovision, hardware_inventory (the inventory role): the provisioning roles
  against image files and a loop device under the scenario's ephemeral directory (an HTTP
  server on 127.0.0.1 for the image); each publishes its set_stats (shown as CUSTOM STATS) and its verify checks what landed on disk.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from .harness import BIN, ROOT, private_collections_path, python_env


def molecule_test(tmp_path, scenario: str) -> str:
    env = python_env(tmp_path)
    collections = private_collections_path(tmp_path)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
        "PUREBOOT_MOLECULE_ROOT": str(tmp_path / "root"),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
    })
    proc = subprocess.run([str(BIN / "molecule"), "test", "-s", scenario], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    return output


def test_boot_server_role_with_molecule(tmp_path):
    output = molecule_test(tmp_path, "default")
    for action in ("converge", "idempotence", "check", "verify"):
        assert action in output
    assert (tmp_path / "root" / "tftp" / "pxelinux.0").is_file()
    assert (tmp_path / "root" / "systemd" / "pureboot-boot.service").is_file()


@pytest.mark.parametrize("scenario, steps, stats", [
    ("image_deploy", ("prepare", "converge", "idempotence", "verify", "cleanup"), '"deploy": {'),
    # No idempotence: a wipe changes the disks every time (see its molecule.yml).
    ("deprovision", ("prepare", "converge", "verify", "cleanup"), '"wipe": ['),
    ("hardware_inventory", ("converge", "idempotence", "verify"), '"pureboot_hardware": {'),
])
def test_provisioning_role_with_molecule(tmp_path, scenario, steps, stats):
    started = time.monotonic()
    output = molecule_test(tmp_path, scenario)
    assert time.monotonic() - started < 60
    for step in steps:
        assert f"{scenario} > {step}: Executed: Successful" in output, output[-4000:]
    assert "CUSTOM STATS" in output and stats in output
    assert not (tmp_path / "molecule" / "pureboot").exists()  # cleanup removed the images (and the loop device)
    if scenario == "deprovision":
        assert str(tmp_path) not in subprocess.run(["losetup", "--list"], capture_output=True, text=True).stdout
