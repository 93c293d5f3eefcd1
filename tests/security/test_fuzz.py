"""schemathesis over the whole OpenAPI document against a real gunicorn controller, as admin.

Slow (about a minute per backend): run with ``pytest -m slow tests/security/test_fuzz.py`` or
``make fuzz``. Passes only with 0 server errors and 0 responses that break the spec.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_spec_violation(database_url, tmp_path):
    env = {**os.environ, "PUREBOOT_DATABASE_URL": database_url, "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
           "FUZZ_MAX_EXAMPLES": os.environ.get("FUZZ_MAX_EXAMPLES", "25"),
           "FUZZ_SERVER_LOG": str(tmp_path / "server.log"),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run([str(ROOT / "scripts" / "fuzz.sh")], env=env, capture_output=True, text=True,
                            timeout=1800, check=False)
    output = result.stdout + result.stderr
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    print(output[-3000:])
    assert result.returncode == 0, output[-6000:]
    assert cases and int(cases.group(1)) == int(cases.group(2)) > 1000
