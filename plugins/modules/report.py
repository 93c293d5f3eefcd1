#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report
short_description: Report install progress and status of a node to PureBoot
description:
  - Sends one progress report to C(POST /api/v1/report), as an installer or the agent
    running on the node does. Authenticate with the node's install token in O(token);
    it is minted when the node starts installing and given to it in its boot config.
  - A report is an event, so every run that sends one reports a change.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Sends nothing and reports that a report would be sent.
  diff_mode:
    support: none
    description: A report has no before and after.
options:
  node_id:
    description: Id of the reporting node. The controller also knows it from the token.
    type: int
  status:
    description:
      - V(installing) while working, V(installed) when the install is done, V(failed) on
        failure; the agent reports V(wiped) or V(migrated) when it finishes those jobs.
    type: str
    choices: [installing, installed, failed, wiped, migrated]
    default: installing
  progress:
    description: Percent done, 0 to 100.
    type: int
  phase:
    description: Name of the current step, for example V(partitioning).
    type: str
  detail:
    description: One line for the operator, for example the failure reason (sent as C(message)).
    type: str
  logs:
    description: Log lines to attach to the node (the controller bounds their size).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Tell the controller the image is written
  pureboot.pureboot.report:
    url: "{{ pureboot_url }}"
    token: "{{ pureboot_install_token }}"
    progress: 75
    phase: image_deploy
    logs:
      - image written to /dev/sda

- name: Done
  pureboot.pureboot.report:
    status: installed
    progress: 100
"""

RETURN = r"""
response:
  description: What the controller answered (empty in check mode).
  returned: success
  type: dict
  sample: {"node_id": 3, "state": "installing", "install_progress": 75}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule


def main():
    module = PureBootModule(
        argument_spec=dict(
            node_id=dict(type="int"),
            status=dict(type="str", default="installing",
                        choices=["installing", "installed", "failed", "wiped", "migrated"]),
            progress=dict(type="int"),
            phase=dict(type="str"),
            detail=dict(type="str"),
            logs=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["progress"] is not None and not 0 <= params["progress"] <= 100:
        module.fail_json(msg="progress must be between 0 and 100, got %d" % params["progress"])
    body = dict((key, params[key]) for key in ("node_id", "status", "progress", "phase", "logs")
                if params[key] is not None)
    if params["detail"] is not None:
        body["message"] = params["detail"]
    if module.check_mode:
        module.exit_json(changed=True, response={})
    response = module.call("POST", "report", payload=body)
    module.exit_json(changed=True, response=response or {})


if __name__ == "__main__":
    main()
