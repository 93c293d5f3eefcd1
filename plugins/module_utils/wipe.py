# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Erase a disk (or image file) and collect the evidence: method, bytes, time, zero samples."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import random
import re
import time

from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev

MiB = 1024 * 1024
SAMPLE = 4096
CHUNK = 4 * MiB


class WipeError(Exception):
    def __init__(self, msg, evidence=None):
        Exception.__init__(self, msg)
        self.evidence = evidence


def disk_size(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return blockdev.size_of(fd)
    finally:
        os.close(fd)


def zero_region(path, start, length):
    fd = os.open(path, os.O_WRONLY)
    try:
        zeros = b"\0" * CHUNK
        end = start + length
        while start < end:
            start += os.pwrite(fd, zeros[:min(CHUNK, end - start)], start)
        os.fsync(fd)
    finally:
        os.close(fd)


def sample_zero(path, regions, count, rng=None):
    """Read ``count`` random 4 KiB blocks inside ``regions`` (after dropping the cache)."""
    rng = rng or random.SystemRandom()
    samples = []
    fd = os.open(path, os.O_RDONLY)
    try:
        blockdev.drop_cache(fd)
        regions = [(s, n) for s, n in regions if n >= SAMPLE]
        for dummy in range(count if regions else 0):
            start, length = rng.choice(regions)
            offset = start + rng.randrange(0, (length - SAMPLE) // SAMPLE + 1) * SAMPLE
            data = os.pread(fd, SAMPLE, offset)
            samples.append({"offset": offset, "length": len(data), "zero": data.count(b"\0") == len(data)})
    finally:
        os.close(fd)
    samples.sort(key=lambda s: s["offset"])
    return {"samples": samples, "all_zero": all(s["zero"] for s in samples) if samples else None}


class Wiper:
    """One disk; ``run(mode)`` returns its evidence dict. ``run_command`` and ``which`` are
    AnsibleModule's, so tests and the module share the code."""

    def __init__(self, run_command, which, path, hardware_erase=False, require_hardware_erase=False, samples=8):
        self.run_command, self.which, self.path = run_command, which, path
        self.hardware_erase = hardware_erase or require_hardware_erase
        self.require_hardware_erase = require_hardware_erase
        self.samples = samples
        self.notes = []

    def _run(self, cmd, what):
        rc, out, err = self.run_command(cmd)
        if rc != 0:
            raise WipeError("%s: %s" % (what, ((err or out).strip().splitlines() or ["exit %d" % rc])[-1]))
        return out

    def quick(self, size):
        if self.which("wipefs"):
            self._run(["wipefs", "-a", "-f", self.path], "wipefs")
        head = min(MiB, size)
        tail_start = max(head, size - MiB)
        zero_region(self.path, 0, head)
        zero_region(self.path, tail_start, size - tail_start)
        return "quick:wipefs+zero-first-last-MiB", head + size - tail_start, [(0, head), (tail_start, size - tail_start)]

    def zero(self, size):
        zero_region(self.path, 0, size)
        return "zero:overwrite", size, [(0, size)]

    def _try(self, cmd, what):
        rc, out, err = self.run_command(cmd)
        if rc != 0:
            self.notes.append("%s: %s" % (what, ((err or out).strip().splitlines() or ["exit %d" % rc])[-1]))
        return rc == 0

    def _hardware(self, size):
        """The device's own erase, when it has one; None otherwise (reasons in notes)."""
        name = os.path.basename(os.path.realpath(self.path))
        if name.startswith("nvme") and self.which("nvme"):
            if self._try(["nvme", "format", self.path, "--ses=1", "--force"], "nvme format"):
                return "secure:nvme-format-user-data-erase"
        elif name.startswith("sd") and self.which("hdparm"):
            info = self.run_command(["hdparm", "-I", self.path])[1]
            supported = "supported: enhanced erase" in info or re.search(r"^\s*supported$", info, re.M)
            if supported and re.search(r"not\s+frozen", info):
                if self._try(["hdparm", "--user-master", "u", "--security-set-pass", "PureBoot", self.path],
                             "ata set password") and \
                        self._try(["hdparm", "--user-master", "u", "--security-erase", "PureBoot", self.path],
                                  "ata security erase"):
                    return "secure:ata-security-erase"
            else:
                self.notes.append("ata security erase not supported or frozen")
        else:
            self.notes.append("no hardware erase for %s" % name)
        return None

    def secure(self, size):
        if self.hardware_erase:
            method = self._hardware(size)
            if method:
                return method, size, [(0, size)]
            if self.require_hardware_erase:
                raise WipeError("no hardware erase available and require_hardware_erase is set (%s)"
                                % "; ".join(self.notes))
        if blockdev.is_block(self.path) and not blockdev.rotational(self.path):
            if self._try(["blkdiscard", "--secure", self.path], "blkdiscard --secure"):
                return "secure:blkdiscard-secure", size, [(0, size)]
            self.notes.append("falling back to a zero overwrite")
            method, size, regions = self.zero(size)
            return "secure:fallback-zero", size, regions
        self._run(["shred", "-n", "1", "-z", self.path], "shred")
        return "secure:shred-random+zero", size, [(0, size)]

    def run(self, mode):
        size = disk_size(self.path)
        started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.time()
        method, written, regions = getattr(self, mode)(size)
        seconds = round(time.time() - clock, 3)
        verification = sample_zero(self.path, regions, self.samples)
        evidence = {"disk": self.path, "size_bytes": size, "mode": mode, "method": method, "bytes": written,
                    "seconds": seconds, "started_at": started, "verification": verification}
        evidence.update(identity(self.path))
        if self.notes:
            evidence["notes"] = self.notes
        guaranteed_zero = method.startswith(("quick", "zero", "secure:shred", "secure:fallback-zero"))
        if guaranteed_zero and verification["all_zero"] is False:
            raise WipeError("%s: sampled blocks are not zero after %s" % (self.path, method), evidence)
        return evidence


def identity(path):
    if not blockdev.is_block(path):
        return {"model": None, "serial": None, "rotational": None}
    sys_dir = blockdev.sysfs_dir(path)
    return {"model": blockdev.read_sysfs(os.path.join(sys_dir, "device", "model")),
            "serial": blockdev.read_sysfs(os.path.join(sys_dir, "device", "serial"))
            or blockdev.read_sysfs(os.path.join(sys_dir, "serial")),
            "rotational": blockdev.rotational(path)}
