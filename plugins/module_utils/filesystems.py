# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Partition device nodes (of disks and of image files, through a loop device), probing and mkfs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

MKFS = {
    "ext4": lambda node, label: ["mkfs.ext4", "-F", "-q"] + (["-L", label] if label else []) + [node],
    "xfs": lambda node, label: ["mkfs.xfs", "-f", "-q"] + (["-L", label] if label else []) + [node],
    "vfat": lambda node, label: ["mkfs.vfat"] + (["-n", label[:11].upper()] if label else []) + [node],
    "swap": lambda node, label: ["mkswap", "-f"] + (["-L", label] if label else []) + [node],
}


class FsError(Exception):
    pass


def partition_node(disk, number):
    """/dev/sda -> /dev/sda1; /dev/nvme0n1 and /dev/loop0 -> ...p1."""
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
