"""pureboot.pureboot.approval (and node's four-eye hand-off) against a live controller.

Two people: an operator requests, the admin of the harness approves. The controller, not
the module, enforces that the requester cannot approve.
"""

from __future__ import annotations

import pytest


def task(title, module, **args):
    return {"name": title, f"pureboot.pureboot.{module}": args, "register": "out", "ignore_errors": True}


@pytest.fixture(scope="module")
def operator(controller):
    return {"PUREBOOT_TOKEN": controller.user_token("ops1", "operator")}


def active_node(controller, mac, hostname):
    """A node walked to active by the admin (what a finished install leaves behind)."""
    controller.ok("POST", "workflows", {"name": f"wf-{hostname}", "tasks": [{"type": "reboot"}]})
    node = controller.ok("POST", "nodes", {"mac": mac, "hostname": hostname, "workflow_id":
                                           controller.ok("GET", f"workflows?name=wf-{hostname}")["results"][0]["id"]})
    for state in ("installing", "installed", "active"):
        controller.ok("PATCH", f"nodes/{node['id']}/state", {"state": state, "reason": "test setup"})
    return node


def test_request_is_idempotent_and_check_mode_is_a_dry_run(ansible, controller, operator):
    node = active_node(controller, "52:54:00:0d:00:01", "app01")
    ask = dict(action="node.reprovision", node="app01", reason="CHG-1: new image")
    rc, res, _ = ansible.playbook([task("preview", "approval", **ask)], check=True, diff=True, extra_env=operator)
    assert rc == 0, res
    assert res["preview"]["changed"] and res["preview"]["approval"] == {}
    assert "active -> pending" in res["preview"]["dry_run"]["summary"]
    assert controller.ok("GET", f"approvals?target_id={node['id']}")["count"] == 0  # nothing filed

    rc, res, _ = ansible.playbook([
        task("request", "approval", **ask),
        task("again", "approval", **dict(ask, node="52-54-00-0D-00-01")),
        task("self approve", "approval", action="node.reprovision", node=str(node["id"]), state="approved"),
    ], extra_env=operator)
    request = res["request"]["approval"]
    assert res["request"]["changed"] and request["status"] == "pending" and request["requester"] == "ops1"
    assert res["again"]["changed"] is False and res["again"]["approval"]["id"] == request["id"]
    assert res["self approve"]["failed"] and "HTTP 403" in res["self approve"]["msg"]
    assert controller.ok("GET", f"nodes/{node['id']}")["state"] == "active"

    rc, res, _ = ansible.playbook([task("approve", "approval", id=request["id"], state="approved")],
                                  check=True, diff=True)
    assert res["approve"]["changed"] and res["approve"]["diff"]["after"]["status"] == "approved"
    assert controller.ok("GET", f"approvals/{request['id']}")["status"] == "pending"

    rc, res, _ = ansible.playbook([
        task("approve", "approval", id=request["id"], state="approved", comment="ticket checked"),
        task("approve again", "approval", id=request["id"], state="approved"),
        task("deny decided", "approval", id=request["id"], state="denied"),
    ])
    assert res["approve"]["changed"] and res["approve"]["approval"]["status"] == "executed"
    assert res["approve"]["approval"]["approver"] != "ops1"
    assert res["approve again"]["changed"] is False
    assert res["deny decided"]["failed"] and "is executed" in res["deny decided"]["msg"]
    assert controller.ok("GET", f"nodes/{node['id']}")["state"] == "pending"


def test_deny_cancel_and_errors(ansible, controller, operator):
    node = active_node(controller, "52:54:00:0d:00:02", "app02")
    controller.ok("POST", "nodes", {"mac": "52:54:00:0d:00:04", "hostname": "fresh01"})  # discovered
    ask = dict(action="node.deprovision", node="app02", reason="decommission")
    rc, res, _ = ansible.playbook([
        task("request", "approval", **ask),
        task("cancel", "approval", action="node.deprovision", node="app02", state="cancelled"),
        task("cancel again", "approval", action="node.deprovision", node="app02", state="cancelled"),
        task("request 2", "approval", **ask),
        task("no reason", "approval", action="node.deprovision", node="app02"),
        task("no such node", "approval", action="node.deprovision", node="ghost", reason="x"),
        task("bad action", "approval", action="node.teleport", node="app02", reason="x"),
        task("illegal from state", "approval", action="node.migrate", node="fresh01", reason="x"),
    ], extra_env=operator)
    assert res["cancel"]["changed"] and res["cancel"]["approval"]["status"] == "cancelled"
    assert res["cancel again"]["changed"] is False
    assert res["request 2"]["approval"]["id"] != res["request"]["approval"]["id"]
    assert res["no reason"]["failed"] and "reason is required" in res["no reason"]["msg"]
    assert res["no such node"]["failed"] and "ghost" in res["no such node"]["msg"]
    assert res["bad action"]["failed"] and "HTTP 422" in res["bad action"]["msg"]
    assert res["illegal from state"]["failed"] and "HTTP 409" in res["illegal from state"]["msg"]

    rc, res, _ = ansible.playbook([
        task("deny", "approval", action="node.deprovision", node="app02", state="denied", comment="not yet"),
        task("deny again", "approval", action="node.deprovision", node="app02", state="denied"),
        task("approve denied", "approval", id=res["request 2"]["approval"]["id"], state="approved"),
    ])
    assert res["deny"]["changed"] and res["deny"]["approval"]["status"] == "denied"
    assert res["deny again"]["changed"] is False
    assert res["approve denied"]["failed"] and "is denied" in res["approve denied"]["msg"]
    assert controller.ok("GET", f"nodes/{node['id']}")["state"] == "active"


def test_node_module_hands_critical_moves_to_an_approval(ansible, controller, operator):
    node = active_node(controller, "52:54:00:0d:00:03", "app03")
    move = dict(mac="52:54:00:0d:00:03", lifecycle_state="pending", reason="reinstall")
    rc, res, _ = ansible.playbook([task("reprovision", "node", **move), task("again", "node", **move)],
                                  extra_env=operator)
    assert rc == 0, res
    first = res["reprovision"]
    assert first["changed"] and first["approval"]["action"] == "node.reprovision"
    assert first["node"]["state"] == "active" and "approval" in first["msg"]
    assert res["again"]["changed"] is False and res["again"]["approval"]["id"] == first["approval"]["id"]
    pending = controller.ok("GET", f"approvals?target_id={node['id']}&status=pending")
    assert pending["count"] == 1
