"""Live events (SSE) and outbound webhooks with a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pureboot.app import create_app
from tests.support.auth import BearerClient, mint_token

from .conftest import make_template, wait_job


def _read_event(lines, wanted: str, timeout: float = 30) -> dict:
    """Next SSE event of type `wanted` from the stream's line iterator."""
    deadline = time.monotonic() + timeout
    event_type = None
    for raw in lines:
        line = raw.decode() if isinstance(raw, bytes) else raw
        for part in line.split("\n"):
            if part.startswith("event: "):
                event_type = part[7:]
            elif part.startswith("data: ") and event_type == wanted:
                return json.loads(part[6:])
        assert time.monotonic() < deadline
    raise AssertionError("stream ended")


def test_sse_streams_node_transitions_filtered_by_node(client):
    first = client.post("/api/v1/nodes", json={"mac": "52:54:00:aa:00:01"}).get_json()["id"]
    second = client.post("/api/v1/nodes", json={"mac": "52:54:00:aa:00:02"}).get_json()["id"]
    response = client.get(f"/api/v1/events?type=node&node={second}", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    lines = response.response
    assert next(iter(lines)).startswith(b": connected")
    client.patch(f"/api/v1/nodes/{first}/state", json={"state": "retired"})  # filtered out
    client.patch(f"/api/v1/nodes/{second}/state", json={"state": "retired", "reason": "broken"})
    event = _read_event(lines, "node.state")
    assert event["payload"] == {"node_id": second, "from": "discovered", "to": "retired", "action": "retire",
                                "actor": event["payload"]["actor"], "reason": "broken"}
    response.close()
    assert client.get("/api/v1/events?bogus=1").status_code == 422


def test_sse_streams_job_status(jobs_client):
    template = make_template(jobs_client)
    response = jobs_client.get("/api/v1/events?type=job.status", buffered=False)
    lines = response.response
    next(iter(lines))
    job_id = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
    seen = []
    while not seen or seen[-1] not in ("successful", "failed", "error"):
        payload = _read_event(lines, "job.status")["payload"]
        assert payload["job_id"] == job_id
        seen.append(payload["status"])
    response.close()
    assert seen[-1] == "successful" and "running" in seen
    assert wait_job(jobs_client, job_id)["event_processing_finished"]


class _Receiver:
    """A loopback HTTP server that fails the first `failures` requests with 503."""

    def __init__(self, failures: int):
        self.requests: list[tuple[dict, bytes]] = []
        self.times: list[float] = []
        self.failures = failures
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                receiver.times.append(time.monotonic())
                status = 503 if len(receiver.requests) <= receiver.failures else 204
                self.send_response(status)
                self.end_headers()
                if status == 204:
                    receiver.received.set()

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = _Receiver(failures=2)
    yield r
    r.close()


@pytest.fixture
def hook_client(settings):
    application = create_app(settings.with_overrides(webhook_retry_backoff=0.2))
    application.test_client_class = BearerClient
    yield application.test_client(token=mint_token(application, "admin"))
    application.extensions["pureboot.webhooks"].shutdown()
    application.extensions["pureboot.db"].dispose()


def test_webhook_signed_retried_with_backoff_secret_write_only(hook_client, receiver):
    created = hook_client.post("/api/v1/webhooks", json={
        "name": "ops", "url": receiver.url, "event_types": ["node.state"], "secret": "s3cret-value"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["has_secret"] is True and "s3cret-value" not in json.dumps(body) and "secret" not in body
    listed = hook_client.get("/api/v1/webhooks").get_json()
    assert "s3cret-value" not in json.dumps(listed)
    bad = hook_client.post("/api/v1/webhooks", json={"name": "x", "url": "ftp://a/b", "event_types": ["nope"]})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"url", "event_types"}

    node = hook_client.post("/api/v1/nodes", json={"mac": "52:54:00:bb:00:01"}).get_json()["id"]
    hook_client.patch(f"/api/v1/nodes/{node}/state", json={"state": "retired"})
    assert receiver.received.wait(30), receiver.requests
    assert len(receiver.requests) == 3  # 503, 503, then delivered
    for headers, payload in receiver.requests:
        expected = "sha256=" + hmac.new(b"s3cret-value", payload, hashlib.sha256).hexdigest()
        assert headers["X-PureBoot-Signature-256"] == expected and headers["X-PureBoot-Event"] == "node.state"
    assert [h["X-PureBoot-Attempt"] for h, _ in receiver.requests] == ["1", "2", "3"]
    assert len({h["X-PureBoot-Delivery"] for h, _ in receiver.requests}) == 1  # one delivery, retried
    gaps = [b - a for a, b in zip(receiver.times, receiver.times[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # exponential backoff
    event = json.loads(receiver.requests[-1][1])
    assert event["type"] == "node.state" and event["payload"]["node_id"] == node
    deadline = time.monotonic() + 10
    while "HTTP 204 after 3 attempt(s)" not in _last_status(hook_client):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _last_status(client) -> str:
    return client.get("/api/v1/webhooks").get_json()["results"][0]["last_status"]


def test_job_status_webhooks_once_each_from_either_executor(jobs_client):
    receiver = _Receiver(failures=0)
    try:
        created = jobs_client.post("/api/v1/webhooks", json={"name": "jobs", "url": receiver.url,
                                                             "event_types": ["job"]})
        assert created.status_code == 201
        template = make_template(jobs_client)
        job_id = jobs_client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
        assert wait_job(jobs_client, job_id)["status"] == "successful"
        deadline = time.monotonic() + 20
        while not any(json.loads(b)["payload"]["status"] == "successful" for _h, b in receiver.requests):
            assert time.monotonic() < deadline, receiver.requests
            time.sleep(0.1)
        time.sleep(0.5)  # a duplicate would arrive now
        statuses = [json.loads(b)["payload"]["status"] for _h, b in receiver.requests]
        assert statuses[-1] == "successful" and len(statuses) == len(set(statuses)), statuses
        assert {"running", "successful"} <= set(statuses)
    finally:
        receiver.close()
