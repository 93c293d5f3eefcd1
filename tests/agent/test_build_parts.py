"""Builder parts without VMs: cpio layout, reproducible initramfs, module load order."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess

import pytest

from pureboot.agent import cpio
from pureboot.agent.initramfs import VIRTIO_MODULES, Initramfs
from pureboot.agent.kmod import ModuleIndex
from tests.support.fixtures_netlab import debian_kernel  # noqa: F401


def _image(tmp_path, name, payload=b"hello"):
    image = Initramfs()
    image.add_file("etc/motd", payload)
    image.add(cpio.symlink("bin/sh", "busybox"))
    return image.write(tmp_path / name)


def test_initramfs_is_byte_reproducible(tmp_path):
    a, b = _image(tmp_path, "a.gz"), _image(tmp_path, "b.gz")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert a.read_bytes() != _image(tmp_path, "c.gz", b"other").read_bytes()


@pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio not installed")
def test_cpio_archive_reads_back_with_gnu_cpio(tmp_path):
    raw = gzip.decompress(_image(tmp_path, "a.gz").read_bytes())
    listing = subprocess.run(["cpio", "-itv"], input=raw, capture_output=True, check=True).stdout.decode()
    assert " etc/motd" in listing and "bin/sh -> busybox" in listing and "dev/console" in listing
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-idm", "--quiet"], input=raw, cwd=out, check=True)
    assert (out / "etc" / "motd").read_bytes() == b"hello"


def test_virtio_modules_load_after_their_dependencies(debian_kernel):  # noqa: F811
    index = ModuleIndex(debian_kernel.modules_dir)
    order = [p.name.split(".ko")[0] for p in index.load_order(VIRTIO_MODULES)]
    for module in order:
        for dep in index.depends(module):
            if dep not in index.builtin:
                assert order.index(dep) < order.index(module), (dep, module)
    assert set(VIRTIO_MODULES) <= set(order) and "virtio" in order and "virtio_ring" in order
    with pytest.raises(KeyError):
        index.load_order(["no_such_module"])
    assert index.load_order([], optional=["no_such_module"]) == []
