#!/usr/bin/env bash
# Run ansible-test sanity and units on the collection, offline, without Docker.
# Usage: tests/ansible/run_ansible_test.sh [sanity|units|all] [extra ansible-test args]
# The collection is copied into $PUREBOOT_AT_DIR (default ~/.cache/pureboot/ansible-test)
# as ansible_collections/pureboot/pureboot; see tests/ansible/layout.py for why a copy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$(command -v python3)}"
bindir="$(dirname "$python")"
what="${1:-all}"; shift || true
dest="${PUREBOOT_AT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pureboot/ansible-test}"

"$python" "$here/seed_get_pip.py" >/dev/null
collection="$("$python" "$here/layout.py" "$dest")"
cd "$collection"
export PATH="$bindir:$PATH"
if [[ "$what" == sanity || "$what" == all ]]; then
    "$bindir/ansible-test" sanity --venv --python 3.11 --color no "$@"
fi
if [[ "$what" == units || "$what" == all ]]; then
    "$bindir/ansible-test" units --venv --python 3.11 --color no "$@"
fi
