"""ansible-test sanity and units on the collection, offline and without Docker.

tests/ansible/run_ansible_test.sh copies the collection content (tests/ansible/layout.py)
into an ansible_collections/pureboot/pureboot tree, seeds ansible-test's get-pip cache
(tests/ansible/seed_get_pip.py) and runs ansible-test with --venv --python 3.11.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .layout import ROOT, collection_files

SCRIPT = ROOT / "tests" / "ansible" / "run_ansible_test.sh"


def test_layout_holds_only_collection_content():
    files = collection_files()
    assert "galaxy.yml" in files and "plugins/modules/node.py" in files
    assert "tests/unit/plugins/module_utils/test_api.py" in files
    for name in files:
        assert not name.startswith(("controller/", "bench/", "molecule/", "tests/ansible/", "tests/controller/"))
    assert not (ROOT / "tests" / "sanity").exists() or not any(
        "ignore" in p.name for p in (ROOT / "tests" / "sanity").iterdir()), "no sanity ignore files"


@pytest.mark.parametrize("suite", ["sanity", "units"])
def test_ansible_test(suite):
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(SCRIPT), suite], env=env, capture_output=True, text=True, timeout=1800)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    if suite == "sanity":
        assert 'Running sanity test "validate-modules"' in output and 'Running sanity test "pylint"' in output
    else:
        assert " passed" in output and " failed" not in output
