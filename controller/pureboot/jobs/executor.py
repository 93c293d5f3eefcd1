"""Where jobs run: one interface, two implementations chosen by ``job_executor``.

- ``thread`` (default): a pool of worker threads in the controller process.
- ``celery``: Celery workers fed through a broker (``celery_broker_url``); see celery_app.

Both run :func:`pureboot.jobs.runner.run_job`; cancel works through the job's
``cancel_requested`` flag (any process), the thread executor also signals in memory.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import or_, select

from .. import events
from ..config import Settings
from ..db import Database
from ..errors import Invalid
from ..models import Job
from ..models.job import ACTIVE_STATUSES
from .runner import run_job
from .service import status_payload, this_process

log = logging.getLogger("pureboot.jobs")


class Executor(ABC):
    name = ""

    def __init__(self, settings: Settings, db: Database):
        self.settings, self.db = settings, db

    @abstractmethod
    def submit(self, job_id: int, secrets: dict[str, str] | None = None) -> str:
        """Queue a job; returns why it is pending (shown as job_explanation)."""

    def cancel(self, job_id: int) -> None:  # noqa: B027 - optional fast path
        """Fast path for a cancel already flagged in the database (optional)."""

    def shutdown(self, wait: bool = True) -> None:  # noqa: B027 - nothing to stop by default
        pass


class ThreadExecutor(Executor):
    name = "thread"

    def __init__(self, settings: Settings, db: Database):
        super().__init__(settings, db)
        self.pool = ThreadPoolExecutor(max_workers=settings.job_workers, thread_name_prefix="pureboot-job")
        self.lock = threading.Lock()
        self.cancel_events: dict[int, threading.Event] = {}
        self.queued = 0

    def submit(self, job_id: int, secrets: dict[str, str] | None = None) -> str:
        event = threading.Event()
        with self.lock:
            self.cancel_events[job_id] = event
            self.queued += 1
            ahead = self.queued - 1
        self.pool.submit(self._run, job_id, secrets, event)
        slots = self.settings.job_workers
        if ahead >= slots:
            return (f"waiting for a free job worker: {slots} of {slots} busy in {this_process()}, "
                    f"{ahead - slots} other job(s) queued ahead")
        return f"queued for a job worker thread in {this_process()}"

    def _run(self, job_id: int, secrets, event: threading.Event) -> None:
        try:
            run_job(self.db, self.settings, job_id, secrets=secrets, cancel_event=event,
                    execution_node=this_process())
        finally:
            with self.lock:
                self.cancel_events.pop(job_id, None)
                self.queued -= 1

    def cancel(self, job_id: int) -> None:
        with self.lock:
            event = self.cancel_events.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self, wait: bool = True) -> None:
        with self.lock:
            for event in self.cancel_events.values():
                event.set()
        self.pool.shutdown(wait=wait, cancel_futures=True)


class CeleryExecutor(Executor):
    name = "celery"

    def __init__(self, settings: Settings, db: Database):
        super().__init__(settings, db)
        from .celery_app import make_celery
        self.app = make_celery(settings)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.watcher: threading.Thread | None = None

    def submit(self, job_id: int, secrets: dict[str, str] | None = None) -> str:
        self._watch()
        if secrets:
            # Secrets never travel through the broker; Celery jobs use stored credentials.
            raise Invalid("in-memory secrets need the thread executor; use a stored credential with Celery")
        self.app.send_task("pureboot.run_job", args=[job_id], queue=self.settings.celery_queue)
        return (f"queued in the Celery broker (queue {self.settings.celery_queue}); "
                "waiting for a Celery worker to take it")

    def _watch(self) -> None:
        """Status changes happen in the workers: mirror them to this process's event streams."""
        with self.lock:
            if self.watcher is None:
                self.watcher = threading.Thread(target=self._watch_loop, name="pureboot-celery-watch", daemon=True)
                self.watcher.start()

    def _watch_loop(self) -> None:
        known: dict[int, str] = {}
        while not self.stop.wait(0.5):
            try:
                known = self._poll(known)
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.exception("celery job watcher: poll failed")

    def _poll(self, known: dict[int, str]) -> dict[int, str]:
        with self.db.sessions() as session:
            rows = session.execute(select(Job).where(Job.executor == "celery", or_(
                Job.status.in_(ACTIVE_STATUSES), Job.id.in_(list(known) or [0])))).scalars().all()
            current = {job.id: job.status for job in rows}
            for job in rows:
                if known.get(job.id, "new") != job.status:
                    events.publish("job.status", status_payload(job), listeners=False)
        return {job_id: status for job_id, status in current.items() if status in ACTIVE_STATUSES}

    def shutdown(self, wait: bool = True) -> None:
        self.stop.set()
        self.app.close()


EXECUTORS = {"thread": ThreadExecutor, "celery": CeleryExecutor}


def make_executor(settings: Settings, db: Database) -> Executor:
    try:
        kind = EXECUTORS[settings.job_executor]
    except KeyError:
        raise ValueError(f"job_executor must be one of {', '.join(EXECUTORS)}, got {settings.job_executor!r}") from None
    return kind(settings, db)
