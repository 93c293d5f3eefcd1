"""Kernel modules without kmod: read `depends=` from each .ko's .modinfo ELF section.

Debian's kernel .deb ships no modules.dep (depmod runs at install time), and we never
install the package, so the load order for an initramfs is computed here.
"""

from __future__ import annotations

import struct
from pathlib import Path


def modinfo(path: Path) -> dict[str, list[str]]:
    """The key=value pairs of a module's .modinfo section (keys may repeat)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path}: not a 64-bit ELF kernel module")
    endian = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x3A)

    def section(index: int) -> tuple[int, int, int]:
        base = shoff + index * shentsize
        name, = struct.unpack_from(endian + "I", data, base)
        offset, size = struct.unpack_from(endian + "QQ", data, base + 0x18)
        return name, offset, size

    _, str_off, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        end = data.index(b"\0", str_off + name)
        if data[str_off + name:end] == b".modinfo":
            info: dict[str, list[str]] = {}
            for item in data[offset:offset + size].split(b"\0"):
                key, sep, value = item.decode("utf-8", "replace").partition("=")
                if sep:
                    info.setdefault(key, []).append(value)
            return info
    return {}


def module_name(path: Path) -> str:
    return Path(path).name.split(".ko")[0].replace("-", "_")


class ModuleIndex:
    """All modules of one kernel tree (lib/modules/<version>), by canonical name."""

    def __init__(self, modules_dir: Path):
        self.root = Path(modules_dir)
        self.paths = {module_name(p): p for p in sorted(self.root.rglob("*.ko"))}
        self.builtin = self._builtin()

    def _builtin(self) -> set[str]:
        listing = self.root / "modules.builtin"
        if not listing.exists():
            return set()
        return {module_name(Path(line.strip())) for line in listing.read_text().splitlines() if line.strip()}

    def depends(self, name: str) -> list[str]:
        values = modinfo(self.paths[name]).get("depends", [""])
        return [d.replace("-", "_") for d in values[0].split(",") if d]

    def load_order(self, names: list[str], optional: list[str] = ()) -> list[Path]:
        """Paths of `names` and everything they depend on, dependencies first.

        Built-in names are skipped; an unknown name in `names` is an error (a typo
        should not produce an agent that cannot see its disk); `optional` names that
        this kernel flavour lacks (the cloud kernel has no ahci) are left out.
        """
        order: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            name = name.replace("-", "_")
            if name in order or name in self.builtin:
                return
            if name not in self.paths:
                raise KeyError(f"kernel module {name} is neither in {self.root} nor built in")
            if name in visiting:
                raise ValueError(f"module dependency cycle at {name}")
            visiting.add(name)
            for dep in self.depends(name):
                visit(dep)
            visiting.discard(name)
            order.append(name)

        for wanted in names:
            visit(wanted)
        for wanted in optional:
            if wanted.replace("-", "_") in self.paths:
                visit(wanted)
        return [self.paths[n] for n in order]
