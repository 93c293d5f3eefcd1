"""Bodies past the nesting or size limit get a 400/413 JSON error, never a 500; reserved MACs get 422."""

from __future__ import annotations

import json

import pytest

from pureboot.api import bodies
from tests.controller.helpers import ok

DEEP_JSON = "[" * 50000 + "]" * 50000
DEEP_YAML = "[" * 50000 + "]" * 50000


@pytest.mark.parametrize("path", ["/api/v1/nodes", "/api/v1/workflows", "/api/v1/report",
                                  "/api/v1/job_templates", "/api/v1/templates"])
def test_deep_json_is_a_400(client, path):
    response = client.post(path, data=DEEP_JSON, content_type="application/json")
    assert response.status_code in (400, 401), response.get_data(as_text=True)[:300]
    assert response.is_json and "Traceback" not in response.get_data(as_text=True)


def test_deep_yaml_and_moderately_deep_json_are_400(client):
    response = client.post("/api/v1/workflows", data=DEEP_YAML, content_type="application/yaml")
    assert response.status_code == 400 and "nested deeper" in response.get_json()["message"]
    nested = json.dumps({"name": "w", "tasks": [], "variables": json.loads("[" * 40 + "]" * 40)})
    response = client.post("/api/v1/workflows", data=nested, content_type="application/json")
    assert response.status_code == 400 and "nested deeper" in response.get_json()["message"]
    assert ok(client.get("/api/v1/workflows"))["count"] == 0


def test_oversized_json_is_a_413(client):
    body = json.dumps({"mac": "52:54:00:00:00:09", "description": "x" * (bodies.MAX_BYTES + 1)})
    response = client.post("/api/v1/nodes", data=body, content_type="application/json")
    assert response.status_code == 413 and response.is_json
    assert ok(client.get("/api/v1/nodes"))["count"] == 0


@pytest.mark.parametrize("mac", ["ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "01:00:5e:00:00:fb", "33:33:00:00:00:01"])
def test_reserved_macs_are_refused(client, anon_client, mac):
    response = client.post("/api/v1/nodes", json={"mac": mac})
    assert response.status_code == 422 and "mac" in response.get_json()["errors"]
    assert anon_client.get(f"/api/v1/next?mac={mac}").status_code == 422
    pxelinux = anon_client.get("/boot/pxelinux.cfg/01-" + mac.replace(":", "-"))
    assert pxelinux.status_code == 422 and pxelinux.is_json
    assert ok(client.get("/api/v1/nodes"))["count"] == 0
