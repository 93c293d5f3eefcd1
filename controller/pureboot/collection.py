"""Make the in-tree collection importable and findable by ansible.

The controller shares code with the collection (``plugins/module_utils``), and
launches its playbooks. Both need an ``ansible_collections/pureboot/pureboot``
tree. When the collection is not installed, we point such a tree (a symlink in a
cache directory) at the checkout this package was loaded from.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

NAMESPACE, NAME = "pureboot", "pureboot"


def source_root() -> Path | None:
    """The checkout holding galaxy.yml, when running from the source tree."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "galaxy.yml").is_file() else None


def _link_tree(root: Path) -> Path:
    """One link tree per checkout, so two checkouts on one machine never swap links."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pureboot"
    return base / "collections" / hashlib.sha256(str(root).encode()).hexdigest()[:12]


def collections_path() -> Path | None:
    """A directory usable in ANSIBLE_COLLECTIONS_PATH that holds this collection."""
    root = source_root()
    if root is None:
        return None
    tree = _link_tree(root)
    link = tree / "ansible_collections" / NAMESPACE / NAME
    if not (link.is_symlink() and link.resolve() == root):
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{NAME}.{os.getpid()}")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(root, target_is_directory=True)
        os.replace(tmp, link)  # atomic: concurrent processes never see a half link
    return tree


def ensure_importable() -> None:
    """Let ``import ansible_collections.pureboot.pureboot...`` work in-process."""
    if importlib.util.find_spec("ansible_collections") is not None:
        try:
            if importlib.util.find_spec(f"ansible_collections.{NAMESPACE}.{NAME}") is not None:
                return
        except ModuleNotFoundError:
            pass
    tree = collections_path()
    if tree is None:
        raise ImportError(
            "the pureboot.pureboot collection is not installed and this is not a source checkout; "
            "install it with: ansible-galaxy collection install pureboot-pureboot-*.tar.gz"
        )
    if str(tree) not in sys.path:
        sys.path.append(str(tree))
    # An 'ansible_collections' namespace may already be cached from another path entry.
    pkg = sys.modules.get("ansible_collections")
    if pkg is not None and hasattr(pkg, "__path__"):
        entry = str(tree / "ansible_collections")
        if entry not in list(pkg.__path__):
            pkg.__path__.append(entry)


# Older call sites rely on importing this module to make the collection importable.
ensure_importable()
