#!/usr/bin/env bash
# Every test: the Rust suite, then the C and C++ examples through CMake/ctest, against the release
# library. Data comes from INFER8_DATA_DIR (default ../shared/data); tests that need it skip with a
# message when it is absent.
set -euo pipefail
# A relative INFER8_DATA_DIR (from the caller's folder) made absolute: tests and examples run in
# other folders.
if [ -n "${INFER8_DATA_DIR:-}" ]; then
    INFER8_DATA_DIR="$(cd "$INFER8_DATA_DIR" && pwd)"
    export INFER8_DATA_DIR
fi
cd "$(dirname "$0")/.."
cargo build --release
cargo test --release
cmake -S c_examples -B build/c_examples -DCMAKE_BUILD_TYPE=Release
cmake --build build/c_examples -j "$(nproc)"
ctest --test-dir build/c_examples --output-on-failure
