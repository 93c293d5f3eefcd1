"""Projects: playbook directories only an admin registers (services/projects.py, jobs/policy.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.controller.helpers import ok
from tests.support.git_repo import HELLO, make_repo

INVENTORY = {"hosts": ["10.0.0.5"]}


@pytest.fixture(autouse=True)
def submitted(app, monkeypatch):
    """Launches are accepted and queued, not run (tests/jobs/test_project_jobs.py runs them)."""
    queued: list[int] = []
    monkeypatch.setattr(app.extensions["pureboot.jobs"], "submit", lambda job_id, secrets=None: queued.append(job_id))
    return queued


@pytest.fixture
def local_dir(tmp_path):
    path = tmp_path / "local-project"
    (path / "site").mkdir(parents=True)
    (path / "site" / "hello.yml").write_text(HELLO)
    return path


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo.git")


def _local(client, path, name="local"):
    return client.post("/api/v1/projects", json={"name": name, "scm_type": "local", "local_path": str(path)})


def _git(client, url, name="git", **extra):
    return client.post("/api/v1/projects", json={"name": name, "scm_type": "git", "scm_url": url, **extra})


def _template(project_id, playbook, name="t", **extra):
    return {"name": name, "project": project_id, "playbook": playbook, "inventory": INVENTORY, **extra}


def _refused(response, field, status=422):
    body = response.get_json()
    assert response.status_code == status and field in body["errors"], (response.status_code, body)
    assert "Traceback" not in response.get_data(as_text=True)
    return body["errors"][field][0]


def test_admin_registers_a_local_project_and_operators_use_it(client_as, local_dir, submitted):
    admin, operator = client_as("admin"), client_as("operator")
    project = ok(_local(admin, local_dir / "site" / ".."), 201)
    assert project["local_path"] == str(local_dir.resolve()) and project["status"] == "successful"
    assert project["related"]["sync"].endswith(f"/projects/{project['id']}/sync")
    assert ok(client_as("user").get("/api/v1/projects"))["count"] == 1  # any signed-in user reads
    template = ok(operator.post("/api/v1/job_templates", json=_template(project["id"], "site/hello.yml")), 201)
    assert template["project"] == project["id"] and template["related"]["project"] == project["url"]
    listed = ok(admin.get(f"/api/v1/job_templates?project={project['id']}"))
    assert [t["id"] for t in listed["results"]] == [template["id"]]
    job = ok(operator.post(f"/api/v1/job_templates/{template['id']}/launch", json={}), 201)
    assert job["project"] == project["id"] and job["playbook"] == "site/hello.yml" and submitted == [job["id"]]
    audited = ok(admin.get("/api/v1/audit?action=project.create"))["results"]
    assert audited and audited[0]["actor"] == "admin"
    ok(admin.post(f"/api/v1/projects/{project['id']}/sync"))
    _refused(admin.delete(project["url"]), "project", 409)  # a template uses it


def test_git_project_is_cloned_into_the_data_dir_and_resynced(client_as, repo, app):
    admin = client_as("admin")
    project = ok(_git(admin, f"file://{repo}", scm_branch="main"), 201)
    assert project["status"] == "new"
    refused = _refused(client_as("operator").post("/api/v1/job_templates", json=_template(
        project["id"], "playbooks/hello.yml")), "project")
    assert "not synced" in refused
    synced = ok(admin.post(f"/api/v1/projects/{project['id']}/sync"))
    checkout = app.config["PUREBOOT"].data_dir + f"/projects/{project['id']}"
    assert synced["status"] == "successful" and len(synced["scm_revision"]) == 40 and synced["last_synced"]
    assert open(f"{checkout}/playbooks/hello.yml").read() == HELLO
    ok(client_as("operator").post("/api/v1/job_templates", json=_template(project["id"], "playbooks/hello.yml")),
       201)
    (repo / "playbooks" / "second.yml").write_text(HELLO)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e.invalid",
                    "commit", "-qm", "second"], check=True)
    resynced = ok(admin.post(f"/api/v1/projects/{project['id']}/sync"))
    assert resynced["scm_revision"] != synced["scm_revision"]
    assert open(f"{checkout}/playbooks/second.yml").read() == HELLO
    templates = ok(admin.get(f"/api/v1/job_templates?project={project['id']}"))["results"]
    admin.delete(templates[0]["url"])
    assert admin.delete(project["url"]).status_code == 204 and not os.path.exists(checkout)
    assert ok(admin.get("/api/v1/audit?action=project.delete"))["count"] == 1


def test_operators_cannot_register_change_or_sync_projects(client_as, local_dir, repo):
    admin, operator = client_as("admin"), client_as("operator")
    assert _local(operator, local_dir).status_code == 403
    assert _git(operator, f"file://{repo}").status_code == 403
    project = ok(_local(admin, local_dir), 201)
    assert operator.patch(project["url"], json={"local_path": "/"}).status_code == 403
    assert operator.post(f"/api/v1/projects/{project['id']}/sync").status_code == 403
    assert operator.delete(project["url"]).status_code == 403
    assert ok(operator.get(project["url"]))["local_path"] == str(local_dir.resolve())


@pytest.mark.parametrize("playbook", ["../outside.yml", "site/../../outside.yml", "/etc/passwd",
                                      "site/link.yml", "site", "missing.yml"])
def test_playbook_stays_inside_the_project(client_as, local_dir, tmp_path, playbook):
    (tmp_path / "outside.yml").write_text(HELLO)
    (local_dir / "site" / "link.yml").symlink_to(tmp_path / "outside.yml")
    project = ok(_local(client_as("admin"), local_dir), 201)
    _refused(client_as("operator").post("/api/v1/job_templates", json=_template(project["id"], playbook)),
             "playbook")


def test_changing_a_templates_project_rechecks_its_playbook(client_as, local_dir, repo):
    admin = client_as("admin")
    local = ok(_local(admin, local_dir), 201)
    git = ok(_git(admin, f"file://{repo}"), 201)
    ok(admin.post(f"/api/v1/projects/{git['id']}/sync"))
    template = ok(client_as("operator").post("/api/v1/job_templates", json=_template(local["id"], "site/hello.yml")),
                  201)
    operator = client_as("operator")
    _refused(operator.patch(template["url"], json={"project": git["id"]}), "playbook")  # no site/ in the repo
    _refused(operator.patch(template["url"], json={"project": None}), "playbook")  # relative, no project
    _refused(operator.patch(template["url"], json={"project": 999}), "project")
    moved = ok(operator.patch(template["url"], json={"project": git["id"], "playbook": "playbooks/hello.yml"}))
    assert moved["project"] == git["id"]


def test_project_paths_in_the_data_dir_are_refused(client_as, app):
    data_dir = app.config["PUREBOOT"].data_dir
    admin = client_as("admin")
    for path in (data_dir, data_dir + "/templates", data_dir + "/../data/projects"):
        os.makedirs(path, exist_ok=True)
        assert "data directory" in _refused(_local(admin, path), "local_path")
    # a project around the data dir still runs nothing from it
    os.makedirs(data_dir + "/templates/raw", exist_ok=True)
    open(data_dir + "/templates/raw/evil.yml", "w").write(HELLO)
    around = ok(_local(admin, os.path.dirname(data_dir), name="around"), 201)
    message = _refused(client_as("operator").post("/api/v1/job_templates", json=_template(
        around["id"], os.path.basename(data_dir) + "/templates/raw/evil.yml")), "playbook")
    assert "data directory" in message
    admin.delete(around["url"])
    _refused(_local(admin, "relative/dir"), "local_path")
    _refused(_local(admin, "/nonexistent/pureboot-project"), "local_path")
    assert ok(admin.get("/api/v1/projects"))["count"] == 0


@pytest.mark.parametrize("url", ["ext::sh -c id", "http://example.invalid/repo.git", "-uhelp",
                                 "https://user:secret@example.invalid/r.git", "file://relative/repo", "",
                                 "ssh://-oProxyCommand=id/repo.git", "git@host:repo with space"])
def test_bad_git_urls_are_refused_at_once(client_as, url):
    _refused(_git(client_as("admin"), url), "scm_url")


def test_a_failing_sync_reports_gits_message(client_as, tmp_path):
    admin = client_as("admin")
    project = ok(_git(admin, f"file://{tmp_path}/no-such-repo.git"), 201)
    message = _refused(admin.post(f"/api/v1/projects/{project['id']}/sync"), "scm_url")
    assert "no-such-repo.git" in message and "fatal" in message  # git's own words, not a traceback
    stored = ok(admin.get(project["url"]))
    assert stored["status"] == "failed" and stored["last_error"] == message
    failures = ok(admin.get("/api/v1/audit?action=project.sync"))["results"]
    assert failures and failures[0]["outcome"] == "failure"


def test_a_changed_git_source_needs_a_new_sync(client_as, repo, tmp_path):
    admin = client_as("admin")
    project = ok(_git(admin, f"file://{repo}"), 201)
    ok(admin.post(f"/api/v1/projects/{project['id']}/sync"))
    other = make_repo(tmp_path / "other.git")
    assert ok(admin.patch(project["url"], json={"scm_url": f"file://{other}"}))["status"] == "new"
    _refused(admin.post("/api/v1/job_templates", json=_template(project["id"], "playbooks/hello.yml")), "project")


def test_connection_vars_at_launch_only_where_an_admin_allowed_them(client_as, local_dir):
    admin, operator = client_as("admin"), client_as("operator")
    project = ok(_local(admin, local_dir), 201)
    body = _template(project["id"], "site/hello.yml", ask_extra_vars_on_launch=True)
    _refused(operator.post("/api/v1/job_templates", json={**body, "allow_connection_vars": True}),
             "allow_connection_vars", 403)
    plain = ok(operator.post("/api/v1/job_templates", json=body), 201)
    assert plain["allow_connection_vars"] is False
    connection = {"extra_vars": {"ansible_user": "deploy", "ansible_port": 2222}}
    _refused(operator.post(f"/api/v1/job_templates/{plain['id']}/launch", json=connection), "extra_vars")
    _refused(operator.patch(plain["url"], json={"allow_connection_vars": True}), "allow_connection_vars", 403)
    allowed = ok(admin.post("/api/v1/job_templates", json={**body, "name": "conn", "allow_connection_vars": True}),
                 201)
    assert allowed["allow_connection_vars"] is True
    job = ok(operator.post(f"/api/v1/job_templates/{allowed['id']}/launch", json=connection), 201)
    assert job["extra_vars"]["ansible_port"] == 2222
    # the admin allowed it for this playbook: an operator cannot point the template elsewhere
    (local_dir / "other.yml").write_text(HELLO)
    _refused(operator.patch(allowed["url"], json={"playbook": "other.yml"}), "playbook", 403)
    # a template's own extra vars stay admin-only either way
    _refused(operator.patch(allowed["url"], json={"extra_vars": {"ansible_connection": "local"}}), "extra_vars")


def test_runner_rechecks_the_project_at_run_time(app, client_as, local_dir, settings):
    from pureboot.errors import Invalid
    from pureboot.jobs import policy
    from pureboot.models import Project
    admin = client_as("admin")
    project = ok(_local(admin, local_dir), 201)
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        row = session.get(Project, project["id"])
        assert policy.check_playbook(app.config["PUREBOOT"], "site/hello.yml", row) == str(
            (local_dir / "site" / "hello.yml").resolve())
        row.status = "failed"
        with pytest.raises(Invalid):
            policy.check_playbook(app.config["PUREBOOT"], "site/hello.yml", row)
