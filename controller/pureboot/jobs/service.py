"""Job operations: create and launch, status changes (published as events), cancel,
relaunch, restart recovery and retention pruning."""

from __future__ import annotations

import os
import re
import shutil
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .. import events
from ..config import Settings
from ..db import Database
from ..errors import Conflict, Invalid, NotFound, PureBootError
from ..models import Job, JobEvent, JobTemplate, Project, utcnow
from ..models.job import ACTIVE_STATUSES, FINISHED_STATUSES, PROMPTABLE
from . import inventory as inventory_mod
from . import policy
from .writer import FAILED_EVENTS

SECRET_KEY_RE = re.compile(r"pass(word)?|secret|token|private_?key|passphrase|credential|api_?key", re.I)
REDACTED = "$encrypted$"


def redact(value: Any) -> Any:
    """extra_vars as shown to people: values under secret-looking keys replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEY_RE.search(str(k)) and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_template(session: Session, template_id: int) -> JobTemplate:
    template = session.get(JobTemplate, template_id)
    if template is None:
        raise NotFound(f"job template {template_id} not found")
    return template


def status_payload(job: Job) -> dict[str, Any]:
    return {"job_id": job.id, "status": job.status, "node_id": job.node_id,
            "template_id": job.template_id, "job_explanation": job.job_explanation}


def publish_status(session: Session, job: Job) -> None:
    """Publish the job's status with the transaction that changed it (call before commit)."""
    session.flush()  # a new job gets its id
    events.publish(session, "job.status", status_payload(job))


def set_status(db: Database, job_id: int, status: str, **fields: Any) -> Job:
    """Change a job's status in its own transaction and publish it."""
    with db.session() as session:
        job = session.get(Job, job_id)
        job.status = status
        for key, value in fields.items():
            setattr(job, key, value)
        publish_status(session, job)
    return job


def create_job(session: Session, settings: Settings, *, name: str, playbook: str, inventory: dict,
               launched_by: str, template: JobTemplate | None = None, project: Project | None = None,
               **fields: Any) -> Job:
    inventory_mod.validate_spec(inventory)
    policy.check_playbook(settings, playbook, project)
    job = Job(name=name, playbook=playbook, inventory=inventory, launched_by=launched_by,
              template_id=template.id if template else None, project_id=project.id if project else None,
              status="new",
              executor=settings.job_executor, execution_node=this_process(), **fields)
    session.add(job)
    session.flush()
    return job


def launch_fields(template: JobTemplate, data: dict[str, Any]) -> dict[str, Any]:
    """The job's fields: the template's, overridden by prompts the template allows.

    Like AWX, a value for a field whose ask_<field>_on_launch is off is not applied;
    unlike AWX we refuse the launch (400) instead of silently ignoring it.
    """
    ignored = {k: v for k, v in data.items() if k in PROMPTABLE and not getattr(template, f"ask_{k}_on_launch")}
    if ignored:
        raise PureBootError("the template does not prompt for: " + ", ".join(sorted(ignored))
                            + " (set ask_<field>_on_launch on the template)", ignored_fields=ignored)
    fields = {k: getattr(template, k) for k in ("inventory", "extra_vars", "limit", "forks", "timeout",
                                                "verbosity", "credentials")}
    for key in PROMPTABLE:
        if key in data:
            fields[key] = ({**template.extra_vars, **data[key]} if key == "extra_vars" else data[key])
    return fields


def launch_template(session: Session, settings: Settings, template: JobTemplate, data: dict[str, Any],
                    actor: str, launch_type: str = "manual") -> Job:
    fields = launch_fields(template, data)
    return create_job(session, settings, name=template.name, playbook=template.playbook, template=template,
                      project=template.project, launched_by=actor, launch_type=launch_type, **fields)


def request_cancel(session: Session, job: Job) -> bool:
    """Flag a job for cancellation. Returns True when it had not started (now canceled)."""
    if job.status in FINISHED_STATUSES:
        raise Conflict(f"job {job.id} already finished ({job.status}); nothing to cancel",
                       job_status=job.status, code="not_cancelable")
    job.cancel_requested = True
    if job.status in ("new", "pending"):
        job.status, job.finished = "canceled", utcnow()
        job.job_explanation = "canceled before it started"
        job.event_processing_finished = True
        job.events_finished_at = job.finished
        return True
    return False


