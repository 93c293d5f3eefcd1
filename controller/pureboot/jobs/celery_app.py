"""Celery side of the job system.

Run a worker with the controller's settings (PUREBOOT_* environment or PUREBOOT_CONFIG)::

    celery -A pureboot.jobs.celery_app worker -Q pureboot-jobs --concurrency 4

Only job ids travel through the broker; the worker reads the job (and any stored
credential) from the database. At start a worker marks the jobs it was running
before it stopped as error, with an explanation.
"""

from __future__ import annotations

import logging

from celery import Celery, signals

from ..config import Settings, load_settings
from ..db import Database

log = logging.getLogger("pureboot.jobs.celery")


def make_celery(settings: Settings) -> Celery:
    app = Celery("pureboot", broker=settings.celery_broker_url, set_as_current=False)
    app.conf.update(task_default_queue=settings.celery_queue, task_acks_late=False,
                    worker_prefetch_multiplier=1, task_serializer="json", accept_content=["json"],
                    result_backend=None, task_ignore_result=True, broker_connection_retry_on_startup=True,
                    worker_hijack_root_logger=False)
    return app


# -- worker process ------------------------------------------------------------------------
settings = load_settings()
app = make_celery(settings)
_db: Database | None = None


def _database() -> Database:
    global _db
    if _db is None:
        _db = Database(settings.database_uri)
    return _db


_webhooks = None


def _start_webhooks() -> None:
    """Job status changes are published in this process: deliver them to webhooks here."""
    global _webhooks
    if _webhooks is None:
        from types import SimpleNamespace

        from .. import events
        from ..services.webhooks import init_app
        events.configure(settings.event_retention_hours)
        _webhooks = init_app(SimpleNamespace(extensions={}), settings, _database(),
                             backoff=settings.webhook_retry_backoff)


@app.task(name="pureboot.run_job")
def run_job_task(job_id: int) -> str:
    from celery import current_task

    from . import purposes  # noqa: F401  (post-install, provision: as in the controller)
    from .runner import run_job
    _start_webhooks()
    node = f"celery:{current_task.request.hostname}"
    return run_job(_database(), settings, job_id, execution_node=node)


@signals.worker_ready.connect
def _recover(sender=None, **kwargs) -> None:
    from .service import recover_orphans
    count = recover_orphans(_database(), executor="celery", node_prefix=f"celery:{sender.hostname}")
    if count:
        log.warning("marked %d job(s) left running by this worker as error", count)
