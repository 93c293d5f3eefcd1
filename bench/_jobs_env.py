"""Shared set-up of the job benchmarks: a migrated database, an app, optionally a Celery worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "controller"), str(ROOT)]

from pureboot.app import create_app  # noqa: E402
from pureboot.migrate import upgrade  # noqa: E402

VENV_BIN = Path(sys.executable).parent
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


@contextmanager
def celery_worker(env: dict[str, str], queue: str, log: Path):
    proc = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "pureboot.jobs.celery_app", "worker", "-Q", queue, "--concurrency", "2",
         "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(0.5)
        deadline = time.monotonic() + 60
        while b"ready" not in log.read_bytes() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


@contextmanager
def job_app(executor: str, database_url: str | None, broker: str):
    """An app with the given executor; a Celery worker runs beside it when asked."""
    with tempfile.TemporaryDirectory(prefix="pb-jobs-bench-") as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.db"
        queue = f"pb-jobs-bench-{os.getpid()}"
        overrides = {"data_dir": tmp, "database_url": url, "secret_key": "bench", "job_executor": executor,
                     "celery_broker_url": broker, "celery_queue": queue, "job_prune_interval": 0}
        upgrade(create_app.__globals__["load_settings"](overrides).database_uri)
        app = create_app(overrides)
        try:
            if executor == "celery":
                env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}",
                           PATH=f"{VENV_BIN}:{os.environ['PATH']}",
                           PUREBOOT_DATABASE_URL=url, PUREBOOT_DATA_DIR=tmp, PUREBOOT_SECRET_KEY="bench",
                           PUREBOOT_CELERY_BROKER_URL=broker, PUREBOOT_CELERY_QUEUE=queue)
                with celery_worker(env, queue, Path(tmp) / "celery.log"):
                    yield app, Path(tmp)
            else:
                yield app, Path(tmp)
        finally:
            app.extensions["pureboot.jobs"].shutdown()
            app.extensions["pureboot.webhooks"].shutdown()
            app.extensions["pureboot.db"].dispose()


def stats(values: list[float]) -> str:
    values = sorted(values)
    median = values[len(values) // 2] if len(values) % 2 else sum(values[len(values) // 2 - 1:][:2]) / 2
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return f"median {median:.3f} s, p90 {p90:.3f} s, min {values[0]:.3f} s, max {values[-1]:.3f} s (n={len(values)})"
