"""What a job may run and whom it may target (issue: no code execution for operators).

A playbook runs on the controller host as the controller's user, so where it comes from
decides who can execute code there. Playbooks come only from places an admin controls:
a collection FQCN (installed collections, this one included), a file inside one of the
``playbook_dirs`` the host admin configured, or a file inside a project an admin registered
and synced (services/projects.py), named relative to the project's root. Uploaded templates
live in the data dir and are data, never playbooks; a git project's checkout (under
``<data_dir>/projects/``) is the one place there that holds playbooks.

Non-admins may not aim a job at the controller itself: an inline inventory they supply
names no loopback host and sets no connection variables (``ansible_connection: local``,
``ansible_ssh_common_args`` with a ProxyCommand, ... all run commands on the controller),
and their extra vars set no ``ansible_*`` variable, unless an admin set the template's
``allow_connection_vars`` (then launch-time extra vars may). Extra-var strings are never templated
(runner.py tags them ``!unsafe``), so a ``lookup('pipe', ...)`` in a value stays text.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import Forbidden, Invalid
from ..services import projects

FQCN = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[A-Za-z0-9_]+$")
# Host variables a non-admin may set inline: where and as whom to SSH, nothing that
# changes how the connection is made.
SAFE_HOST_VARS = frozenset({"ansible_host", "ansible_port", "ansible_user"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
JINJA_MARKERS = ("{{", "{%", "{#")


def playbook_dirs(settings: Settings) -> list[Path]:
    return [Path(p).resolve() for p in re.split(r"[,:]", settings.playbook_dirs) if p.strip()]


#: A workflow version's own playbook text (stored by an admin: api/workflows.py).
#: A workflow version's own playbook (its text, or its task list translated); ``:deprovision``
#: is the translation of only its wipe steps (task_playbook.deprovision_tasks).
WORKFLOW_PLAYBOOK = re.compile(r"^workflow-version:(\d+)(?::(deprovision))?$")


def workflow_playbook_ref(version_id: int, kind: str | None = None) -> str:
    return f"workflow-version:{version_id}" + (f":{kind}" if kind else "")


def check_playbook(settings: Settings, playbook: str, project=None) -> str:
    """Refuse a playbook that does not come from an admin-controlled place (422).

    Returns what to run: the FQCN or path as given, or the absolute path of a project's playbook.
    """
    if project is not None:
        return _project_playbook(settings, playbook, project)
    if FQCN.match(playbook) or WORKFLOW_PLAYBOOK.match(playbook):
        return playbook
    if not os.path.isabs(playbook):
        raise _invalid("playbook", "give a collection playbook FQCN (e.g. pureboot.pureboot.deploy_image), "
                                   "an absolute path inside a configured playbook_dirs directory, "
                                   "or a project and a path relative to its root")
    path = Path(playbook).resolve()  # symlinks and '..' cannot leave an allowed directory
    if _inside(path, Path(settings.data_dir).resolve()):
        raise _invalid("playbook", "files in the data directory (uploaded templates) are never run as playbooks")
    allowed = playbook_dirs(settings)
    if not any(_inside(path, base) for base in allowed):
        where = ", ".join(map(str, allowed)) or "none configured (setting playbook_dirs)"
        raise _invalid("playbook", f"{playbook} is not inside a playbook directory an admin registered: {where}")
    return playbook


def _project_playbook(settings: Settings, playbook: str, project) -> str:
    if project.status != "successful":
        raise _invalid("project", f"project {project.name} is not synced (status {project.status}); "
                                  f"an admin syncs it with POST /api/v1/projects/{project.id}/sync")
    if os.path.isabs(playbook):
        raise _invalid("playbook", "with a project, give the playbook's path relative to the project's root")
    base = projects.root(settings, project)
    path = (base / playbook).resolve()  # symlinks and '..' cannot leave the project
    if not _inside(path, base) or path == base:
        raise _invalid("playbook", f"{playbook} leaves the directory of project {project.name}")
    if project.scm_type != "git" and _inside(path, Path(settings.data_dir).resolve()):
        raise _invalid("playbook", "files in the data directory (uploaded templates) are never run as playbooks")
    if not path.is_file():
        raise _invalid("playbook", f"{playbook} is not a file in project {project.name}")
    return str(path)


def check_inventory(spec: dict[str, Any], privileged: bool) -> None:
    """An inline inventory from a non-admin must not reach the controller host."""
    if privileged or "hosts" not in spec:
        return
    hosts = spec["hosts"]
    for name in hosts:
        _refuse_loopback(name)
    hostvars = list(hosts.values()) if isinstance(hosts, dict) else []
    for variables in hostvars + [spec.get("vars") or {}]:
        for key, value in variables.items():
            if key.startswith("ansible_") and key not in SAFE_HOST_VARS:
                raise _invalid("inventory", f"{key}: only admins may set connection variables inline "
                                            f"(allowed: {', '.join(sorted(SAFE_HOST_VARS))})")
            if key == "ansible_host":
                _refuse_loopback(str(value))
            if _has_jinja(value):
                raise _invalid("inventory", f"{key}: inline inventory values cannot hold Jinja expressions")


def check_extra_vars(extra_vars: dict[str, Any] | None, privileged: bool) -> None:
    if privileged:
        return
    reserved = sorted(k for k in (extra_vars or {}) if k.lower().startswith("ansible_"))
    if reserved:
        raise _invalid("extra_vars", f"only admins may set ansible_* variables: {', '.join(reserved)}")


def check_job(settings: Settings, fields: dict[str, Any], privileged: bool, *, project=None,
              connection_vars: bool = False) -> None:
    """All of a job template's (or launch's) checks, for the fields present.

    `project` is the one the playbook is relative to; `connection_vars` is the template's
    allow_connection_vars (it lets extra vars set ansible_* variables).
    """
    if fields.get("allow_connection_vars") and not privileged:
        raise Forbidden("only admins may allow connection variables on a job template",
                        errors={"allow_connection_vars": ["only admins may set it true"]})
    if "playbook" in fields:
        check_playbook(settings, fields["playbook"], project)
    if fields.get("inventory"):
        check_inventory(fields["inventory"], privileged)
    if "extra_vars" in fields:
        check_extra_vars(fields["extra_vars"], privileged or connection_vars)


def _refuse_loopback(host: str) -> None:
    name = host.strip().lower().rstrip(".")
    try:
        loopback = ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        loopback = name in LOOPBACK_NAMES or name.endswith(".localhost")
    if loopback:
        raise _invalid("inventory", f"{host}: only admins may target the controller host itself")


def _has_jinja(value: Any) -> bool:
    if isinstance(value, str):
        return any(marker in value for marker in JINJA_MARKERS)
    if isinstance(value, dict):
        return any(_has_jinja(v) for v in value.values()) or any(_has_jinja(k) for k in value)
    if isinstance(value, list):
        return any(_has_jinja(v) for v in value)
    return False


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"invalid {field.replace('_', ' ')}", errors={field: [message]})
