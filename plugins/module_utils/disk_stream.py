# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP download that survives dropped connections, decompressors and a hashing writer.

Used by the disk_image module: bytes arrive from ``ResumableDownload``, are hashed as
downloaded (the digest a template's sha256 is: the file as served), pass through a
decompressor, and land in ``Sink`` (which hashes what it writes). A resumed download
continues the *compressed* byte stream, so the decompressor never sees a seam.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import socket
import subprocess
import threading
import time
import zlib

from ansible.module_utils.six.moves import queue
from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

try:
    from http.client import HTTPException
except ImportError:  # pragma: no cover - Python 2
    from httplib import HTTPException

try:
    import zstandard
    HAS_ZSTANDARD = True
except ImportError:
    zstandard = None
    HAS_ZSTANDARD = False

CHUNK = 1024 * 1024
MAGIC = ((b"\x1f\x8b", "raw.gz"), (b"\x28\xb5\x2f\xfd", "raw.zst"), (b"QFI\xfb", "qcow2"))


class StreamError(Exception):
    """A download or write failed for good; the message says why."""


class HTTPStatusError(StreamError):
    def __init__(self, code, url):
        StreamError.__init__(self, "HTTP %s for %s" % (code, url))
        self.code = code

    @property
    def final(self):
        """4xx (but timeouts and rate limits) will not change by asking again."""
        return 400 <= self.code < 500 and self.code not in (408, 429)


def detect_format(head):
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return "raw"


class ResumableDownload:
    """Reads ``url`` from ``start`` to the end, reopening with a Range request when a
    connection drops (up to ``retries`` times in a row, with doubling backoff)."""

    def __init__(self, url, headers=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=5, backoff=1.0, log=None):
        self.url = url
        self.headers = dict(headers or {})
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.log = log or (lambda msg: None)
        self.resumes = 0
        self.total = None  # size of the whole file, when the server says

    def _open(self, start, end=None):
        headers = dict(self.headers)
        if start or end is not None:
            headers["Range"] = "bytes=%d-%s" % (start, "" if end is None else end)
        try:
            return open_url(self.url, headers=headers, validate_certs=self.validate_certs,
                            ca_path=self.ca_path, timeout=self.timeout, decompress=False)
        except HTTPError as exc:
            if exc.code == 416 and self.total is not None and start >= self.total:
                return None
            raise HTTPStatusError(exc.code, self.url)

    def _body(self, start, end=None):
        """(response, bytes to skip, expected length or None) for a read from ``start``."""
        resp = self._open(start, end)
        if resp is None:
            return None, 0, 0
        status = getattr(resp, "status", None) or resp.getcode()
        length = resp.headers.get("Content-Length")
        length = int(length) if length is not None else None
        if status == 206:
            crange = resp.headers.get("Content-Range", "")
            first, dummy, total = crange.replace("bytes ", "").partition("/")
            if not first.startswith("%d-" % start):
                raise StreamError("server answered Range %d- with %r" % (start, crange))
            if total.isdigit():
                self.total = int(total)
            return resp, 0, length
        if length is not None and not (start or end is not None):
            self.total = length
        if start:  # Range ignored: the whole body again, skip what we have
            self.log("server ignored the Range request; re-reading %d bytes" % start)
        return resp, start, length

    def read_range(self, start, length):
        """Exactly ``length`` bytes at ``start`` (for qcow2 metadata), retried like the stream."""
        parts = []
        for chunk in self.chunks(start, start + length - 1):
            parts.append(chunk)
        data = b"".join(parts)[:length]
        if len(data) != length:
            raise StreamError("short read at %d: %d of %d bytes" % (start, len(data), length))
        return data

    def chunks(self, start=0, end=None):
        """Yield the file's bytes from ``start`` (to ``end`` inclusive) in order."""
        offset = start
        failures = 0
        while True:
            try:
                got = 0
                resp, skip, length = self._body(offset, end)
                if resp is None:
                    return
                closing, skipped = resp, skip
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                        if not chunk:
                            continue
                    if end is not None:
                        chunk = chunk[:max(0, end + 1 - offset)]
                    got += len(chunk)
                    offset += len(chunk)
                    failures = 0
                    yield chunk
                    if end is not None and offset > end:
                        closing.close()
                        return
                expected = None if length is None else length - skipped
                if expected is not None and got < expected and end is None:
                    raise StreamError("connection closed after %d of %d bytes" % (got, expected))
                if self.total is not None and offset < self.total and (end is None or offset <= end):
                    raise StreamError("connection closed at %d of %d bytes" % (offset, self.total))
                return
            except (StreamError, HTTPException, URLError, socket.error, ValueError) as exc:
                if getattr(exc, "final", False):
                    raise
                failures += 1
                if failures > self.retries:
                    raise StreamError("download failed at byte %d after %d attempts: %s"
                                      % (offset, failures, exc))
                self.resumes += 1
                self.log("download interrupted at byte %d (%s); resuming" % (offset, exc))
                time.sleep(self.backoff * (2 ** (failures - 1)))


class Sink:
    """Writes a stream at an offset of an open file descriptor, hashing what it writes.
    A thread does the writes, so the download (and its hash) overlaps the disk: without it
    the copy is read + hash + write in series, slower than ``curl | dd``."""

    def __init__(self, fd, offset=0, hashing=True, depth=8):
        self.fd = fd
        self.offset = offset
        self.bytes = 0
        self.sha256 = hashlib.sha256() if hashing else None
        self.error = None
        self.queue = queue.Queue(depth)
        self.thread = threading.Thread(target=self._writer)
        self.thread.daemon = True
        self.thread.start()

    def write(self, data):
        if self.error:
            raise self.error
        self.queue.put(data)

    def close(self):
        """Wait for the writes queued so far; raises the first write error."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error:
            raise self.error

    def _writer(self):
        while True:
            data = self.queue.get()
            if data is None:
                return
            if self.error:
                continue  # keep draining so write() never blocks on a full queue
            try:
                self._write(data)
            except StreamError as exc:
                self.error = exc

    def _write(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.pwrite(self.fd, view, self.offset)
            except OSError as exc:
                raise StreamError("write at byte %d failed: %s" % (self.offset, exc))
            if n == 0:
                raise StreamError("write at byte %d failed: no space left on the destination" % self.offset)
            if self.sha256:
                self.sha256.update(view[:n])
            view = view[n:]
            self.offset += n
            self.bytes += n


class Passthrough:
    def __init__(self, sink):
        self.sink = sink

    def feed(self, data):
        self.sink.write(data)

    def finish(self):
        pass


class Gunzip:
    """gzip, including files of several members (pigz, concatenated archives)."""

    def __init__(self, sink):
        self.sink = sink
        self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data):
        while data:
            out = self.dec.decompress(data)
            if out:
                self.sink.write(out)
            if not self.dec.eof:
                return
            data = self.dec.unused_data
            self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def finish(self):
        out = self.dec.flush()
        if out:
            self.sink.write(out)


class ZstdModule:
    def __init__(self, sink):
        self.sink = sink
        self.dec = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data):
        out = self.dec.decompress(data)
        if out:
            self.sink.write(out)

    def finish(self):
        pass


class ZstdPipe:
    """``zstd -dcq`` as a filter: we feed its stdin, a thread writes its stdout."""

    def __init__(self, sink, binary="zstd"):
        self.sink = sink
        try:
            self.proc = subprocess.Popen([binary, "-dcq"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise StreamError("raw.zst needs the Python zstandard module or the zstd command: %s" % exc)
        self.error = None
        self.thread = threading.Thread(target=self._drain)
        self.thread.daemon = True
        self.thread.start()

    def _drain(self):
        try:
            while True:
                out = self.proc.stdout.read(CHUNK)
                if not out:
                    return
                self.sink.write(out)
        except StreamError as exc:
            self.error = exc
            self.proc.kill()

    def feed(self, data):
        try:
            self.proc.stdin.write(data)
        except (IOError, OSError):  # zstd died: say why
            self.finish()
            raise StreamError("zstd exited early")

    def finish(self):
        try:
            self.proc.stdin.close()
        except (IOError, OSError):
            pass
        self.thread.join()
        self.proc.wait()
        if self.error:
            raise self.error
        if self.proc.returncode != 0:
            raise StreamError("zstd failed: %s" % self.proc.stderr.read().decode("utf-8", "replace").strip())


def decompressor(fmt, sink):
    if fmt == "raw":
        return Passthrough(sink)
    if fmt == "raw.gz":
        return Gunzip(sink)
    if fmt == "raw.zst":
        return ZstdModule(sink) if HAS_ZSTANDARD else ZstdPipe(sink)
    raise StreamError("unsupported stream format %r" % fmt)


def stream(download, fmt, sink, hashing=True):
    """Download everything into ``sink`` through the format's decompressor.
    Returns the sha256 hex digest of the downloaded (still compressed) bytes, or None
    without ``hashing``."""
    digest = hashlib.sha256() if hashing else None
    dec = decompressor(fmt, sink)
    try:
        for chunk in download.chunks(0):
            if digest is not None:
                digest.update(chunk)
            dec.feed(chunk)
        dec.finish()
    finally:
        sink.close()
    return digest.hexdigest() if digest is not None else None
