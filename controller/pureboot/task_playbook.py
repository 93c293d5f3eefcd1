"""The PRD's task-list form of a workflow (PRD 9.3), translated one-to-one into a playbook.

There is one engine: a task list is not interpreted anywhere, it becomes a play of this
collection's roles and modules, run on the booted agent by the node's provisioning job
(jobs/provision.py) like any playbook workflow. Each task is one task of the play:

    image_deploy   role pureboot.pureboot.image_deploy (disk_image, then inject_files)
    disk_wipe      role pureboot.pureboot.deprovision (disk_wipe with evidence)
    partition      module pureboot.pureboot.partition
    inventory      role pureboot.pureboot.inventory (hardware_facts, stored by the job)
    reboot         what the agent does when the job has ended (reboot or power off)
    script_run     ansible.builtin.shell on the node
    playbook       ansible.builtin.import_playbook (a play of its own)

``pxe_boot`` is an installer boot, not an agent step (such a version never gets here);
the steps whose modules are not in this release fail the run with a clear message rather
than being skipped. The play reads what only the controller knows at launch from extra
vars the job sets: ``pureboot_images`` (each referenced template's URL and sha256) and
``pureboot_phone_home`` (the credentials written into the image).
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Iterable

import yaml

NS = "pureboot.pureboot"
TOKEN_FILE = "/run/pureboot/token"  # written by the agent (agent/rootfs/.../ansible.sh)
FINAL_FILE = "/run/pureboot/final"  # read by the agent when the job is over
#: Types a run on the agent cannot perform yet (installer, hypervisor and join steps).
NOT_IN_RELEASE = ("domain_join", "package_install", "chain_boot", "vm_create", "ovirt_vm_create",
                  "ovirt_vm_start", "ovirt_vm_configure", "template_sync", "live_migrate")


class TranslationError(ValueError):
    pass


def _role(name: str, title: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"name": title, "ansible.builtin.include_role": {"name": f"{NS}.{name}"},
            "vars": {k: v for k, v in params.items() if v is not None}}


def image_ref(value: Any) -> str:
    """The key of a template reference in ``pureboot_images`` (ids and names alike)."""
    return str(value)


def _image_deploy(task: dict[str, Any]) -> dict[str, Any]:
    image = task.get("image")
    if task.get("url") or (isinstance(image, str) and "://" in image):
        url, checksum = task.get("url") or image, task.get("sha256")
    else:
        ref = json.dumps(image_ref(image))
        url = "{{ pureboot_images[%s].url }}" % ref
        checksum = task.get("sha256") or "{{ pureboot_images[%s].sha256 | default('', true) }}" % ref
    inject = [{"path": "pureboot.json", "mode": "0600", "content": "{{ pureboot_phone_home | to_json }}"}]
    return _role("image_deploy", task.get("name") or "Deploy the image", {
        "image_deploy_url": url, "image_deploy_checksum": checksum,
        "image_deploy_dest": task.get("target") or "auto", "image_deploy_format": task.get("format"),
        "image_deploy_grow_partition": task.get("grow_partition"), "image_deploy_retries": task.get("retries"),
        "image_deploy_token_file": TOKEN_FILE,
        "image_deploy_inject_files": inject if task.get("inject") else None})


def _disk_wipe(task: dict[str, Any]) -> dict[str, Any]:
    disks = task.get("disks")
    return _role("deprovision", task.get("name") or "Wipe the disks", {
        "deprovision_method": task.get("method") or "quick",
        "deprovision_disks": [disks] if isinstance(disks, str) else disks,
        "deprovision_require_hardware_erase": task.get("require_hardware_erase")})


def _partition(task: dict[str, Any]) -> list[dict[str, Any]]:
    steps = []
    device = task.get("target")
    if not device or device == "auto":
        steps.append({"name": "Find the disk to partition", f"{NS}.hardware_facts": None})
        device = ("{{ ansible_facts.pureboot_hardware.disks | rejectattr('removable') "
                  "| map(attribute='path') | first }}")
    args = {"device": device, "partitions": task["layout"]}
    if task.get("table"):
        args["table"] = task["table"]
    steps.append({"name": task.get("name") or "Partition the disk", f"{NS}.partition": args})
    return steps


def _reboot(task: dict[str, Any]) -> dict[str, Any]:
    action = "poweroff" if task.get("poweroff") else "reboot"
    delay = int(task.get("delay") or 0)
    # raw: one round trip, no Python; the agent acts on it once the job has ended
    return {"name": task.get("name") or f"Then {action}",
            "ansible.builtin.raw": f"echo {action} > {FINAL_FILE}" + (f"; echo {delay} > {FINAL_FILE}_delay"
                                                                     if delay else ""),
            "changed_when": False}


def _script_run(task: dict[str, Any]) -> dict[str, Any]:
    args = task.get("args") or []
    script = task["script"]
    if args:
        script = "set -- " + " ".join(shlex.quote(str(a)) for a in args) + "\n" + script
    step: dict[str, Any] = {"name": task.get("name") or "Run the script",
                            "ansible.builtin.shell": {"cmd": script,
                                                      "executable": task.get("interpreter") or "/bin/sh"}}
    if task.get("timeout"):
        step["timeout"] = int(task["timeout"])
    return step


def _not_in_release(task: dict[str, Any]) -> dict[str, Any]:
    return {"name": task.get("name") or task["type"],
            "ansible.builtin.fail": {"msg": f"task type {task['type']} has no module in this release of the "
                                            f"{NS} collection: the run stops here"}}


def _steps(task: dict[str, Any]) -> list[dict[str, Any]]:
    kind = task["type"]
    if kind == "image_deploy":
        return [_image_deploy(task)]
    if kind == "disk_wipe":
        return [_disk_wipe(task)]
    if kind == "partition":
        return _partition(task)
    if kind == "inventory":
        return [_role("inventory", task.get("name") or "Inventory the hardware", {})]
    if kind == "reboot":
        return [_reboot(task)]
    if kind == "script_run":
        return [_script_run(task)]
    if kind in NOT_IN_RELEASE:
        return [_not_in_release(task)]
    raise TranslationError(f"task type {kind} is not a step of an agent run")


def _play(title: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": title, "hosts": "all", "gather_facts": False, "tasks": tasks}


def translate(tasks: Iterable[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """The plays for `tasks` (flat PRD form: ``{type, name?, **params}``)."""
    plays: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for task in tasks:
        if task["type"] == "pxe_boot":
            raise TranslationError("pxe_boot boots an installer: such a workflow has no agent run")
        if task["type"] == "playbook":
            if task.get("phase") not in (None, "install"):
                raise TranslationError(f"a playbook task of phase {task['phase']!r} is not part of the agent "
                                       "run (use the workflow's playbooks.post_install)")
            if current:
                plays.append(_play(title, current))
                current = []
            plays.append({"ansible.builtin.import_playbook": task["playbook"],
                          "vars": dict(task.get("extra_vars") or {})})
            continue
        current.extend(_steps(task))
    if current or not plays:
        plays.append(_play(title, current))
    return plays


def deprovision_tasks(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a deprovisioning run does with a workflow: only its inventory, wipe and reboot
    steps, and a secure wipe when it lists none (a retired node never keeps its data)."""
    kept = [t for t in tasks if t["type"] in ("disk_wipe", "inventory", "reboot")]
    if not any(t["type"] == "disk_wipe" for t in kept):
        kept.append({"type": "disk_wipe", "method": "secure"})
    return kept


def dump(plays: list[dict[str, Any]], header: str) -> str:
    body = yaml.safe_dump(plays, sort_keys=False, default_flow_style=False, width=120)
    return f"# {header}\n---\n{body}"


def flat_tasks(version) -> list[dict[str, Any]]:
    """A workflow version's tasks in their flat input form."""
    return [{"type": t.type, **({"name": t.name} if t.name else {}), **(t.params or {})} for t in version.tasks]


def version_playbook(version, kind: str | None = None) -> str:
    """The playbook text a run of `version` executes (its own text, or its tasks translated);
    `kind` ``deprovision``: only its wipe steps."""
    title = f"{version.workflow.name} v{version.version}"
    if kind == "deprovision":
        return dump(translate(deprovision_tasks(flat_tasks(version)), f"{title}: deprovision"),
                    f"workflow {title}: its wipe steps, translated from its task list")
    if "text" in (version.playbook or {}):
        return version.playbook["text"]
    return dump(translate(flat_tasks(version), title), f"workflow {title}, translated from its task list")
