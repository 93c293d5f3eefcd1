"""Assemble a busybox initramfs: busybox, kernel modules in load order, tools, files.

The image is a gzip'd cpio with fixed timestamps (see :mod:`cpio`), so equal inputs
give an equal sha256. ``/etc/modules.order`` lists the .ko files in dependency order;
the init script insmods them one by one (busybox has no modprobe database here).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
from pathlib import Path
from typing import Iterable

from . import cpio
from .kmod import ModuleIndex

#: Modules every PureBoot boot environment needs on a virtio VM (NIC, disk, PCI transport).
VIRTIO_MODULES = ["virtio_net", "virtio_blk", "virtio_pci"]


class Initramfs:
    def __init__(self) -> None:
        self.entries: dict[str, cpio.Entry] = {}
        for path in ("dev", "proc", "sys", "tmp", "run", "mnt", "bin", "sbin", "etc", "lib", "lib64",
                     "usr/bin", "usr/sbin", "var/run"):
            self.add(cpio.directory(path))
        self.add(cpio.chardev("dev/console", 5, 1))
        self.add(cpio.chardev("dev/null", 1, 3, 0o666))

    def add(self, entry: cpio.Entry) -> None:
        self.entries[entry.path.strip("/")] = entry

    def add_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        self.add(cpio.file(path, data.encode() if isinstance(data, str) else data, mode))

    def add_busybox(self, busybox: Path) -> None:
        """The static busybox; init runs ``busybox --install -s`` so no host run is needed
        (the same code builds an arm64 image on an x86 host)."""
        self.add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
        self.add(cpio.symlink("bin/sh", "busybox"))

    def add_symlink(self, path: str, target: str) -> None:
        self.add(cpio.symlink(path, target))

    def add_library(self, dest: str, source: Path) -> None:
        """A shared library at `dest` (once; the loader's path is what ldd printed)."""
        rel = dest.lstrip("/")
        if rel not in self.entries:
            self.add_file(rel, Path(source).resolve().read_bytes(), 0o755)

    def add_modules(self, index: ModuleIndex, names: Iterable[str], optional: Iterable[str] = ()) -> list[str]:
        order = index.load_order(list(names), list(optional))
        listed = []
        for path in order:
            rel = f"lib/modules/{path.name}"
            self.add_file(rel, path.read_bytes())
            listed.append("/" + rel)
        self.add_file("etc/modules.order", "\n".join(listed) + "\n")
        return [p.name for p in order]

    def add_binary(self, source: Path, dest: str | None = None, root: Path = Path("/")) -> list[str]:
        """Copy an ELF binary and the shared libraries it needs (resolved by ldd)."""
        source = Path(source)
        dest = (dest or str(source)).lstrip("/")
        self.add_file(dest, source.read_bytes(), 0o755)
        added = [dest]
        for lib in shared_libraries(source):
            rel = str(lib).lstrip("/")
            if rel not in self.entries:
                self.add_library(rel, lib)
                added.append(rel)
        return added

    def add_tree(self, root: Path, prefix: str = "") -> None:
        for entry in cpio.from_tree(root, prefix):
            self.add(entry)

    def write(self, path: Path) -> Path:
        raw = io.BytesIO()
        cpio.write(raw, self.entries.values())
        with open(path, "wb") as out:
            # mtime=0 and no file name in the gzip header: reproducible bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
                gz.write(raw.getvalue())
        return Path(path)


_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")


def shared_libraries(binary: Path, library_path: str = "") -> list[Path]:
    """Absolute paths of the libraries (and the loader) `binary` links against;
    `library_path` (unpacked packages' lib dirs) is searched before the host's."""
    env = {**os.environ, "LC_ALL": "C"}
    if library_path:
        env["LD_LIBRARY_PATH"] = library_path
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, env=env)
    if result.returncode != 0 or "not a dynamic executable" in result.stdout + result.stderr:
        return []
    libs = []
    for line in result.stdout.splitlines():
        if "not found" in line:
            raise RuntimeError(f"{binary}: missing library: {line.strip()}")
        match = _LDD_LINE.search(line)
        if match:
            libs.append(Path(match.group(1)))
    return libs
