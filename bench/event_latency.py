"""Publish -> SSE delivery latency of live events: median and p95 over 200 events.

    python bench/event_latency.py [--events 200] [--interval 0.02] [--database-url URL]

This process publishes events (events.publish_now: its own short transaction) and reads
GET /api/v1/events from two servers on the same database:

- same-process: the app served by a thread of this process: a commit wakes its streams.
- cross-process: `pureboot serve` (gunicorn, 1 worker): it sees the events by polling
  the event log every event_poll_interval (default 0.5 s).

The clock starts before the publish call (so it includes the commit) and stops when the
SSE reader thread has parsed the event.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from _jobs_env import ROOT, VENV_BIN, create_app, upgrade

from pureboot import events
from pureboot.config import load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/ping", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Reader:
    """Reads the stream in a thread; `arrived[seq]` = perf_counter() when event seq was parsed."""

    def __init__(self, url: str):
        self.arrived: dict[int, float] = {}
        self.response = requests.get(f"{url}/api/v1/events?type=bench", stream=True, timeout=(5, 60))
        self.lines = self.response.iter_lines(decode_unicode=True)
        assert next(self.lines) == ": connected"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.lines:
                if line.startswith("data: "):
                    self.arrived[json.loads(line[6:])["payload"]["seq"]] = time.perf_counter()
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed


def measure(db, url: str, count: int, interval: float) -> list[float]:
    reader = Reader(url)
    sent: dict[int, float] = {}
    for seq in range(count):
        sent[seq] = time.perf_counter()
        events.publish_now(db, "bench.tick", {"seq": seq})
        time.sleep(interval)
    deadline = time.monotonic() + 10
    while len(reader.arrived) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    missing = count - len(reader.arrived)
    if missing:
        raise RuntimeError(f"{missing} of {count} events never arrived")
    return [reader.arrived[seq] - sent[seq] for seq in range(count)]


def summary(values: list[float]) -> str:
    values = sorted(v * 1000 for v in values)
    def pick(q: float) -> float:
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]
    return (f"median {pick(0.5):7.1f} ms, p95 {pick(0.95):7.1f} ms, "
            f"max {values[-1]:7.1f} ms (n={len(values)})")


def serve_in_thread(app) -> str:
    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per stream
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def serve_in_process(tmp: str, url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}", PATH=f"{VENV_BIN}:{os.environ['PATH']}",
               PUREBOOT_DATA_DIR=f"{tmp}/served", PUREBOOT_DATABASE_URL=url, PUREBOOT_SECRET_KEY="bench",
               PUREBOOT_LISTEN=f"127.0.0.1:{port}", PUREBOOT_WORKERS="1", PUREBOOT_AUTH_REQUIRED="false",
               PUREBOOT_RATE_LIMITS_ENABLED="false", PUREBOOT_WATCHDOG_INTERVAL="0")
    proc = subprocess.Popen([sys.executable, "-m", "pureboot.cli", "serve"], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between publishes")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-events-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        overrides = {"data_dir": tmp, "database_url": url, "secret_key": "bench", "auth_required": False,
                     "rate_limits_enabled": False}
        upgrade(load_settings(overrides).database_uri)
        app = create_app(overrides)
        db = app.extensions["pureboot.db"]
        proc, served = serve_in_process(tmp, url, Path(tmp) / "serve.log")
        try:
            wait_up(served)
            backend = db.engine.dialect.name
            for label, stream_url in (("same-process ", serve_in_thread(app)), ("cross-process", served)):
                print(f"{backend:10s} {label}: {summary(measure(db, stream_url, args.events, args.interval))}")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: the master and its worker
            proc.wait(30)
            db.dispose()


if __name__ == "__main__":
    main()
