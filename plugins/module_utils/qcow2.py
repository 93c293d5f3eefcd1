# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a qcow2 image served over HTTP onto a disk without staging it anywhere.

The header, the L1 table and each allocated L2 table are read with Range requests; they
give the map from file offsets (host clusters) to disk offsets. The whole file is then
read once, in order, as one resumable stream: every data cluster is written to its disk
offset as it passes, and every byte is hashed (so the digest is that of the file as
served, like a template's sha256). Compressed clusters (zlib/deflate) are collected and
inflated. Clusters that are unallocated or flagged zero are left out of the stream; the
module zeroes them on the disk (see ``unallocated_ranges``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import struct
import zlib

MAGIC = b"QFI\xfb"
OFFSET_MASK = 0x00FFFFFFFFFFFE00  # bits 9-55: host offset of an L2 table or a cluster
COMPRESSED = 1 << 62
ZERO_FLAG = 1
INCOMPAT_NAMES = {0: "dirty", 1: "corrupt", 2: "external data file", 3: "compression type",
                  4: "extended L2 entries"}
SUPPORTED_INCOMPAT = (1 << 0) | (1 << 3)  # dirty: refcounts only; compression type: checked below


class Qcow2Error(Exception):
    """The image is not a qcow2 this reader can write; the message says why."""


class Header:
    def __init__(self, raw):
        if raw[:4] != MAGIC:
            raise Qcow2Error("not a qcow2 image (magic %r)" % raw[:4])
        (self.version, self.backing_offset, self.backing_size, self.cluster_bits, self.size,
         self.crypt_method, self.l1_size, self.l1_offset) = struct.unpack(">IQIIQIIQ", raw[4:48])
        self.incompatible = 0
        self.compression_type = 0
        if self.version not in (2, 3):
            raise Qcow2Error("qcow2 version %d is not supported (2 and 3 are)" % self.version)
        if self.version == 3:
            self.incompatible = struct.unpack(">Q", raw[72:80])[0]
            header_length = struct.unpack(">I", raw[100:104])[0]
            if header_length > 104:
                self.compression_type = raw[104] if isinstance(raw[104], int) else ord(raw[104])
        self.cluster_size = 1 << self.cluster_bits

    def refuse_unsupported(self):
        if self.crypt_method:
            raise Qcow2Error("encrypted qcow2 images are not supported (crypt method %d)" % self.crypt_method)
        if self.backing_offset:
            raise Qcow2Error("qcow2 images with a backing file are not supported: flatten it first "
                             "(qemu-img convert -O qcow2)")
        unknown = self.incompatible & ~SUPPORTED_INCOMPAT
        if unknown:
            names = [INCOMPAT_NAMES.get(bit, "bit %d" % bit) for bit in range(64) if unknown & (1 << bit)]
            raise Qcow2Error("qcow2 incompatible features not supported: %s" % ", ".join(names))
        if self.compression_type != 0:
            raise Qcow2Error("qcow2 compression type %d (zstd) is not supported; only zlib"
                             % self.compression_type)
        if not 9 <= self.cluster_bits <= 21:
            raise Qcow2Error("invalid qcow2 cluster size 2^%d" % self.cluster_bits)


class Extent:
    """``length`` bytes of the file at ``host`` that belong at ``guest`` on the disk."""
    __slots__ = ("host", "length", "guest", "compressed", "buf")

    def __init__(self, host, length, guest, compressed=False):
        self.host, self.length, self.guest, self.compressed = host, length, guest, compressed
        self.buf = []


def read_map(read_range, header):
    """Sorted data extents of the image, from its L1 and L2 tables (read with ``read_range``)."""
    header.refuse_unsupported()
    cs = header.cluster_size
    l2_entries = cs // 8
    l1 = struct.unpack(">%dQ" % header.l1_size, read_range(header.l1_offset, header.l1_size * 8)) \
        if header.l1_size else ()
    extents = []
    csize_shift = 62 - (header.cluster_bits - 8)
    for l1_index, l1_entry in enumerate(l1):
        l2_offset = l1_entry & OFFSET_MASK
        if not l2_offset:
            continue
        l2 = struct.unpack(">%dQ" % l2_entries, read_range(l2_offset, cs))
        for l2_index, entry in enumerate(l2):
            guest = (l1_index * l2_entries + l2_index) * cs
            if guest >= header.size:
                break
            if entry & COMPRESSED:
                host = entry & ((1 << csize_shift) - 1)
                sectors = ((entry >> csize_shift) & ((1 << (header.cluster_bits - 8)) - 1)) + 1
                extents.append(Extent(host, sectors * 512 - (host & 511), guest, True))
                continue
            host = entry & OFFSET_MASK
            if not host or (header.version == 3 and entry & ZERO_FLAG):
                continue
            last = extents[-1] if extents else None
            if last and not last.compressed and last.host + last.length == host \
                    and last.guest + last.length == guest:
                last.length += cs
            else:
                extents.append(Extent(host, cs, guest))
    extents.sort(key=lambda e: e.host)
    return extents


def unallocated_ranges(extents, header):
    """(start, length) disk ranges no extent writes: they must read as zero."""
    covered = sorted((e.guest, e.guest + (header.cluster_size if e.compressed else e.length)) for e in extents)
    ranges, pos = [], 0
    for start, end in covered:
        if start > pos:
            ranges.append((pos, start - pos))
        pos = max(pos, end)
    if pos < header.size:
        ranges.append((pos, header.size - pos))
    return ranges


class Writer:
    """pwrite at disk offsets (clipped to the virtual size), hashing and recording what it
    wrote, so the same bytes can be read back and compared."""

    def __init__(self, fd, size, pwrite):
        self.fd, self.size, self.pwrite = fd, size, pwrite
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self.writes = []

    def write_at(self, offset, data):
        data = data[:max(0, self.size - offset)]
        if not data:
            return
        self.pwrite(self.fd, data, offset)
        self.sha256.update(data)
        self.bytes += len(data)
        if self.writes and self.writes[-1][0] + self.writes[-1][1] == offset:
            self.writes[-1] = (self.writes[-1][0], self.writes[-1][1] + len(data))
        else:
            self.writes.append((offset, len(data)))


def _inflate(extent, cluster_size):
    data = b"".join(extent.buf)
    extent.buf = []
    try:
        out = zlib.decompressobj(-15).decompress(data, cluster_size)
    except zlib.error as exc:
        raise Qcow2Error("compressed cluster at file offset %d is corrupt: %s" % (extent.host, exc))
    return out.ljust(cluster_size, b"\0")


def copy(chunks, extents, header, writer):
    """Feed the file's bytes (``chunks``, in order from offset 0) through the extent map.
    Returns the sha256 of all the file's bytes. Compressed extents may share sectors."""
    digest = hashlib.sha256()
    pending = list(reversed(extents))  # pop() gives the next extent by host offset
    active = []
    pos = 0
    for chunk in chunks:
        digest.update(chunk)
        end = pos + len(chunk)
        while pending and pending[-1].host < end:
            active.append(pending.pop())
        still = []
        for ext in active:
            lo, hi = max(ext.host, pos), min(ext.host + ext.length, end)
            if hi > lo:
                piece = chunk[lo - pos:hi - pos]
                if ext.compressed:
                    ext.buf.append(piece)
                else:
                    writer.write_at(ext.guest + lo - ext.host, piece)
            if ext.host + ext.length <= end:
                if ext.compressed:
                    writer.write_at(ext.guest, _inflate(ext, header.cluster_size))
            else:
                still.append(ext)
        active = still
        pos = end
    for ext in active + pending:  # a compressed cluster's sector count may round past EOF
        if not (ext.compressed and ext.buf):
            raise Qcow2Error("image ends at %d bytes, inside or before the cluster at %d" % (pos, ext.host))
        writer.write_at(ext.guest, _inflate(ext, header.cluster_size))
    return digest.hexdigest()
