# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Partition device nodes (of disks and of image files, through a loop device), mounting, probing and mkfs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
import time

from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev

MKFS = {
    "ext4": lambda node, label: ["mkfs.ext4", "-F", "-q"] + (["-L", label] if label else []) + [node],
    "xfs": lambda node, label: ["mkfs.xfs", "-f", "-q"] + (["-L", label] if label else []) + [node],
    "vfat": lambda node, label: ["mkfs.vfat"] + (["-n", label[:11].upper()] if label else []) + [node],
    "swap": lambda node, label: ["mkswap", "-f"] + (["-L", label] if label else []) + [node],
}


class FsError(Exception):
    pass


def sysfs_partitions(disk):
    """{number: /dev/<name>} of the partitions the kernel knows on ``disk`` (from /sys/class/block)."""
    found = {}
    base = blockdev.sysfs_dir(disk)
    try:
        children = os.listdir(base)
    except OSError:
        return found
    for child in children:
        number = blockdev.read_sysfs(os.path.join(base, child, "partition"))
        if number and number.isdigit():
            found[int(number)] = "/dev/" + child
    return found


def partition_node(disk, number):
    """The kernel's name when it knows the partition, else the convention:
    /dev/sda -> /dev/sda1; /dev/nvme0n1 and /dev/loop0 -> ...p1."""
    known = sysfs_partitions(disk).get(number)
    if known:
        return known
    return "%s%s%d" % (disk, "p" if disk[-1:].isdigit() else "", number)


def ensure_nodes(run_command, disk, count, wait=5.0):
    """Make the kernel show ``count`` partition nodes of ``disk`` (partx, without udev)."""
    nodes = [partition_node(disk, n) for n in range(1, count + 1)]
    deadline = time.time() + wait
    run_command(["partx", "-u", disk])
    while not all(os.path.exists(n) for n in nodes):
        run_command(["partx", "-a", disk])
        if time.time() > deadline:
            raise FsError("partition devices of %s did not appear: %s" % (disk, ", ".join(nodes)))
        time.sleep(0.2)
    return nodes


def reread_table(run_command, disk):
    """Make the kernel's partitions of ``disk`` match its table: ``blockdev --rereadpt``, which
    fails while a partition is in use, then ``partx -u``/``-a`` (also what adds a loop device's
    partitions where partition scanning shows none)."""
    rc, out, err = run_command(["blockdev", "--rereadpt", disk])
    if rc != 0 or not sysfs_partitions(disk):
        run_command(["partx", "-u", disk])
        run_command(["partx", "-a", disk])


def find_partition(run_command, disk, number, wait=5.0):
    """Device node of partition ``number`` of ``disk`` after a re-read, waiting for it to appear."""
    reread_table(run_command, disk)
    deadline = time.time() + wait
    while True:
        known = sysfs_partitions(disk)
        node = known.get(number)
        if node and os.path.exists(node):
            return node
        if time.time() > deadline:
            have = ", ".join(str(n) for n in sorted(known)) or "none"
            raise FsError("partition %d not found on %s (partitions: %s)" % (number, disk, have))
        time.sleep(0.2)


class Loop:
    """An image file attached as a loop device for as long as the ``with`` lasts."""

    def __init__(self, run_command, path, readonly=False):
        self.run_command, self.path, self.readonly = run_command, path, readonly
        self.device = None

    def __enter__(self):
        cmd = ["losetup", "-f", "--show", "-P"] + (["-r"] if self.readonly else []) + [self.path]
        rc, out, err = self.run_command(cmd)
        if rc != 0:
            raise FsError("cannot attach %s to a loop device: %s" % (self.path, err.strip()))
        self.device = out.strip()
        return self.device

    def __exit__(self, *exc):
        self.run_command(["losetup", "-d", self.device])


class Mount:
    """``node`` mounted (filesystem type detected by mount) in a private temp dir for as long
    as the ``with`` lasts; ``.path`` is the directory, ``.fstype`` the type mount chose."""

    def __init__(self, run_command, node, readonly=False):
        self.run_command, self.node, self.readonly = run_command, node, readonly
        self.path = self.fstype = None

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="pureboot-mnt-")  # mode 0700
        options = "ro" if self.readonly else "rw"
        rc, out, err = self.run_command(["mount", "-o", options + ",nodev,nosuid,noexec", self.node, self.path])
        if rc != 0:
            os.rmdir(self.path)
            raise FsError("cannot mount %s: %s" % (self.node, (err or out).strip()))
        self.fstype = mount_type(self.path)
        return self

    def __exit__(self, exc_type, exc, tb):
        rc, out, err = self.run_command(["umount", self.path])
        if rc == 0:
            os.rmdir(self.path)
        elif exc_type is None:  # an error already on its way is the one to report
            raise FsError("cannot unmount %s from %s: %s" % (self.node, self.path, (err or out).strip()))


def mount_type(path, mounts_file="/proc/self/mounts"):
    """Filesystem type of the mount at ``path`` (the last one there wins)."""
    found = None
    with open(mounts_file) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 2 and fields[1] == path:
                found = fields[2]
    return found


def probe(run_command, node):
    """(filesystem type, label) found on ``node``; (None, None) when it holds none."""
    rc, out, err = run_command(["blkid", "-p", "-o", "export", node])
    if rc == 2:
        return None, None
    if rc != 0:
        raise FsError("blkid %s: %s" % (node, err.strip()))
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return values.get("TYPE"), values.get("LABEL")


def same_fs(wanted_fs, wanted_label, found_fs, found_label):
    if wanted_fs == "vfat" and wanted_label:
        wanted_label = wanted_label[:11].upper()
    return found_fs == wanted_fs and (not wanted_label or found_label == wanted_label)


def mkfs(run_command, fs, node, label):
    if fs not in MKFS:
        raise FsError("unsupported filesystem %r" % fs)
    rc, out, err = run_command(MKFS[fs](node, label))
    if rc != 0:
        raise FsError("mkfs %s on %s failed: %s" % (fs, node, (err or out).strip()))


def grow_filesystem(run_command, node):
    """Grow an ext2/3/4 filesystem on ``node`` to its partition; others are left alone."""
    found, label = probe(run_command, node)
    if found not in ("ext2", "ext3", "ext4"):
        return {"filesystem": found, "resized": False}
    rc, out, err = run_command(["e2fsck", "-f", "-p", node])
    if rc > 1:  # 1: errors corrected
        raise FsError("e2fsck %s before resizing: %s" % (node, (err or out).strip()))
    rc, out, err = run_command(["resize2fs", node])
    if rc != 0:
        raise FsError("resize2fs %s: %s" % (node, (err or out).strip()))
    return {"filesystem": found, "resized": True}
