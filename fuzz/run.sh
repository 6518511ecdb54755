#!/usr/bin/env bash
# Runs fuzz targets back to back, each for a fixed time, and prints one summary line per target.
#
# Usage: fuzz/run.sh SECONDS [TARGET...]      (default: every target in fuzz_targets/)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain it sets
# RUSTC_BOOTSTRAP=1 so rustc accepts the -Z sanitizer flags cargo-fuzz passes (see README.md).
# New inputs go to fuzz/work/<target>/ (not committed); the committed seeds in
# fuzz/corpus/<target>/ are only read. Logs: fuzz/work/logs/<target>.log; a crash leaves its
# input in fuzz/artifacts/<target>/ and the next target starts.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(ls fuzz_targets | sed 's/\.rs$//'))
fi
export RUSTC_BOOTSTRAP=1
mkdir -p work/logs
cargo fuzz build -a || exit 1
for t in "${targets[@]}"; do
    mkdir -p "work/$t"
    log="work/logs/$t.log"
    start=$(date +%s)
    # The binary directly (not `cargo fuzz run`, which rebuilds first): sources may change
    # while a long queue runs.
    mkdir -p "artifacts/$t"
    nice -n 15 "target/x86_64-unknown-linux-gnu/release/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        "work/$t" "corpus/$t" >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
    echo "$t rc=$rc secs=$((end - start)) execs=${execs:-?} $last"
done
