"""The job system of one controller process: executor, launch/cancel, periodic prune."""

from __future__ import annotations

import logging
import socket
import threading

from flask import Flask, current_app
from sqlalchemy import update

from ..config import Settings
from ..db import Database
from . import service
from .executor import Executor, make_executor

log = logging.getLogger("pureboot.jobs")


class JobSystem:
    def __init__(self, settings: Settings, db: Database):
        self.settings, self.db = settings, db
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pruner: threading.Thread | None = None

    @property
    def executor(self) -> Executor:
        """Created on first use, so an app that never runs a job starts no threads."""
        with self._lock:
            if self._executor is None:
                self._executor = make_executor(self.settings, self.db)
                self._start_pruner()
            return self._executor

    def submit(self, job_id: int, secrets: dict[str, str] | None = None) -> None:
        """Hand a committed 'new' job to the executor and say why it waits (awx#1487)."""
        try:
            why = self.executor.submit(job_id, secrets)
        except Exception as exc:
            service.set_status(self.db, job_id, "error", job_explanation=f"could not queue the job: {exc}",
                               event_processing_finished=True, finished=service.utcnow())
            raise
        with self.db.session() as session:
            # Conditional: a fast worker may already have moved the job on (no lost update).
            moved = session.execute(update(service.Job).where(
                service.Job.id == job_id, service.Job.status == "new").values(
                status="pending", job_explanation=why)).rowcount
            if moved:
                service.publish_status(session, session.get(service.Job, job_id))

    def cancel(self, job_id: int) -> None:
        if self._executor is not None:
            self._executor.cancel(job_id)

    def _start_pruner(self) -> None:
        if self.settings.job_prune_interval <= 0:
            return
        self._pruner = threading.Thread(target=self._prune_loop, name="pureboot-job-prune", daemon=True)
        self._pruner.start()

    def _prune_loop(self) -> None:
        while not self._stop.wait(self.settings.job_prune_interval):
            try:
                result = service.prune(self.db, self.settings)
                if result["events"]:
                    log.info("pruned %(events)d events of %(jobs)d jobs", result)
            except Exception:  # noqa: BLE001 - try again next interval
                log.exception("job event prune failed")

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        if self._executor is not None:
            self._executor.shutdown(wait=wait)


def init_app(app: Flask, settings: Settings, db: Database) -> JobSystem:
    from . import post_install, purposes  # noqa: F401  (register the purposes and hooks)
    post_install.SETTINGS = settings
    system = JobSystem(settings, db)
    app.extensions["pureboot.jobs"] = system
    try:
        # Only this host's: another controller host may be running its own thread jobs.
        count = service.recover_orphans(db, executor="thread", node_prefix=f"{socket.gethostname()}:",
                                        alive=service.pid_alive)
        if count:
            log.warning("marked %d job(s) of stopped controller processes as error", count)
    except Exception:  # noqa: BLE001 - e.g. tables not migrated yet: check_migrated reports that
        log.exception("could not check for jobs left running")
    return system


def get_jobs() -> JobSystem:
    return current_app.extensions["pureboot.jobs"]
