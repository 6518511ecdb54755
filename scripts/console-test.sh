#!/usr/bin/env bash
# End-to-end tests of the analyst console in headless Chromium.
#
# Builds the real `fraudshield-server` binary, installs playwright-core (the npm package only:
# the browser is Debian's `chromium`, never a downloaded one) and runs
# sync-server/tests/console/console.test.mjs with node's test runner. The test starts the server
# itself on a temporary data directory on 127.0.0.1 (port 0) and reads the bound address from
# what the server prints. Screenshots of every page go to target/test-artifacts/console/.
#
# Needs: node >= 20, npm, /usr/bin/chromium (apt-get install chromium chromium-driver;
# .ci/run installs it). Usage: ./scripts/console-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "console-test: $CHROMIUM is missing; install it with: apt-get update && apt-get install -y chromium chromium-driver" >&2
  exit 1
fi

cargo build -p fraudshield-server --bin fraudshield-server --locked
bin="$(pwd)/target/debug/fraudshield-server"

dir=sync-server/tests/console
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
fi

artifacts="$(pwd)/target/test-artifacts/console"
rm -rf "$artifacts"
mkdir -p "$artifacts"

cd "$dir"
CONSOLE_SERVER_BIN="$bin" CONSOLE_ARTIFACTS="$artifacts" CHROMIUM="$CHROMIUM" \
  node --test --test-timeout=300000 console.test.mjs
