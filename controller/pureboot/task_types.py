"""The workflow task types (PRD 9.2) and the parameters each one needs.

A task is written flat, as in the PRD: ``{type: image_deploy, image: ..., target: ...}``.
Everything except ``type`` and ``name`` is the task's parameters.
"""

from __future__ import annotations

from typing import Any

#: type -> (required parameters, optional parameters)
TASK_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "pxe_boot": (frozenset({"kernel"}), frozenset({"initrd", "cmdline", "bootloader", "autoinstall"})),
    # image: template id or name (or use url); inject: write pureboot.json (phone-home) into
    # the image's first partition; retries: download resumes (agent/rootfs/.../image_deploy.sh).
    "image_deploy": (frozenset(), frozenset({"image", "url", "target", "format", "sha256", "grow_partition",
                                             "inject", "retries", "size"})),
    "disk_wipe": (frozenset(), frozenset({"method", "disks", "require_hardware_erase"})),
    "partition": (frozenset({"layout"}), frozenset({"target", "table"})),
    "inventory": (frozenset(), frozenset()),
    "domain_join": (frozenset({"domain"}), frozenset({"method", "ou", "credential"})),
    "script_run": (frozenset({"script"}), frozenset({"interpreter", "args", "timeout"})),
    "package_install": (frozenset({"packages"}), frozenset({"manager"})),
    "playbook": (frozenset({"playbook"}), frozenset({"phase", "extra_vars"})),
    "reboot": (frozenset(), frozenset({"delay", "poweroff"})),
    "chain_boot": (frozenset(), frozenset({"method", "target"})),
    "vm_create": (frozenset({"provider"}), frozenset({"template", "cluster", "memory", "cores", "disks", "networks"})),
    "ovirt_vm_create": (frozenset(), frozenset({"template", "cluster", "memory", "cores", "disks", "networks"})),
    "ovirt_vm_start": (frozenset(), frozenset({"wait_for_ip"})),
    "ovirt_vm_configure": (frozenset(), frozenset({"cloud_init"})),
    "template_sync": (frozenset(), frozenset({"hypervisor", "templates"})),
    "live_migrate": (frozenset(), frozenset({"host"})),
}

DISK_WIPE_METHODS = ("quick", "zero", "secure")
IMAGE_FORMATS = ("auto", "raw", "raw.gz", "raw.zst", "qcow2")


def validate_task(task: Any) -> dict[str, list[str]]:
    """Return {field: [messages]} for one task definition; empty when valid."""
    if not isinstance(task, dict):
        return {"_schema": ["a task is a mapping with a 'type'"]}
    kind = task.get("type")
    if kind not in TASK_TYPES:
        return {"type": [f"unknown task type {kind!r}; one of: {', '.join(sorted(TASK_TYPES))}"]}
    required, optional = TASK_TYPES[kind]
    params = set(task) - {"type", "name"}
    errors: dict[str, list[str]] = {}
    for missing in sorted(required - params):
        errors[missing] = [f"required by {kind}"]
    for unknown in sorted(params - required - optional):
        errors[unknown] = [f"not a parameter of {kind} (allowed: {', '.join(sorted(required | optional)) or 'none'})"]
    if kind == "image_deploy" and not (task.get("image") or task.get("url")):
        errors["image"] = ["image_deploy needs image (template id or name) or url"]
    if kind == "image_deploy" and task.get("format", "auto") not in IMAGE_FORMATS:
        errors["format"] = [f"one of {', '.join(IMAGE_FORMATS)}"]
    if kind == "disk_wipe" and task.get("method", "quick") not in DISK_WIPE_METHODS:
        errors["method"] = [f"one of {', '.join(DISK_WIPE_METHODS)}"]
    if "name" in task and not isinstance(task["name"], str):
        errors["name"] = ["must be a string"]
    return errors
