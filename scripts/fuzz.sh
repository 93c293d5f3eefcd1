#!/usr/bin/env bash
# Fuzz the whole OpenAPI document with schemathesis against a real controller (gunicorn),
# authenticated as an admin. Exit status 0 = no server errors, no responses breaking the spec.
#
#   scripts/fuzz.sh                      # SQLite in a temp dir
#   PUREBOOT_DATABASE_URL=postgresql://... scripts/fuzz.sh
#   FUZZ_MAX_EXAMPLES=200 scripts/fuzz.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv_bin="$(dirname "$(command -v python3)")"
[ -x "${VIRTUAL_ENV:-}/bin/python" ] && venv_bin="$VIRTUAL_ENV/bin"
python="${PYTHON:-$venv_bin/python}"
export PYTHONPATH="$here/controller:$here${PYTHONPATH:+:$PYTHONPATH}"

work="$(mktemp -d -t pureboot-fuzz-XXXXXX)"
port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PUREBOOT_DATA_DIR="$work/data" PUREBOOT_LISTEN="127.0.0.1:$port" PUREBOOT_WORKERS=1
export PUREBOOT_ACCESS_TOKEN_MINUTES=240 PUREBOOT_ADMIN_PASSWORD="fuzz-$(date +%s%N)"
# the fuzzer is one client hammering login and boot endpoints: lift those limits for it
export PUREBOOT_RATE_LIMIT_LOGIN="100000/minute" PUREBOOT_RATE_LIMIT_LOGIN_IP="100000/minute"
export PUREBOOT_RATE_LIMIT_BOOT="100000/minute"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$python" -m pureboot.cli db upgrade >/dev/null
"$python" -m pureboot.cli serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/v1/ping" >/dev/null 2>&1 && break
  sleep 0.2
done
token="$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$PUREBOOT_ADMIN_PASSWORD\"}" \
  "http://127.0.0.1:$port/api/v1/auth/token" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

status=0
# /events is a Server-Sent Events stream: it never ends, so every example would wait out the
# read timeout; tests/jobs/test_event_log.py covers its parameters and errors.
(cd "$work" && "$venv_bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-50}" --seed "${FUZZ_SEED:-1}" \
  --exclude-path-regex '/events$' \
  --continue-on-failure "$@") || status=$?  # run in $work: its cache stays out of the repo
[ -n "${FUZZ_SERVER_LOG:-}" ] && cp "$work/server.log" "$FUZZ_SERVER_LOG"
if grep -q "unhandled error" "$work/server.log"; then
  echo "server log has unhandled errors:"; grep -A20 "unhandled error" "$work/server.log" | head -60
  status=1
fi
exit $status
