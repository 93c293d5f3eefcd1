"""A task-list workflow is translated one-to-one into a playbook of the collection (one engine)."""

import pytest
import yaml

from pureboot import task_playbook, workflow_playbook

from tests.controller.helpers import ok

DEPLOY = {"type": "image_deploy", "name": "Deploy debian", "image": "debian-12", "target": "/dev/vda",
          "grow_partition": True, "inject": True}


def _tasks(plays):
    return [task for play in plays for task in play.get("tasks", [])]


def test_each_step_becomes_one_task_of_the_collection():
    plays = task_playbook.translate([
        {"type": "inventory"}, DEPLOY, {"type": "disk_wipe", "method": "zero", "disks": "/dev/vdb"},
        {"type": "reboot", "poweroff": True, "delay": 3},
        {"type": "script_run", "script": "echo \"$1\"", "args": ["a b"], "timeout": 30}], "wf v1")
    inventory, deploy, wipe, reboot, script = _tasks(plays)
    assert inventory["ansible.builtin.include_role"] == {"name": "pureboot.pureboot.inventory"}
    assert deploy["name"] == "Deploy debian"
    assert deploy["ansible.builtin.include_role"] == {"name": "pureboot.pureboot.image_deploy"}
    assert deploy["vars"]["image_deploy_url"] == "{{ pureboot_images[\"debian-12\"].url }}"
    assert deploy["vars"]["image_deploy_dest"] == "/dev/vda" and deploy["vars"]["image_deploy_grow_partition"]
    assert deploy["vars"]["image_deploy_token_file"] == "/run/pureboot/token"
    assert deploy["vars"]["image_deploy_inject_files"][0]["path"] == "pureboot.json"
    assert wipe["vars"] == {"deprovision_method": "zero", "deprovision_disks": ["/dev/vdb"]}
    assert reboot["ansible.builtin.raw"] == "echo poweroff > /run/pureboot/final; echo 3 > /run/pureboot/final_delay"
    assert script["ansible.builtin.shell"]["cmd"].startswith("set -- 'a b'\n") and script["timeout"] == 30
    assert plays[0]["hosts"] == "all" and plays[0]["gather_facts"] is False


def test_a_url_and_sha256_are_used_as_given():
    deploy, = _tasks(task_playbook.translate([{"type": "image_deploy", "url": "http://x/i.raw",
                                               "sha256": "ab" * 32}], "t"))
    assert deploy["vars"]["image_deploy_url"] == "http://x/i.raw"
    assert deploy["vars"]["image_deploy_checksum"] == "ab" * 32


def test_partition_without_a_target_finds_the_first_disk():
    facts, part = _tasks(task_playbook.translate([{"type": "partition", "layout": [{"size": "100%"}]}], "t"))
    assert "pureboot.pureboot.hardware_facts" in facts
    assert part["pureboot.pureboot.partition"]["partitions"] == [{"size": "100%"}]
    assert "pureboot_hardware.disks" in part["pureboot.pureboot.partition"]["device"]


def test_a_playbook_step_is_a_play_of_its_own():
    plays = task_playbook.translate([{"type": "inventory"},
                                     {"type": "playbook", "playbook": "ns.col.site", "extra_vars": {"a": 1}},
                                     {"type": "reboot"}], "t")
    assert [list(p)[0] for p in plays] == ["name", "ansible.builtin.import_playbook", "name"]
    assert plays[1] == {"ansible.builtin.import_playbook": "ns.col.site", "vars": {"a": 1}}


def test_steps_without_a_module_fail_the_run_instead_of_being_skipped():
    step, = _tasks(task_playbook.translate([{"type": "domain_join", "domain": "corp.example"}], "t"))
    assert "domain_join has no module" in step["ansible.builtin.fail"]["msg"]


@pytest.mark.parametrize("task", [{"type": "pxe_boot", "kernel": "k"},
                                  {"type": "playbook", "playbook": "a.b.c", "phase": "post_install"}])
def test_not_agent_steps_are_refused(task):
    with pytest.raises(task_playbook.TranslationError):
        task_playbook.translate([task], "t")


