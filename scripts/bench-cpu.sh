#!/usr/bin/env bash
# The CPU benchmark (issue 8), from the repository root: infer8 (FP32, FP16, INT8) against
# ONNX Runtime (FP32, INT8 QDQ) and OpenCV dnn on LeNet, CIFAR-10 full and MTCNN det3, one table.
#
#   scripts/bench-cpu.sh [ITERATIONS]      # default 300 timed runs per row (medians)
#
# The peers are installed from PyPI into build/bench-venv (git-ignored) on first use; the ONNX
# models and the peers' CSV go to build/bench-cpu/. ONNX Runtime and OpenCV run with 2 threads,
# the size of infer8's rayon pool on the 2-core benchmark machine (INFER8_BENCH_THREADS overrides).
set -euo pipefail

ITER=${1:-300}
DATA=${INFER8_DATA_DIR:-../shared/data}
THREADS=${INFER8_BENCH_THREADS:-2}
VENV=build/bench-venv
WORK=build/bench-cpu

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# OpenCV 5 dropped the Caffe importer (readNetFromCaffe): stay on 4.x.
"$VENV/bin/pip" install -q onnxruntime onnx numpy "opencv-python-headless<5"
cargo build --release --bin infer8-bench-cpu
mkdir -p "$WORK"
"$VENV/bin/python" scripts/bench_cpu_peers.py "$DATA" "$WORK" "$WORK/peers.csv" \
    --iterations "$ITER" --threads "$THREADS"
RAYON_NUM_THREADS=$THREADS target/release/infer8-bench-cpu --data "$DATA" \
    --iterations "$ITER" --peers "$WORK/peers.csv"
