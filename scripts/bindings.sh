#!/usr/bin/env bash
# Builds the fraudshield-ffi library for this host, generates the Kotlin and Swift bindings from
# it, checks the generated C header with gcc, and prints the stripped size of the `mobile`
# profile build with and without the built-in HTTP transport.
#
# Usage: ./scripts/bindings.sh [--no-size]
#
# Output (all under target/, nothing is committed):
#   target/<profile>/libfraudshield_ffi.so   the host library the Kotlin tests load (unstripped)
#   target/bindings/kotlin/                   org/fraudshield/... .kt files
#   target/bindings/swift/                    .swift, C headers and module maps
#   target/bindings/size/                     stripped copies of the mobile builds
#
# Environment:
#   FFI_PROFILE   profile of the library the bindings are generated from and the Kotlin tests
#                 load: `dev` (default, quick to rebuild) or `mobile` (what ships; used for
#                 the FFI timing in scripts/kotlin-test.sh --bench).
#
# Notes:
# - Bindings are generated from the UNSTRIPPED library: uniffi-bindgen reads the interface
#   metadata from the symbol table. The stripped copy has the same interface.
# - uniffi-bindgen is its own crate (ffi/bindgen, outside the workspace) so that ordinary builds
#   never compile the generator; the first run here builds it (about 3.5 minutes cold).
# - Sizes are of the x86_64 host build, a proxy for Android arm64-v8a / iOS arm64 (see
#   ffi/README.md for what an arm64 build adds).
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${FFI_PROFILE:-dev}"
size=1
for arg in "$@"; do
  case "$arg" in
    --no-size) size=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# Size targets (MiB) of the stripped x86_64 mobile build.
max_mib_plain=1.8
max_mib_http=3.2

step() { printf '\n== %s\n' "$*"; }
target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/bindings"
case "$profile" in
  dev) lib_dir="$target_dir/debug" ;;
  *) lib_dir="$target_dir/$profile" ;;
esac
lib="$lib_dir/libfraudshield_ffi.so"

step "uniffi-bindgen (ffi/bindgen, its own workspace)"
cargo build --locked --release --manifest-path ffi/bindgen/Cargo.toml --target-dir "$target_dir"
bindgen="$target_dir/release/uniffi-bindgen"

step "host library ($profile profile, default features)"
cargo build --locked -p fraudshield-ffi --profile "$profile"
test -f "$lib" || { echo "missing $lib" >&2; exit 1; }

step "generate Kotlin and Swift from the unstripped $lib"
rm -rf "$out/kotlin" "$out/swift"
"$bindgen" generate --no-format --language kotlin --out-dir "$out/kotlin" "$lib"
"$bindgen" generate --no-format --language swift --out-dir "$out/swift" "$lib"
find "$out/kotlin" "$out/swift" -type f | sort

step "the generated C headers compile with gcc"
check_c="$out/swift/header_check.c"
{
  echo '#include <stdint.h>'
  echo '#include <stdbool.h>'
  for h in "$out"/swift/*.h; do echo "#include \"$(basename "$h")\""; done
  echo 'int main(void) { return 0; }'
} > "$check_c"
gcc -std=c11 -Wall -Werror -D_Nullable= -D_Nonnull= -fsyntax-only -I "$out/swift" "$check_c"
echo "ok: $(ls "$out"/swift/*.h | xargs -n1 basename | tr '\n' ' ')"

if [ "$size" = 1 ]; then
  mkdir -p "$out/size"
  measure() { # name, feature args...
    local name="$1"; shift
    cargo build --locked -p fraudshield-ffi --profile mobile "$@"
    cp "$target_dir/mobile/libfraudshield_ffi.so" "$out/size/$name.so"
    strip --strip-all "$out/size/$name.so"
    stat -c %s "$out/size/$name.so"
  }
  step "mobile profile, stripped size (x86_64 host build as the proxy)"
  plain=$(measure plain | tail -n1)
  http=$(measure http --features http | tail -n1)
  report() { # label, bytes, max MiB
    awk -v l="$1" -v b="$2" -v m="$3" 'BEGIN {
      mib = b / 1048576; ok = (mib <= m) ? "within" : "OVER";
      printf "%-40s %9d bytes = %.2f MiB (%s the %.1f MiB target)\n", l, b, mib, ok, m }'
  }
  report "libfraudshield_ffi.so (host supplies HTTP)" "$plain" "$max_mib_plain"
  report "libfraudshield_ffi.so (--features http)" "$http" "$max_mib_http"
fi
