#!/usr/bin/env bash
# Runs each libFuzzer target of fuzz/ for SECONDS (default 60), one after another, and prints the
# executions and coverage of each: scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain RUSTC_BOOTSTRAP=1 lets it use
# the nightly-only sanitizer and coverage flags. Seeds are made from INFER8_DATA_DIR (default
# ../shared/data) the first time; crashes land in fuzz/artifacts/<target>/ and stop the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(prototxt caffemodel binaryproto engine calib_cache batch_file)
data=${INFER8_DATA_DIR:-../shared/data}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz
if [ ! -d fuzz/corpus ]; then
    cargo build --release --bin infer8
    python3 scripts/fuzz-seeds.py "$data" target/release/infer8 fuzz/corpus
fi
# -a: debug assertions, so integer overflow is a finding rather than a silent wrap.
cargo fuzz build -a -O
mkdir -p fuzz/logs
printf '%-12s %12s %8s %8s %8s %s\n' target executions cov ft secs result
for t in "${targets[@]}"; do
    log=fuzz/logs/$t.log
    set +e
    cargo fuzz run -a -O "$t" -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 > "$log" 2>&1
    rc=$?
    set -e
    done_line=$(grep -E '^#[0-9]+ +DONE' "$log" | tail -1)
    [ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+ ' "$log" | tail -1)
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' || true)
    cov=$(grep -oE 'cov: [0-9]+' <<< "$done_line" | grep -oE '[0-9]+' || true)
    ft=$(grep -oE 'ft: [0-9]+' <<< "$done_line" | grep -oE '[0-9]+' || true)
    result=ok
    [ $rc -eq 0 ] || result="FAILED (rc $rc, see $log and fuzz/artifacts/$t/)"
    printf '%-12s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${took:-?}" "$result"
    [ $rc -eq 0 ] || exit $rc
done
