"""job_launch and job_wait against a live controller running real ansible-runner jobs."""

from __future__ import annotations

import sys


def task(title, module, **args):
    return {"name": title, f"pureboot.pureboot.{module}": args, "register": "out", "ignore_errors": True}


def test_launch_wait_and_failures(ansible, controller, tmp_path):
    good = controller.playbook_dir / "good.yml"
    good.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug:\n        msg: 'hello {{ who | default(\"nobody\") }}'\n")
    bad = controller.playbook_dir / "bad.yml"
    bad.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail:\n        msg: boom\n")
    inventory = {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
    controller.ok("POST", "job_templates", {"name": "jt-good", "playbook": str(good), "inventory": inventory,
                                            "ask_extra_vars_on_launch": True})
    controller.ok("POST", "job_templates", {"name": "jt-bad", "playbook": str(bad), "inventory": inventory})
    before = controller.ok("GET", "jobs")["count"]

    rc, res, _ = ansible.playbook([task("dry", "job_launch", job_template="jt-good")], check=True)
    assert res["dry"]["changed"] and controller.ok("GET", "jobs")["count"] == before

    rc, res, _ = ansible.playbook([
        task("launch", "job_launch", job_template="jt-good", extra_vars={"who": "pureboot"}),
        {"name": "wait", "pureboot.pureboot.job_wait": {"job_id": "{{ out.job.id }}", "interval": 0.5,
                                                         "wait_timeout": 240}, "register": "waited",
         "ignore_errors": True},
        task("launch and wait", "job_launch", job_template="jt-good", wait=True, interval=0.5, wait_timeout=240),
        task("fails", "job_launch", job_template="jt-bad", wait=True, interval=0.5, wait_timeout=240),
        task("not prompted", "job_launch", job_template="jt-bad", limit="localhost"),
        task("unknown", "job_launch", job_template="jt-none"),
        task("no such job", "job_wait", job_id=999999, wait_timeout=5),
    ])
    assert res["launch"]["changed"] and res["launch"]["job"]["status"] in ("new", "pending", "waiting", "running",
                                                                          "successful")
    assert res["wait"]["changed"] is False and res["wait"]["job"]["status"] == "successful", res["wait"]
    assert res["launch and wait"]["job"]["status"] == "successful" and res["launch and wait"]["changed"]
    assert res["fails"]["failed"] and "failed" in res["fails"]["msg"] and res["fails"]["job"]["status"] == "failed"
    assert res["not prompted"]["failed"] and "HTTP 400" in res["not prompted"]["msg"]
    assert res["unknown"]["failed"] and "no job template named" in res["unknown"]["msg"]
    assert res["no such job"]["failed"] and res["no such job"]["status"] == 404
    stdout = controller.ok("GET", f"jobs/{res['launch']['job']['id']}/stdout?format=json")
    assert "hello pureboot" in str(stdout)
