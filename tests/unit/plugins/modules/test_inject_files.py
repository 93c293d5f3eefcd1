# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""inject_files against real partitioned image files (sfdisk + mkfs.vfat / mkfs.ext4), read back
with mtools and debugfs, without mounting anything in the test itself (but the refusal test)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import subprocess

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils import inject
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.conftest import loop_unavailable
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

MiB = 1024 * 1024
PART1, PART2 = (1 * MiB, 16 * MiB), (17 * MiB, 23 * MiB)  # (offset, size): vfat ESP, ext4 root
CONFIG = '{"url": "http://pureboot.test:8080", "token": "s3cret"}\n'

pytestmark = pytest.mark.skipif(bool(loop_unavailable()), reason=loop_unavailable() or "")


def run(*cmd, **kwargs):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, **kwargs).stdout


@pytest.fixture
def disk(tmp_path):
    """A 40 MiB MBR image: partition 1 vfat, partition 2 ext4 (each made in a file, then copied in)."""
    path = tmp_path / "disk.img"
    with open(str(path), "wb") as handle:
        handle.truncate(40 * MiB)
    run("sfdisk", "-q", str(path), input="label: dos\n1MiB,16MiB,c\n17MiB,,83\n")
    for (offset, size), mkfs in ((PART1, ["mkfs.vfat", "-n", "ESP"]), (PART2, ["mkfs.ext4", "-F", "-q"])):
        fs = tmp_path / "fs.img"
        with open(str(fs), "wb") as handle:
            handle.truncate(size)
        run(*(mkfs + [str(fs)]))
        with open(str(path), "r+b") as handle:
            handle.seek(offset)
            handle.write(fs.read_bytes())
        fs.unlink()
    yield str(path)
    assert run("losetup", "-j", str(path)) == "", "a loop device was left attached"
    assert "pureboot-mnt-" not in open("/proc/self/mounts").read(), "a mount was left behind"


def partition_file(image, part, tmp_path):
    out = tmp_path / "part.img"
    with open(image, "rb") as handle:
        handle.seek(part[0])
        out.write_bytes(handle.read(part[1]))
    return str(out)


def ext4_stat(image, path, tmp_path):
    """(content or None, mode string or None) of ``path`` in the ext4 partition."""
    part = partition_file(image, PART2, tmp_path)
    stat = subprocess.run(["debugfs", "-R", "stat " + path, part], capture_output=True, text=True,
                          check=False).stdout
    match = re.search(r"Mode:\s+(\d+)", stat)
    if not match:
        return None, None
    return run("debugfs", "-R", "cat " + path, part), match.group(1).zfill(4)


def inject_files(dest, files, partition=1, check=False, tmp_path=None):
    return run_module("inject_files", {"dest": dest, "partition": partition, "files": files}, check_mode=check,
                      tmp_path=tmp_path)


def kernel_has(fstype):
    with open("/proc/filesystems") as handle:
        return fstype in handle.read().split()


def read_back(image, fs, path, tmp_path):
    if fs == "vfat":
        return run("mtype", "-i", partition_file(image, PART1, tmp_path), "::" + path)
    return ext4_stat(image, path, tmp_path)[0]


@pytest.mark.parametrize("fs,number", [("vfat", 1), ("ext4", 2)])
def test_write_then_idempotent(disk, tmp_path, fs, number):
    if not kernel_has(fs):
        pytest.skip("this kernel cannot mount %s (not in /proc/filesystems)" % fs)
    files = [{"path": "pureboot.json", "content": CONFIG, "mode": "0600"},
             {"path": "/EFI/pureboot/note.txt", "content": "hello from the test\n"}]
    res = inject_files(disk, files, partition=number, tmp_path=tmp_path)
    assert res.get("changed") is True and res["filesystem"] == fs, res
    assert re.match(r"^/dev/loop\d+p%d$" % number, res["partition"])
    assert [f["path"] for f in res["files"]] == ["/pureboot.json", "/EFI/pureboot/note.txt"]
    assert res["files"][0]["sha256"] == hashlib.sha256(CONFIG.encode()).hexdigest()
    assert "s3cret" not in str(res["diff"]) and res["diff"][0]["before"] == ""
    assert read_back(disk, fs, "/pureboot.json", tmp_path) == CONFIG
    assert read_back(disk, fs, "/EFI/pureboot/note.txt", tmp_path) == "hello from the test\n"

    again = inject_files(disk, files, partition=number, tmp_path=tmp_path)
    assert again["changed"] is False and not any(f["changed"] for f in again["files"]), again
    assert again["diff"][0]["before"] == again["diff"][0]["after"]
    assert "already match" in again["msg"]


