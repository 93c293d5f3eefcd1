"""Build an ``ansible_collections/pureboot/pureboot`` tree holding only collection content.

The repository root is the collection root, but it also holds the controller, the
pytest suites and benchmarks. ``ansible-test`` lints every file of the tree it runs in,
so it runs in a copy that holds what the collection ships (what ``ansible-galaxy
collection build`` packs) plus the collection's own ``tests/unit`` and ``tests/sanity``.
Run as a script: ``python tests/ansible/layout.py DEST`` prints the collection dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: What ansible-test sees: the collection proper and its ansible-test suites.
CONTENT = ("galaxy.yml", "README.md", "LICENSE", "meta/", "plugins/", "roles/", "playbooks/",
           "inventory/", "docs/", "collections/", "tests/unit/", "tests/sanity/", "tests/config.yml")
EXCLUDE_PARTS = {"__pycache__", ".pytest_cache", "output"}


def collection_files(root: Path = ROOT) -> list[str]:
    """Tracked and new (not ignored) files that belong to the collection."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, check=True, capture_output=True).stdout.decode()
    files = []
    for name in filter(None, listing.split("\0")):
        if not any(name == c or (c.endswith("/") and name.startswith(c)) for c in CONTENT):
            continue
        if EXCLUDE_PARTS & set(Path(name).parts) or not (root / name).exists():
            continue
        files.append(name)
    return sorted(files)


def build(dest: Path, root: Path = ROOT) -> Path:
    """Copy the collection into ``dest/ansible_collections/pureboot/pureboot`` (fresh)."""
    target = Path(dest) / "ansible_collections" / "pureboot" / "pureboot"
    if target.exists():
        # keep tests/output (ansible-test's venvs and caches) between runs: it makes warm runs fast
        for child in target.iterdir():
            if child.name != "tests":
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        for child in (target / "tests").iterdir() if (target / "tests").exists() else []:
            if child.name != "output":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    for name in collection_files(root):
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, out)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ.get("TMPDIR", "/tmp")) / "pureboot-at"))
