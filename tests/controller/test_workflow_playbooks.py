"""Workflows are playbooks: a version holds a playbook reference or text, checked at save time."""

from __future__ import annotations

import pytest

from tests.controller.helpers import ok

GOOD = """- name: Deploy
  hosts: all
  gather_facts: false
  tasks:
    - name: Facts
      pureboot.pureboot.node_info:
        url: http://controller
    - ansible.builtin.command: "true"
    - block:
        - ansible.builtin.ping:
      rescue:
        - ansible.builtin.fail:
            msg: no
  roles:
    - pureboot.pureboot.build_agent
"""


def _refused(response, field, status=422):
    body = response.get_json()
    assert response.status_code == status and field in body["errors"], body
    return body["errors"][field][0]


def test_admin_stores_playbook_text_and_reads_it_back(client_as):
    admin = client_as("admin")
    workflow = ok(admin.post("/api/v1/workflows", json={"name": "pb", "playbook_text": GOOD}), 201)
    assert workflow["playbook_text"] == GOOD and workflow["tasks"] == [] and workflow["playbook"] is None
    text = admin.get(f"/api/v1/workflows/{workflow['id']}/versions/1/playbook")
    assert text.status_code == 200 and text.mimetype == "application/yaml" and text.get_data(as_text=True) == GOOD


def test_operators_may_not_store_playbook_text(client_as):
    operator = client_as("operator")
    _refused(operator.post("/api/v1/workflows", json={"name": "pb", "playbook_text": GOOD}), "playbook_text", 403)
    assert ok(operator.get("/api/v1/workflows"))["count"] == 0


@pytest.mark.parametrize("text,line,words", [
    ("- hosts: all\n  tasks:\n    - ansible.builtin.nosuchmodule: {}\n", 3, "unknown module"),
    ("- hosts: all\n  tasks:\n    - name: x\n      pureboot.pureboot.nosuch: {}\n", 3, "unknown module"),
    ("- hosts: all\n  tasks:\n    - ansible.builtin.ping:\n      ansible.builtin.command: id\n", 3, "exactly one"),
    ("- hosts: all\n  roles:\n    - no.such.role\n", 1, "unknown role"),
    ("- hosts: all\n  tasks: [\n", 3, "not valid YAML"),
    ("- tasks: []\n", 1, "needs hosts"),
    ("- ansible.builtin.import_playbook: other.yml\n", 1, "import_playbook"),
])
def test_bad_playbook_text_names_the_line(client_as, text, line, words):
    message = _refused(client_as("admin").post("/api/v1/workflows", json={"name": "bad", "playbook_text": text}),
                       "playbook_text")
    assert message.startswith(f"line {line}: ") and words in message, message


def test_playbook_references_pass_the_job_policy(client_as, tmp_path):
    operator = client_as("operator")
    workflow = ok(operator.post("/api/v1/workflows", json={"name": "fq", "playbook": "pureboot.pureboot.site"}), 201)
    shown = operator.get(f"/api/v1/workflows/{workflow['id']}/versions/1/playbook").get_data(as_text=True)
    assert "import_playbook: pureboot.pureboot.boot_server" in shown  # the collection's playbooks/site.yml
    uploaded = tmp_path / "evil.yml"
    uploaded.write_text("- hosts: localhost\n  tasks: []\n")
    _refused(operator.post("/api/v1/workflows", json={"name": "x", "playbook": str(uploaded)}), "playbook")


def test_one_definition_per_version(client_as):
    admin = client_as("admin")
    _refused(admin.post("/api/v1/workflows", json={"name": "two", "tasks": [{"type": "inventory"}],
                                                    "playbook": "pureboot.pureboot.site"}), "playbook")
    _refused(admin.post("/api/v1/workflows", json={"name": "none"}), "tasks")
    tasks = ok(admin.post("/api/v1/workflows", json={"name": "tl", "tasks": [{"type": "inventory"}]}), 201)
    shown = admin.get(f"/api/v1/workflows/{tasks['id']}/versions/1/playbook")  # the translation
    assert shown.status_code == 200 and "name: pureboot.pureboot.inventory" in shown.text


def test_a_new_playbook_is_a_new_version_and_replaces_the_tasks(client_as):
    admin = client_as("admin")
    workflow = ok(admin.post("/api/v1/workflows", json={"name": "v", "tasks": [{"type": "inventory"}]}), 201)
    changed = ok(admin.patch(f"/api/v1/workflows/{workflow['id']}", json={"playbook_text": GOOD}))
    assert changed["version"] == 2 and changed["tasks"] == [] and changed["playbook_text"] == GOOD
    renamed = ok(admin.patch(f"/api/v1/workflows/{workflow['id']}", json={"variables": {"a": 1}}))
    assert renamed["version"] == 3 and renamed["playbook_text"] == GOOD  # the run is kept
    first = ok(admin.get(f"/api/v1/workflows/{workflow['id']}/versions/1"))
    assert first["tasks"] == [{"type": "inventory"}] and first["playbook_text"] is None
