"""Live events across controller processes: two `pureboot serve` on one database.

An SSE client subscribed on controller A sees a node transition made through
controller B within a couple of seconds, on SQLite (one file) and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.boot.procs import Controller


class SSEClient:
    """Reads a text/event-stream in the caller's thread; a short read timeout bounds waits."""

    def __init__(self, url: str, headers: dict | None = None):
        self.response = requests.get(url, stream=True, timeout=(5, 0.5), headers=headers or {})
        assert self.response.status_code == 200, self.response.text[:500]
        self.lines = self.response.iter_lines(decode_unicode=True)
        assert next(self.lines) == ": connected"  # subscribed before we cause anything

    def next(self, timeout: float) -> dict:
        fields: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = next(self.lines)
            except requests.ConnectionError:  # read timeout: nothing yet
                continue
            if not line and "data" in fields:
                return {"id": int(fields["id"]), **json.loads(fields["data"])}
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
        raise AssertionError(f"no event within {timeout} s")

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def controllers(tmp_path, database_url):
    started: dict[str, Controller] = {}
    try:
        # one after the other: two first starts at once race creating the admin (bootstrap)
        for name in ("a", "b"):
            started[name] = Controller(tmp_path / name, database_url=database_url, watchdog_interval=0)
        yield started["a"], started["b"]
    finally:
        for controller in started.values():
            _kill_with_workers(controller)


def _kill_with_workers(controller: Controller) -> None:
    """SIGKILL the gunicorn master we started and its workers, by PID: a graceful stop
    waits 30 s (gunicorn's graceful timeout) for the open event streams."""
    pid = controller.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children")
    workers = [int(p) for p in children.read_text().split()] if children.exists() else []
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
    controller.kill()
    controller.log.close()


def test_sse_on_one_controller_sees_transitions_made_through_another(controllers):
    a, b = controllers
    node = b.api("POST", "/api/v1/nodes", json={"mac": "52:54:00:ee:00:01"}).json()["id"]
    stream = SSEClient(f"{a.url}/api/v1/events?type=node.state&node={node}")
    try:
        latencies = []
        for target in ("retired", "discovered", "retired"):
            start = time.monotonic()
            response = b.api("PATCH", f"/api/v1/nodes/{node}/state", json={"state": target})
            assert response.status_code == 200, response.text
            event = stream.next(timeout=3)
            latencies.append(time.monotonic() - start)
            assert event["type"] == "node.state" and event["payload"]["node_id"] == node, event
            assert event["payload"]["to"] == target, event
        assert max(latencies) < 2.0, latencies
    finally:
        stream.close()
    # a client that reconnects to B with Last-Event-ID gets what it missed, from A's writes too
    assert a.api("PATCH", f"/api/v1/nodes/{node}/state", json={"state": "discovered"}).status_code == 200
    resumed = SSEClient(f"{b.url}/api/v1/events?node={node}", headers={"Last-Event-ID": str(event["id"])})
    try:
        missed = resumed.next(timeout=3)
        assert missed["id"] > event["id"] and missed["payload"]["to"] == "discovered", (event, missed)
    finally:
        resumed.close()
