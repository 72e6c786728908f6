#!/usr/bin/env bash
# Memory checks of the library from the outside, by what a user runs:
#   asan      the C/C++ examples (c_examples, CMake) built with -fsanitize=address,undefined and
#             run by ctest against target/release/libinfer8.so; LeakSanitizer sees the library's
#             heap too (Rust allocates through the same malloc), so a leak in infer8 fails here
#   valgrind  memcheck on c_lenet, sample_lenet_api, sample_plugin and sampleINT8 (a few batches): no errors and
#             no definitely/indirectly lost bytes; scripts/valgrind.supp names what is outside infer8
#   rust      the robustness tests of the Rust suite built with -Zsanitizer=address (RUSTC_BOOTSTRAP=1
#             on stable), in target/asan
# Usage: scripts/sanitize.sh [asan] [valgrind] [rust]    (default: asan valgrind)
# Data comes from INFER8_DATA_DIR (default ../shared/data), as for scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(asan valgrind)
data=$(realpath -m "${INFER8_DATA_DIR:-../shared/data}")
jobs=$(nproc)

need_lib() {
    [ -f target/release/libinfer8.so ] || cargo build --release
}

run_asan() {
    need_lib
    # -fno-sanitize=vptr: UBSan's vptr check looks up C++ RTTI through the object's vtable, and
    # infer8's vtables are built in Rust (DESIGN.md decision 1) without typeinfo, so every call into
    # a library object would be reported. Every other UBSan check stays on.
    local flags="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    cmake -S c_examples -B build/asan -DCMAKE_BUILD_TYPE=Debug -DINFER8_DATA_DIR="$data" \
        -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
        -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
    cmake --build build/asan -j "$jobs" > /dev/null
    # abort_on_error: a report is a failure even where a program would exit 0.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build/asan --output-on-failure
    echo "sanitize: ASan/UBSan examples clean"
}

run_valgrind() {
    need_lib
    command -v valgrind > /dev/null || { echo "sanitize: valgrind is not installed (apt-get install valgrind)"; exit 1; }
    # A plain build: valgrind and ASan do not mix.
    cmake -S c_examples -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DINFER8_DATA_DIR="$data" > /dev/null
    cmake --build build/valgrind -j "$jobs" > /dev/null
    local b=build/valgrind vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
        --suppressions="$PWD/scripts/valgrind.supp" --num-callers=30 -q)
    export LD_LIBRARY_PATH=$PWD/$b/lib INFER8_DATA_DIR=$data INFER8_DEVICE=cpu
    # The fixtures the ctest examples need (exported weights, unzipped MNIST, batch files).
    ctest --test-dir $b -R 'c_lenet_export|sampleINT8_data' > /dev/null
    local c=$b/c_lenet m=$data/models/lenet
    echo "sanitize: valgrind c_lenet"
    "${vg[@]}" $c/c_lenet $c/lenet.wts $c/t10k-images-idx3-ubyte $c/t10k-labels-idx1-ubyte
    echo "sanitize: valgrind c_lenet_export_wts"
    "${vg[@]}" $c/c_lenet_export_wts $m/lenet.prototxt $m/lenet_iter_10000.caffemodel "$b/vg.wts"
    echo "sanitize: valgrind sample_lenet_api"
    "${vg[@]}" $b/sample_lenet_api/sample_lenet_api $c/lenet.wts $c/t10k-images-idx3-ubyte $c/t10k-labels-idx1-ubyte
    echo "sanitize: valgrind sample_plugin (100 images)"
    "${vg[@]}" $b/sample_plugin/sample_plugin $m/lenet.prototxt $m/lenet_iter_10000.caffemodel \
        $c/t10k-images-idx3-ubyte $c/t10k-labels-idx1-ubyte 100
    echo "sanitize: valgrind sampleINT8 (2 batches of 10 scored)"
    (cd $b/sampleINT8 && "${vg[@]}" ./sampleINT8 mnist batch=10 start=50 score=2 \
        "datadir=$PWD/data/mnist" "model=$m")
    echo "sanitize: valgrind clean"
}

run_rust() {
    # Instrumented code only for the target: build scripts and proc macros stay plain.
    local target
    target=$(rustc -vV | sed -n 's/^host: //p')
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address -Cdebug-assertions=on" \
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan-rust-tests.supp \
    INFER8_DATA_DIR=$data \
        cargo test --release --target "$target" --target-dir target/asan \
        --test capi_null --test capi_handles --test capi_network --test abi_null \
        --test abi_calibrator --test abi_flow --test hostile_sizes --test concurrency \
        --test caffe_parse
    echo "sanitize: Rust tests under ASan clean"
}

for s in "${steps[@]}"; do
    case $s in
        asan) run_asan ;;
        valgrind) run_valgrind ;;
        rust) run_rust ;;
        *) echo "usage: $0 [asan] [valgrind] [rust]"; exit 2 ;;
    esac
done
