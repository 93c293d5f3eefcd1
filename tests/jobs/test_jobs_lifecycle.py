"""Stdout size cap, restart recovery, retention pruning (CLI)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pureboot.app import create_app
from pureboot.cli import main
from pureboot.models import Job, JobEvent, utcnow

from .conftest import make_template, wait_job


@pytest.mark.parametrize("executor", ["thread"])
@pytest.mark.parametrize("jobs_app", [{"job_stdout_max_bytes": 2000}], indirect=True)
def test_stdout_above_the_cap_is_download_only(jobs_client):
    template = make_template(jobs_client, playbook="many.yml", extra_vars={"count": 60})
    job = wait_job(jobs_client, jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch",
                                                 json={}).get_json()["job"])
    assert job["status"] == "successful" and job["stdout_bytes"] > 2000
    for fmt in ("txt", "json"):
        refused = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format={fmt}")
        assert refused.status_code == 413 and refused.is_json
        assert "txt_download" in refused.get_json()["message"]
    download = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt_download")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert all(f'"msg": "item {i}"' in text for i in range(60))
    part = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=json&start_line=5&end_line=15").get_json()
    assert part["range"] == {"start": 5, "end": 15, "absolute_end": job["stdout_lines"]}
    assert part["content"].split("\n") == text.split("\n")[5:15]
    assert jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=html").status_code == 422


def test_restart_marks_jobs_of_a_dead_process_as_error(settings, db):
    with db.session() as session:
        for status in ("new", "pending", "waiting", "running", "successful"):
            session.add(Job(name=status, playbook="x.yml", launched_by="t", status=status,
                            executor="thread", execution_node=f"{__import__('socket').gethostname()}:999999999"))
        session.add(Job(name="celery", playbook="x.yml", launched_by="t", status="running",
                        executor="celery", execution_node="celery:w1@h"))
    restarted = create_app(settings)
    try:
        with db.session() as session:
            jobs = {j.name: j for j in session.scalars(select(Job))}
    finally:
        restarted.extensions["pureboot.db"].dispose()
    for name in ("new", "pending", "waiting", "running"):
        assert jobs[name].status == "error", name
        assert f"while the job was {name}" in jobs[name].job_explanation
        assert jobs[name].event_processing_finished
    assert jobs["successful"].status == "successful"
    assert jobs["celery"].status == "running"  # a Celery worker recovers its own jobs at start


def test_prune_deletes_old_events_only(settings, db, monkeypatch):
    with db.session() as session:
        old = Job(name="old", playbook="x", launched_by="t", status="successful",
                  finished=utcnow() - timedelta(days=40))
        new = Job(name="new", playbook="x", launched_by="t", status="successful", finished=utcnow())
        session.add_all([old, new])
        session.flush()
        for job in (old, new):
            session.add_all([JobEvent(job_id=job.id, counter=i, event="verbose", stdout=f"line {i}")
                             for i in range(1, 8)])
    for key, value in {"PUREBOOT_DATABASE_URL": settings.database_url, "PUREBOOT_DATA_DIR": settings.data_dir,
                       "PUREBOOT_SECRET_KEY": "test-secret"}.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["jobs", "prune", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "pruned 7 event(s) of 1 job(s)" in result.output
    with db.session() as session:
        left = dict(session.execute(select(JobEvent.job_id, func.count()).group_by(JobEvent.job_id)).all())
        assert left == {new.id: 7}
        assert session.get(Job, old.id).events_pruned and not session.get(Job, new.id).events_pruned


@pytest.mark.parametrize("executor", ["thread"])
def test_timeout_fails_the_job_and_kills_the_run(jobs_client, tmp_path):
    pidfile = tmp_path / "sleeper.pid"
    # 8 s: ansible-playbook must reach the sleeper task first (seconds on a loaded 2-core box);
    # the timeout is now enforced within ~0.2 s (ansible-runner's pexpect_timeout really applies).
    template = make_template(jobs_client, playbook="sleep.yml", extra_vars={"pidfile": str(pidfile)}, timeout=8)
    job = wait_job(jobs_client, jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch",
                                                 json={}).get_json()["job"], timeout=60)
    assert job["status"] == "failed" and job["job_explanation"].startswith("timed out after 8 s")
    assert 8 <= job["elapsed"] < 30
    pid = int(pidfile.read_text())
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] if Path(f"/proc/{pid}").exists() else "gone"
    assert state in ("gone", "Z")


@pytest.mark.parametrize("executor", ["thread"])
def test_jobs_see_the_pureboot_collection_and_venv_tools(jobs_client):
    """ANSIBLE_COLLECTIONS_PATH holds this checkout's collection; PATH starts with the venv's bin."""
    template = make_template(jobs_client, playbook="env_check.yml")
    job = wait_job(jobs_client, jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch",
                                                 json={}).get_json()["job"])
    text = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout").get_data(as_text=True)
    assert job["status"] == "successful", text
    from pureboot.collection import collections_path
    # ansible-galaxy prints nothing (rc 0) when it cannot find the collection
    assert "pureboot.pureboot" in text and str(collections_path() / "ansible_collections") in text


@pytest.mark.parametrize("executor", ["thread"])
@pytest.mark.parametrize("jobs_app", [{"job_workers": 1}], indirect=True)
def test_pending_job_says_why_and_runs_when_a_worker_frees(jobs_client, tmp_path):
    pidfile = tmp_path / "sleeper.pid"
    sleeper = make_template(jobs_client, name="sleeper", playbook="sleep.yml", extra_vars={"pidfile": str(pidfile)})
    hello = make_template(jobs_client, name="hello")
    first = jobs_client.post(f"/api/v1/job_templates/{sleeper['id']}/launch", json={}).get_json()["job"]
    second = jobs_client.post(f"/api/v1/job_templates/{hello['id']}/launch", json={}).get_json()
    assert second["status"] == "pending"
    assert second["job_explanation"].startswith("waiting for a free job worker: 1 of 1 busy")
    assert jobs_client.get(f"/api/v1/jobs/{second['id']}").get_json()["status"] == "pending"
    assert jobs_client.post(f"/api/v1/jobs/{first}/cancel").status_code == 202
    assert wait_job(jobs_client, first)["status"] == "canceled"
    assert wait_job(jobs_client, second["id"])["status"] == "successful"
