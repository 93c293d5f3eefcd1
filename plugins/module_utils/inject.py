# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""inject_files' work: compare and atomically write files under a mounted filesystem."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import stat
import tempfile

# Filesystems whose file modes come from mount options, not from the files: modes are not set or compared.
NO_MODES = frozenset(["vfat", "msdos", "exfat", "ntfs", "ntfs3", "iso9660"])


class InjectError(Exception):
    pass


def relative_path(path):
    """``path`` inside the filesystem, without a leading slash; refuses empty and escaping paths."""
    rel = os.path.normpath("/" + (path or "")).lstrip("/")
    if not rel or ".." in (path or "").split("/"):
        raise InjectError("file path %r is not a path inside the filesystem" % path)
    return rel


def parse_mode(mode):
    text = str(mode)
    if not re.match(r"^0?[0-7]{3,4}$", text):
        raise InjectError("mode %r is not an octal string like '0644' (quote it in YAML)" % mode)
    return int(text, 8)


def wanted(spec):
    content = spec["content"].encode("utf-8")
    return {"path": relative_path(spec["path"]), "data": content, "sha256": hashlib.sha256(content).hexdigest(),
            "mode": parse_mode(spec.get("mode") or "0644")}


def target_of(root, rel):
    """Absolute path of ``rel`` under ``root``; refuses a symlink as the file, or parents that
    resolve outside ``root`` (an absolute symlink in an image points into this host)."""
    root = os.path.realpath(root)
    target = os.path.join(root, rel)
    parent = os.path.realpath(os.path.dirname(target))
    if parent != root and not parent.startswith(root + os.sep):
        raise InjectError("/%s: its directory resolves outside the filesystem (a symlink); refusing" % rel)
    if os.path.islink(target):
        raise InjectError("/%s is a symlink; refusing to write through it" % rel)
    return target


def current(target):
    """(sha256, mode) of the file at ``target``, or (None, None) when there is none."""
    try:
        info = os.stat(target)
    except OSError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        raise InjectError("%s exists and is not a regular file" % target)
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest(), stat.S_IMODE(info.st_mode)


def describe(sha256, mode):
    """One side of the diff: never the content."""
    return "" if sha256 is None else "sha256: %s\nmode: %04o\n" % (sha256, mode)


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every filesystem syncs directories; the file itself was synced
    finally:
        os.close(fd)


def write(target, data, mode, keeps_modes):
    """Write ``data`` to ``target`` through a synced temp file renamed over it (parents created)."""
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".pureboot-")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if keeps_modes:
            os.fchmod(fd, mode)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, target)
    _fsync_dir(parent)


def apply(root, fstype, specs, check_mode):
    """Bring each wanted file under ``root`` to its content and mode. Returns (files, diffs)."""
    keeps_modes = fstype not in NO_MODES
    files, diffs = [], []
    for want in specs:
        target = target_of(root, want["path"])
        sha, mode = current(target)
        content_ok = sha == want["sha256"]
        mode_ok = not keeps_modes or mode == want["mode"]
        changed = not (content_ok and mode_ok)
        if changed and not check_mode:
            if content_ok:
                os.chmod(target, want["mode"])
            else:
                write(target, want["data"], want["mode"], keeps_modes)
        if check_mode or not changed:
            after_mode = want["mode"] if keeps_modes else (mode if mode is not None else want["mode"])
        else:
            after_mode = current(target)[1]
        files.append({"path": "/" + want["path"], "changed": changed, "sha256": want["sha256"],
                      "mode": "%04o" % after_mode})
        diffs.append({"before_header": "/" + want["path"], "after_header": "/" + want["path"],
                      "before": describe(sha, mode), "after": describe(want["sha256"], after_mode)})
    return files, diffs
