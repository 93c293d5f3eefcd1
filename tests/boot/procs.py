"""Real processes for boot-service tests: a controller (`pureboot serve`) and `pureboot boot`.

Both run as subprocesses on loopback with free ports; each is stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ENV_PATH = f"{ROOT / 'controller'}:{ROOT}"


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env(**extra) -> dict:
    out = dict(os.environ, PYTHONPATH=ENV_PATH)
    out.update({k: str(v) for k, v in extra.items()})
    return out


def pureboot(*args) -> list[str]:
    return [sys.executable, "-m", "pureboot.cli", *args]


class Controller:
    """`pureboot serve` (gunicorn) on a SQLite database in `data_dir`."""

    def __init__(self, data_dir: Path, port: int | None = None, database_url: str = "", workers: int = 1,
                 **settings):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env(PUREBOOT_DATA_DIR=data_dir, PUREBOOT_LISTEN=f"127.0.0.1:{self.port}",
                       PUREBOOT_WORKERS=workers, PUREBOOT_PUBLIC_URL=self.url, PUREBOOT_SECRET_KEY="test",
                       # every request comes from 127.0.0.1 here; per-IP limits are not under test
                       PUREBOOT_RATE_LIMITS_ENABLED="false",
                       # these tests drive the API anonymously (user auth is tested elsewhere)
                       PUREBOOT_AUTH_REQUIRED="false",
                       **({"PUREBOOT_DATABASE_URL": database_url} if database_url else {}),
                       **{f"PUREBOOT_{k.upper()}": v for k, v in settings.items()})
        subprocess.run(pureboot("db", "upgrade"), env=self.env, check=True, capture_output=True)
        self.log = open(Path(data_dir) / "controller.log", "wb")
        self.proc = subprocess.Popen(pureboot("serve"), env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/api/v1/ping", self.proc)

    def api(self, method: str, path: str, **kwargs):
        return requests.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # gunicorn master; workers follow it
            self.proc.wait(10)
        _kill_orphans(self.port)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _kill_orphans(port: int) -> None:
    """Workers of a SIGKILLed gunicorn master exit on their own; wait until the port is free."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


class BootService:
    """`pureboot boot` on loopback with unprivileged, free ports."""

    def __init__(self, controller_url: str, tftp_root: Path, log_path: Path, *extra: str):
        self.tftp_port = free_port(socket.SOCK_DGRAM)
        self.dhcp_port = free_port(socket.SOCK_DGRAM)
        self.pxe_port = free_port(socket.SOCK_DGRAM)
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(pureboot(
            "boot", "--controller", controller_url, "--interface", "lo", "--address", "127.0.0.1",
            "--tftp-root", str(tftp_root), "--tftp-port", str(self.tftp_port),
            "--dhcp-port", str(self.dhcp_port), "--pxe-port", str(self.pxe_port), "--no-ra",
            "--log-level", "DEBUG", *extra), env=env(), stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"boot service exited: {self.log_path.read_text()[-2000:]}")
            if b"boot service up" in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError("boot service did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
