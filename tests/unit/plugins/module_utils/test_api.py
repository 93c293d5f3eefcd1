# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API client against a small real HTTP server on loopback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootClient

ITEMS = [{"id": i, "name": "n%d" % i} for i in range(1, 8)]


class Handler(BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, body):
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        url = urlparse(self.path)
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        Handler.seen.append(("GET", self.path, self.headers.get("Authorization")))
        if url.path == "/api/v1/things":
            size, page = int(query.get("page_size", 3)), int(query.get("page", 1))
            chunk = ITEMS[(page - 1) * size:page * size]
            more = page * size < len(ITEMS)
            nxt = "/api/v1/things?page=%d&page_size=%d" % (page + 1, size) if more else None
            return self._send(200, {"count": len(ITEMS), "next": nxt, "previous": None, "results": chunk})
        if url.path == "/api/v1/broken":
            return self._send(422, {"code": 422, "status": "Unprocessable Entity", "message": "invalid input",
                                    "errors": {"mac": ["not a MAC address"]}})
        if url.path == "/api/v1/html":
            self.send_response(502)
            self.end_headers()
            return self.wfile.write(b"<html>bad gateway</html>")
        return self._send(404, {"code": 404, "status": "Not Found", "message": "nothing at %s" % url.path})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        Handler.seen.append(("POST", self.path, self.headers.get("Authorization")))
        if self.path == "/api/v1/auth/token":
            if body == {"username": "ada", "password": "secret"}:
                return self._send(200, {"access_token": "tok-123"})
            return self._send(401, {"code": 401, "status": "Unauthorized", "message": "bad credentials"})
        return self._send(201, {"echo": body})


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_list_follows_next_links(server):
    client = PureBootClient(server)
    assert [item["id"] for item in client.list("things", {"page_size": 3})] == list(range(1, 8))
    assert [item["id"] for item in client.list("things", {"page_size": 3}, limit=4)] == [1, 2, 3, 4]


def test_parallel_pages_come_back_in_order(server):
    client = PureBootClient(server)
    pages = list(client.iter_pages("things", {"page_size": 2}, workers=3))
    assert [[i["id"] for i in page] for page in pages] == [[1, 2], [3, 4], [5, 6], [7]]
    assert [i["id"] for i in client.list_parallel("things", {"page_size": 2})] == list(range(1, 8))


def test_api_errors_are_readable(server):
    client = PureBootClient(server + "/")
    with pytest.raises(PureBootAPIError) as info:
        client.get("broken")
    assert info.value.status == 422 and info.value.errors == {"mac": ["not a MAC address"]}
    assert "HTTP 422: invalid input" in info.value.message and "not a MAC address" in info.value.message
    with pytest.raises(PureBootAPIError) as info:
        client.get("html")
    assert info.value.status == 502 and "bad gateway" in info.value.message
    assert client.get_or_none("missing") is None


def test_unreachable_and_missing_url():
    with pytest.raises(PureBootAPIError) as info:
        PureBootClient("http://127.0.0.1:9", timeout=3).get("things")
    assert "cannot reach the PureBoot controller" in info.value.message
    with pytest.raises(PureBootAPIError) as info:
        PureBootClient("")
    assert "PUREBOOT_URL" in info.value.message


def test_login_exchanges_credentials_for_a_bearer_token(server):
    Handler.seen[:] = []
    client = PureBootClient(server, username="ada", password="secret")
    assert client.request("POST", "nodes", payload={"a": 1}) == {"echo": {"a": 1}}
    assert Handler.seen == [("POST", "/api/v1/auth/token", None), ("POST", "/api/v1/nodes", "Bearer tok-123")]
    with pytest.raises(PureBootAPIError) as info:
        PureBootClient(server, username="ada", password="wrong").get("things")
    assert info.value.status == 401 and "login as ada failed" in info.value.message


def test_token_is_sent_and_urls_are_built(server):
    Handler.seen[:] = []
    client = PureBootClient(server, token="abc")
    client.get("things", {"page_size": 10, "skip": None})
    assert Handler.seen == [("GET", "/api/v1/things?page_size=10", "Bearer abc")]
    assert PureBootClient("pb.example:8080").url_for("nodes/1") == "http://pb.example:8080/api/v1/nodes/1"
    proxied = PureBootClient("https://pb.example/prefix")
    assert proxied.url_for("/api/v1/nodes?page=2") == "https://pb.example/prefix/api/v1/nodes?page=2"
