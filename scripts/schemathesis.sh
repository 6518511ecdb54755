#!/usr/bin/env bash
# Property-based API testing of fraudshield-server with schemathesis (PyPI), driven by the
# server's own generated OpenAPI document (GET /v1/openapi.json).
#
# Builds the real binary, starts it on a fresh data directory on 127.0.0.1 (port 0), creates a
# token per role, and runs schemathesis once per role over the operations that role may call
# (reporter: POST /v1/reports; publisher: POST /v1/publish; analyst: everything else, the
# public endpoints included), every phase (examples, coverage, fuzzing, stateful), with the
# checks that fit a server that documents its 4xx/5xx envelopes:
#   not_a_server_error, status_code_conformance, content_type_conformance,
#   response_schema_conformance.
# Any failure fails the script. A bounded number of examples per operation keeps it to a few
# minutes; the seed is fixed so a CI run is reproducible (SCHEMATHESIS_SEED=… to explore
# another one, SCHEMATHESIS_EXAMPLES=… for more cases).
#
# schemathesis and its dependencies are pinned in scripts/schemathesis-requirements.txt and
# installed once into a virtualenv under target/ (python3 >= 3.10 with the venv module).
# Usage: ./scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${SCHEMATHESIS_EXAMPLES:-40}"
seed="${SCHEMATHESIS_SEED:-20261201}"
req=scripts/schemathesis-requirements.txt
venv="$(pwd)/target/schemathesis-venv"
if ! cmp -s "$req" "$venv/installed-requirements.txt" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
  cp "$req" "$venv/installed-requirements.txt"
fi

cargo build -p fraudshield-server --bin fraudshield-server --locked
bin="$(pwd)/target/debug/fraudshield-server"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
"$bin" --data-dir "$data" init >/dev/null
for role in reporter analyst publisher; do
  "$bin" --data-dir "$data" token create --role "$role" --name "schemathesis-$role" \
    >"$work/$role.token" 2>/dev/null
done
FRAUDSHIELD_LOG=warn "$bin" --data-dir "$data" serve --listen 127.0.0.1:0 \
  --addr-file "$work/addr" >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 600); do
  [ -s "$work/addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/addr" ] || { echo "schemathesis: the server did not start" >&2; exit 1; }
url="http://$(cat "$work/addr")"

failed=0
run() {
  local role="$1"
  shift
  echo "== schemathesis as $role"
  # From the temporary directory: schemathesis leaves a .schemathesis/ folder where it runs.
  if ! (cd "$work" && "$venv/bin/schemathesis" run "$url/v1/openapi.json" \
      --header "Authorization: Bearer $(cat "$work/$role.token")" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --max-examples "$examples" --seed "$seed" --generation-database none \
      --workers 1 --request-timeout 30 --no-color --warnings off "$@"); then
    failed=1
  fi
}
run reporter --include-name "POST /v1/reports"
run publisher --include-name "POST /v1/publish"
run analyst --exclude-name "POST /v1/reports" --exclude-name "POST /v1/publish"

if [ "$failed" != 0 ]; then
  echo "schemathesis found failures; the server's log:" >&2
  tail -50 "$work/server.log" >&2
  exit 1
fi
echo "schemathesis: no failure"
