"""Projects: where an admin registers playbooks (AWX). A local project is a directory on
the controller; a git project is cloned into ``<data_dir>/projects/<id>/``.

A project's playbooks run as the controller's user, so only admins create, change and
sync projects; a job template then names a playbook relative to the project's root
(jobs/policy.py checks it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import Conflict, Invalid, NotFound
from ..models import JobTemplate, Project, utcnow
from . import git_sync

GIT_FIELDS = ("scm_url", "scm_branch")


def get(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def checkout_dir(settings: Settings, project_id: int) -> Path:
    return Path(settings.data_dir).resolve() / "projects" / str(project_id)


def root(settings: Settings, project: Project) -> Path:
    """The directory a project's playbooks are relative to."""
    if project.scm_type == "git":
        return checkout_dir(settings, project.id)
    return Path(project.local_path).resolve()


def apply(settings: Settings, project: Project, data: dict[str, Any]) -> None:
    """Set `data` on `project` after checking the result as a whole (422 when wrong)."""
    changed_source = any(k in data and data[k] != getattr(project, k)
                         for k in ("scm_type", "local_path") + GIT_FIELDS)
    for key, value in data.items():
        setattr(project, key, value if value is not None else "")
    if project.scm_type == "local":
        project.local_path = str(_local_dir(settings, project.local_path))
        project.scm_url = project.scm_branch = ""
        project.status, project.last_error = "successful", ""
        project.last_synced = utcnow()
    else:
        _check_git(project)
        project.local_path = ""
        if changed_source:  # the checkout no longer matches: sync before jobs use it
            project.status, project.scm_revision = "new", ""


def sync(session: Session, settings: Settings, project: Project) -> Project:
    """(Re)sync now; the outcome is stored on the project. Raises Invalid with git's message."""
    try:
        if project.scm_type == "local":
            _local_dir(settings, project.local_path)
        else:
            project.scm_revision = git_sync.sync(project.scm_url, project.scm_branch,
                                                 checkout_dir(settings, project.id))
    except (Invalid, git_sync.SyncError, OSError) as exc:
        message = exc.message if isinstance(exc, Invalid) else str(exc)
        if isinstance(exc, Invalid):
            message = "; ".join(m for ms in (exc.errors or {}).values() for m in ms) or message
        project.status, project.last_error = "failed", message
        session.commit()  # the failure is recorded even though the request fails
        field = "local_path" if project.scm_type == "local" else "scm_url"
        raise Invalid(f"project {project.name} could not be synced", errors={field: [message]}) from None
    project.status, project.last_error, project.last_synced = "successful", "", utcnow()
    return project


def delete(session: Session, settings: Settings, project: Project) -> None:
    used = session.scalar(select(func.count()).select_from(JobTemplate).where(JobTemplate.project_id == project.id))
    if used:
        raise Conflict(f"project {project.name} is used by {used} job template(s); change or delete them first",
                       errors={"project": ["in use"]})
    session.delete(project)
    if project.scm_type == "git":
        shutil.rmtree(checkout_dir(settings, project.id), ignore_errors=True)


def _local_dir(settings: Settings, path: str) -> Path:
    if not path or not os.path.isabs(path):
        raise _invalid("local_path", "give the absolute path of a directory on the controller")
    resolved = Path(path).resolve()
    if not resolved.is_dir():
        raise _invalid("local_path", f"{path} is not an existing directory")
    data_dir = Path(settings.data_dir).resolve()
    if resolved == data_dir or data_dir in resolved.parents:
        raise _invalid("local_path", "the data directory holds uploaded files; it is never a project")
    return resolved


def _check_git(project: Project) -> None:
    problem = git_sync.url_problem(project.scm_url)
    if problem:
        raise _invalid("scm_url", problem)
    problem = git_sync.branch_problem(project.scm_branch)
    if problem:
        raise _invalid("scm_branch", problem)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"invalid {field.replace('_', ' ')}", errors={field: [message]})
