"""One job run through ansible-runner.

- ``run_async`` with our own ``cancel_callback`` (ansible-runner then installs no signal
  handlers); a cancel kills the playbook's whole process group (ansible-runner's
  handle_termination does ``killpg``).
- ``suppress_env_files=True``: extra vars, environment and settings stay in memory and
  are not written under ``env/``. An SSH private key goes through ansible-runner's FIFO
  to ``ssh-agent`` (it is never a regular file); the FIFO lives in the job's 0700
  artifacts directory and is removed when ssh-agent has read it (or by us at the end).
- Extra vars (which may hold secrets) go to ansible-playbook as ``-e @file``: a 0600 file
  in the 0700 work directory, removed with it. Inline ``-e {json}`` would put them in the
  process list (/proc/*/cmdline is world-readable) and in the artifacts' ``command`` file.
- ``suppress_output_file``: no unmasked ``stdout`` copy in the artifacts directory; the
  stored (masked) events are the only stdout.
- Events: event_handler -> queue -> EventWriter (batched inserts). The final status is
  written together with ``event_processing_finished`` once every event is stored, so a
  finished job never has events still arriving (awx#10762).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import stat
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import ansible_runner
import yaml
from sqlalchemy import select

from .. import collection, task_playbook
from ..config import Settings
from ..db import Database
from ..errors import Invalid
from ..models import Job, JobEvent, WorkflowVersion, utcnow
from ..secrets import Redactor, SecretBox
from . import credentials as job_credentials
from . import inventory as inventory_mod
from . import policy, procs, redaction, unsafe
from .service import publish_status, set_status
from .writer import EventWriter

log = logging.getLogger("pureboot.jobs.runner")


@dataclass
class Plan:
    """What one run needs; purposes (post-install) may change it in prepare()."""

    playbook: str
    inventory: dict[str, Any]
    extravars: dict[str, Any]
    envvars: dict[str, str] = field(default_factory=dict)
    ssh_key: str | None = None
    # Run after the playbook whatever its outcome (same inventory and key), e.g. to
    # remove an install key; a separate run because Ansible stops at the first play
    # in which every host failed.
    cleanup_playbook: str | None = None


#: purpose -> object with prepare(session, settings, job, plan, workdir) and finish(db, settings, job_id)
PURPOSES: dict[str, Any] = {}


def _envvars(settings: Settings) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    env = {"PATH": venv_bin + os.pathsep + path, "ANSIBLE_FORCE_COLOR": "false",
           "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_NOCOLOR": "true"}
    tree = collection.collections_path()
    if tree is not None:
        env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
            [str(tree)] + [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p])
    return env


class _Stopper:
    """ansible-runner's cancel_callback: cancel on request (in-process event, or the job's
    cancel flag set by any process) or on our own timeout; then kill the whole run."""

    def __init__(self, db: Database, job_id: int, timeout: int, marker: str,
                 cancel_event: threading.Event | None, honour_cancel: bool = True):
        self.db, self.job_id, self.marker, self.event = db, job_id, marker, cancel_event
        self.honour_cancel = honour_cancel
        self.deadline = time.monotonic() + timeout if timeout else None
        self.last_poll = 0.0
        self.reason = ""

    def __call__(self) -> bool:
        if not self.reason:
            self.reason = self._why()
        if self.reason:
            procs.kill_run(self.marker)  # before runner's killpg: workers live in other groups
        return bool(self.reason)

    def _why(self) -> str:
        if self.event is not None and self.event.is_set():
            return "canceled"
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            return "timeout"
        if not self.honour_cancel or now - self.last_poll < 0.5:
            return ""
        self.last_poll = now
        with self.db.sessions() as session:
            flagged = session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        return "canceled" if flagged else ""


def _status_handler(db: Database, job_id: int) -> Callable[..., None]:
    def handle(data: dict[str, Any], runner_config=None) -> None:
        if data.get("status") == "running" and handle.first:
            handle.first = False
            set_status(db, job_id, "running", started=utcnow(), job_explanation="")
    handle.first = True
    return handle


def _failure_summary(db: Database, job_id: int) -> str:
    with db.sessions() as session:
        event = session.scalars(select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.failed.is_(True))
                                .order_by(JobEvent.counter).limit(1)).first()
    if event is None:
        return ""
    res = event.event_data.get("res") or {}
    msg = str(res.get("msg") or res.get("stderr") or "")[:500] if isinstance(res, dict) else ""
    what = event.event.removeprefix("runner_on_")
    return f"host {event.host}: task {event.task!r} {what}" + (f": {msg}" if msg else "")


def _outcome(db: Database, job: Job, runner, stopper: "_Stopper") -> tuple[str, str]:
    status, rc = runner.status, runner.rc
    if stopper.reason == "timeout":
        return "failed", f"timed out after {job.timeout} s; every process of the run was killed"
    if status == "canceled":
        return "canceled", "canceled on request; every process of the run was killed"
    if status == "successful":
        return "successful", ""
    if rc == 127:
        return "error", "ansible-playbook was not found on PATH (rc 127)"
    summary = _failure_summary(db, job.id)
    return "failed", f"playbook failed (rc {rc})" + (f"; first failure: {summary}" if summary else "")


def _materialize(session, playbook: str, workdir: Path) -> str:
    """A workflow version's playbook (its text, or its tasks translated) becomes a file of
    this run (project/workflow.yml)."""
    match = policy.WORKFLOW_PLAYBOOK.match(playbook)
    if match is None:
        return playbook
    version = session.get(WorkflowVersion, int(match.group(1)))
    if version is None:
        raise ValueError(f"{playbook}: no such workflow version")
    try:
        text = task_playbook.version_playbook(version, match.group(2))
    except task_playbook.TranslationError as exc:
        raise ValueError(f"{playbook}: {exc}") from None
    path = workdir / "project" / "workflow.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _plan(session, settings: Settings, job: Job, secrets: dict[str, str] | None, workdir: Path) -> Plan:
    # again at run time: playbook_dirs may have shrunk, a project may be gone or unsynced
    try:
        playbook = policy.check_playbook(settings, job.playbook, job.project)
    except Invalid as exc:  # a reason for the job's explanation, not a traceback
        raise ValueError("; ".join(m for ms in exc.errors.values() for m in ms)) from None
    plan = Plan(playbook=_materialize(session, playbook, workdir), inventory=inventory_mod.build(session, job.inventory),
                extravars=dict(job.extra_vars or {}), envvars=_envvars(settings))
    job_credentials.apply(session, SecretBox.for_settings(settings), job.id, job.credentials, plan)
    if secrets and secrets.get("ssh_private_key"):
        plan.ssh_key = secrets["ssh_private_key"]
    if job.purpose in PURPOSES:
        PURPOSES[job.purpose].prepare(session, settings, job, plan, workdir)
    if not plan.inventory["all"]["hosts"]:
        raise ValueError("the inventory has no hosts (registry nodes need a routable IP address: never loopback, unspecified or multicast)")
    return plan


def _drain_fifo(artifacts: Path) -> None:
    """Unblock ansible-runner's FIFO writer thread if ssh-agent never read the key."""
    for fifo in artifacts.rglob("ssh_key_data"):
        if stat.S_ISFIFO(fifo.lstat().st_mode):
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                while os.read(fd, 65536):
                    pass
            except BlockingIOError:
                pass
            finally:
                os.close(fd)
            fifo.unlink(missing_ok=True)


