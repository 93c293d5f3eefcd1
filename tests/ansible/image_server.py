"""A loopback HTTP server of a directory, for the node-side modules run without a controller."""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


class NoController:
    url = "http://127.0.0.1:9"  # never contacted: these playbooks need no controller
    token = None


class _Handler(SimpleHTTPRequestHandler):
    seen: list = []  # the Authorization header of each GET, per server (see serve)

    def do_GET(self):
        self.seen.append(self.headers.get("Authorization"))
        super().do_GET()

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # disk_image closes its format probe early: a reset is expected


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, list]]:
    """(base URL, Authorization headers seen) of a server of `root` on a free loopback port."""
    handler = type("Handler", (_Handler,), {"seen": []})
    server = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))  # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1], handler.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
