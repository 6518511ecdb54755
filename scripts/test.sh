#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, and every test in the workspace
# (unit, integration, doc tests, and the benches in test mode so they keep compiling; the object
# store test against moto on loopback, installed by scripts/s3-server.sh), the
# analyst console's browser test (scripts/console-test.sh: needs /usr/bin/chromium), schemathesis
# against the server's OpenAPI document (scripts/schemathesis.sh: needs python3), then the
# SDK: Kotlin and Swift bindings generated, their C header compiled, the stripped mobile sizes
# printed, and the Kotlin bindings tested on the host JVM.
# Usage: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "S3-compatible test server (moto, PyPI) for the object store test"
# The test starts moto_server itself on 127.0.0.1 port 0; required here, so it cannot skip.
export FS_S3_REQUIRED=1
moto="$(./scripts/s3-server.sh)"
export "$moto"

step "cargo test (workspace, all features)"
cargo test --workspace --all-features --locked

step "analyst console end to end (headless Chromium)"
./scripts/console-test.sh

step "API: schemathesis (PyPI) against /v1/openapi.json on a loopback server"
./scripts/schemathesis.sh

step "SDK bindings: generate Kotlin + Swift, C header check, stripped mobile sizes"
./scripts/bindings.sh

step "SDK: Kotlin host-JVM tests"
./scripts/kotlin-test.sh --skip-generate

echo
echo "all checks passed"
