# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""disk_image's work: write one image onto a disk or file, verify it, remember it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, disk_stream, qcow2

MiB = 1024 * 1024


class DeployError(Exception):
    def __init__(self, msg, **details):
        Exception.__init__(self, msg)
        self.details = details


def normalize_checksum(value):
    if not value:
        return None
    algo, dummy, digest = value.rpartition(":")
    if algo and algo.lower() != "sha256":
        raise DeployError("checksum must be sha256 (got %s)" % algo)
    digest = digest.strip().lower()
    if not re.match(r"^[0-9a-f]{64}$", digest):
        raise DeployError("checksum is not a sha256 hex digest")
    return digest


def marker_path(state_dir, dest):
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.realpath(dest).strip("/"))
    return os.path.join(state_dir, name + ".json")


def read_marker(state_dir, dest):
    try:
        with open(marker_path(state_dir, dest)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def write_marker(state_dir, dest, record):
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, 0o700)
    path = marker_path(state_dir, dest)
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle)
    os.rename(path + ".tmp", path)


def already_deployed(state_dir, dest, checksum):
    """The marker of an earlier write of the same checksum, if ``dest`` still holds it."""
    marker = read_marker(state_dir, dest)
    if not checksum or not marker or marker.get("sha256") != checksum or not os.path.exists(dest):
        return None
    try:
        if blockdev.fingerprint(dest, marker["bytes"]) != marker.get("fingerprint"):
            return None
    except (IOError, OSError, KeyError):
        return None
    return marker


def _fresh_fingerprint(dest, length):
    # Past the page cache: a write through a partition's device is not seen in the disk's cache.
    fd = os.open(dest, os.O_RDONLY)
    try:
        blockdev.drop_cache(fd)
    finally:
        os.close(fd)
    return blockdev.fingerprint(dest, length)


def marker_in_place(state_dir, dest):
    """The marker of the image ``dest`` still holds as disk_image left it, whatever its checksum."""
    marker = read_marker(state_dir, dest)
    try:
        if marker and _fresh_fingerprint(dest, marker["bytes"]) == marker.get("fingerprint"):
            return marker
    except (IOError, OSError, KeyError):
        pass
    return None


def refresh_marker(state_dir, dest, marker):
    """After another PureBoot step wrote into ``dest`` (inject_files), record its new fingerprint:
    the image is still the one deployed, so disk_image with the same checksum stays a no-op."""
    write_marker(state_dir, dest, dict(marker, fingerprint=_fresh_fingerprint(dest, marker["bytes"])))


