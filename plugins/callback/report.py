# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: report
type: notification
short_description: Record each playbook run's results on the PureBoot nodes it touched
description:
  - At the end of a playbook run, adds one log line (source C(ansible)) to every PureBoot
    node that was a host of the run, with its ok, changed, failed, unreachable, skipped,
    rescued and ignored counts and the names of its failed tasks.
  - A host is matched to a node by its C(pureboot_id) host variable (set by the
    P(pureboot.pureboot.nodes#inventory) inventory), else by its inventory name as the
    node's hostname, else by C(ansible_host) as the node's IP address.
  - Problems reaching the controller are warnings; they never fail the playbook.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
requirements:
  - enable in configuration, for example C(callbacks_enabled = pureboot.pureboot.report)
options:
  url:
    description: Base URL of the PureBoot controller.
    type: str
    required: true
    env:
      - name: PUREBOOT_URL
    ini:
      - section: callback_pureboot_report
        key: url
  token:
    description: API token.
    type: str
    env:
      - name: PUREBOOT_TOKEN
    ini:
      - section: callback_pureboot_report
        key: token
  username:
    description: User to log in as, with O(password).
    type: str
    env:
      - name: PUREBOOT_USERNAME
    ini:
      - section: callback_pureboot_report
        key: username
  password:
    description: Password of O(username).
    type: str
    env:
      - name: PUREBOOT_PASSWORD
    ini:
      - section: callback_pureboot_report
        key: password
  validate_certs:
    description: Whether to verify the controller's TLS certificate.
    type: bool
    default: true
    env:
      - name: PUREBOOT_VALIDATE_CERTS
    ini:
      - section: callback_pureboot_report
        key: validate_certs
  ca_path:
    description: PEM CA bundle to verify the controller's certificate with (default the system store).
    type: path
    env:
      - name: PUREBOOT_CA_PATH
    ini:
      - section: callback_pureboot_report
        key: ca_path
  timeout:
    description: Seconds to wait for each API request.
    type: int
    default: 30
    env:
      - name: PUREBOOT_TIMEOUT
    ini:
      - section: callback_pureboot_report
        key: timeout
"""

import os

from ansible.plugins.callback import CallbackBase
from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootClient

COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
MAX_FAILED_TASKS = 50


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "pureboot.pureboot.report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.playbook = None
        self.hosts = {}  # inventory name -> the host variables that identify the node
        self.failed_tasks = {}

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(getattr(playbook, "_file_name", "") or "playbook")

    def _seen(self, result):
        host = result._host
        if host.name not in self.hosts:
            variables = host.get_vars()
            self.hosts[host.name] = dict((key, variables.get(key)) for key in ("pureboot_id", "ansible_host"))

    def _failed(self, result, reason):
        self._seen(result)
        names = self.failed_tasks.setdefault(result._host.name, [])
        if len(names) < MAX_FAILED_TASKS:
            names.append("%s (%s)" % (result._task.get_name(), reason))

    def v2_runner_on_ok(self, result):
        self._seen(result)

    def v2_runner_on_skipped(self, result):
        self._seen(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            self._seen(result)
        else:
            self._failed(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._failed(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        try:
            client = PureBootClient(self.get_option("url"), self.get_option("token"), self.get_option("username"),
                                    self.get_option("password"), self.get_option("validate_certs"),
                                    self.get_option("timeout"), self.get_option("ca_path"))
        except PureBootAPIError as exc:
            self._display.warning("pureboot.pureboot.report: %s" % exc.message)
            return
        for host in sorted(stats.processed):
            counts = stats.summarize(host)
            try:
                node_id = self._node_id(client, host)
                if node_id is None:
                    self._display.warning("pureboot.pureboot.report: no PureBoot node matches host %s" % host)
                    continue
                client.request("POST", "nodes/%d/logs" % node_id, payload=self._log(host, counts))
            except PureBootAPIError as exc:
                self._display.warning("pureboot.pureboot.report: recording %s failed: %s" % (host, exc.message))

    def _log(self, host, counts):
        context = dict((key, int(counts.get(key, 0))) for key in COUNTERS)
        context.update(playbook=self.playbook, host=host, failed_tasks=self.failed_tasks.get(host, []))
        bad = context["failures"] or context["unreachable"]
        status = "unreachable" if context["unreachable"] else ("failed" if context["failures"] else "ok")
        context["status"] = status
        message = "ansible %s: %s (ok=%d changed=%d failed=%d unreachable=%d)" % (
            self.playbook, status, context["ok"], context["changed"], context["failures"], context["unreachable"])
        return {"source": "ansible", "level": "error" if bad else "info", "message": message, "context": context}

    def _node_id(self, client, host):
        known = self.hosts.get(host, {})
        if known.get("pureboot_id") is not None:
            return int(known["pureboot_id"])
        node = client.find_one("nodes", {"hostname": host.lower()})
        if node is None and known.get("ansible_host"):
            node = client.find_one("nodes", {"ip_address": known["ansible_host"]})
        return node["id"] if node else None
