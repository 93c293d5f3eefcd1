"""The boot specification handed to a node: PRD 8.3's JSON, built from the decision.

Kernel, initrd, cmdline and autoinstall come from the workflow version's ``pxe_boot``
task; the agent boot (deprovision, migrate, image workflows without ``pxe_boot``, the
inventory of a discovered node) uses the agent kernel from the settings. Relative paths
are served by the controller under ``/boot/files/``; full URLs are used as they are.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ..config import Settings
from ..models import Node
from ..services import phone_home
from .decision import INSTALL, INVENTORY, KEEP, Decision


def file_url(settings: Settings, value: str | None) -> str | None:
    if not value:
        return None
    if "://" in value:
        return value
    return f"{settings.base_url}/boot/files/{value.lstrip('/')}"


def _task_dump(task) -> dict[str, Any]:
    out = {"type": task.type, **task.params}
    if task.name:
        out["name"] = task.name
    return out


def _pxe_task(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((t for t in tasks if t["type"] == "pxe_boot"), None)


def build_spec(settings: Settings, node: Node | None, decision: Decision,
               token: str | None) -> dict[str, Any]:
    """The /api/v1/next body. `token` is included only when it was just minted/rotated."""
    version = node.workflow_version if node is not None else None
    tasks = [_task_dump(t) for t in version.tasks] if version is not None else []
    if decision.mode == INVENTORY:  # whatever workflow is set, an inventory boot only inventories
        version, tasks = None, []
    spec: dict[str, Any] = {
        "action": decision.action, "reason": decision.reason,
        "node_id": node.id if node else None, "state": node.state if node else None,
        "workflow": node.workflow.name if node is not None and node.workflow else None,
        "workflow_version": version.version if version is not None else None,
        "kernel": None, "initrd": None, "cmdline": None, "autoinstall": None,
        "post_install": [], "tasks": tasks if decision.boots_network else [],
    }
    if not decision.boots_network or node is None:
        return spec
    pxe = _pxe_task(tasks) if decision.action == INSTALL else None
    if pxe is not None:
        kernel, initrd, extra = pxe["kernel"], pxe.get("initrd"), pxe.get("cmdline", "")
        spec["autoinstall"] = file_url(settings, pxe.get("autoinstall"))
    else:  # the agent, driven by the run's job (image_deploy, disk_wipe, ...)
        kernel = settings.agent_kernel or f"{settings.base_url}/boot/agent/vmlinuz"
        initrd = settings.agent_initrd or f"{settings.base_url}/boot/agent/initrd.img"
        extra = settings.agent_cmdline
    if version is not None and version.playbooks.get("post_install"):
        spec["post_install"] = [version.playbooks["post_install"]]
    spec["kernel"], spec["initrd"] = file_url(settings, kernel), file_url(settings, initrd)
    spec["cmdline"] = kernel_cmdline(settings, node, extra, token)
    if token is not None:
        spec["token"] = token
    run = _agent_run(node) if pxe is None else None
    if run is not None:
        # Every agent run is a playbook: the agent starts sshd and the provisioning job
        # (jobs/provision.py) drives it; the tasks are in the job, not here.
        spec["engine"], spec["tasks"] = "ansible", []
        spec["after"] = _after(settings, run)
        if decision.token == KEEP:  # asked by the agent itself (it holds the node token)
            spec["ssh"] = {"user": "root", "authorized_key": _run_public_key(node)}
    if decision.token == KEEP:  # asked by the agent itself (it holds the node token)
        credentials = phone_home.credentials(settings, node)
        if credentials:  # written into the image so its first boot can phone home
            spec["phone_home"] = credentials
    return spec


def _agent_run(node: Node):
    from ..jobs import provision  # the job system imports this package: import it when used
    return provision.agent_run(node)


def _after(settings: Settings, run) -> str:
    from ..jobs import provision
    return provision.after(settings, run)


def _run_public_key(node: Node) -> str | None:
    from ..jobs import post_install
    return post_install.install_public_key(node)


def kernel_cmdline(settings: Settings, node: Node, extra: str | None, token: str | None) -> str:
    """Installer/agent cmdline: the task's own arguments plus how to reach us."""
    parts = [extra.strip()] if extra and extra.strip() else []
    parts += [f"pureboot.url={settings.base_url}", f"pureboot.node={node.id}"]
    if token is not None:
        parts.append(f"pureboot.token={token}")
    return " ".join(parts)


def initrd_name(url: str | None) -> str:
    """The name iPXE gives the initrd (UEFI kernels need ``initrd=<name>``)."""
    return posixpath.basename(url.split("?", 1)[0]) if url else "initrd"
