"""The agent's userland, taken from downloaded Debian packages: busybox, Python 3, dropbear.

Python and an SSH server make the agent an Ansible-managed host: the controller's jobs
reach it over SSH and run this collection's modules with its Python. Every file comes
from a .deb fetched and unpacked by :mod:`debian` (never installed on the build host:
busybox-static conflicts with Debian's busybox). Shared libraries resolve with ``ldd``
against the unpacked trees first, then the build host's glibc of the same Debian release.

The standard library is pruned of what no module run on a node needs (tests, GUIs,
docs, databases) and shipped as sourceless bytecode compiled by the packaged
interpreter itself (``unchecked-hash`` pycs: valid whatever the cpio's fixed mtimes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .debian import Package, fetch
from .initramfs import Initramfs, shared_libraries

PYTHON = "python3.11"
PYTHON_PACKAGES = (f"{PYTHON}-minimal", f"lib{PYTHON}-minimal", f"lib{PYTHON}-stdlib")
SSH_PACKAGES = ("dropbear-bin", "libtomcrypt1", "libtommath1")
BUSYBOX_PACKAGE = "busybox-static"
#: Standard-library directories no node-side module uses.
PRUNE_DIRS = frozenset({"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
                        "sqlite3", "curses", "dbm", f"config-{PYTHON[6:]}-x86_64-linux-gnu"})
#: Extension modules likewise (test helpers, terminals, audio, NIS, databases).
PRUNE_EXTENSIONS = ("_test", "xx", "_ctypes_test", "_curses", "_dbm", "_sqlite3", "audioop", "nis",
                    "ossaudiodev", "readline", "_tkinter")
#: Debian's sitecustomize points into /etc/python3.11, which the agent has not.
PRUNE_FILES = frozenset({"sitecustomize.py"})
SSH_PROGRAMS = ("usr/sbin/dropbear", "usr/bin/dropbearkey")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Userland:
    packages: tuple[Package, ...]

    def manifest(self) -> list[str]:
        return [f"{p.name}={p.version}" for p in self.packages]

    def root(self, name: str) -> Path:
        return next(p.root for p in self.packages if p.name == name)

    @property
    def library_dirs(self) -> list[Path]:
        return [d for p in self.packages for d in (p.root / "usr/lib/x86_64-linux-gnu", p.root / "lib/x86_64-linux-gnu")
                if d.is_dir()]


def fetch_userland(cache_dir: Path | None = None, progress: Progress = lambda _m: None) -> Userland:
    packages = []
    for name in (BUSYBOX_PACKAGE, *PYTHON_PACKAGES, *SSH_PACKAGES):
        progress(f"package {name}")
        packages.append(fetch(name, cache_dir))
    return Userland(tuple(packages))


def busybox(userland: Userland) -> Path:
    return userland.root(BUSYBOX_PACKAGE) / "bin" / "busybox"


def add_ssh(image: Initramfs, userland: Userland) -> None:
    root = userland.root(SSH_PACKAGES[0])
    for rel in SSH_PROGRAMS:
        _add_binary(image, userland, root / rel, rel)


def add_python(image: Initramfs, userland: Userland, progress: Progress = lambda _m: None) -> None:
    """The interpreter, ``python3`` → it, and the pruned, precompiled standard library."""
    interpreter = userland.root(PYTHON_PACKAGES[0]) / "usr" / "bin" / PYTHON
    _add_binary(image, userland, interpreter, f"usr/bin/{PYTHON}")
    image.add_symlink("usr/bin/python3", PYTHON)
    with tempfile.TemporaryDirectory(prefix="pureboot-stdlib-") as tmp:
        stdlib = Path(tmp) / "usr" / "lib" / PYTHON
        for name in PYTHON_PACKAGES[1:]:
            _copy_stdlib(userland.root(name) / "usr" / "lib" / PYTHON, stdlib)
        progress(f"compiling the {PYTHON} standard library")
        _compile_sourceless(interpreter, Path(tmp) / "usr", stdlib)
        for extension in sorted((stdlib / "lib-dynload").glob("*.so")):
            for dest, lib in _libraries(userland, extension):
                image.add_library(dest, lib)
        image.add_tree(Path(tmp) / "usr", "usr")


def _add_binary(image: Initramfs, userland: Userland, source: Path, dest: str) -> None:
    image.add_file(dest, source.read_bytes(), 0o755)
    for dest, lib in _libraries(userland, source):
        image.add_library(dest, lib)


def _libraries(userland: Userland, binary: Path) -> list[tuple[str, Path]]:
    search = os.pathsep.join(str(d) for d in userland.library_dirs)
    return [_installed_path(userland, lib) for lib in shared_libraries(binary, library_path=search)]


def _installed_path(userland: Userland, lib: Path) -> tuple[str, Path]:
    """(path inside the image, file to read): an unpacked library keeps its Debian path."""
    for package in userland.packages:
        if package.root in lib.parents:
            return "/" + str(lib.relative_to(package.root)), lib
    return str(lib), lib


def _copy_stdlib(source: Path, dest: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in PRUNE_DIRS or n in PRUNE_FILES or n == "__pycache__"}
        if Path(directory).name == "lib-dynload":
            skipped |= {n for n in names if n.startswith(PRUNE_EXTENSIONS)}
        return skipped
    shutil.copytree(source, dest, ignore=ignore, symlinks=True, dirs_exist_ok=True)


def _compile_sourceless(interpreter: Path, home: Path, stdlib: Path) -> None:
    """Byte-compile next to each source with the packaged interpreter, then drop the sources."""
    # ddir: tracebacks name /usr/lib/python3.11, not this temporary directory (and the
    # bytes do not depend on where the build ran).
    script = ("import compileall, py_compile, sys; ok = compileall.compile_dir(sys.argv[1], ddir=sys.argv[2], "
              "quiet=2, legacy=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH); "
              "sys.exit(0 if ok else 1)")
    result = subprocess.run([str(interpreter), "-I", "-S", "-c", script, str(stdlib), f"/usr/lib/{PYTHON}"],
                            capture_output=True,
                            text=True, env={"PYTHONHOME": str(home), "LC_ALL": "C"})
    if result.returncode != 0:
        raise RuntimeError(f"compiling the agent's standard library failed: {result.stderr.strip()[-800:]}")
    for source in stdlib.rglob("*.py"):
        if source.with_suffix(".pyc").exists():
            source.unlink()
