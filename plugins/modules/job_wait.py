#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: job_wait
short_description: Wait for a PureBoot job to finish
description:
  - Polls a job (a playbook run on the controller) until it is V(successful), V(failed),
    V(error) or V(canceled). Fails unless it ended V(successful), or when O(wait_timeout) passes first.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Read-only; waits the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
options:
  job_id:
    description: Id of the job, for example RV(pureboot.pureboot.job_launch#module:job.id).
    type: int
    required: true
  interval:
    description: Seconds between two status checks.
    type: float
    default: 2.0
  wait_timeout:
    description: Seconds to wait at most.
    type: int
    default: 600
"""

EXAMPLES = r"""
- name: Wait for the post-install run
  pureboot.pureboot.job_wait:
    job_id: "{{ launched.job.id }}"
    wait_timeout: 1800
"""

RETURN = r"""
job:
  description: The finished job.
  returned: always
  type: dict
  sample: {"id": 12, "status": "successful", "elapsed": 8.2, "failed": false}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.jobs import JobTimeout, outcome, wait_for_job


def main():
    module = PureBootModule(
        argument_spec=dict(
            job_id=dict(type="int", required=True),
            interval=dict(type="float", default=2.0),
            wait_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        job = wait_for_job(module.client, params["job_id"], params["interval"], params["wait_timeout"])
    except JobTimeout as exc:
        module.fail_json(msg=exc.message, job=module.run(module.client.get, "jobs/%d" % params["job_id"]))
    except PureBootAPIError as exc:  # 404 for an unknown job, an unreachable controller
        module.fail_api(exc)
    outcome(module, job)
    module.exit_json(changed=False, job=job)


if __name__ == "__main__":
    main()
