"""Jobs whose playbook comes from a project: really run, on both executors."""

from __future__ import annotations

from tests.support.git_repo import HELLO, make_repo

from .conftest import local_hosts, wait_job


def _run(client, project_id: int, playbook: str) -> dict:
    template = client.post("/api/v1/job_templates", json={
        "name": "from-project", "project": project_id, "playbook": playbook, "inventory": local_hosts("localhost"),
        "extra_vars": {"greeting": "project"}})
    assert template.status_code == 201, template.get_json()
    launched = client.post(f"/api/v1/job_templates/{template.get_json()['id']}/launch", json={})
    assert launched.status_code == 201, launched.get_json()
    return wait_job(client, launched.get_json()["job"])


def test_a_local_project_playbook_runs(jobs_client, tmp_path):
    (tmp_path / "proj" / "plays").mkdir(parents=True)
    (tmp_path / "proj" / "plays" / "hello.yml").write_text(HELLO)
    project = jobs_client.post("/api/v1/projects", json={"name": "local", "scm_type": "local",
                                                         "local_path": str(tmp_path / "proj")}).get_json()
    job = _run(jobs_client, project["id"], "plays/hello.yml")
    assert job["status"] == "successful", job
    assert "hello project from localhost" in jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout").get_data(as_text=True)


def test_a_git_project_playbook_runs(jobs_client, executor, tmp_path):
    repo = make_repo(tmp_path / "repo.git")
    project = jobs_client.post("/api/v1/projects", json={"name": "git", "scm_type": "git",
                                                         "scm_url": f"file://{repo}"}).get_json()
    assert jobs_client.post(f"/api/v1/projects/{project['id']}/sync").status_code == 200
    job = _run(jobs_client, project["id"], "playbooks/hello.yml")
    if executor == "celery":
        # this worker has its own data dir, without the checkout: the run-time re-check says so
        assert job["status"] == "error" and "not a file in project git" in job["job_explanation"], job
        return
    assert job["status"] == "successful", job
    assert "hello project from localhost" in jobs_client.get(f"/api/v1/jobs/{job['id']}/stdout").get_data(as_text=True)
