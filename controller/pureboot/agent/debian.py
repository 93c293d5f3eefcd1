"""Debian packages as build inputs: download with apt, unpack into a cache, never install.

Everything the agent is made of comes from .debs of the running Debian release, so a
build is reproducible from (package, version) pairs recorded in its manifest.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

KERNEL_META = "linux-image-cloud-amd64"


def default_cache_dir() -> Path:
    env = os.environ.get("PUREBOOT_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pureboot"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    root: Path  # unpacked tree
    deb: Path

    def as_manifest(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise concurrent builds/tests that fill the same cache entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(argv: list[str], **kw) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result.stdout


def candidate_version(name: str) -> str:
    out = _run(["apt-cache", "policy", name])
    match = re.search(r"Candidate:\s*(\S+)", out)
    if not match or match.group(1) == "(none)":
        raise RuntimeError(f"no installable version of {name} (apt-get update?)")
    return match.group(1)


def kernel_package(meta: str = KERNEL_META) -> str:
    """The concrete linux-image-<abi>-<flavour> that the meta package points at."""
    out = _run(["apt-cache", "depends", meta])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split()[-1]
    raise RuntimeError(f"cannot resolve {meta} to a kernel package")


def fetch(name: str, cache_dir: Path | None = None, version: str | None = None) -> Package:
    """Download `name` (candidate version unless pinned) and unpack it once into the cache."""
    cache = Path(cache_dir or default_cache_dir()) / "debs"
    version = version or candidate_version(name)
    key = f"{name}_{version.replace(':', '%3a')}"
    root = cache / key
    with _locked(cache / f".{key}.lock"):
        if not (root / ".complete").exists():
            deb = _download(name, version, cache)
            tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
            try:
                _run(["dpkg-deb", "-x", str(deb), str(tmp)])
                shutil.rmtree(root, ignore_errors=True)
                os.replace(tmp, root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            (root / ".complete").write_text(deb.name)
        deb = cache / (root / ".complete").read_text().strip()
    return Package(name, version, root, deb)


def _download(name: str, version: str, cache: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".dl-"))
    try:
        os.chmod(tmp, 0o755)
        _run(["apt-get", "download", "-q", f"{name}={version}"], cwd=tmp)
        found = list(tmp.glob("*.deb"))
        if len(found) != 1:
            raise RuntimeError(f"apt-get download {name} produced {found}")
        final = cache / found[0].name
        os.replace(found[0], final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Kernel:
    package: Package
    release: str  # uname -r
    vmlinuz: Path
    modules_dir: Path


def fetch_kernel(cache_dir: Path | None = None, package: str | None = None) -> Kernel:
    pkg = fetch(package or kernel_package(), cache_dir)
    images = sorted((pkg.root / "boot").glob("vmlinuz-*"))
    if not images:
        raise RuntimeError(f"{pkg.name} contains no /boot/vmlinuz-*")
    release = images[0].name[len("vmlinuz-"):]
    modules = pkg.root / "lib" / "modules" / release
    return Kernel(pkg, release, images[0], modules)
