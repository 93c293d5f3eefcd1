"""ansible-lint (production profile, offline) on the roles, playbooks and scenarios."""

from __future__ import annotations

import subprocess

from .harness import BIN, ROOT, private_collections_path, python_env


def test_ansible_lint_passes(tmp_path):
    env = python_env(tmp_path)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(private_collections_path(tmp_path))
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    proc = subprocess.run([str(BIN / "ansible-lint"), "--offline", "--profile", "production", "--nocolor",
                           "roles/", "playbooks/", "molecule/", "inventory/"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "0 failure(s), 0 warning(s)" in proc.stdout + proc.stderr
