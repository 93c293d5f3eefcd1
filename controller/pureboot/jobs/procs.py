"""Find and kill every process of one job run, whatever its process group.

ansible-runner's cancel kills the playbook's process group, but ansible-core 2.19
starts each worker with ``setsid()`` (its own session and group), so module
processes (a ``sleep`` in a shell task, an ssh client) would survive. Every process
of a run inherits the environment variable ``PUREBOOT_RUN=<marker>``; we kill all
processes carrying it.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV_NAME = "PUREBOOT_RUN"


def _carries(pid: str, needle: bytes) -> bool:
    try:
        return needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # gone, or not ours to read
        return False


def pids_of(marker: str) -> list[int]:
    needle = f"{ENV_NAME}={marker}".encode()
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me and _carries(p, needle)]


def kill_run(marker: str) -> int:
    """SIGKILL every process of the run (several passes: forks may race). Returns how many."""
    killed: set[int] = set()
    for _ in range(3):
        found = [p for p in pids_of(marker) if p not in killed]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
    return len(killed)
