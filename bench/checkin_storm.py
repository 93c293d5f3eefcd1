#!/usr/bin/env python3
"""Check-in storm: N distinct MACs ask GET /boot/ipxe at once (a whole site powering on).

The controller runs as deployed (`pureboot serve`: gunicorn, gthread workers) on SQLite
and on PostgreSQL. Every MAC is unknown, so each request registers a discovered node
(a write); a second pass repeats the storm with the now-known MACs. Prints req/s,
latency p50/p99, errors, and how many answers were Rule D "boot local" because the
decision missed its deadline.

    python bench/checkin_storm.py                        # 1,000 and 10,000, both backends
    python bench/checkin_storm.py --macs 1000 --backends sqlite --concurrency 32
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "controller"), str(ROOT)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, database_url: str, workers: int, threads: int):
        self.dir = tempfile.mkdtemp(prefix="pb-boot-bench-")
        self.port = free_port()
        self.env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}", PUREBOOT_DATA_DIR=self.dir,
                        PUREBOOT_LISTEN=f"127.0.0.1:{self.port}", PUREBOOT_WORKERS=str(workers),
                        PUREBOOT_THREADS=str(threads), PUREBOOT_SECRET_KEY="bench", PUREBOOT_LOG_LEVEL="WARNING",
                        PUREBOOT_WATCHDOG_INTERVAL="0",
                        # one client address sends the whole storm: measure the server, not the limiter
                        PUREBOOT_RATE_LIMITS_ENABLED="false")
        if database_url:
            self.env["PUREBOOT_DATABASE_URL"] = database_url
        cli = [sys.executable, "-m", "pureboot.cli"]
        subprocess.run(cli + ["db", "upgrade"], env=self.env, check=True, capture_output=True)
        self.log = open(Path(self.dir) / "serve.log", "wb")
        self.proc = subprocess.Popen(cli + ["serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("controller did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def storm(port: int, macs: list[str], concurrency: int) -> dict:
    """Fire one request per MAC from `concurrency` keep-alive connections."""
    latencies: list[float] = []
    errors = deadline_answers = 0
    lock = threading.Lock()
    queue = iter(macs)
    gate = threading.Barrier(concurrency + 1)

    def client() -> None:
        nonlocal errors, deadline_answers
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad, late = [], 0, 0
        gate.wait()
        while True:
            with lock:
                mac = next(queue, None)
            if mac is None:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", f"/boot/ipxe?mac={mac}&arch=x86_64&platform=pcbios")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    bad += 1
                elif b"controller unavailable" in body:
                    late += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad
            deadline_answers += late

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "errors": errors, "rule_d": deadline_answers}


def postgres_url() -> tuple[str, object]:
    url = os.environ.get("PUREBOOT_BENCH_PG_URL")
    if url:
        return url, None
    from tests.support.postgres import TestDatabase
    database = TestDatabase()
    return database.url, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--macs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    print(f"check-in storm: GET /boot/ipxe, {args.concurrency} concurrent connections, "
          f"gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs")
    print(f"{'backend':<11}{'MACs':>7} {'pass':<6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'RuleD':>7}")
    for backend in args.backends:
        for count in args.macs:
            holder = None
            url = ""
            if backend == "postgresql":
                url, holder = postgres_url()
            server = Server(url, args.workers, args.threads)
            try:
                macs = [f"02:00:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
                        for i in range(count)]
                for label in ("new", "known"):
                    r = storm(server.port, macs, args.concurrency)
                    print(f"{backend:<11}{count:>7} {label:<6}{r['rps']:>8.0f}{r['p50_ms']:>9.1f}"
                          f"{r['p99_ms']:>9.1f}{r['errors']:>8}{r['rule_d']:>7}", flush=True)
            finally:
                server.stop()
                if holder is not None:
                    holder.drop()


if __name__ == "__main__":
    main()
