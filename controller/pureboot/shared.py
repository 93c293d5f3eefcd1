"""The collection's module_utils, which the controller shares (one copy of the logic).

Importing through here makes sure the in-tree collection is importable first, whatever
order a formatter puts the imports in.
"""

from .collection import ensure_importable

ensure_importable()

from ansible_collections.pureboot.pureboot.plugins.module_utils import boot_decision, bootfiles, mac  # noqa: E402

__all__ = ["boot_decision", "bootfiles", "mac"]