def run_job(db: Database, settings: Settings, job_id: int, *, secrets: dict[str, str] | None = None,
            cancel_event: threading.Event | None = None, execution_node: str = "") -> str:
    """Run job `job_id` to the end; returns its final status. Never raises."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status not in ("new", "pending"):
            return job.status if job else "missing"
        if job.cancel_requested:
            return "canceled"
        job.status, job.job_explanation = "waiting", "preparing the run"
        if execution_node:
            job.execution_node = execution_node
        publish_status(session, job)

    workdir = Path(tempfile.mkdtemp(prefix=f"pureboot-job-{job_id}-"))  # mode 0700
    marker = f"{job_id}-{uuid.uuid4().hex}"
    artifacts = Path(settings.data_dir) / "jobs" / str(job_id)
    artifacts.mkdir(parents=True, exist_ok=True, mode=0o700)
    writer = EventWriter(db, job_id, batch_size=settings.job_event_batch_size)
    finished, runner, stopper, failure, traceback_text, cleanup_failure = None, None, None, "", "", ""
    redactor = Redactor([])
    try:
        with db.session() as session:
            job = session.get(Job, job_id)
            plan = _plan(session, settings, job, secrets, workdir)
            redactor = redaction.build(session, SecretBox.for_settings(settings), plan.extravars, plan.ssh_key,
                                       secrets)
        writer.redact = lambda event: redaction.redact_data(event, redactor)
        plan.envvars[procs.ENV_NAME] = marker
        stopper = _Stopper(db, job_id, job.timeout, marker, cancel_event)
        runner = _run(workdir, artifacts, "run", plan, plan.playbook, job, _event_handler(db, job, writer),
                      stopper, _status_handler(db, job_id))
        finished = utcnow()
        if plan.cleanup_playbook:
            writer.next_run()
            cleanup = _run(workdir, artifacts, "cleanup", plan, plan.cleanup_playbook, job, writer.handler,
                           _Stopper(db, job_id, 300, marker, None, honour_cancel=False), None)
            if cleanup.status != "successful":
                cleanup_failure = f"cleanup playbook {cleanup.status} (rc {cleanup.rc})"
    except ValueError as exc:  # a job that cannot run as defined (no hosts, no key, ...)
        log.warning("job %s could not run: %s", job_id, exc)
        failure = f"the job could not run: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure becomes the job's error, with a reason
        log.exception("job %s could not run", job_id)
        failure, traceback_text = f"the job could not run: {exc}", traceback.format_exc()
    finally:
        procs.kill_run(marker)  # nothing of the run outlives it
        _drain_fifo(artifacts)
        shutil.rmtree(workdir, ignore_errors=True)
    try:
        writer.close()  # every event stored before the outcome is computed and published
    except RuntimeError as exc:
        failure = f"{failure}; {exc}".lstrip("; ")
    if failure:
        status, explanation, rc = "error", failure, getattr(runner, "rc", None)
    else:
        status, explanation = _outcome(db, job, runner, stopper)
        rc = runner.rc
    if cleanup_failure:  # e.g. an install key left on the host: not a success
        status = "failed" if status == "successful" else status
        explanation = f"{explanation}; {cleanup_failure}".lstrip("; ")
    _finalize(db, job_id, status, redactor(explanation), rc, finished, redactor(traceback_text), str(artifacts))
    if job.purpose in PURPOSES:
        PURPOSES[job.purpose].finish(db, settings, job_id)
    return status


def _event_handler(db: Database, job: Job, writer: EventWriter) -> Callable[[dict[str, Any]], bool]:
    """The writer's handler, after the purpose's own look at each event (provisioning progress)."""
    watcher = getattr(PURPOSES.get(job.purpose), "on_event", None)
    if watcher is None:
        return writer.handler
    job_id = job.id

    def handle(event: dict[str, Any]) -> bool:
        try:
            watcher(db, job_id, event, writer.redact)
        except Exception:  # noqa: BLE001 - progress is best effort; the event is stored regardless
            log.exception("job %s: the %s event hook failed", job_id, job.purpose)
        return writer.handler(event)
    return handle


def _run(workdir: Path, artifacts: Path, ident: str, plan: Plan, playbook: str, job: Job,
         events: Callable[[dict[str, Any]], bool], stopper: "_Stopper", status_handler):
    thread, runner = ansible_runner.run_async(
        private_data_dir=str(workdir), artifact_dir=str(artifacts), ident=ident,
        playbook=playbook, inventory=plan.inventory, cmdline="-e " + shlex.quote("@" + _extravars_file(workdir, plan)),
        envvars=plan.envvars, ssh_key=plan.ssh_key, limit=job.limit or None, forks=job.forks,
        verbosity=job.verbosity or None, suppress_env_files=True, quiet=True, settings=_settings_file(workdir),
        event_handler=events, status_handler=status_handler, cancel_callback=stopper)
    thread.join()
    return runner


RUNNER_SETTINGS = {"pexpect_timeout": 0.2, "suppress_ansible_output": True, "suppress_output_file": True}


def _settings_file(workdir: Path) -> dict[str, Any]:
    """ansible-runner replaces the ``settings`` argument with {} when env/settings is missing
    (config/_base.py prepare_env), so the settings (no secrets) are also written there."""
    (workdir / "env").mkdir(exist_ok=True)
    (workdir / "env" / "settings").write_text(json.dumps(RUNNER_SETTINGS))
    return dict(RUNNER_SETTINGS)


def _extravars_file(workdir: Path, plan: Plan) -> str:
    """YAML, so strings that look like Jinja are tagged ``!unsafe``: a ``lookup('pipe', ...)``
    in a job's extra vars would otherwise run on the controller (jobs/policy.py)."""
    path = workdir / "extravars.yml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.dump(unsafe.mark(plan.extravars), fh, Dumper=unsafe.Dumper)
    return str(path)


def _finalize(db, job_id, status, explanation, rc, finished, traceback_text, artifacts) -> None:
    now = utcnow()
    with db.session() as session:
        job = session.get(Job, job_id)
        job.finished = finished or now
        job.elapsed = round((job.finished - job.started).total_seconds(), 3) if job.started else 0.0
        job.rc = rc
        job.status, job.job_explanation = status, explanation
        job.result_traceback = traceback_text
        job.artifacts_dir = artifacts
        job.event_processing_finished, job.events_finished_at = True, now
        publish_status(session, job)
