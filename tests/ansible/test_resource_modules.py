"""workflow, workflow_info, template and hypervisor modules against a live controller."""

from __future__ import annotations

import hashlib
import urllib.request


def task(title, module, **args):
    return {"name": title, f"pureboot.pureboot.{module}": args, "register": "out", "ignore_errors": True}


TASKS_V1 = [{"type": "disk_wipe", "method": "quick"}, {"type": "reboot"}]
TASKS_V2 = [{"type": "disk_wipe", "method": "zero"}, {"type": "reboot"}]


def test_workflow_versions_only_on_change(ansible, controller):
    rc, res, _ = ansible.playbook([
        task("create", "workflow", name="wf-a", tasks=TASKS_V1, description="first"),
        task("same", "workflow", name="wf-a", tasks=TASKS_V1, description="first"),
        task("no tasks given", "workflow", name="wf-a"),
    ])
    assert rc == 0, res
    assert res["create"]["changed"] and res["create"]["workflow"]["version"] == 1
    assert res["same"]["changed"] is False and res["same"]["version_created"] is False
    assert res["no tasks given"]["changed"] is False
    wf_id = res["create"]["workflow"]["id"]

    rc, res, _ = ansible.playbook([task("v2", "workflow", name="wf-a", tasks=TASKS_V2)], check=True, diff=True)
    assert res["v2"]["changed"] and res["v2"]["version_created"] and res["v2"]["workflow"]["version"] == 2
    assert res["v2"]["diff"]["before"]["tasks"][0]["method"] == "quick"
    assert res["v2"]["diff"]["after"]["tasks"][0]["method"] == "zero"
    assert controller.ok("GET", f"workflows/{wf_id}")["version"] == 1  # check mode: no version

    rc, res, _ = ansible.playbook([
        task("v2", "workflow", name="wf-a", tasks=TASKS_V2),
        task("v2 again", "workflow", name="wf-a", tasks=TASKS_V2),
        task("deactivate", "workflow", name="wf-a", active=False),
        task("info", "workflow_info", name="wf-a", versions=True),
        task("inactive", "workflow_info", active=False),
    ])
    assert res["v2"]["changed"] and res["v2"]["workflow"]["version"] == 2
    assert res["v2 again"]["changed"] is False
    assert res["deactivate"]["changed"] and res["deactivate"]["version_created"] is False
    info = res["info"]["workflows"]
    assert [w["name"] for w in info] == ["wf-a"] and [v["version"] for v in info[0]["versions"]] == [1, 2]
    assert "wf-a" in [w["name"] for w in res["inactive"]["workflows"]]


def test_workflow_errors_and_delete(ansible, controller):
    rc, res, _ = ansible.playbook([
        task("bad task", "workflow", name="wf-bad", tasks=[{"type": "teleport"}]),
        task("missing tasks", "workflow", name="wf-new"),
        task("create", "workflow", name="wf-used", tasks=[{"type": "reboot"}]),
        task("use it", "node", mac="52:54:00:0c:00:01", workflow="wf-used"),
        task("delete used", "workflow", name="wf-used", state="absent"),
        task("create other", "workflow", name="wf-free", tasks=[{"type": "reboot"}]),
        task("delete", "workflow", name="wf-free", state="absent"),
        task("delete again", "workflow", name="wf-free", state="absent"),
    ])
    assert res["bad task"]["failed"] and "HTTP 422" in res["bad task"]["msg"] and "teleport" in res["bad task"]["msg"]
    assert res["missing tasks"]["failed"] and "tasks is required" in res["missing tasks"]["msg"]
    assert res["delete used"]["failed"] and "HTTP 409" in res["delete used"]["msg"]
    assert res["delete"]["changed"] and res["delete again"]["changed"] is False
    assert controller.ok("GET", "workflows?name=wf-free")["count"] == 0