class Deployment:
    """One write of ``url`` to ``dest``; ``run()`` returns the module's result fields."""

    def __init__(self, download, dest, fmt="auto", verify="none", checksum=None, log=None):
        self.download = download
        self.checksum = checksum
        self.dest = dest
        self.fmt = fmt
        self.verify = verify
        self.log = log or (lambda msg: None)
        self.block = blockdev.is_block(dest)

    def detect(self):
        if self.fmt == "auto":
            head = b"".join(self.download.chunks(0, 7))
            self.fmt = disk_stream.detect_format(head)
        return self.fmt

    def _open(self):
        flags = os.O_WRONLY | (0 if self.block else os.O_CREAT)
        try:
            return os.open(self.dest, flags, 0o600)
        except OSError as exc:
            raise DeployError("cannot open %s: %s" % (self.dest, exc))

    def run(self):
        fmt = self.detect()
        fd = self._open()
        started = time.time()
        try:
            capacity = blockdev.size_of(fd) if self.block else None
            if fmt == "qcow2":
                result = self._qcow2(fd, capacity)
            else:
                result = self._stream(fd, capacity, fmt)
            os.fsync(fd)
        except (disk_stream.StreamError, qcow2.Qcow2Error) as exc:
            self.clear_boot_sector(fd)
            raise DeployError("%s%s" % (exc, self.cleared()), format=fmt)
        finally:
            os.close(fd)
        seconds = max(time.time() - started, 1e-6)
        result.update(format=fmt, seconds=round(seconds, 3), resumes=self.download.resumes,
                      mb_per_s=round(result["bytes"] / MiB / seconds, 1))
        writes = result.pop("writes")
        deferred = result["sha256"] is None
        if deferred:  # a raw image read back anyway: hashed once, there (see _stream)
            result["sha256"] = result["image_sha256"] = blockdev.hash_ranges(self.dest, writes)
        if self.checksum and result["sha256"] != self.checksum:
            self.clear_boot_sector_path()
            raise DeployError("checksum mismatch: expected sha256 %s, %s %s%s"
                              % (self.checksum, "the disk reads back" if deferred else "downloaded",
                                 result["sha256"], self.cleared()), expected=self.checksum, actual=result["sha256"],
                              sha256=result["sha256"], bytes=result["bytes"])
        if self.verify == "readback" and not deferred:
            got = blockdev.hash_ranges(self.dest, writes)
            if got != result["image_sha256"]:
                self.clear_boot_sector_path()
                raise DeployError("read-back verification failed: %s reads back sha256 %s, wrote %s%s"
                                  % (self.dest, got, result["image_sha256"], self.cleared()),
                                  readback_sha256=got)
        result["verified"] = self.verify == "readback"
        result["verify_seconds"] = round(time.time() - started - seconds, 3)
        return result

    def _stream(self, fd, capacity, fmt):
        size = self.download.total
        if capacity is not None and fmt == "raw" and size and size > capacity:
            raise DeployError("%s (%d bytes) is too small for the image (%d bytes)" % (self.dest, capacity, size))
        sink = disk_stream.Sink(fd, hashing=fmt != "raw")  # raw: what is written is what was downloaded
        # A raw image with a checksum that is read back anyway is hashed only there: the
        # disk reading back the expected digest proves the download and the write at once,
        # and the copy runs at the speed of curl | dd (one hash pass less on every byte).
        deferred = fmt == "raw" and bool(self.checksum) and self.verify == "readback"
        sha = disk_stream.stream(self.download, fmt, sink, hashing=not deferred)
        return {"sha256": sha, "image_sha256": sink.sha256.hexdigest() if sink.sha256 else sha, "bytes": sink.bytes,
                "downloaded_bytes": self.download.total or sink.bytes, "writes": [(0, sink.bytes)]}

    def _qcow2(self, fd, capacity):
        header = qcow2.Header(self.download.read_range(0, 512))
        extents = qcow2.read_map(self.download.read_range, header)
        if capacity is not None and header.size > capacity:
            raise DeployError("%s (%d bytes) is too small for the image (%d bytes virtual size)"
                              % (self.dest, capacity, header.size))
        if self.block:  # clusters the image leaves out must read as zero, like the raw image
            for start, length in qcow2.unallocated_ranges(extents, header):
                blockdev.zero_range(fd, start, length, True)
        else:  # a file: cut it to zeros (holes) as long as it was, at least the virtual size
            old = blockdev.size_of(fd)
            os.ftruncate(fd, 0)
            os.ftruncate(fd, max(old, header.size))
        writer = qcow2.Writer(fd, header.size, os.pwrite)
        sha = qcow2.copy(self.download.chunks(0), extents, header, writer)
        return {"sha256": sha, "image_sha256": writer.sha256.hexdigest(), "bytes": header.size,
                "written_bytes": writer.bytes, "downloaded_bytes": self.download.total,
                "writes": writer.writes}

    def cleared(self):
        """What the failure left on the disk, for its message."""
        return "; the first MiB of %s was zeroed, so what was written cannot boot" % self.dest

    def clear_boot_sector(self, fd):
        """A half-written or unverified image must not boot: zero its first MiB."""
        try:
            blockdev.zero_range(fd, 0, MiB, False)
            os.fsync(fd)
        except OSError:
            pass

    def clear_boot_sector_path(self):
        fd = os.open(self.dest, os.O_WRONLY)
        try:
            self.clear_boot_sector(fd)
        finally:
            os.close(fd)
