# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the node-side modules: a local HTTP server with Range and one-shot drops,
and loop devices (detached in teardown)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover - Python 2
    pytest.skip("needs Python 3", allow_module_level=True)


class ImageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), Handler)
        self.files = {}
        self.drop_at = {}  # path -> byte offset: the first response crossing it is cut there
        self.requests = []  # (path, Range header, Authorization header)
        self.fail_once = {}  # path -> HTTP status answered once
        self.ranges = True

    @property
    def url(self):
        scheme = "https" if hasattr(self, "ca_path") else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.server_address[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range"), self.headers.get("Authorization")))
        data = srv.files.get(self.path)
        status = srv.fail_once.pop(self.path, None)
        if data is None or status:
            self.send_response(status or 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = 0, len(data) - 1
        match = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range") or "")
        if match and srv.ranges:
            start = int(match.group(1))
            end = min(int(match.group(2)), end) if match.group(2) else end
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end + 1 - start))
        self.end_headers()
        drop = srv.drop_at.get(self.path)
        if drop is not None and start <= drop < end:
            del srv.drop_at[self.path]
            self.wfile.write(data[start:drop])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(data[start:end + 1])


@pytest.fixture
def http_server():
    server = ImageServer()
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def loop_unavailable():
    if os.geteuid() != 0 or not shutil.which("losetup"):
        return "needs root and losetup"
    return None


@pytest.fixture
def loop_device(tmp_path):
    """attach(path) -> /dev/loopN (with partition scanning); all detached in teardown."""
    reason = loop_unavailable()
    if reason:
        pytest.skip(reason)
    attached = []

    def attach(path):
        proc = subprocess.run(["losetup", "-f", "--show", "-P", str(path)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.skip("losetup failed: %s" % proc.stderr.strip())
        attached.append(proc.stdout.strip())
        return attached[-1]

    yield attach
    for dev in attached:
        subprocess.run(["losetup", "-d", dev], capture_output=True, check=False)


@pytest.fixture
def https_server(http_server, tmp_path):
    """http_server behind TLS with a fresh self-signed certificate for 127.0.0.1 (its PEM: .ca_path)."""
    import ssl
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   capture_output=True, check=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    http_server.socket = context.wrap_socket(http_server.socket, server_side=True)
    http_server.ca_path = cert
    return http_server
