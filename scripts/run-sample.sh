#!/usr/bin/env bash
# The main job: build the library, write MNIST batch files, build the examples and run sampleINT8
# (LeNet from Caffe in FP32, FP16 and INT8 with entropy calibration; calibrates on images 0-499 and
# scores images 500-9999). Extra arguments go to sampleINT8 (e.g. legacy, entropy, minmax, search).
set -euo pipefail
# INFER8_DATA_DIR made absolute where it is given (relative to the caller's folder): the sample
# runs from build/sampleINT8.
data="${INFER8_DATA_DIR:-}"
if [ -n "$data" ]; then
    data="$(cd "$data" && pwd)"
fi
cd "$(dirname "$0")/.."
data="${data:-$(cd .. && pwd)/shared/data}"
cargo build --release
cmake -S c_examples -B build/c_examples -DCMAKE_BUILD_TYPE=Release -DINFER8_DATA_DIR="$data" > /dev/null
cmake --build build/c_examples -j "$(nproc)" --target sampleINT8 > /dev/null
work=build/sampleINT8
mkdir -p "$work"
target/release/infer8 mnist-batches --out "$work/data/mnist" \
    --images "$data/mnist/t10k-images-idx3-ubyte.gz" --labels "$data/mnist/t10k-labels-idx1-ubyte.gz"
cd "$work"
exec ../c_examples/sampleINT8/sampleINT8 mnist batch=100 start=5 score=95 \
    datadir=data/mnist "model=$data/models/lenet" "$@"
