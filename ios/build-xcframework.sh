#!/usr/bin/env bash
# Builds ios/build/FraudShieldFFI.xcframework (static libfraudshield_ffi.a for iOS devices and
# the simulator, arm64 + x86_64) and writes the generated Swift into
# ios/Sources/FraudShield/Generated/. Runs on macOS with Xcode and rustup.
#
# Usage: ios/build-xcframework.sh
#
# Steps:
#   1. scripts/bindings.sh --no-size: host build, Swift + C headers generated from the
#      unstripped host library (the interface is the same on every target);
#   2. cargo build --profile mobile for aarch64-apple-ios, aarch64-apple-ios-sim and
#      x86_64-apple-ios (unwinding kept: a Rust panic becomes a Swift error, not a crash);
#   3. lipo the two simulator slices into one;
#   4. one Headers directory: both uniffi headers and a module.modulemap declaring both C
#      modules (fraudshield_coreFFI, fraudshield_ffiFFI), which the generated Swift imports;
#   5. xcodebuild -create-xcframework.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
out=ios/build
gen=ios/Sources/FraudShield/Generated
target_dir="${CARGO_TARGET_DIR:-target}"

./scripts/bindings.sh --no-size

rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  # IPHONEOS_DEPLOYMENT_TARGET matches Package.swift's platforms; the SQLite flags drop the
  # parts the store never uses, the C flags build all C at -Oz without unwind tables (see
  # scripts/bindings.sh).
  IPHONEOS_DEPLOYMENT_TARGET=15.0 LIBSQLITE3_FLAGS="$(cat ffi/mobile-sqlite.flags)" CFLAGS="$(cat ffi/mobile-c.flags)" \
    cargo build --locked -p fraudshield-ffi --profile mobile --target "$t"
done

rm -rf "$out" "$gen"
mkdir -p "$out/headers" "$out/sim" "$gen"
lipo -create \
  "$target_dir/aarch64-apple-ios-sim/mobile/libfraudshield_ffi.a" \
  "$target_dir/x86_64-apple-ios/mobile/libfraudshield_ffi.a" \
  -output "$out/sim/libfraudshield_ffi.a"

cp "$target_dir"/bindings/swift/*.h "$out/headers/"
cat "$target_dir"/bindings/swift/*.modulemap > "$out/headers/module.modulemap"
cp "$target_dir"/bindings/swift/*.swift "$gen/"

xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/mobile/libfraudshield_ffi.a" -headers "$out/headers" \
  -library "$out/sim/libfraudshield_ffi.a" -headers "$out/headers" \
  -output "$out/FraudShieldFFI.xcframework"

echo "built $out/FraudShieldFFI.xcframework and $gen/"
ls -l "$target_dir/aarch64-apple-ios/mobile/libfraudshield_ffi.a"
