"""A PostgreSQL server for tests: the one named by PUREBOOT_TEST_PG_URL, a local one on
127.0.0.1:5432, or a throwaway cluster started with Debian's initdb (about 1.5 s)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayCluster:
    """initdb + pg_ctl in a temp dir, as the postgres user when we are root."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
        self.bin = os.path.dirname(binaries[-1])
        self.dir = tempfile.mkdtemp(prefix="pureboot-pg-")
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        data = os.path.join(self.dir, "data")
        self._run(f"{self.bin}/initdb", "--no-sync", "-A", "trust", "-U", self.user, "-D", data)
        self._run(f"{self.bin}/pg_ctl", "-w", "-D", data, "-l", os.path.join(self.dir, "log"),
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F", "start")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self._run(f"{self.bin}/pg_ctl", "-w", "-D", os.path.join(self.dir, "data"), "-m", "fast", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class TestDatabase:
    """A fresh database on a PostgreSQL server, dropped when the tests end."""

    def __init__(self):
        self.cluster = None
        server = os.environ.get("PUREBOOT_TEST_PG_URL", DEFAULT_URL)
        if not _reachable(server):
            self.cluster = ThrowawayCluster()
            server = self.cluster.start()
        self.server = server
        self.name = f"pureboot_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = server.rsplit("/", 1)[0] + "/" + self.name

    def drop(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if self.cluster:
            self.cluster.stop()
