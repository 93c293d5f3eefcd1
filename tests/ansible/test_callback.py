"""The pureboot.pureboot.report callback records each run's per-host results on the nodes."""

from __future__ import annotations

import sys

LOCAL = {"ansible_connection": "'local'", "ansible_python_interpreter": repr(sys.executable)}
TASKS = [
    {"name": "works", "ansible.builtin.command": "true", "changed_when": False},
    {"name": "changes", "ansible.builtin.command": "true"},
    {"name": "breaks on pi", "ansible.builtin.fail": {"msg": "no"}, "when": "inventory_hostname == 'pi11'"},
]


def logs(controller, node_id):
    return controller.ok("GET", f"nodes/{node_id}/logs?source=ansible")["results"]


def test_results_land_on_matching_nodes(ansible, controller):
    web = controller.ok("POST", "nodes", {"mac": "52:54:00:0f:00:01", "hostname": "web11", "site": "cb"})
    pi = controller.ok("POST", "nodes", {"mac": "52:54:00:0f:00:02", "hostname": "pi11", "site": "cb"})
    inventory = ansible.write("cb.pureboot.yml", {"plugin": "pureboot.pureboot.nodes", "filters": {"site": "cb"},
                                                  "compose": LOCAL})
    env = {"ANSIBLE_CALLBACKS_ENABLED": "pureboot.pureboot.report"}
    rc, res, _ = ansible.playbook(TASKS, hosts="all", inventory=inventory, extra_env=env)
    assert rc == 2  # pi11 failed

    [web_log] = logs(controller, web["id"])
    assert web_log["level"] == "info" and web_log["context"]["status"] == "ok"
    assert web_log["context"]["changed"] == 1 and web_log["context"]["failures"] == 0
    assert web_log["context"]["ok"] == 2 and web_log["context"]["failed_tasks"] == []
    assert web_log["context"]["playbook"].startswith("playbook-")
    [pi_log] = logs(controller, pi["id"])
    assert pi_log["level"] == "error" and pi_log["context"]["failures"] == 1
    assert pi_log["context"]["failed_tasks"] == ["breaks on pi (failed)"]
    assert "failed=1" in pi_log["message"]


def test_matching_by_hostname_and_ip_and_unknown_hosts(ansible, controller):
    by_name = controller.ok("POST", "nodes", {"mac": "52:54:00:0f:00:03", "hostname": "db11"})
    by_ip = controller.ok("POST", "nodes", {"mac": "52:54:00:0f:00:04", "ip_address": "192.0.2.44"})
    hosts = {"db11": {}, "aliased": {"ansible_host": "192.0.2.44"}, "stranger": {}}
    for variables in hosts.values():
        variables.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    inventory = ansible.write("static.yml", {"all": {"hosts": hosts}})
    env = {"ANSIBLE_CALLBACKS_ENABLED": "pureboot.pureboot.report"}
    rc, res, proc = ansible.playbook(TASKS[:2], hosts="all", inventory=inventory, extra_env=env)
    assert rc == 0
    assert logs(controller, by_name["id"])[0]["context"]["host"] == "db11"
    assert logs(controller, by_ip["id"])[0]["context"]["host"] == "aliased"
    assert "no PureBoot node matches host stranger" in proc["stderr"]


def test_unreachable_controller_only_warns(ansible, controller):
    inventory = ansible.write("one.yml", {"all": {"hosts": {"lonely": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}})
    env = {"ANSIBLE_CALLBACKS_ENABLED": "pureboot.pureboot.report", "PUREBOOT_URL": "http://127.0.0.1:9",
           "PUREBOOT_TIMEOUT": "3"}
    rc, _, proc = ansible.playbook(TASKS[:1], hosts="all", inventory=inventory, extra_env=env, callback="default")
    assert rc == 0, proc.stdout
    assert "pureboot.pureboot.report" in proc.stderr + proc.stdout
    assert "cannot reach the PureBoot controller" in proc.stderr + proc.stdout
