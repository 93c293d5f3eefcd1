#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: job_launch
short_description: Launch a PureBoot job template
description:
  - Starts a job from a job template (a playbook with its inventory and variables) on the
    controller, optionally waiting for it to finish.
  - The template accepts O(extra_vars), O(limit), O(inventory), O(forks), O(job_timeout) and
    O(verbosity) only when it prompts for them (C(ask_<field>_on_launch)).
  - Every launch is a change; in check mode nothing is launched.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Resolves the template and reports that a job would be launched.
  diff_mode:
    support: none
    description: A launch has no before and after.
options:
  job_template:
    description: Name or id of the job template.
    type: str
    required: true
  extra_vars:
    description: Variables for the run.
    type: dict
  limit:
    description: Host pattern limiting the run.
    type: str
  inventory:
    description: Inventory for the run, in the job template's C(inventory) shape.
    type: dict
  forks:
    description: Parallel hosts.
    type: int
  job_timeout:
    description: Seconds after which the controller stops the run (0 for none); sent as C(timeout).
    type: int
  verbosity:
    description: ansible-playbook verbosity, 0 to 5.
    type: int
  wait:
    description: Wait for the job to finish, and fail unless it was successful.
    type: bool
    default: false
  interval:
    description: Seconds between two status checks when O(wait=true).
    type: float
    default: 2.0
  wait_timeout:
    description: Seconds to wait at most when O(wait=true).
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Run the post-install playbook for one node and wait
  pureboot.pureboot.job_launch:
    job_template: post-install
    limit: web01
    extra_vars:
      packages: [nginx]
    wait: true
  register: launched
"""

RETURN = r"""
job:
  description: The job as launched, or as finished when O(wait=true).
  returned: success
  type: dict
  sample: {"id": 12, "status": "pending", "job_template": 3}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.jobs import JobTimeout, outcome, wait_for_job
from ansible_collections.pureboot.pureboot.plugins.module_utils.resolve import by_name_or_id

LAUNCH_FIELDS = ("extra_vars", "limit", "inventory", "forks", "verbosity")


def main():
    module = PureBootModule(
        argument_spec=dict(
            job_template=dict(type="str", required=True),
            extra_vars=dict(type="dict"),
            limit=dict(type="str"),
            inventory=dict(type="dict"),
            forks=dict(type="int"),
            job_timeout=dict(type="int"),
            verbosity=dict(type="int"),
            wait=dict(type="bool", default=False),
            interval=dict(type="float", default=2.0),
            wait_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    params = module.params
    template = module.run(by_name_or_id, module.client, "job_templates", params["job_template"], "job template")
    if module.check_mode:
        module.exit_json(changed=True, job={"job_template": template["id"], "status": "new"})
    body = dict((key, params[key]) for key in LAUNCH_FIELDS if params[key] is not None)
    if params["job_timeout"] is not None:
        body["timeout"] = params["job_timeout"]
    job = module.call("POST", "job_templates/%d/launch" % template["id"], payload=body)
    if params["wait"]:
        try:
            job = wait_for_job(module.client, job["id"], params["interval"], params["wait_timeout"])
        except JobTimeout as exc:
            module.fail_json(msg=exc.message, changed=True, job=job)
        except PureBootAPIError as exc:
            module.fail_json(msg=exc.message, changed=True, job=job)
        outcome(module, job, changed=True)
    module.exit_json(changed=True, job=job)


if __name__ == "__main__":
    main()
