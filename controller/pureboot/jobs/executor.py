"""Where jobs run: one interface, two implementations chosen by ``job_executor``.

- ``thread`` (default): a pool of worker threads in the controller process.
- ``celery``: Celery workers fed through a broker (``celery_broker_url``); see celery_app.

Both run :func:`pureboot.jobs.runner.run_job`; cancel works through the job's
``cancel_requested`` flag (any process), the thread executor also signals in memory.
Status events are written by whichever process changes the status (pureboot.events),
so every controller process streams them without mirroring.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor

from ..config import Settings
from ..db import Database
from ..errors import Invalid
from .runner import run_job
from .service import this_process

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

    def submit(self, job_id: int, secrets: dict[str, str] | None = None) -> str:
        if secrets:
            # Secrets never travel through the broker; Celery jobs use stored credentials.
            raise Invalid("in-memory secrets need the thread executor; use a stored credential with Celery")
        self.app.send_task("pureboot.run_job", args=[job_id], queue=self.settings.celery_queue)
        return (f"queued in the Celery broker (queue {self.settings.celery_queue}); "
                "waiting for a Celery worker to take it")

    def shutdown(self, wait: bool = True) -> None:
        self.app.close()


EXECUTORS = {"thread": ThreadExecutor, "celery": CeleryExecutor}


def make_executor(settings: Settings, db: Database) -> Executor:
    try:
        kind = EXECUTORS[settings.job_executor]
    except KeyError:
        raise ValueError(f"job_executor must be one of {', '.join(EXECUTORS)}, got {settings.job_executor!r}") from None
    return kind(settings, db)
