#!/usr/bin/env bash
# The sync server's benchmark targets (issue 9), written to benches/SERVER.md by the
# `server_report` binary (see its docs: benches/src/bin/server_report.rs).
#
#   scripts/bench-server.sh manifest   # GET /v1/manifest: our release server vs nginx, with wrk
#   scripts/bench-server.sh publish    # publishing 20,000 approved changes on a 2M-entry list
#   scripts/bench-server.sh large      # the same on a 10M-entry list (memory and time), 1 round
#   scripts/bench-server.sh all        # manifest, publish, large (default)
#   scripts/bench-server.sh manifest --baseline-bin OLD_BINARY   # adds an older server build
#
# Extra arguments go to server_report. Needs nginx and wrk for `manifest`
# (Debian: apt-get install nginx-light wrk). The throughput runs need the CPU and are short;
# the publish runs are long and run under `nice -n 15` (the machine may be shared).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
[ $# -gt 0 ] && shift
cargo build --release --locked -p fraudshield-server -p fraudshield-benches --bin fraudshield-server --bin server_report
bin=target/release/server_report
case "$what" in
  manifest) "$bin" --only manifest "$@" ;;
  publish) nice -n 15 "$bin" --only publish --entries 2000000 --changes 20000 --rounds 3 "$@" ;;
  large) nice -n 15 "$bin" --only publish --entries 10000000 --changes 20000 --rounds 1 "$@" ;;
  all)
    "$bin" --only manifest "$@"
    nice -n 15 "$bin" --only publish --entries 2000000 --changes 20000 --rounds 3 "$@"
    nice -n 15 "$bin" --only publish --entries 10000000 --changes 20000 --rounds 1 "$@"
    ;;
  *) echo "usage: scripts/bench-server.sh [manifest|publish|large|all] [server_report options]" >&2; exit 2 ;;
esac