def failed_hosts(session: Session, job_id: int) -> list[str]:
    rows = session.scalars(select(JobEvent.host).where(
        JobEvent.job_id == job_id, JobEvent.event.in_(FAILED_EVENTS), JobEvent.failed.is_(True)).distinct())
    return sorted(h for h in rows if h)


def relaunch(session: Session, settings: Settings, job: Job, hosts: str, actor: str) -> Job:
    if job.status in ACTIVE_STATUSES:
        raise Conflict(f"job {job.id} is still {job.status}; relaunch it when it has finished", job_status=job.status)
    if job.purpose:
        raise Conflict(f"job {job.id} is a {job.purpose} job run by the system; it cannot be relaunched")
    limit = job.limit
    if hosts == "failed":
        if job.status not in ("failed", "error"):
            raise Invalid("only a failed job can be relaunched on its failed hosts",
                          errors={"hosts": [f"job {job.id} is {job.status}"]})
        names = failed_hosts(session, job.id)
        if not names:
            raise Invalid(f"job {job.id} has no failed hosts to relaunch on", errors={"hosts": ["no failed hosts"]})
        limit = ",".join(names)
    return create_job(session, settings, name=job.name, playbook=job.playbook, template=job.template,
                      project=job.project, launched_by=actor, launch_type="relaunch", inventory=job.inventory,
                      extra_vars=job.extra_vars, credentials=job.credentials, limit=limit, forks=job.forks,
                      timeout=job.timeout, verbosity=job.verbosity, relaunch_of=job.id)


def recover_orphans(db: Database, *, executor: str, node_prefix: str, alive=None) -> int:
    """Mark jobs that can no longer finish (their process is gone) as error, with why.

    Thread jobs belong to one controller process ("host:pid"): if that process is not
    alive, nothing will ever finish them. Called at controller start (thread jobs) and
    at Celery worker start (jobs that worker was running).
    """
    alive = alive or (lambda node: False)
    count = 0
    with db.session() as session:
        stmt = select(Job).where(Job.status.in_(ACTIVE_STATUSES), Job.executor == executor,
                                 Job.execution_node.startswith(node_prefix))
        if executor == "celery":
            stmt = stmt.where(Job.status.in_(("waiting", "running")))
        for job in session.scalars(stmt):
            if alive(job.execution_node):
                continue
            was = job.status
            job.status, job.finished = "error", utcnow()
            job.job_explanation = (f"the {executor} executor {job.execution_node} stopped while the job was "
                                   f"{was} (controller or worker restart); the job did not finish")
            job.event_processing_finished, job.events_finished_at = True, job.finished
            publish_status(session, job)
            count += 1
    return count


def pid_alive(execution_node: str) -> bool:
    host, _, pid = execution_node.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # we are starting: nothing of ours runs yet
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune(db: Database, settings: Settings, days: int | None = None, batch: int = 5000) -> dict[str, int]:
    """Delete events (and artifacts) of jobs finished more than `days` ago, in batches."""
    days = settings.job_event_retention_days if days is None else days
    cutoff = utcnow() - timedelta(days=days)
    with db.session() as session:
        job_ids = list(session.scalars(select(Job.id).where(
            Job.finished < cutoff, Job.events_pruned.is_(False))))
    events_deleted = 0
    for job_id in job_ids:
        while True:
            with db.session() as session:
                ids = list(session.scalars(select(JobEvent.id).where(JobEvent.job_id == job_id).limit(batch)))
                if not ids:
                    session.execute(update(Job).where(Job.id == job_id).values(events_pruned=True))
                    break
                session.execute(delete(JobEvent).where(JobEvent.id.in_(ids)))
                events_deleted += len(ids)
        shutil.rmtree(Path(settings.data_dir) / "jobs" / str(job_id), ignore_errors=True)
    return {"jobs": len(job_ids), "events": events_deleted}