def test_template_upload_checksum_and_immutability(ansible, controller, tmp_path):
    image = tmp_path / "disk.img"
    image.write_bytes(b"\x00\x01pureboot" * 40000)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    args = dict(name="img-a", version="1", kind="raw", src=str(image))
    rc, res, _ = ansible.playbook([task("upload", "template", **args)], check=True)
    assert res["upload"]["changed"] and res["upload"]["uploaded"]
    assert controller.ok("GET", "templates?name=img-a")["count"] == 0

    rc, res, _ = ansible.playbook([
        task("upload", "template", **args),
        task("same", "template", **args, sha256=digest.upper()),
        task("describe", "template", **args, description="golden"),
    ], diff=True)
    assert rc == 0, res
    assert res["upload"]["changed"] and res["upload"]["template"]["sha256"] == digest
    assert res["upload"]["template"]["size"] == image.stat().st_size and res["upload"]["template"]["stored"]
    assert res["same"]["changed"] is False and res["same"]["uploaded"] is False
    assert res["describe"]["changed"] and res["describe"]["template"]["description"] == "golden"
    template_id = res["upload"]["template"]["id"]
    download = urllib.request.Request(f"{controller.url}/api/v1/templates/{template_id}/content",
                                      headers=({"Authorization": f"Bearer {controller.token}"}
                                               if controller.token else {}))
    with urllib.request.urlopen(download) as response:
        assert hashlib.sha256(response.read()).hexdigest() == digest

    other = tmp_path / "other.img"
    other.write_bytes(b"different")
    rc, res, _ = ansible.playbook([
        task("other content", "template", name="img-a", version="1", kind="raw", src=str(other)),
        task("wrong sha", "template", name="img-a", version="2", kind="raw", src=str(other), sha256="0" * 64),
        task("missing file", "template", name="img-a", version="3", kind="raw", src=str(tmp_path / "nope")),
        task("no kind", "template", name="img-b", src=str(other)),
        task("meta only", "template", name="img-c", kind="iso", location="https://images.example/c.iso"),
        task("fill later", "template", name="img-c", kind="iso", src=str(other)),
    ])
    assert res["other content"]["failed"] and "immutable" in res["other content"]["msg"]
    assert res["wrong sha"]["failed"] and "not the expected" in res["wrong sha"]["msg"]
    assert res["missing file"]["failed"] and "not a readable file" in res["missing file"]["msg"]
    assert res["no kind"]["failed"] and "kind is required" in res["no kind"]["msg"]
    assert res["meta only"]["changed"] and res["meta only"]["template"]["stored"] is False
    # src and location are exclusive; content for a metadata-only template is a PUT
    assert res["fill later"]["changed"] and res["fill later"]["uploaded"]
    assert controller.ok("GET", "templates?name=img-a")["count"] == 1  # refused versions left no row

    rc, res, _ = ansible.playbook([task("delete", "template", name="img-a", state="absent")])
    assert res["delete"]["changed"] and controller.ok("GET", "templates?name=img-a")["count"] == 0


def test_hypervisor_lifecycle(ansible, controller):
    base = dict(name="pve-lab", provider="proxmox", endpoint="https://pve1.example:8006",
                hypervisor_username="pureboot@pve", options={"node": "pve1"})
    rc, res, _ = ansible.playbook([
        task("create", "hypervisor", **base),
        task("same", "hypervisor", **base),
        task("missing provider", "hypervisor", name="other", endpoint="x"),
        task("bad provider", "hypervisor", name="other", provider="xen", endpoint="x"),
    ])
    assert res["create"]["changed"] and res["create"]["hypervisor"]["username"] == "pureboot@pve"
    assert res["same"]["changed"] is False
    assert res["missing provider"]["failed"] and "provider" in res["missing provider"]["msg"]
    assert res["bad provider"]["failed"] and "xen" in res["bad provider"]["msg"]
    hv_id = res["create"]["hypervisor"]["id"]

    changed = dict(base, options={"node": "pve2"})
    rc, res, _ = ansible.playbook([task("move", "hypervisor", **changed)], check=True, diff=True)
    assert res["move"]["changed"] and res["move"]["diff"]["after"]["options"] == {"node": "pve2"}
    assert controller.ok("GET", f"hypervisors/{hv_id}")["options"] == {"node": "pve1"}
    rc, res, _ = ansible.playbook([task("move", "hypervisor", **changed),
                                   task("remove", "hypervisor", name="pve-lab", state="absent"),
                                   task("remove again", "hypervisor", name="pve-lab", state="absent")])
    assert res["move"]["changed"] and res["move"]["hypervisor"]["options"] == {"node": "pve2"}
    assert res["remove"]["changed"] and res["remove again"]["changed"] is False


def test_report_module(ansible, controller):
    rc, res, _ = ansible.playbook([
        task("dry", "report", token="node-token", progress=50, phase="image_deploy"),
        task("bad progress", "report", token="node-token", progress=150),
    ], check=True)
    assert res["dry"]["changed"] and res["dry"]["response"] == {}
    assert res["bad progress"]["failed"] and "between 0 and 100" in res["bad progress"]["msg"]
    rc, res, _ = ansible.playbook([task("send", "report", token="not-a-node-token", progress=50)])
    assert res["send"]["failed"] and res["send"]["status"] == 401
    assert "POST http://127.0.0.1" in res["send"]["msg"] and "/api/v1/report failed: HTTP 401" in res["send"]["msg"]
    assert res["send"]["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_report_with_a_real_node_token(ansible, controller):
    workflow = controller.ok("POST", "workflows", {"name": "wf-report", "tasks": [
        {"type": "pxe_boot", "kernel": "http://images.test/vmlinuz"}]})
    node = controller.ok("POST", "nodes", {"mac": "52:54:00:0c:00:09", "workflow_id": workflow["id"]})
    spec = controller.ok("GET", "next?mac=52:54:00:0c:00:09")  # the node boots: installing, token minted
    token = spec["token"]
    rc, res, _ = ansible.playbook([
        task("progress", "report", token=token, progress=40, phase="image_deploy", logs=["image written"]),
        task("done", "report", token=token, status="installed", progress=100, detail="all good"),
        task("other node", "report", token=token, node_id=node["id"] + 1000, progress=1),
    ])
    assert res["progress"]["changed"] and not res["progress"].get("failed"), res["progress"]
    assert res["done"]["changed"] and not res["done"].get("failed"), res["done"]
    assert res["other node"]["failed"] and res["other node"]["status"] in (401, 403)
    stored = controller.ok("GET", f"nodes/{node['id']}")
    assert stored["state"] == "installed" and stored["install_progress"] == 100
