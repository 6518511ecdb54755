#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, and every test in the workspace
# (unit, integration, doc tests, and the benches in test mode so they keep compiling), and the
# analyst console's browser test (scripts/console-test.sh: needs /usr/bin/chromium).
# Usage: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo test (workspace, all features)"
cargo test --workspace --all-features --locked

step "analyst console end to end (headless Chromium)"
./scripts/console-test.sh

echo
echo "all checks passed"
