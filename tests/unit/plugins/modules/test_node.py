# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pureboot.pureboot.node updates with If-Match: a change made after its read is not overwritten.

A small fake controller on loopback keeps one node with a version and answers like the
real one: ETag on single reads, 412 when If-Match names an older version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse

import pytest

from ansible.module_utils import basic
from ansible_collections.pureboot.pureboot.plugins.modules import node as node_module

MAC = "52:54:00:00:00:03"


class Controller:
    """The fake controller's state: one node, its version, what it was asked."""

    def __init__(self):
        self.node = {"id": 3, "mac": MAC, "hostname": "web01", "site": "dc1", "state": "discovered",
                     "workflow": None, "tags": []}
        self.version = 1
        self.requests = []
        self.change_after_read = None  # another client's PATCH, applied right after a single GET

    def etag(self):
        return '"3-%d"' % self.version

    def apply(self, change):
        self.node.update(change)
        self.version += 1


class Handler(BaseHTTPRequestHandler):
    controller = None

    def log_message(self, *args):
        pass

    def _send(self, status, body, etag=None):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        ctl = self.controller
        path = urlparse(self.path).path
        ctl.requests.append(("GET", path, None))
        if path == "/api/v1/nodes":
            return self._send(200, {"count": 1, "next": None, "previous": None, "results": [dict(ctl.node)]})
        if path == "/api/v1/nodes/3":
            self._send(200, dict(ctl.node), ctl.etag())
            if ctl.change_after_read:
                ctl.apply(ctl.change_after_read)
                ctl.change_after_read = None
            return None
        return self._send(404, {"code": 404, "status": "Not Found", "message": "nothing at %s" % path})

    def do_PATCH(self):
        ctl = self.controller
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if_match = self.headers.get("If-Match")
        ctl.requests.append(("PATCH", urlparse(self.path).path, if_match))
        if if_match not in (None, "*", ctl.etag()):
            return self._send(412, {"code": 412, "status": "Precondition Failed", "etag": ctl.etag(),
                                    "message": "node 3 changed since it was read"})
        ctl.apply(body)
        return self._send(200, dict(ctl.node), ctl.etag())


@pytest.fixture
def controller():
    ctl = Controller()
    Handler.controller = ctl
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    ctl.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    yield ctl
    httpd.shutdown()
    httpd.server_close()


class Exit(Exception):
    def __init__(self, failed, result):
        super(Exit, self).__init__(result.get("msg"))
        self.failed = failed
        self.result = result


def run_module(monkeypatch, args):
    """Run the module's main(); returns (failed, result)."""
    def exit_json(self, **result):
        raise Exit(False, result)

    def fail_json(self, **result):
        raise Exit(True, result)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    if hasattr(basic, "_ANSIBLE_PROFILE"):
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    with pytest.raises(Exit) as outcome:
        node_module.main()
    return outcome.value.failed, outcome.value.result


def test_update_sends_the_etag_of_the_read_it_is_based_on(controller, monkeypatch):
    failed, result = run_module(monkeypatch, {"url": controller.url, "mac": MAC, "hostname": "web02"})
    assert not failed and result["changed"] is True
    assert result["node"]["hostname"] == "web02"
    patches = [r for r in controller.requests if r[0] == "PATCH"]
    assert patches == [("PATCH", "/api/v1/nodes/3", '"3-1"')]


def test_a_change_between_read_and_write_fails_and_is_not_overwritten(controller, monkeypatch):
    controller.change_after_read = {"hostname": "someone-else"}
    failed, result = run_module(monkeypatch, {"url": controller.url, "mac": MAC, "hostname": "web02"})
    assert failed and result["status"] == 412
    assert "changed by someone else" in result["msg"] and "Run the task again" in result["msg"]
    assert result["current_etag"] == '"3-2"'
    assert controller.node["hostname"] == "someone-else"


def test_no_change_needs_no_versioned_read_and_no_write(controller, monkeypatch):
    failed, result = run_module(monkeypatch, {"url": controller.url, "mac": MAC, "hostname": "web01"})
    assert not failed and result["changed"] is False
    assert [r[1] for r in controller.requests] == ["/api/v1/nodes"]


def test_check_mode_reads_but_never_writes(controller, monkeypatch):
    failed, result = run_module(monkeypatch, {"url": controller.url, "mac": MAC, "site": "dc2",
                                              "_ansible_check_mode": True})
    assert not failed and result["changed"] is True and result["node"]["site"] == "dc2"
    assert not [r for r in controller.requests if r[0] == "PATCH"] and controller.node["site"] == "dc1"
