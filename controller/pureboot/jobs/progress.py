"""A provisioning job's tasks are the node's install phase and progress.

Before the run the play's tasks are counted (roles of this collection expanded from their
tasks/main.yml); each ``playbook_on_task_start`` then sets the node's phase to the task's
name and its progress to the share of tasks started. The count is an estimate (``when``
skips, loops and includes of other roles are not seen), so progress stops at 95 until the
job's outcome sets 100.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import yaml

from ..collection import source_root
from ..db import Database
from ..models import Job, Node

NS = "pureboot.pureboot."
SECTIONS = ("pre_tasks", "tasks", "post_tasks")
ROLE_ACTIONS = ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role")
_lock = threading.Lock()
_runs: dict[int, dict[str, Any]] = {}  # job id -> {node, expected, started}


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _role_tasks(name: str, seen: frozenset[str]) -> int:
    root = source_root()
    short = name[len(NS):] if name.startswith(NS) else name
    if root is None or short in seen or "." in short:
        return 1
    tasks = _load(root / "roles" / short / "tasks" / "main.yml")
    return count_tasks(tasks if isinstance(tasks, list) else [], seen | {short}) or 1


def count_tasks(tasks: Iterable[Any], seen: frozenset[str] = frozenset()) -> int:
    total = 0
    for task in tasks:
        if not isinstance(task, dict):
            continue
        if "block" in task:  # its always: runs too (rescue: only after a failure)
            total += count_tasks(task.get("block") or [], seen) + count_tasks(task.get("always") or [], seen)
            continue
        role = next((task[a] for a in ROLE_ACTIONS if a in task), None)
        if role is not None:
            total += _role_tasks(role.get("name", "") if isinstance(role, dict) else str(role), seen)
        else:
            total += 1
    return total


def expected_tasks(playbook: str) -> int:
    """Tasks the playbook (a path, or a playbook FQCN of this collection) should start."""
    root = source_root()
    path = Path(playbook)
    if not path.is_absolute() and playbook.startswith(NS) and root is not None:
        path = root / "playbooks" / f"{playbook[len(NS):]}.yml"
    plays = _load(path)
    total = 0
    for play in plays if isinstance(plays, list) else []:
        if not isinstance(play, dict):
            continue
        for section in SECTIONS:
            total += count_tasks(play.get(section) or [])
        for role in play.get("roles") or []:
            total += _role_tasks(role.get("role", role.get("name", "")) if isinstance(role, dict) else str(role),
                                 frozenset())
    return total


def start(session, job: Job, node: Node, playbook: str) -> None:
    """Before the run (in the job's prepare): count the tasks, mark the node."""
    with _lock:
        _runs[job.id] = {"node": node.id, "expected": max(expected_tasks(playbook), 1), "started": 0}
    node.install_phase, node.install_progress = f"job {job.id} started", 0


def on_event(db: Database, job_id: int, event: dict[str, Any], redact: Callable[[Any], Any]) -> None:
    if event.get("event") != "playbook_on_task_start":
        return
    with _lock:
        run = _runs.get(job_id)
        if run is None:
            return
        run["started"] += 1
        done = run["started"] - 1
        share = min(95, int(100 * done / max(run["expected"], run["started"])))
        node_id = run["node"]
    data = event.get("event_data") or {}
    name = str(redact(data.get("task") or data.get("name") or "task"))
    with db.session() as session:
        node: Optional[Node] = session.get(Node, node_id)
        if node is not None:
            node.install_phase, node.install_progress = name[:64], share


def forget(job_id: int) -> None:
    with _lock:
        _runs.pop(job_id, None)
