"""Molecule (default/delegated driver) for the boot_server role against localhost.

The scenario (molecule/default) converges the role into a temporary TFTP root, checks
that a second converge changes nothing (idempotence), runs it in check mode, and verifies
the loaders and the systemd unit.
"""

from __future__ import annotations

import subprocess

from .harness import BIN, ROOT, private_collections_path, python_env


def test_boot_server_role_with_molecule(tmp_path):
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
    proc = subprocess.run([str(BIN / "molecule"), "test", "-s", "default"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    for action in ("converge", "idempotence", "check", "verify"):
        assert action in output
    assert (tmp_path / "root" / "tftp" / "pxelinux.0").is_file()
    assert (tmp_path / "root" / "systemd" / "pureboot-boot.service").is_file()
