# Test-only stdout callback: prints every task result of the run as one JSON document,
# so the tests can assert on module results (ansible-core ships no JSON callback).
from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: results_json
type: stdout
short_description: all task results as one JSON document (PureBoot tests)
description: Prints the plays, their tasks with each host's result, the stats and the set_stats data as JSON.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "results_json"

    def __init__(self):
        super().__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def _task(self, task):
        tasks = self.plays[-1]["tasks"]
        if not tasks or tasks[-1]["task"]["uuid"] != task._uuid:
            tasks.append({"task": {"name": task.get_name(), "uuid": task._uuid}, "hosts": {}})
        return tasks[-1]

    def _record(self, result, **extra):
        data = dict(self._convert_to_dict(result._result), **extra)
        self._task(result._task)["hosts"][result._host.name] = data

    def _convert_to_dict(self, value):
        return json.loads(json.dumps(value, default=str))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        print(json.dumps({"plays": self.plays, "stats": summary, "custom_stats": stats.custom}, default=str))