def test_deprovision_keeps_only_wipe_steps_and_always_wipes():
    assert task_playbook.deprovision_tasks([DEPLOY, {"type": "reboot"}]) == [
        {"type": "reboot"}, {"type": "disk_wipe", "method": "secure"}]
    wipe = {"type": "disk_wipe", "method": "quick"}
    assert task_playbook.deprovision_tasks([{"type": "inventory"}, wipe]) == [{"type": "inventory"}, wipe]


def test_the_translation_passes_the_save_time_check():
    """Every role and module it names exists in the collection (workflow_playbook.check)."""
    text = task_playbook.dump(task_playbook.translate([
        {"type": "inventory"}, DEPLOY, {"type": "partition", "layout": [{"size": "100%"}]},
        {"type": "disk_wipe"}, {"type": "reboot"}, {"type": "script_run", "script": "true"}], "t"), "header")
    workflow_playbook.parse(text)
    assert text.startswith("# header\n---\n") and yaml.safe_load(text)[0]["name"] == "t"


def test_the_api_shows_the_translation(client_as):
    admin = client_as("admin")
    workflow = ok(admin.post("/api/v1/workflows", json={"name": "tl", "tasks": [DEPLOY]}), 201)
    base = f"/api/v1/workflows/{workflow['id']}/versions/1/playbook"
    shown = admin.get(base)
    assert shown.status_code == 200 and shown.mimetype == "application/yaml"
    assert "pureboot.pureboot.image_deploy" in shown.text and "tl v1" in shown.text
    wipe = admin.get(base + "?run=deprovision")
    assert wipe.status_code == 200 and "pureboot.pureboot.deprovision" in wipe.text
    assert "image_deploy" not in wipe.text
    assert admin.get(base + "?run=other").status_code == 422
    pxe = ok(admin.post("/api/v1/workflows", json={"name": "pxe", "tasks": [{"type": "pxe_boot", "kernel": "k"}]}),
             201)
    refused = admin.get(f"/api/v1/workflows/{pxe['id']}/versions/1/playbook")
    assert refused.status_code == 422 and "pxe_boot" in refused.get_json()["message"]


def test_the_job_gets_each_referenced_template_by_its_reference(app, db, client_as):
    """pureboot_images: what the translated play reads the URL and sha256 from."""
    from pureboot.config import Settings
    from pureboot.jobs import provision
    from pureboot.models import Node

    admin = client_as("admin")
    raw = ok(admin.post("/api/v1/templates?name=img&kind=raw", data=b"disk-bytes",
                        content_type="application/octet-stream"), 201)
    workflow = ok(admin.post("/api/v1/workflows", json={"name": "refs", "tasks": [
        {"type": "image_deploy", "image": raw["id"]}, {"type": "image_deploy", "image": "img"}]}), 201)
    node = ok(admin.post("/api/v1/nodes", json={"mac": "52:54:00:aa:bb:01", "workflow_id": workflow["id"]}), 201)
    with app.app_context(), db.session() as session:
        images = provision.images(session, Settings(public_url="http://pb:8080"), session.get(Node, node["id"]))
    entry = {"id": raw["id"], "url": f"http://pb:8080/api/v1/templates/{raw['id']}/content",
             "sha256": raw["sha256"], "kind": "raw"}
    assert images == {str(raw["id"]): entry, "img": entry}


def test_progress_counts_the_tasks_a_run_starts(tmp_path):
    """Roles of the collection are expanded from their tasks/main.yml; blocks are walked."""
    from pureboot.jobs import progress

    role_tasks = progress.count_tasks(yaml.safe_load(open(progress.source_root() / "roles" / "deprovision" /
                                                          "tasks" / "main.yml")))
    assert role_tasks == 3  # hardware_facts, and the block's wipe and its always: publish
    playbook = tmp_path / "run.yml"
    playbook.write_text(task_playbook.dump(task_playbook.translate(
        [{"type": "disk_wipe"}, {"type": "reboot"}], "t"), "h"))
    assert progress.expected_tasks(str(playbook)) == role_tasks + 1
    assert progress.expected_tasks("pureboot.pureboot.deprovision") == role_tasks
    assert progress.expected_tasks(str(tmp_path / "missing.yml")) == 0
