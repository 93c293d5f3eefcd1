"""Workflows with immutable versions: a definition change always adds a version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..models import Node, Task, Workflow, WorkflowVersion

DEFINITION = ("tasks", "playbook", "playbook_text", "playbooks", "variables", "description")


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a workflow named {name!r} already exists", errors={"name": ["already exists"]})


def get_workflow(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow


def _version(number: int, data: dict[str, Any]) -> WorkflowVersion:
    tasks = [Task(position=i, type=t["type"], name=t.get("name"),
                  params={k: v for k, v in t.items() if k not in ("type", "name")})
             for i, t in enumerate(data.get("tasks") or [])]
    playbook = ({"ref": data["playbook"]} if data.get("playbook")
                else {"text": data["playbook_text"]} if data.get("playbook_text") else None)
    return WorkflowVersion(version=number, description=data.get("description"), tasks=tasks, playbook=playbook,
                           playbooks=data.get("playbooks") or {}, variables=data.get("variables") or {})


def create_workflow(session: Session, data: dict[str, Any]) -> Workflow:
    workflow = Workflow(name=data["name"], description=data.get("description"),
                        active=data.get("active", True), latest_version=1, versions=[_version(1, data)])
    session.add(workflow)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _name_taken(data["name"]) from None
    return workflow


def update_workflow(session: Session, workflow: Workflow, data: dict[str, Any]) -> Workflow:
    """Metadata changes in place; any definition change creates version N+1."""
    current = workflow.current
    merged = _current_run(current)
    if any(k in data for k in ("tasks", "playbook", "playbook_text")):  # a new run replaces the old
        merged = {k: data.get(k) for k in ("tasks", "playbook", "playbook_text")}
    merged.update({
        "playbooks": data.get("playbooks", current.playbooks),
        "variables": data.get("variables", current.variables),
        "description": data.get("description", current.description),
    })
    if "name" in data and data["name"] != workflow.name:
        if session.scalar(select(Workflow.id).where(Workflow.name == data["name"])):
            raise _name_taken(data["name"])
        workflow.name = data["name"]
    if "active" in data:
        workflow.active = data["active"]
    if "description" in data:
        workflow.description = data["description"]
    if any(key in data for key in DEFINITION):
        workflow.latest_version += 1
        workflow.versions.append(_version(workflow.latest_version, merged))
    session.flush()
    return workflow


def _current_run(version: WorkflowVersion) -> dict[str, Any]:
    """What the version runs, in input form (tasks, or one of the playbook forms)."""
    playbook = version.playbook or {}
    return {"tasks": [{"type": t.type, **({"name": t.name} if t.name else {}), **t.params} for t in version.tasks],
            "playbook": playbook.get("ref"), "playbook_text": playbook.get("text")}


def delete_workflow(session: Session, workflow: Workflow) -> None:
    users = session.scalar(select(func.count()).select_from(Node).where(Node.workflow_id == workflow.id))
    if users:
        raise Conflict(f"workflow {workflow.name!r} is assigned to {users} node(s); "
                       "unassign them or set active=false instead", nodes=users)
    session.delete(workflow)
