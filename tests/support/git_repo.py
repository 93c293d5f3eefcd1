"""A throwaway git repository holding playbooks, for project tests (file:// URLs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HELLO = ("- name: Hello\n  hosts: all\n  gather_facts: false\n  tasks:\n"
         "    - name: Say hello\n      ansible.builtin.debug:\n"
         "        msg: \"hello {{ greeting | default('world') }} from {{ inventory_hostname }}\"\n")


def make_repo(path: Path, files: dict[str, str] | None = None, branch: str = "main") -> Path:
    """A repository at `path` with one commit on `branch` (default: playbooks/hello.yml)."""
    path.mkdir(parents=True)
    for name, text in (files or {"playbooks/hello.yml": HELLO}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    env_args = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q", "-b", branch], ["add", "-A"], [*env_args, "commit", "-q", "-m", "playbooks"]):
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)
    return path
