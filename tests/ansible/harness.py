"""A real controller in a subprocess, and ansible-playbook/ansible-inventory runs against it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_env(base: Path) -> dict[str, str]:
    """Environment for subprocesses: this checkout first, private caches under `base`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "controller"), str(ROOT)])
    # collection.collections_path() keeps its symlink under XDG_CACHE_HOME: a private one
    # means other checkouts on this machine never redirect our runs (and we never theirs).
    env["XDG_CACHE_HOME"] = str(base / "cache")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def private_collections_path(base: Path) -> Path:
    """collection.collections_path() under a private XDG_CACHE_HOME (see python_env)."""
    from pureboot import collection

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    try:
        return collection.collections_path()
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME")
        else:
            os.environ["XDG_CACHE_HOME"] = old


class Controller:
    """`pureboot db upgrade` + `pureboot serve` on a free loopback port, SQLite in a temp dir."""

    def __init__(self, base: Path, workers: int = 1):
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = python_env(base)
        self.env["PUREBOOT_DATA_DIR"] = str(base / "data")
        self.env.pop("PUREBOOT_DATABASE_URL", None)
        self.env.pop("PUREBOOT_CONFIG", None)
        self.playbook_dir = base / "playbooks"  # where job templates may take playbooks from
        self.playbook_dir.mkdir(exist_ok=True)
        self.env["PUREBOOT_PLAYBOOK_DIRS"] = str(self.playbook_dir)
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log = base / "controller.log"
        self.token: str | None = None
        self.password: str | None = None

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run([sys.executable, "-m", "pureboot.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"pureboot {' '.join(args)}: {proc.stderr or proc.stdout}")
        return proc.stdout

    def _make_admin(self) -> None:
        """With user authentication in the controller: an admin and an API token, via the CLI."""
        from pureboot.config import Settings

        if "auth_required" not in Settings.__dataclass_fields__:
            return  # a controller without users: requests need no token
        self.password = "pb-collection-" + os.urandom(6).hex()
        self._cli("user", "create", "ci-admin", "--role", "admin", "--password-stdin", stdin=self.password + "\n")
        self.token = self._cli("token", "create", "--user", "ci-admin", "--name", "collection-tests").strip()

    def user_token(self, username: str, role: str) -> str:
        """An API token of a new user with `role` (for tests of who may do what)."""
        self._cli("user", "create", username, "--role", role, "--password-stdin",
                  stdin="pb-" + os.urandom(8).hex() + "\n")
        return self._cli("token", "create", "--user", username, "--name", f"{username}-tests").strip()

    def start(self) -> "Controller":
        cli = [sys.executable, "-m", "pureboot.cli"]
        subprocess.run(cli + ["db", "upgrade"], env=self.env, check=True, capture_output=True)
        self._make_admin()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                cli + ["serve", "--listen", f"127.0.0.1:{self.port}", "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"controller exited: {self.log.read_text()[-2000:]}")
            try:
                self.api("GET", "ping")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError("controller did not answer within 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn master and its workers: our group
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def api(self, method: str, path: str, body=None):
        """JSON call; returns (status, body). Raises only when the server is unreachable."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.url}/api/v1/{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, body=None):
        status, payload = self.api(method, path, body)
        assert status < 300, (method, path, status, payload)
        return payload


def _json_report(proc: subprocess.CompletedProcess) -> dict:
    """The results_json callback's report of an ansible-playbook run (stderr attached)."""
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(
            f"no JSON from ansible-playbook (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None
    report["stderr"] = proc.stderr
    return report


def _tasks(report: dict):
    for play_report in report["plays"]:
        yield from play_report["tasks"]


class Ansible:
    """Runs ansible-playbook / ansible-inventory with the in-tree collection."""

    def __init__(self, base: Path, controller: Controller):
        self.base = base
        self.controller = controller
        self.env = python_env(base)
        collections = private_collections_path(base)
        self.env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(base / "ansible-remote-tmp"),
            "ANSIBLE_HOME": str(base / "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "callback_plugins"),
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "PUREBOOT_URL": controller.url,
        })
        if controller.token:
            self.env["PUREBOOT_TOKEN"] = controller.token
        self.count = 0

    def write(self, name: str, content) -> Path:
        path = self.base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return path

    def run(self, playbook: str, *args: str, extra_env=None):
        """ansible-playbook on a playbook file or FQCN; returns (rc, {task: [host results]}, report)."""
        env = dict(self.env, ANSIBLE_STDOUT_CALLBACK="results_json", **(extra_env or {}))
        proc = subprocess.run([str(BIN / "ansible-playbook"), playbook, *args], env=env, capture_output=True,
                              text=True, timeout=600)
        report = _json_report(proc)
        results = {}
        for task in _tasks(report):
            results.setdefault(task["task"]["name"], []).extend(task["hosts"].values())
        return proc.returncode, results, report

    def playbook(self, tasks: list, *, check=False, diff=False, extra_env=None, play_vars=None,
                 hosts="localhost", inventory=None, callback="results_json"):
        """Run one play; returns (rc, {task name: result of the first host}, raw JSON)."""
        self.count += 1
        play = {"hosts": hosts, "gather_facts": False, "tasks": tasks}
        if play_vars:
            play["vars"] = play_vars
        path = self.write(f"playbook-{self.count}.yml", [play])
        args = [str(BIN / "ansible-playbook"), str(path), "-i", str(inventory) if inventory else "localhost,"]
        if inventory is None:
            args += ["-c", "local"]
        if check:
            args.append("--check")
        if diff:
            args.append("--diff")
        env = dict(self.env, ANSIBLE_STDOUT_CALLBACK=callback, **(extra_env or {}))
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        if callback != "results_json":
            return proc.returncode, {}, proc
        report = _json_report(proc)
        results = {}
        for task in _tasks(report):
            host_results = list(task["hosts"].values())
            results[task["task"]["name"]] = host_results[0] if host_results else {}
        return proc.returncode, results, report

    def inventory(self, config: Path, *args: str, extra_env=None):
        env = dict(self.env, **(extra_env or {}))
        return subprocess.run([str(BIN / "ansible-inventory"), "-i", str(config), *args],
                              env=env, capture_output=True, text=True, timeout=300)
