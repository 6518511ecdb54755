#!/usr/bin/env bash
# Builds the fraudshield-ffi library for this host, generates the Kotlin and Swift bindings from
# it, checks the generated C header with gcc, and prints the stripped size of the `mobile`
# profile build with and without the built-in HTTP transport.
#
# Usage: ./scripts/bindings.sh [--no-size]
#
# Output (all under target/, nothing is committed):
#   target/<profile>/libfraudshield_ffi.so   the library the Kotlin tests load (unstripped)
#   target/bindings/kotlin/                   org/fraudshield/{core,ffi}/*.kt
#   target/bindings/swift/                    .swift, C headers and module maps
#   target/bindings/size/                     stripped copies of the mobile builds
#
# Environment:
#   FFI_PROFILE   profile of the library the bindings are generated from and the Kotlin tests
#                 load: `mobile` (default: what ships, so the tests test it) or `dev` (quicker
#                 to rebuild while working on the bindings; no size step).
#
# Notes:
# - Bindings are generated from the UNSTRIPPED library: uniffi-bindgen reads the interface
#   metadata from the symbol table. The stripped copy has the same interface.
# - uniffi-bindgen is its own crate (ffi/bindgen, outside the workspace) so that ordinary builds
#   never compile the generator; the first run here builds it (about 4 minutes of CPU).
# - Mobile builds compile the bundled SQLite without the parts the store never uses (full-text
#   search, R-tree, JSON, extension loading, UTF-16 APIs, date functions, in-memory databases…):
#   ffi/mobile-sqlite.flags, passed as LIBSQLITE3_FLAGS to every `--profile mobile` build (also
#   by android/ and ios/). Only options that leave SQLite's grammar alone: the bundled
#   amalgamation ships a pre-generated parser, and grammar options (no ALTER TABLE, no window
#   functions…) do not compile or leave undefined symbols with it. The library must have no
#   undefined symbols beyond libc and the unwinder: checked below.
# - Mobile builds compile all C (SQLite, ring) with ffi/mobile-c.flags as CFLAGS: `-Oz` and no
#   unwind tables. A Rust panic never unwinds through C frames (an `extern "C"` callback that
#   panics aborts), so the C code needs no unwind tables; a native crash report then shows
#   fewer frames inside SQLite.
# - Sizes are of the x86_64 host build, a proxy for Android arm64-v8a / iOS arm64.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

profile="${FFI_PROFILE:-mobile}"
size=1
for arg in "$@"; do
  case "$arg" in
    --no-size) size=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
if [ "$profile" != mobile ]; then size=0; fi

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
# macOS (ios/build-xcframework.sh runs this there) names the host library .dylib.
case "$(uname -s)" in
  Darwin) lib="$lib_dir/libfraudshield_ffi.dylib"; size=0 ;;
  *) lib="$lib_dir/libfraudshield_ffi.so" ;;
esac

# Every mobile build, with the trimmed SQLite.
build_lib() { # cargo args...
  if [ "$profile" = mobile ]; then
    LIBSQLITE3_FLAGS="$(cat ffi/mobile-sqlite.flags)" CFLAGS="$(cat ffi/mobile-c.flags)" \
      cargo build --locked -p fraudshield-ffi --profile mobile "$@"
  else
    cargo build --locked -p fraudshield-ffi --profile "$profile" "$@"
  fi
}
stripped_size() { # name -> prints the byte size of a stripped copy of the current library
  cp "$lib" "$out/size/$1.so"
  strip --strip-all "$out/size/$1.so"
  wc -c < "$out/size/$1.so" | tr -d ' '
}

step "uniffi-bindgen (ffi/bindgen, its own workspace)"
cargo build --locked --release --manifest-path ffi/bindgen/Cargo.toml --target-dir "$target_dir"
bindgen="$target_dir/release/uniffi-bindgen"

mkdir -p "$out/size"
if [ "$size" = 1 ]; then
  # First the variant with the built-in HTTP transport, so that the library left in place
  # for generation and the Kotlin tests is the default one (host-supplied HTTP).
  step "mobile library with --features http (size only)"
  build_lib --features http
  http_bytes=$(stripped_size http)
fi

step "library ($profile profile, default features)"
build_lib
test -f "$lib" || { echo "missing $lib" >&2; exit 1; }
undefined=$([ "$(uname -s)" = Darwin ] || nm -u -D "$lib" | awk '{print $2}' | grep -Ev '@GLIBC|^_Unwind_|^__cxa_finalize|^__gmon_start__|^_ITM_' || true)
if [ -n "$undefined" ]; then
  echo "the library needs symbols nothing provides (a trimmed SQLite part still in use?):" >&2
  echo "$undefined" >&2
  exit 1
fi

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
rm -f "$check_c"
echo "ok: $(cd "$out/swift" && ls ./*.h | xargs -n1 basename | tr '\n' ' ')"

if [ "$size" = 1 ]; then
  plain_bytes=$(stripped_size plain)
  step "stripped size of the mobile library (x86_64 host build as the proxy)"
  report() { # label, bytes, max MiB
    awk -v l="$1" -v b="$2" -v m="$3" 'BEGIN {
      mib = b / 1048576; ok = (mib <= m) ? "within" : "OVER";
      printf "%-44s %9d bytes = %.2f MiB (%s the %.1f MiB target)\n", l, b, mib, ok, m }'
  }
  report "libfraudshield_ffi.so (host supplies HTTP)" "$plain_bytes" "$max_mib_plain"
  report "libfraudshield_ffi.so (--features http)" "$http_bytes" "$max_mib_http"
fi
