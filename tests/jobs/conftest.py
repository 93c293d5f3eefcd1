"""Job system fixtures: an app per executor (thread, celery with a real worker process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pureboot.app import create_app
from tests.support.auth import BearerClient, mint_token

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).parent / "playbooks"
VENV_BIN = Path(sys.executable).parent
BROKER = os.environ.get("PUREBOOT_TEST_BROKER", "redis://127.0.0.1:6379/0")
EXECUTORS = ["thread", "celery"]
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
FINISHED = ("successful", "failed", "error", "canceled")
# Controller and Celery workers share the SecretBox keys (they have different data dirs here),
# as a deployment must: workers decrypt install keys and mask stored secrets in job output.
SECRET_KEYS = Fernet.generate_key().decode()


def local_hosts(*names: str) -> dict:
    return {"hosts": {name: dict(LOCAL) for name in names}}


class CeleryWorker:
    """A real `celery worker` process for one database; stopped by its PID."""

    def __init__(self, database_url: str, data_dir: Path):
        self.queue = f"pb-jobs-test-{os.getpid()}-{abs(hash(database_url)) % 10**6}"
        self.log = data_dir / "celery.log"
        env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}", PATH=f"{VENV_BIN}:{os.environ['PATH']}",
                   PUREBOOT_DATABASE_URL=database_url, PUREBOOT_DATA_DIR=str(data_dir),
                   PUREBOOT_SECRET_KEY="test-secret", PUREBOOT_SECRET_KEYS=SECRET_KEYS,
                   PUREBOOT_CELERY_BROKER_URL=BROKER,
                   PUREBOOT_CELERY_QUEUE=self.queue, PUREBOOT_CHECK_MIGRATIONS="false",
                   PUREBOOT_PLAYBOOK_DIRS=str(PLAYBOOKS))  # workers re-check the playbook at run time
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "pureboot.jobs.celery_app", "worker", "-Q", self.queue,
             "--concurrency", "2", "-n", f"{self.queue}@%h", "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while b" ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the worker and its pool children
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="session")
def celery_workers(tmp_path_factory):
    workers: dict[str, CeleryWorker] = {}

    def get(database_url: str) -> CeleryWorker:
        if database_url not in workers:
            workers[database_url] = CeleryWorker(database_url, tmp_path_factory.mktemp("celery"))
        return workers[database_url]
    yield get
    for worker in workers.values():
        worker.stop()


def _make_app(settings, **overrides):
    application = create_app(settings.with_overrides(**overrides))
    application.config["TESTING"] = True
    application.test_client_class = BearerClient
    return application


@pytest.fixture(params=EXECUTORS)
def executor(request):
    return request.param


@pytest.fixture
def jobs_app(request, settings, database_url, executor, celery_workers):
    overrides = dict(getattr(request, "param", {}) or {})
    overrides["job_executor"] = executor
    overrides["secret_keys"] = SECRET_KEYS
    overrides.setdefault("playbook_dirs", str(PLAYBOOKS))
    if executor == "celery":
        worker = celery_workers(database_url)
        overrides.update(celery_broker_url=BROKER, celery_queue=worker.queue)
    application = _make_app(settings, **overrides)
    yield application
    application.extensions["pureboot.jobs"].shutdown()
    application.extensions["pureboot.db"].dispose()


@pytest.fixture
def jobs_client(jobs_app):
    return jobs_app.test_client(token=mint_token(jobs_app, "admin"))  # authenticated as an admin


def wait_job(client, job_id: int, timeout: float = 90, until=FINISHED) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").get_json()
        if job["status"] in until and (job["status"] not in FINISHED or job["event_processing_finished"]):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']}: {job}")
        time.sleep(0.1)


def make_template(client, name="t", playbook="hello.yml", inventory=None, **extra) -> dict:
    body = {"name": name, "playbook": str(PLAYBOOKS / playbook),
            "inventory": inventory or local_hosts("localhost"), **extra}
    response = client.post("/api/v1/job_templates", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def all_events(client, job_id: int, query: str = "") -> list[dict]:
    events, url = [], f"/api/v1/jobs/{job_id}/events?page_size=200{query}"
    while url:
        page = client.get(url).get_json()
        events += page["results"]
        url = page["next"]
    return events
