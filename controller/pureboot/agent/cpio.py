"""A reproducible cpio "newc" archive writer for initramfs images.

Every entry gets uid/gid 0, a fixed mtime and a stable inode number, and entries are
written in sorted order, so the same inputs give the same bytes (the manifest's sha256
is then a real identity of the agent, not of the build time).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

EPOCH = 0  # SOURCE_DATE_EPOCH-style fixed timestamp


@dataclass(frozen=True)
class Entry:
    path: str          # inside the archive, no leading slash
    mode: int          # full st_mode (type + permissions)
    data: bytes = b""  # file content, or symlink target
    rdev: tuple[int, int] = (0, 0)


def directory(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, stat.S_IFDIR | perm)


def file(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def chardev(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def _header(ino: int, entry: Entry, name: bytes) -> bytes:
    fields = [ino, entry.mode, 0, 0, 2 if stat.S_ISDIR(entry.mode) else 1, EPOCH,
              len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1], len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def _pad(out: BinaryIO, length: int) -> None:
    out.write(b"\0" * ((4 - length % 4) % 4))


def write(out: BinaryIO, entries: Iterable[Entry]) -> None:
    """Write `entries` (parents are added when missing) and the trailer."""
    by_path: dict[str, Entry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        by_path[path] = Entry(path, entry.mode, entry.data, entry.rdev)
        parts = path.split("/")
        for i in range(1, len(parts)):
            by_path.setdefault("/".join(parts[:i]), directory("/".join(parts[:i])))
    for ino, path in enumerate(sorted(by_path), start=1):
        entry, name = by_path[path], path.encode()
        header = _header(ino, entry, name)
        out.write(header + name + b"\0")
        _pad(out, len(header) + len(name) + 1)
        out.write(entry.data)
        _pad(out, len(entry.data))
    trailer = b"070701" + b"".join(b"%08X" % f for f in [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0])
    out.write(trailer + b"TRAILER!!!\0")
    _pad(out, len(trailer) + 11)


def from_tree(root: Path, prefix: str = "") -> list[Entry]:
    """Entries for everything under `root` (regular files, dirs, symlinks), keeping modes."""
    entries = []
    for path in sorted(Path(root).rglob("*")):
        rel = (prefix.strip("/") + "/" if prefix.strip("/") else "") + str(path.relative_to(root))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            entries.append(symlink(rel, str(path.readlink())))
        elif stat.S_ISDIR(info.st_mode):
            entries.append(directory(rel, stat.S_IMODE(info.st_mode)))
        elif stat.S_ISREG(info.st_mode):
            entries.append(file(rel, path.read_bytes(), stat.S_IMODE(info.st_mode)))
    return entries
