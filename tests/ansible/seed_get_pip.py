"""Seed ansible-test's get-pip cache so ``ansible-test sanity --venv`` works offline.

ansible-test downloads ``get-pip.py`` to bootstrap pip in the virtual environments it
creates. Offline that fails, so we put a stand-in where it caches the download: it runs
``ensurepip`` in a subprocess (in-process would reset pip's configuration) and then
upgrades pip with the arguments ansible-test passed, minus the get-pip-only flags.
"""

from __future__ import annotations

import sys
from pathlib import Path

STUB = '''"""Offline stand-in for get-pip.py (written by the PureBoot test setup)."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall"] + args)
'''


def cache_name() -> str:
    """The cache file ansible-test looks for (named after the pip version it pins)."""
    from ansible_test._internal.python_requirements import get_venv_packages  # type: ignore

    class _Python:  # get_venv_packages only reads .version
        version = "%d.%d" % sys.version_info[:2]

    return "get_pip_%s.py" % get_venv_packages(_Python())["pip"].replace(".", "_")


def seed(home: Path | None = None) -> Path:
    path = (home or Path.home()) / ".ansible" / "test" / "cache" / cache_name()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != STUB:
        path.write_text(STUB)
    return path


if __name__ == "__main__":
    print(seed(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
