#!/usr/bin/env bash
# The GPU check (issue 5), run on the GPU machine from the repository root: the CUDA operator suite
# against the CPU backend, LeNet top-1 and timings in FP32/FP16/INT8 at batch 1, 100 and 65536,
# and the PyTorch baseline on the same weights, then a short table.
#
# The GPU machine has no Rust toolchain, so the binaries are built here first and carried:
#   scripts/gpu-check.sh prepare   # release build; stripped binaries into .devbin/, data into .devdata/
# then, through the device tool, with carry [".devbin", ".devdata"]:
#   scripts/gpu-check.sh
# Where cargo exists on the GPU machine and .devbin/ does not, it builds there instead.
set -uo pipefail

# GPU_CHECK_BIN / INFER8_DATA_DIR: other folders for the carried binaries and data (two checkouts
# sharing one GPU machine keep theirs apart).
BIN=${GPU_CHECK_BIN:-.devbin}
DATA=${INFER8_DATA_DIR:-.devdata}
TARGET=${CARGO_TARGET_DIR:-target}

prepare() {
    set -e
    cargo build --release --bin infer8-bench-gpu
    local test_bin
    test_bin=$(cargo test --release --test ops_cuda --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ops_cuda" and m.get("executable"):
        print(m["executable"])')
    mkdir -p "$BIN" "$DATA/models" "$DATA/mnist"
    cargo build --release --lib --bin infer8
    cp "$TARGET/release/infer8-bench-gpu" "$TARGET/release/infer8" "$BIN/"
    bash scripts/make-libdir.sh "$TARGET/release/libinfer8.so" "$BIN/lib"
    strip "$BIN/lib/libnvinfer.so.5"
    cp "$test_bin" "$BIN/ops_cuda"
    strip "$BIN"/infer8* "$BIN"/ops_cuda
    local src=${INFER8_SOURCE_DATA:-../shared/data}
    cp -r "$src/models/lenet" "$DATA/models/"
    cp "$src"/mnist/t10k-* "$DATA/mnist/"
    local exclude
    exclude="$(git rev-parse --git-common-dir)/info/exclude"
    mkdir -p "$(dirname "$exclude")"
    for d in "/$BIN/" "/$DATA/"; do
        grep -qxF "$d" "$exclude" 2>/dev/null || echo "$d" >>"$exclude"
    done
    du -sh "$BIN" "$DATA"
}

if [ "${1:-}" = prepare ]; then
    prepare
    exit
fi

if [ ! -x "$BIN/ops_cuda" ] && command -v cargo >/dev/null; then
    DATA=${INFER8_DATA_DIR:-../shared/data} INFER8_SOURCE_DATA=${INFER8_DATA_DIR:-../shared/data} prepare || exit 1
fi
[ -x "$BIN/ops_cuda" ] || { echo "gpu-check: no $BIN/ (run 'scripts/gpu-check.sh prepare' where cargo is)"; exit 1; }

# NVRTC is loaded at run time; the toolkit's folder may not be on the loader's path.
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
export INFER8_DATA_DIR=$DATA
export INFER8_KERNEL_CACHE=${INFER8_KERNEL_CACHE:-/tmp/infer8-kernels}
OUTDIR=${OUT:-/tmp/infer8-gpu-check}
mkdir -p "$OUTDIR"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader
status=0
# "timed": no family forced, so the builder times each layer's kernels (tactic choice);
# "gather": igemm.cu for every convolution and FC layer, none on resident.cu or fc_mma.cu.
for conv in ${GPU_CHECK_FAMILIES:-timed igemm gather shared direct}; do
    echo "== CUDA operator suite vs the CPU backend (convolution kernel: $conv)"
    force=(env INFER8_CUDA_CONV="$conv")
    [ "$conv" = timed ] && force=(env -u INFER8_CUDA_CONV)
    [ "$conv" = gather ] && force=(env INFER8_CUDA_CONV=igemm INFER8_CUDA_RESIDENT=0)
    "${force[@]}" "$BIN/ops_cuda" --test-threads=1 2>&1 | tee "$OUTDIR/ops_cuda_$conv.log" |
        grep -E "^test |worst|skipped|panicked|error|test result"
    grep -q "test result: ok" "$OUTDIR/ops_cuda_$conv.log" || status=1
done

echo "== PyTorch baseline"
"$BIN/infer8-bench-gpu" --export-weights "$OUTDIR/lenet.bin" || status=1
PYTHONUNBUFFERED=1 python3 scripts/bench_pytorch.py "$OUTDIR/lenet.bin" >"$OUTDIR/pytorch.csv" 2>"$OUTDIR/pytorch.log" || { cat "$OUTDIR/pytorch.log"; status=1; }
cat "$OUTDIR/pytorch.log"

echo "== sampleINT8 with the real CUDA runtime (cudaMalloc'd bindings)"
ROOT=$(pwd)
mkdir -p "$OUTDIR/sample"
if g++ -std=c++11 -O2 -Wall -Wextra -Werror c_examples/sampleINT8/sampleINT8.cpp -Iinclude -I/usr/local/cuda/include \
    -L"$BIN/lib" -lnvinfer -lnvcaffe_parser -lnvinfer_plugin -L/usr/local/cuda/lib64 -lcudart \
    -Wl,-rpath,"$(pwd)/$BIN/lib" -o "$OUTDIR/sample/sampleINT8"; then
    "$BIN/infer8" mnist-batches --out "$OUTDIR/sample/data/mnist" \
        --images "$DATA/mnist/t10k-images-idx3-ubyte.gz" --labels "$DATA/mnist/t10k-labels-idx1-ubyte.gz" >/dev/null
    rm -f "$OUTDIR"/sample*/*CalibrationTable*
    (cd "$OUTDIR/sample" && ./sampleINT8 mnist batch=100 start=5 score=95 datadir=data/mnist \
        "model=$ROOT/$DATA/models/lenet") 2>&1 | grep -vE "Calibrated batch" | tee "$OUTDIR/sampleINT8.log"
    grep -q "&&&& PASSED" "$OUTDIR/sampleINT8.log" || status=1
    echo "== calibration on the GPU against the CPU (sampleINT8's cache, entropy v2, batches 0-4)"
    # The CPU's cache comes from the same program linked to the host-memory CUDA runtime (its
    # bindings are host memory, which the CPU backend needs).
    H="$OUTDIR/sample_cpu"
    mkdir -p "$H" && ln -sfn "$OUTDIR/sample/data" "$H/data"
    gcc -shared -fPIC -O2 c_examples/cudart_host/cudart_host.c -Ic_examples/cudart_host/include -o "$H/libcudart.so" &&
        g++ -std=c++11 -O2 c_examples/sampleINT8/sampleINT8.cpp -Iinclude -Ic_examples/cudart_host/include \
            -L"$BIN/lib" -lnvinfer -lnvcaffe_parser -lnvinfer_plugin -L"$H" -lcudart \
            -Wl,-rpath,"$H:$ROOT/$BIN/lib" -o "$H/sampleINT8" || status=1
    # LD_LIBRARY_PATH outranks the run path: here it must name the host-memory runtime.
    (cd "$H" && LD_LIBRARY_PATH="$H" INFER8_DEVICE=cpu ./sampleINT8 mnist batch=100 start=5 score=95 \
        datadir=data/mnist "model=$ROOT/$DATA/models/lenet") >"$OUTDIR/sampleINT8_cpu.log" 2>&1 || status=1
    grep -E "Calibration (statistics|completed)" "$OUTDIR/sampleINT8.log" "$OUTDIR/sampleINT8_cpu.log"
    python3 scripts/compare_caches.py "$OUTDIR/sample_cpu/CalibrationTablemnist" "$OUTDIR/sample/CalibrationTablemnist" || status=1
else
    echo "gpu-check: sampleINT8 did not compile"; status=1
fi

echo "== C++ examples with plugin, select and dynamic-shape layers (plugins get device pointers and the stream)"
gunzip -c "$DATA/mnist/t10k-images-idx3-ubyte.gz" >"$OUTDIR/t10k-images-idx3-ubyte"
gunzip -c "$DATA/mnist/t10k-labels-idx1-ubyte.gz" >"$OUTDIR/t10k-labels-idx1-ubyte"
for ex in sample_plugin sample_dynamic_nd; do
    g++ -std=c++11 -O2 -Wall -Wextra -Werror "c_examples/$ex/$ex.cpp" -Iinclude -I/usr/local/cuda/include \
        -L"$BIN/lib" -lnvinfer -lnvcaffe_parser -lnvinfer_plugin -L/usr/local/cuda/lib64 -lcudart \
        -Wl,-rpath,"$(pwd)/$BIN/lib" -o "$OUTDIR/$ex" || { echo "gpu-check: $ex did not compile"; status=1; }
done
"$OUTDIR/sample_plugin" "$DATA/models/lenet/lenet.prototxt" "$DATA/models/lenet/lenet_iter_10000.caffemodel" \
    "$OUTDIR/t10k-images-idx3-ubyte" "$OUTDIR/t10k-labels-idx1-ubyte" 2>&1 | tail -4
[ "${PIPESTATUS[0]}" = 0 ] || status=1
"$OUTDIR/sample_dynamic_nd" 2>&1 | tail -3
[ "${PIPESTATUS[0]}" = 0 ] || status=1

# About 25 s on an H200 (GPU_CHECK_SANITIZE=0 skips it).
if [ "${GPU_CHECK_SANITIZE:-1}" = 1 ]; then
    echo "== compute-sanitizer memcheck: sampleINT8 (500 images) and the operator suite (batch_65536 skipped: hours under memcheck)"
    (cd "$OUTDIR/sample" && INFER8_CUDA_GRAPHS=0 compute-sanitizer --tool memcheck --error-exitcode 9 \
        ./sampleINT8 mnist batch=100 start=5 score=5 datadir=data/mnist "model=$ROOT/$DATA/models/lenet") 2>&1 |
        grep -E "ERROR SUMMARY|Top1|PASSED|FAILED|=========" | head -20
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    INFER8_CUDA_GRAPHS=0 compute-sanitizer --tool memcheck --error-exitcode 9 "$BIN/ops_cuda" --test-threads=1 \
        --skip batch_65536 2>&1 | grep -E "ERROR SUMMARY|test result|=========" | head -20
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi

echo "== infer8 command line with --device cuda (host bindings staged through device memory)"
M="--deploy $DATA/models/lenet/lenet.prototxt --model $DATA/models/lenet/lenet_iter_10000.caffemodel --output prob"
MN="--mnist-images $DATA/mnist/t10k-images-idx3-ubyte.gz --mnist-labels $DATA/mnist/t10k-labels-idx1-ubyte.gz"
# shellcheck disable=SC2086
for dev in cpu cuda; do
    "$BIN/infer8" run $M $MN --device $dev --show 0 --json | python3 -c "import json,sys; d=json.load(sys.stdin); print('$dev', 'top-1', d['top1'], 'on', d['items'], 'images')" || status=1
    "$BIN/infer8" time $M --device $dev --run-batch 100 --iterations 100 | grep -E "device|execute" || status=1
done

echo "== infer8 LeNet benchmark"
"$BIN/infer8-bench-gpu" --pytorch "$OUTDIR/pytorch.csv" 2>&1 | tee "$OUTDIR/bench.log" || status=1
exit $status
