#!/usr/bin/env bash
# Host-JVM tests of the Kotlin bindings: compiles the generated Kotlin, the Android module's
# plain-Kotlin decision logic and the Kotlin tests with kotlinc, then runs them on the JVM
# against the host build of libfraudshield_ffi.so through JNA. The last line printed is
# `N passed, N failed`; the exit status is non-zero on any failure.
#
# Usage: ./scripts/kotlin-test.sh [--skip-generate] [--bench]
#   --skip-generate  use the bindings and library scripts/bindings.sh already produced
#   --bench          instead of the tests, time a check across the FFI (p50 over 100k calls)
#                    against the `mobile` library, beside the same check timed in Rust
#   FFI_PROFILE=dev  test the dev build instead of the mobile one (quicker to rebuild)
#
# Needs (scripts/../.ci/run installs them on a fresh machine):
#   java (17+), npm (to fetch the Kotlin compiler once, into target/kotlinc),
#   Debian's libjna-java (/usr/share/java/jna.jar).
set -euo pipefail
cd "$(dirname "$0")/.."

generate=1
bench=0
for arg in "$@"; do
  case "$arg" in
    --skip-generate) generate=0 ;;
    --bench) bench=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
target_dir="${CARGO_TARGET_DIR:-target}"
kotlin_version=2.4.20
kc_dir="$target_dir/kotlinc"
kc="$kc_dir/node_modules/kotlin-compiler"
jna="${JNA_JAR:-/usr/share/java/jna.jar}"
build="$target_dir/kotlin-test"

if [ "$bench" = 1 ]; then
  export FFI_PROFILE=mobile
fi
# The library under test: the `mobile` build that ships (default), or FFI_PROFILE=dev.
profile="${FFI_PROFILE:-mobile}"
case "$profile" in
  dev) lib_dir="$target_dir/debug" ;;
  *) lib_dir="$target_dir/$profile" ;;
esac

if [ ! -f "$jna" ]; then
  echo "missing $jna: apt-get install libjna-java (or set JNA_JAR)" >&2
  exit 1
fi
# The npm package is the full JVM compiler; its npm `bin` only links the JS compiler, so it is
# called by path. Installed once per target dir (cargo clean removes it).
if [ ! -x "$kc/bin/kotlinc" ] || ! grep -q "\"version\": \"$kotlin_version\"" "$kc/package.json"; then
  step "kotlin-compiler@$kotlin_version from npm into $kc_dir"
  mkdir -p "$kc_dir"
  npm install --prefix "$kc_dir" --no-audit --no-fund --loglevel=error "kotlin-compiler@$kotlin_version"
fi

if [ "$generate" = 1 ]; then
  ./scripts/bindings.sh --no-size
fi
# The tests drive the real binaries: the CLI imports their lists, the server serves the sync.
step "the fraudshield CLI and server the tests run"
cargo build --locked -p fraudshield-cli -p fraudshield-server

sources=()
while IFS= read -r f; do sources+=("$f"); done < <(
  find "$target_dir/bindings/kotlin" ffi/tests/kotlin android/fraudshield/src/main/kotlin/org/fraudshield/android/decision \
    -name '*.kt' 2>/dev/null | sort
)
if [ "$bench" = 1 ]; then
  main=org.fraudshield.test.bench.BenchKt
else
  main=org.fraudshield.test.MainKt
fi

step "kotlinc (${#sources[@]} files)"
rm -rf "$build"
mkdir -p "$build"
"$kc/bin/kotlinc" -nowarn -cp "$jna" -d "$build/test.jar" "${sources[@]}"

classpath="$build/test.jar:$jna:$kc/lib/kotlin-stdlib.jar"
server_bin="$target_dir/debug/fraudshield-server"
cli_bin="$target_dir/debug/fraudshield"
if [ "$bench" = 1 ]; then
  step "p50 of a check across the FFI (Kotlin, $lib_dir) and in Rust (same profile)"
  java -Djna.library.path="$lib_dir" -cp "$classpath" "$main"
  LIBSQLITE3_FLAGS="$(cat ffi/mobile-sqlite.flags)" CFLAGS="$(cat ffi/mobile-c.flags)" \
    cargo run --locked -q -p fraudshield-ffi --profile mobile --example check_p50
else
  step "run on the JVM ($lib_dir/libfraudshield_ffi.so)"
  java -ea -Djna.library.path="$lib_dir" -Dfraudshield.server="$server_bin" -Dfraudshield.cli="$cli_bin" \
    -cp "$classpath" "$main"
fi
