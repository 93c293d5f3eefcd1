#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: workflow
short_description: Manage PureBoot workflows
description:
  - Creates, changes or deletes a workflow, found by its name.
  - Workflow definitions are versioned on the controller; a change of O(tasks), O(playbooks),
    O(variables) or O(description) creates a new version. When the definition already matches,
    nothing is sent and no version is created.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Reports whether a new version would be created.
  diff_mode:
    support: full
    description: Shows the definition before and after.
options:
  name:
    description: Name of the workflow.
    type: str
    required: true
  state:
    description:
      - V(absent) deletes the workflow; the controller refuses while nodes use it.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Free text describing the workflow.
    type: str
  active:
    description: Whether nodes may be assigned the workflow.
    type: bool
  tasks:
    description:
      - "The task list, each a flat mapping with a C(type) and that type's parameters,
        for example C({type: image_deploy, image: ubuntu-2404, target: /dev/sda})."
      - Required when the workflow is created.
    type: list
    elements: dict
  playbooks:
    description: Playbook per phase (V(pre_install), V(post_install), V(deprovision), V(migrate)).
    type: dict
  variables:
    description: Variables handed to the workflow's tasks and playbooks.
    type: dict
"""

EXAMPLES = r"""
- name: Ubuntu on bare metal
  pureboot.pureboot.workflow:
    name: ubuntu-2404
    description: Ubuntu 24.04 from the golden image
    tasks:
      - type: disk_wipe
        method: quick
      - type: image_deploy
        image: ubuntu-2404
        target: /dev/sda
      - type: reboot
    playbooks:
      post_install: playbooks/post_install.yml

- name: Stop assigning a workflow without deleting it
  pureboot.pureboot.workflow:
    name: ubuntu-2204
    active: false
"""

RETURN = r"""
workflow:
  description: The workflow with its latest version's definition.
  returned: success
  type: dict
  sample: {"id": 1, "name": "ubuntu-2404", "version": 2, "active": true, "tasks": [{"type": "reboot"}]}
version_created:
  description: Whether this run created a new definition version.
  returned: success
  type: bool
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule, changed_fields

DEFINITION = ("tasks", "playbooks", "variables", "description")


def view(workflow):
    if not workflow:
        return {}
    return dict((key, workflow.get(key)) for key in ("name", "active", "version") + DEFINITION)


def ensure_present(module, current):
    params = module.params
    wanted = dict((key, params[key]) for key in DEFINITION + ("active",))
    if current is None:
        if params["tasks"] is None:
            module.fail_json(msg="tasks is required to create workflow %s" % params["name"])
        body = dict((k, v) for k, v in wanted.items() if v is not None)
        body["name"] = params["name"]
        if module.check_mode:
            return True, True, dict(body, version=1)
        return True, True, module.call("POST", "workflows", payload=body)
    patch = changed_fields(current, wanted)
    if not patch:
        return False, False, current
    new_version = any(key in patch for key in DEFINITION)
    if module.check_mode:
        planned = dict(current, **patch)
        planned["version"] = current["version"] + (1 if new_version else 0)
        return True, new_version, planned
    return True, new_version, module.call("PATCH", "workflows/%d" % current["id"], payload=patch)


def main():
    module = PureBootModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            description=dict(type="str"),
            active=dict(type="bool"),
            tasks=dict(type="list", elements="dict"),
            playbooks=dict(type="dict"),
            variables=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    current = module.run(module.client.find_one, "workflows", {"name": module.params["name"]})
    if module.params["state"] == "absent":
        if current is not None and not module.check_mode:
            module.call("DELETE", "workflows/%d" % current["id"])
        module.exit_json(changed=current is not None, workflow={}, version_created=False,
                         diff=dict(before=view(current), after={}))
    changed, new_version, result = ensure_present(module, current)
    module.exit_json(changed=changed, workflow=result, version_created=new_version,
                     diff=dict(before=view(current), after=view(result)))


if __name__ == "__main__":
    main()
