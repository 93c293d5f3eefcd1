"""The build_agent playbook builds a reproducible agent: a second run reports no change."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pureboot.collection import collections_path

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _playbook(output: Path, cache: Path) -> subprocess.CompletedProcess:
    extra = {"build_agent_command": f"{sys.executable} -m pureboot.cli", "build_agent_output": str(output),
             "build_agent_cache_dir": str(cache), "build_agent_install_packages": False,
             "build_agent_environment": {"PYTHONPATH": f"{ROOT / 'controller'}:{ROOT}"},
             "pureboot_controllers": "localhost", "ansible_python_interpreter": sys.executable}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path()),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", json.dumps(extra),
                           "-e", "ansible_become=false", str(ROOT / "playbooks" / "build_agent.yml")],
                          env=env, capture_output=True, text=True, timeout=600)


def _build_changed(result: subprocess.CompletedProcess) -> bool:
    """Whether the "Build the agent" task reported changed (default callback output)."""
    block = result.stdout.split("Build the agent]", 1)[1].split("TASK [", 1)[0]
    assert "changed: [localhost]" in block or "ok: [localhost]" in block, block
    return "changed: [localhost]" in block


def test_playbook_builds_and_is_idempotent(tmp_path):
    if shutil.which("apt-get") is None:
        pytest.skip("needs Debian's apt")
    output = tmp_path / "agent"
    first = _playbook(output, Path.home() / ".cache" / "pureboot")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert _build_changed(first) is True
    manifest = json.loads((output / "manifest.json").read_text())
    for name in ("vmlinuz", "initrd.img"):
        data = (output / name).read_bytes()
        assert len(data) == manifest["files"][name]["size"]
        assert hashlib.sha256(data).hexdigest() == manifest["files"][name]["sha256"]
    assert "busybox-static=" in " ".join(manifest["packages"]) and "virtio_net.ko" in manifest["modules"]
    second = _playbook(output, Path.home() / ".cache" / "pureboot")
    assert second.returncode == 0, second.stdout[-3000:]
    assert _build_changed(second) is False  # reproducible: same inputs, same bytes
    assert json.loads((output / "manifest.json").read_text()) == manifest
