"""Job templates, launch, events, stdout, cancel and relaunch: on both executors."""

from __future__ import annotations

import time
from pathlib import Path

from .conftest import all_events, local_hosts, make_template, wait_job


def test_launch_runs_playbook_and_stores_every_event_once(jobs_client, executor):
    template = make_template(jobs_client, extra_vars={"greeting": "pureboot", "db_password": "hunter2"})
    assert template["extra_vars"]["db_password"] == "$encrypted$"
    response = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={})
    assert response.status_code == 201, response.get_json()
    launched = response.get_json()
    assert launched["job"] == launched["id"] and launched["status"] in ("pending", "waiting", "running")
    if launched["status"] in ("pending", "waiting"):
        assert launched["job_explanation"]  # why it waits, never silently pending
    job = wait_job(jobs_client, launched["job"])
    assert job["status"] == "successful", job
    assert job["executor"] == executor and job["started"] and job["finished"] and job["elapsed"] > 0
    assert job["extra_vars"]["db_password"] == "$encrypted$" and "result_traceback" not in job
    events = all_events(jobs_client, job["id"])
    counters = [e["counter"] for e in events]
    assert counters == list(range(1, len(events) + 1)) and job["event_count"] == len(events)
    assert events[0]["event"] == "playbook_on_start" and events[-1]["event"] == "playbook_on_stats"
    ok = [e for e in events if e["event"] == "runner_on_ok"]
    assert ok and ok[0]["host"] == "localhost" and ok[0]["task"] == "Say hello"
    text = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt").get_data(as_text=True)
    assert "hello pureboot from localhost" in text and "hunter2" not in text
    data = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=json&start_line=0&end_line=3").get_json()
    assert data["range"]["start"] == 0 and data["range"]["end"] <= 3 and len(data["content"].split("\n")) <= 3
    listed = jobs_client.get(f"/api/v1/jobs?status=successful&template={template['id']}").get_json()
    assert [j["id"] for j in listed["results"]] == [job["id"]]


def test_launch_refuses_fields_the_template_does_not_prompt_for(jobs_client):
    template = make_template(jobs_client, ask_extra_vars_on_launch=True)
    refused = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={"limit": "x", "forks": 2})
    assert refused.status_code == 400
    assert refused.get_json()["ignored_fields"] == {"limit": "x", "forks": 2}
    assert jobs_client.get("/api/v1/jobs").get_json()["count"] == 0  # nothing half-created
    launched = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch",
                                json={"extra_vars": {"greeting": "prompted"}}).get_json()
    job = wait_job(jobs_client, launched["job"])
    assert job["status"] == "successful"
    assert "hello prompted" in jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout").get_data(as_text=True)


def test_cancel_kills_the_process_group(jobs_client, tmp_path):
    pidfile = tmp_path / "sleeper.pid"
    template = make_template(jobs_client, playbook="sleep.yml", extra_vars={"pidfile": str(pidfile)})
    job_id = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the playbook never started its sleep"
        time.sleep(0.1)
    pid = int(pidfile.read_text())
    response = jobs_client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 202
    job = wait_job(jobs_client, job_id, timeout=30)
    assert job["status"] == "canceled" and "killed" in job["job_explanation"]
    deadline = time.monotonic() + 10
    while _alive(pid):
        assert time.monotonic() < deadline, f"sleep {pid} survived the cancel"
        time.sleep(0.1)
    again = jobs_client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_failed_host_relaunch_and_event_filters(jobs_client):
    template = make_template(jobs_client, playbook="fail_h2.yml", inventory=local_hosts("h1", "h2"))
    job_id = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
    job = wait_job(jobs_client, job_id)
    assert job["status"] == "failed"
    assert "h2" in job["job_explanation"] and "Check the host" in job["job_explanation"]
    failed = all_events(jobs_client, job_id, "&failed=true")
    assert [(e["host"], e["event"]) for e in failed] == [("h2", "runner_on_failed")]
    h1 = all_events(jobs_client, job_id, "&host=h1&event=runner_on_ok")
    assert [e["task"] for e in h1] == ["After the check"]
    relaunched = jobs_client.post(f"/api/v1/jobs/{job_id}/relaunch", json={"hosts": "failed"})
    assert relaunched.status_code == 201, relaunched.get_json()
    again = wait_job(jobs_client, relaunched.get_json()["id"])
    assert again["limit"] == "h2" and again["relaunch_of"] == job_id and again["status"] == "failed"
    hosts = {e["host"] for e in all_events(jobs_client, again["id"]) if e["host"]}
    assert hosts == {"h2"}
    bad = jobs_client.post(f"/api/v1/jobs/{job_id}/relaunch", json={"hosts": "some"})
    assert bad.status_code == 422
