#!/usr/bin/env bash
# Tip-intake benchmark: the real `fraudshield-server` (release build) on 127.0.0.1, a fresh
# data directory, `wrk` (Debian package `wrk`) posting a new tip per request with report.lua.
# After the run it counts the tips in the database: every acknowledged tip must be there.
#
# Usage: benches/server/intake.sh [SERVER_BINARY] [DURATION (default 20s)] [CONNECTIONS (64)]
# Runs under `nice -n 15`. Needs wrk and sqlite3 (`apt-get install wrk sqlite3`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-}"
if [ -z "$bin" ]; then
  cargo build --release -p fraudshield-server --locked
  bin=target/release/fraudshield-server
fi
duration="${2:-20s}"
conns="${3:-64}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"
"$bin" --data-dir "$data" init >/dev/null
token="$("$bin" --data-dir "$data" token create --role reporter --name bench 2>/dev/null)"
FRAUDSHIELD_LOG=warn \
  nice -n 15 "$bin" --data-dir "$data" serve --listen 127.0.0.1:0 --addr-file "$work/addr" \
  >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 600); do [ -s "$work/addr" ] && break; sleep 0.1; done
addr="$(cat "$work/addr")"
echo "server $bin on $addr, wrk -t2 -c$conns -d$duration"
TOKEN="$token" nice -n 15 wrk -t2 -c"$conns" -d"$duration" --latency \
  -s benches/server/report.lua "http://$addr" | tee "$work/wrk.out"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
acked="$(sed -n 's/^acknowledged (201): \([0-9]*\),.*/\1/p' "$work/wrk.out")"
stored="$(sqlite3 "$data/server.sqlite" 'SELECT COUNT(*) FROM tips')"
echo "tips stored: $stored (acknowledged: $acked)"
if [ "$stored" -lt "$acked" ]; then
  echo "FAIL: fewer tips stored than acknowledged" >&2
  exit 1
fi
