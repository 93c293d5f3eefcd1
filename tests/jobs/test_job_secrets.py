"""Secrets a job knows never reach its stored stdout, events, explanation or logs (issue #7),
while the playbook itself still gets the real values."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from pureboot.models import Job, JobEvent
from pureboot.secrets import Redactor

from tests.controller.helpers import ok

from .conftest import all_events, make_template, wait_job

PLANTED = 'PLANTED-job-s3cr3t-"q"-91ab'  # a quote: also its JSON-escaped echo must be masked
STORED = "PLANTED-bmc-pass-5e0d77"  # a stored credential the play reads from a file (not via PureBoot)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _everything(client, db, job_id: int) -> str:
    """Every place a job's output can be read: stored rows and each API shape."""
    with db.session() as session:
        rows = [(e.stdout, e.event_data, e.task, e.play) for e in session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id))]
        job = session.get(Job, job_id)
        stored = json.dumps(rows, default=str) + job.job_explanation + (job.result_traceback or "")
    api = [client.get(f"/api/v1/jobs/{job_id}/stdout?format={fmt}").get_data(as_text=True)
           for fmt in ("txt", "json", "txt_download")]
    api.append(json.dumps(all_events(client, job_id)))
    api.append(client.get(f"/api/v1/jobs/{job_id}").get_data(as_text=True))
    return stored + "\n".join(api)


def _leaks(text: str) -> list[str]:
    escaped = json.dumps(PLANTED)[1:-1]
    return [s for s in (PLANTED, escaped, STORED, PLANTED[8:], STORED[8:]) if s in text]


@pytest.mark.parametrize("fail", [False, True], ids=["ok", "failing"])
def test_job_output_masks_secrets_and_the_job_still_uses_them(jobs_client, jobs_app, executor, tmp_path, caplog,
                                                             fail):
    caplog.set_level(logging.DEBUG)
    created = jobs_client.post("/api/v1/credentials", json={"name": "bmc", "kind": "bmc",
                                                            "secrets": {"password": STORED}})
    assert created.status_code == 201, created.get_json()
    out, note = tmp_path / "used.txt", tmp_path / "note.txt"
    note.write_text(STORED)
    template = make_template(jobs_client, playbook="secret_echo.yml", extra_vars={
        "db_password": PLANTED, "note_path": str(note), "expected_sha256": _sha(PLANTED), "note_sha256": _sha(STORED),
        "out_path": str(out), "fail_with_secret": fail})
    launched = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={})
    assert launched.status_code == 201, launched.get_json()
    job = wait_job(jobs_client, launched.get_json()["id"])
    assert job["status"] == ("failed" if fail else "successful"), job["job_explanation"]
    assert out.read_text() == PLANTED  # the playbook had the real value (and its asserts passed)
    db = jobs_app.extensions["pureboot.db"]
    seen = _everything(jobs_client, db, job["id"])
    assert _leaks(seen) == [], [seen[max(0, m.start() - 300):m.end()] for m in re.finditer('PLANTED', seen)]
    assert _leaks(caplog.text) == [], caplog.text[-3000:]
    # the masking happened where the secrets were printed (a test that cannot pass by printing nothing)
    text = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt").get_data(as_text=True)
    assert f'"db_password": "{Redactor.MASK}"' in text
    assert f"the password is {Redactor.MASK}; the stored one is {Redactor.MASK}" in text
    if fail:
        assert f"refused with {Redactor.MASK}" in job["job_explanation"]
    artifacts = Path(jobs_app.config["PUREBOOT"].data_dir, "jobs", str(job["id"]))
    for path in (p for p in artifacts.rglob("*") if p.is_file()):
        assert _leaks(path.read_text(errors="replace")) == [], path


@pytest.mark.parametrize("executor", ["thread"])
def test_extra_vars_are_never_templated(jobs_client, tmp_path):
    marker = tmp_path / "ran"
    value = "{{ lookup('pipe', 'touch " + str(marker) + "') }}"
    template = make_template(jobs_client, name="echo", playbook="echo_var.yml", extra_vars={"echo": value})
    job = wait_job(jobs_client, ok(jobs_client.post(template["related"]["launch"], json={}), 201)["id"])
    stdout = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt").get_data(as_text=True)
    assert job["status"] == "successful" and not marker.exists()
    assert "lookup('pipe'" in stdout
