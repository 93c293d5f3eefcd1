"""A workflow version's playbook: checked at save time, handed to the job that runs it.

A version carries either a reference (``playbook``: a collection playbook FQCN, or a file
an admin registered: jobs/policy.py decides, the one rule for every job) or its own YAML
(``playbook_text``). Text is code that also runs on the controller (``delegate_to:
localhost`` steps), so only admins may store it; it must parse, be a list of plays, and
name only modules, action plugins and roles that exist, else 422 with the line.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import yaml

from .collection import collections_path, source_root

#: Task keys that are keywords, not the module (Ansible's Task/Block attributes).
TASK_KEYWORDS = frozenset({
    "name", "action", "args", "local_action", "when", "register", "loop", "loop_control", "with_items",
    "with_dict", "with_list", "with_fileglob", "with_sequence", "with_together", "with_subelements",
    "with_nested", "with_first_found", "until", "retries", "delay", "changed_when", "failed_when",
    "ignore_errors", "ignore_unreachable", "delegate_to", "delegate_facts", "run_once", "become",
    "become_user", "become_method", "become_flags", "environment", "vars", "tags", "notify", "no_log",
    "check_mode", "diff", "timeout", "throttle", "async", "poll", "any_errors_fatal", "connection",
    "remote_user", "port", "module_defaults", "collections", "debugger", "listen", "block", "rescue",
    "always", "__line__",
})
ROLE_ACTIONS = frozenset({"include_role", "import_role", "ansible.builtin.include_role",
                          "ansible.builtin.import_role"})
TASK_SECTIONS = ("pre_tasks", "tasks", "post_tasks", "handlers")


class PlaybookError(ValueError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class _LineLoader(yaml.SafeLoader):
    """safe_load that remembers the line of each mapping (``__line__``, 1-based)."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def parse(text: str) -> list[dict[str, Any]]:
    try:
        plays = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PlaybookError(f"not valid YAML: {exc.problem or exc.context}",
                            mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"not valid YAML: {exc}") from None
    if not isinstance(plays, list) or not plays:
        raise PlaybookError("a playbook is a non-empty list of plays")
    for play in plays:
        _check_play(play)
    return plays


def _check_play(play: Any) -> None:
    if not isinstance(play, dict):
        raise PlaybookError("each play is a mapping")
    line = play["__line__"]
    if "import_playbook" in play or "ansible.builtin.import_playbook" in play:
        raise PlaybookError("import_playbook is not allowed in a workflow playbook: reference the "
                            "playbook itself (playbook: <FQCN>)", line)
    if "hosts" not in play:
        raise PlaybookError("a play needs hosts (the node is 'all')", line)
    for role in play.get("roles") or []:
        name = role.get("role") or role.get("name") if isinstance(role, dict) else role
        _check_role(name, role["__line__"] if isinstance(role, dict) else line)
    for section in TASK_SECTIONS:
        tasks = play.get(section) or []
        if not isinstance(tasks, list):
            raise PlaybookError(f"{section} must be a list of tasks", line)
        for task in tasks:
            _check_task(task, line)


def _check_task(task: Any, play_line: int) -> None:
    if not isinstance(task, dict):
        raise PlaybookError("each task is a mapping", play_line)
    line = task["__line__"]
    for section in ("block", "rescue", "always"):
        for inner in task.get(section) or []:
            _check_task(inner, line)
    if "block" in task:
        return
    actions = [key for key in task if key not in TASK_KEYWORDS]
    if "action" in task or "local_action" in task:
        value = task.get("action") or task.get("local_action")
        actions += [value.split()[0] if isinstance(value, str) else (value or {}).get("module", "")]
    if len(actions) != 1:
        raise PlaybookError(f"a task names exactly one module (found: {', '.join(actions) or 'none'})", line)
    action = actions[0]
    if action in ROLE_ACTIONS:
        args = task[action] if isinstance(task.get(action), dict) else {}
        _check_role(args.get("name"), line)
    elif not module_exists(action):
        raise PlaybookError(f"unknown module or action {action!r}", line)


def _check_role(name: Any, line: int) -> None:
    if not isinstance(name, str) or not name:
        raise PlaybookError("a role needs a name", line)
    if not role_exists(name):
        raise PlaybookError(f"unknown role {name!r}", line)


def _collection_dirs(namespace: str, collection: str) -> list[Path]:
    roots = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    tree = collections_path()
    roots += [str(tree)] if tree else []
    roots += [str(Path.home() / ".ansible" / "collections"), "/usr/share/ansible/collections"]
    found = [Path(r) / "ansible_collections" / namespace / collection for r in roots]
    spec = importlib.util.find_spec("ansible_collections")  # collections installed with pip (ansible)
    for location in (spec.submodule_search_locations or []) if spec else []:
        found.append(Path(location) / namespace / collection)
    if (namespace, collection) == ("pureboot", "pureboot") and source_root():
        found.append(source_root())
    return [d for d in found if d.is_dir()]


def module_exists(action: str) -> bool:
    parts = action.split(".")
    if len(parts) == 1 or parts[:2] == ["ansible", "builtin"]:
        name = parts[-1]
        return any(importlib.util.find_spec(f"ansible.{kind}.{name}") is not None
                   for kind in ("modules", "plugins.action"))
    if len(parts) != 3:
        return False
    namespace, collection, name = parts
    return any((d / "plugins" / kind / f"{name}.py").is_file() or _routed(d, name)
               for d in _collection_dirs(namespace, collection) for kind in ("modules", "action"))


def _routed(collection_dir: Path, name: str) -> bool:
    """Modules a collection redirects in meta/runtime.yml (plugin_routing) also exist."""
    runtime = collection_dir / "meta" / "runtime.yml"
    if not runtime.is_file():
        return False
    routing = (yaml.safe_load(runtime.read_text()) or {}).get("plugin_routing") or {}
    return name in (routing.get("modules") or {})


def role_exists(name: str) -> bool:
    parts = name.split(".")
    if len(parts) == 3:
        return any((d / "roles" / parts[2]).is_dir() for d in _collection_dirs(parts[0], parts[1]))
    return False  # only collection roles: a bare role name would come from the controller's cwd


def reference_playbook(ref: str) -> str:
    """The YAML a referenced playbook runs: the collection's file for an FQCN, else the file."""
    parts = ref.split(".")
    if not ref.startswith("/") and len(parts) == 3:
        for directory in _collection_dirs(parts[0], parts[1]):
            for suffix in (".yml", ".yaml"):
                path = directory / "playbooks" / f"{parts[2]}{suffix}"
                if path.is_file():
                    return path.read_text()
        raise PlaybookError(f"collection playbook {ref} not found")
    return Path(ref).read_text()
