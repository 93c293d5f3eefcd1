# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for controller jobs (ansible-runner runs) to finish."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError

FINISHED = ("successful", "failed", "error", "canceled")


class JobTimeout(PureBootAPIError):
    pass


def wait_for_job(client, job_id, interval=2.0, timeout=600, clock=time.monotonic, sleep=time.sleep):
    """Poll ``GET /jobs/{id}`` until the job has finished; returns the job. Raises JobTimeout."""
    deadline = clock() + timeout
    while True:
        job = client.get("jobs/%d" % job_id)
        if job.get("status") in FINISHED:
            return job
        if clock() >= deadline:
            raise JobTimeout("job %d still %s after %s s" % (job_id, job.get("status"), timeout), status=0)
        sleep(max(0.1, min(interval, deadline - clock())))


def outcome(module, job, changed=False):
    """fail_json unless the finished job was successful."""
    if job.get("status") != "successful":
        explanation = (": " + job["job_explanation"]) if job.get("job_explanation") else ""
        module.fail_json(changed=changed, msg="job %s %s%s" % (job.get("id"), job.get("status"), explanation),
                         job=job, status=job.get("status"))
