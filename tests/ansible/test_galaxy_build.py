"""`ansible-galaxy collection build` ships only the collection, and the tarball installs."""

from __future__ import annotations

import json
import subprocess
import tarfile

from .harness import BIN, ROOT


def test_build_and_install(tmp_path):
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path),
                            str(ROOT)], env=env, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    [tarball] = tmp_path.glob("pureboot-pureboot-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    tops = {name.split("/")[0] for name in names}
    assert tops <= {"MANIFEST.json", "FILES.json", "README.md", "meta", "plugins", "roles", "playbooks",
                    "inventory", "collections", "docs"}, tops
    for name in names:
        parts = name.split("/")
        assert not {"__pycache__", ".pytest_cache", "output", ".cache", "molecule"} & set(parts), name
        assert not name.endswith((".pyc", ".tar.gz")), name
    for needed in ("plugins/modules/node.py", "plugins/inventory/nodes.py", "plugins/callback/report.py",
                   "plugins/module_utils/api.py", "roles/boot_server/tasks/main.yml", "playbooks/site.yml"):
        assert needed in names

    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                              str(tmp_path / "installed")], env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    installed = tmp_path / "installed" / "ansible_collections" / "pureboot" / "pureboot"
    assert (installed / "MANIFEST.json").is_file() and not (installed / "controller").exists()
    doc = subprocess.run([str(BIN / "ansible-doc"), "--json", "pureboot.pureboot.node"],
                         env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "installed")),
                         capture_output=True, text=True, timeout=300)
    assert doc.returncode == 0, doc.stderr
    options = json.loads(doc.stdout)["pureboot.pureboot.node"]["doc"]["options"]
    assert {"mac", "lifecycle_state", "url", "token"} <= set(options)


def test_collection_requirements_install_offline(tmp_path):
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path),
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}  # no network needed
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-r",
                           str(ROOT / "collections" / "requirements.yml"), "-p", str(tmp_path / "deps")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