def test_modes_are_left_to_filesystems_without_them(tmp_path):
    """What vfat gets (its modes come from mount options), on a plain directory."""
    spec = inject.wanted({"path": "a/b.json", "content": "payload-one", "mode": "0600"})
    files, diffs = inject.apply(str(tmp_path), "vfat", [spec], False)
    assert files[0]["changed"] and (tmp_path / "a" / "b.json").read_text() == "payload-one"
    os.chmod(str(tmp_path / "a" / "b.json"), 0o755)  # what vfat shows with the default fmask
    files, diffs = inject.apply(str(tmp_path), "vfat", [spec], False)  # mode 0600 != what is there: ignored
    assert not files[0]["changed"] and diffs[0]["before"] == diffs[0]["after"]
    files, diffs = inject.apply(str(tmp_path), "ext4", [spec], True)
    assert files[0]["changed"] and diffs[0]["after"].endswith("mode: 0600\n")


def test_ext4_check_mode_write_and_mode_change(disk, tmp_path):
    files = [{"path": "/etc/pureboot/pureboot.json", "content": CONFIG, "mode": "0600"}]
    res = inject_files(disk, files, partition=2, check=True, tmp_path=tmp_path)
    assert res.get("changed") is True and res["files"][0]["changed"] and res["filesystem"] == "ext4", res
    assert "would write" in res["msg"]
    assert ext4_stat(disk, "/etc/pureboot/pureboot.json", tmp_path) == (None, None)  # nothing written
    assert ext4_stat(disk, "/etc", tmp_path) == (None, None)

    res = inject_files(disk, files, partition=2, tmp_path=tmp_path)
    assert res["changed"] is True and res["files"][0]["mode"] == "0600", res
    assert ext4_stat(disk, "/etc/pureboot/pureboot.json", tmp_path) == (CONFIG, "0600")
    assert inject_files(disk, files, partition=2, tmp_path=tmp_path)["changed"] is False

    files[0]["mode"] = "0640"
    res = inject_files(disk, files, partition=2, check=True, tmp_path=tmp_path)
    assert res["changed"] is True and ext4_stat(disk, "/etc/pureboot/pureboot.json", tmp_path)[1] == "0600"
    res = inject_files(disk, files, partition=2, tmp_path=tmp_path)
    assert res["changed"] is True and res["files"][0]["mode"] == "0640", res
    before, after = res["diff"][0]["before"], res["diff"][0]["after"]
    assert before.splitlines()[0] == after.splitlines()[0]  # same sha256, only the mode moved
    assert "mode: 0600" in before and "mode: 0640" in after
    assert ext4_stat(disk, "/etc/pureboot/pureboot.json", tmp_path) == (CONFIG, "0640")


def test_block_device_dest(disk, tmp_path, loop_device):
    dev = loop_device(disk)
    res = inject_files(dev, [{"path": "pureboot.json", "content": CONFIG}], partition=2, tmp_path=tmp_path)
    assert res.get("changed") is True and res["partition"] == dev + "p2", res
    subprocess.run(["losetup", "-d", dev], capture_output=True, check=False)
    assert ext4_stat(disk, "/pureboot.json", tmp_path) == (CONFIG, "0644")


def test_missing_partition_fails_with_a_message(disk, tmp_path):
    res = inject_files(disk, [{"path": "x", "content": "payload-xyz"}], partition=3, tmp_path=tmp_path)
    assert res.get("failed") and "partition 3" in res["msg"] and disk in res["msg"], res
    assert "partitions: 1, 2" in res["msg"] and "Traceback" not in str(res)
    res = inject_files(str(tmp_path / "nope.img"), [{"path": "x", "content": "payload-xyz"}], tmp_path=tmp_path)
    assert res.get("failed") and "nope.img not found" in res["msg"], res
    res = inject_files(disk, [{"path": "../../etc/passwd", "content": "payload-xyz"}], tmp_path=tmp_path)
    assert res.get("failed") and "not a path inside the filesystem" in res["msg"], res


def test_mounted_partition_is_refused(disk, tmp_path, loop_device):
    dev = loop_device(disk)
    subprocess.run(["partx", "-a", dev], capture_output=True, check=False)
    where = tmp_path / "mnt"
    where.mkdir()
    if subprocess.run(["mount", dev + "p2", str(where)], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount here")
    try:
        for dest in (disk, dev):
            res = inject_files(dest, [{"path": "x", "content": "payload-xyz"}], partition=2, tmp_path=tmp_path)
            assert res.get("failed") and "is mounted at %s" % where in res["msg"], res
            assert "partition 2 of %s" % dest in res["msg"]
        assert not (where / "x").exists()
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, check=False)
        subprocess.run(["losetup", "-d", dev], capture_output=True, check=False)


def test_paths_and_modes_are_validated():
    assert inject.relative_path("/a//b/./c") == "a/b/c" and inject.relative_path("x.json") == "x.json"
    for bad in ("", "/", "a/../../b", ".."):
        with pytest.raises(inject.InjectError):
            inject.relative_path(bad)
    assert inject.parse_mode("0600") == 0o600 and inject.parse_mode("755") == 0o755
    for bad in ("384", "rw", "09"):
        with pytest.raises(inject.InjectError):
            inject.parse_mode(bad)
