#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: workflow_info
short_description: List PureBoot workflows and their versions
description:
  - Returns the workflows matching the filters, each with its latest definition,
    and optionally every version of each.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
options:
  name:
    description: Only the workflow with this name.
    type: str
  active:
    description: Only active (V(true)) or inactive (V(false)) workflows.
    type: bool
  versions:
    description: Also return every version of each workflow under C(versions).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The history of one workflow
  pureboot.pureboot.workflow_info:
    name: ubuntu-2404
    versions: true
  register: result
"""

RETURN = r"""
workflows:
  description: The matching workflows, ordered by id.
  returned: always
  type: list
  elements: dict
  sample: [{"id": 1, "name": "ubuntu-2404", "version": 2, "versions": [{"version": 1}, {"version": 2}]}]
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule


def main():
    module = PureBootModule(
        argument_spec=dict(
            name=dict(type="str"),
            active=dict(type="bool"),
            versions=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    query = {"name": module.params["name"]}
    if module.params["active"] is not None:
        query["active"] = "true" if module.params["active"] else "false"
    workflows = module.run(module.client.list, "workflows", query)
    if module.params["versions"]:
        for workflow in workflows:
            workflow["versions"] = module.run(module.client.list, "workflows/%d/versions" % workflow["id"])
    module.exit_json(changed=False, workflows=workflows)


if __name__ == "__main__":
    main()
