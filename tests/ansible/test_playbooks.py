"""The collection's playbooks: register_nodes against a live controller, the rest parse."""

from __future__ import annotations

import sys

import pytest

CSV = """mac,hostname,site,workflow,tags
# comment lines and blank lines are skipped

52-54-00-10-00-01,csv01,dc2,wf-reg,web;prod
52:54:00:10:00:02,csv02,dc2,,
"""


def test_register_nodes_from_csv_vars_and_inventory(ansible, controller, tmp_path):
    controller.ok("POST", "workflows", {"name": "wf-reg", "tasks": [{"type": "reboot"}]})
    csv = tmp_path / "nodes.csv"
    csv.write_text(CSV)
    inventory = ansible.write("register-inv.yml", {"all": {"children": {"pureboot_register": {"hosts": {
        "inv01": {"pureboot_mac": "52:54:00:10:00:03", "ansible_host": "192.0.2.3", "pureboot_tags": ["rack1"]}}}},
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}})
    extra = ansible.write("register-vars.yml", {"pureboot_nodes_csv": str(csv), "pureboot_nodes": [
        {"mac": "52:54:00:10:00:04", "hostname": "var01", "site": "dc3"}]})
    args = ("-i", str(inventory), "-e", f"@{extra}")
    rc, res, report = ansible.run("pureboot.pureboot.register_nodes", *args)
    assert rc == 0, report["stderr"]
    loop = res["Register or update each node"][0]["results"]
    assert [r["changed"] for r in loop] == [True, True, True, True]
    nodes = {n["hostname"]: n for n in controller.ok("GET", "nodes?site__in=dc2,dc3&page_size=200")["results"]}
    assert nodes["csv01"]["tags"] == ["web", "prod"] and nodes["csv01"]["state"] == "pending"
    assert nodes["csv01"]["workflow_name"] == "wf-reg" and nodes["csv02"]["state"] == "discovered"
    assert nodes["var01"]["site"] == "dc3"
    inv01 = controller.ok("GET", "nodes?mac=52:54:00:10:00:03")["results"][0]
    assert inv01["hostname"] == "inv01" and inv01["ip_address"] == "192.0.2.3" and inv01["tags"] == ["rack1"]

    rc, res, report = ansible.run("pureboot.pureboot.register_nodes", *args)
    assert rc == 0 and not any(r["changed"] for r in res["Register or update each node"][0]["results"])


@pytest.mark.parametrize("playbook", ["site", "boot_server", "controller", "register_nodes", "deploy_image",
                                      "deprovision", "inventory"])
def test_playbooks_parse(ansible, playbook):
    import subprocess

    from tests.ansible.harness import BIN

    proc = subprocess.run([str(BIN / "ansible-playbook"), f"pureboot.pureboot.{playbook}", "--syntax-check",
                           "-i", "localhost,"], env=ansible.env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
