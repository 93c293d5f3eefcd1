# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block devices and image files alike: size, zeroing, read-back hashing, partition tables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import json
import os
import stat
import struct

BLKZEROOUT = 0x127F
BLKRRPART = 0x125F
READ = 1024 * 1024
FINGERPRINT_BLOCK = 64 * 1024


def is_block(path):
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False


def size_of(fd):
    return os.lseek(fd, 0, os.SEEK_END)


def sysfs_dir(path):
    """/sys/class/block/<name> of a block device path (resolving /dev/disk/by-* links)."""
    return "/sys/class/block/%s" % os.path.basename(os.path.realpath(path))


def read_sysfs(path, default=None):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return default


def rotational(path):
    return read_sysfs(os.path.join(sysfs_dir(path), "queue", "rotational")) == "1"


def mounted_users(path, mounts_file="/proc/self/mounts"):
    """Mount points of ``path`` or of its partitions (a mounted disk is never overwritten)."""
    real = os.path.realpath(path)
    name = os.path.basename(real)
    parts = set([real])
    if is_block(real):
        parts.update("/dev/" + p for p in os.listdir(sysfs_dir(real)) if p.startswith(name))
    users = []
    with open(mounts_file) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 1 and os.path.realpath(fields[0]) in parts:
                users.append(fields[1])
    return users


def zero_range(fd, start, length, block):
    """Make [start, start+length) read as zero: BLKZEROOUT on a device, else writes."""
    if not length:
        return
    if block:
        try:
            fcntl.ioctl(fd, BLKZEROOUT, struct.pack("QQ", start, length))
            return
        except (IOError, OSError):
            pass  # not every driver has write-zeroes: fall back to writing
    zeros = b"\0" * READ
    end = start + length
    while start < end:
        n = os.pwrite(fd, zeros[:min(READ, end - start)], start)
        start += n


def drop_cache(fd):
    """Flush and forget cached pages so a read-back reads the medium."""
    os.fsync(fd)
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def hash_ranges(path, ranges):
    """sha256 of the bytes of ``path`` in the (offset, length) ranges, in that order."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        drop_cache(fd)
        for offset, length in ranges:
            end = offset + length
            while offset < end:
                data = os.pread(fd, min(READ, end - offset), offset)
                if not data:
                    raise IOError("%s ends at %d, before %d" % (path, offset, end))
                digest.update(data)
                offset += len(data)
    finally:
        os.close(fd)
    return digest.hexdigest()


def fingerprint(path, length, samples=16):
    """sha256 over a few 64 KiB blocks spread over the first ``length`` bytes (first and
    last included): cheap evidence that a disk still holds what was written."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        last = max(0, length - FINGERPRINT_BLOCK)
        offsets = sorted(set([last * i // (samples - 1) for i in range(samples)]))
        for offset in offsets:
            digest.update(os.pread(fd, FINGERPRINT_BLOCK, offset))
    finally:
        os.close(fd)
    return digest.hexdigest()


def reread_partitions(path):
    """Ask the kernel to re-read a device's partition table (best effort; files: no-op)."""
    if not is_block(path):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, BLKRRPART)
    except (IOError, OSError):
        pass
    finally:
        os.close(fd)


def partition_table(run_command, path):
    """``sfdisk --json`` of ``path`` as a dict, or None when it has no partition table."""
    rc, out, err = run_command(["sfdisk", "--json", path])
    if rc != 0:
        if "does not contain a recognized partition table" in err or not out.strip():
            return None
        raise OSError("sfdisk --json %s: %s" % (path, err.strip()))
    return json.loads(out)["partitiontable"]


def grow_last_partition(run_command, which, path):
    """Grow the last partition of ``path`` to the end: growpart when installed, else sfdisk
    (which first moves a GPT backup header to the new end). Returns what was done."""
    table = partition_table(run_command, path)
    if not table or not table.get("partitions"):
        return {"grown": False, "reason": "no partition table"}
    number = len(table["partitions"])
    growpart = which("growpart")
    if growpart:
        rc, out, err = run_command([growpart, path, str(number)])
        if rc == 1 and "NOCHANGE" in out + err:
            return {"grown": False, "partition": number, "tool": "growpart", "reason": "already fills the disk"}
        if rc != 0:
            raise OSError("growpart %s %d: %s" % (path, number, (err or out).strip()))
        tool = "growpart"
    else:
        if table.get("label") == "gpt":
            rc, out, err = run_command(["sfdisk", "--relocate", "gpt-bak-std", path])
            if rc != 0:
                raise OSError("sfdisk --relocate %s: %s" % (path, err.strip()))
        before = table["partitions"][-1]["size"]
        rc, out, err = run_command(["sfdisk", "--no-reread", "--no-tell-kernel", "-N", str(number), path],
                                   data=", +")
        if rc != 0:
            raise OSError("sfdisk -N %d %s: %s" % (number, path, err.strip()))
        after = partition_table(run_command, path)["partitions"][-1]["size"]
        if after == before:
            return {"grown": False, "partition": number, "tool": "sfdisk", "reason": "already fills the disk"}
        tool = "sfdisk"
    reread_partitions(path)
    return {"grown": True, "partition": number, "tool": tool}
