"""Stored credentials on a job template reach the run (issue #6), masked in its output."""

from __future__ import annotations

from sqlalchemy import select

from pureboot.models import AuditEntry
from pureboot.secrets import Redactor

from .conftest import make_template, wait_job

BMC_PASSWORD = "bmc-Pa55-7f3e1c"


def _ssh_key() -> str:
    """A real key: ansible-runner loads it into an ssh-agent before the play starts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()


SSH_KEY = _ssh_key()


def _credential(client, **body) -> int:
    created = client.post("/api/v1/credentials", json=body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def test_template_credentials_reach_the_playbook_masked(jobs_client, jobs_app, executor, tmp_path):
    bmc = _credential(jobs_client, name="bmc2", kind="bmc", username="ipmi-admin",
                      inputs={"address": "10.9.9.9"}, secrets={"password": BMC_PASSWORD})
    out = tmp_path / "used.txt"
    template = make_template(jobs_client, playbook="credential_use.yml", credentials=[bmc],
                             extra_vars={"out_path": str(out)})
    assert template["credentials"] == [bmc]
    launched = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={})
    job = wait_job(jobs_client, launched.get_json()["id"])
    assert job["status"] == "successful", job["job_explanation"]
    assert out.read_text() == f"{BMC_PASSWORD}|"  # the real value reached the tool; no ssh_key, no ansible_user
    stdout = jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt").get_data(as_text=True)
    assert BMC_PASSWORD not in stdout, repr(stdout[stdout.find(BMC_PASSWORD) - 300:stdout.find(BMC_PASSWORD) + 50])
    # everything under pureboot_credentials is masked, the non-secret fields too (erring safe)
    assert f"pass {Redactor.MASK}" in stdout, repr(stdout[:900])
    with jobs_app.extensions["pureboot.db"].session() as session:
        accesses = session.scalars(select(AuditEntry).where(AuditEntry.action == "credential.access")).all()
        assert [(a.target_id, a.details["purpose"]) for a in accesses][-1:] == [(str(bmc), f"job {job['id']}")]


def test_ssh_key_credential_drives_the_login_user(jobs_client, executor, tmp_path):
    key = _credential(jobs_client, name="deploy-key", kind="ssh_key", username="deploy",
                      secrets={"private_key": SSH_KEY})
    bmc = _credential(jobs_client, name="bmc2", kind="bmc", inputs={"address": "10.9.9.9"},
                      secrets={"password": BMC_PASSWORD})
    out = tmp_path / "used.txt"
    template = make_template(jobs_client, playbook="credential_use.yml", credentials=[key, bmc],
                             extra_vars={"out_path": str(out)})
    job = wait_job(jobs_client, jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch",
                                                 json={}).get_json()["id"])
    assert job["status"] == "successful", jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout?format=txt").get_data(
        as_text=True)[-1500:]
    assert out.read_text() == f"{BMC_PASSWORD}|deploy"


def test_template_credentials_are_validated(jobs_client):
    key1 = _credential(jobs_client, name="k1", kind="ssh_key", secrets={"private_key": SSH_KEY})
    key2 = _credential(jobs_client, name="k2", kind="ssh_key", secrets={"private_key": SSH_KEY})
    base = {"name": "t-cred", "playbook": "pureboot.pureboot.nonexistent", "inventory": {"hosts": ["127.0.0.1"]}}
    unknown = jobs_client.post("/api/v1/job_templates", json={**base, "credentials": [999]})
    assert unknown.status_code == 422 and "no credential 999" in str(unknown.get_json()["errors"])
    two_keys = jobs_client.post("/api/v1/job_templates", json={**base, "credentials": [key1, key2]})
    assert two_keys.status_code == 422 and "ssh_key" in two_keys.get_json()["message"]
    made = jobs_client.post("/api/v1/job_templates", json={**base, "credentials": [key1]})
    assert made.status_code == 201
    patched = jobs_client.patch(f"/api/v1/job_templates/{made.get_json()['id']}", json={"credentials": [key1, key2]})
    assert patched.status_code == 422
    assert jobs_client.get(f"/api/v1/job_templates/{made.get_json()['id']}").get_json()["credentials"] == [key1]
