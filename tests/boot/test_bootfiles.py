"""`pureboot boot-files` / module_utils.bootfiles: layout from Debian packages, idempotent."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner

from pureboot.cli import main
from pureboot.shared import bootfiles

needs_packages = pytest.mark.skipif(not os.path.exists("/usr/lib/ipxe/undionly.kpxe"),
                                    reason="Debian ipxe package not installed")


@needs_packages
def test_layout_then_up_to_date(tmp_path):
    root = tmp_path / "tftp"
    first = bootfiles.install(str(root))
    assert first["changed"] and not first["failed"]
    for name in ("undionly.kpxe", "ipxe.efi", "snponly.efi", "pxelinux.0", "lpxelinux.0", "ldlinux.c32"):
        assert (root / name).read_bytes() == open(dict(bootfiles.plan()[0])[name], "rb").read()
    if shutil.which("grub-mkimage") and os.path.isdir("/usr/lib/grub/x86_64-efi"):
        for name in ("grubx64.efi", "grub/localboot-x64.efi"):
            assert (root / name).read_bytes()[:2] == b"MZ"  # a PE/EFI image
        image = (root / "grub" / "localboot-x64.efi").read_bytes()
        assert b"normal (memdisk)/config.cfg" in image and b"set root=$esp" in image  # built-in config
    second = bootfiles.install(str(root))
    assert second["changed"] is False and second["copied"] == [] and second["built"] == []


@needs_packages
def test_check_mode_changes_nothing(tmp_path):
    root = tmp_path / "tftp"
    result = bootfiles.install(str(root), check_mode=True)
    assert result["changed"] and "undionly.kpxe" in result["copied"]
    assert not root.exists()


@needs_packages
def test_changed_file_is_replaced(tmp_path):
    root = tmp_path / "tftp"
    bootfiles.install(str(root))
    (root / "undionly.kpxe").write_bytes(b"tampered")
    result = bootfiles.install(str(root))
    assert result["copied"] == ["undionly.kpxe"]


def test_missing_required_package_fails(tmp_path):
    result = bootfiles.install(str(tmp_path / "tftp"), exists=lambda path: False, mkimage="no-such-mkimage")
    assert "undionly.kpxe" in result["failed"]
    assert any("ipxe" in line for line in result["missing"])


@needs_packages
def test_cli(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["boot-files", "--tftp-root", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "updated undionly.kpxe" in result.output and "changed" in result.output
    again = runner.invoke(main, ["boot-files", "--tftp-root", str(tmp_path / "t")])
    assert again.exit_code == 0 and "up to date" in again.output


def test_module_utils_does_not_import_pureboot():
    import ast
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "bootfiles.py"
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name.split(".")[0] == "pureboot" for name in imported), imported
    assert "__metaclass__" in {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                               for t in node.targets if isinstance(t, ast.Name)}
