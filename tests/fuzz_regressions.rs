//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found to crash a reader, kept under
//! `tests/regressions/`: each must now give an error that says what is wrong.

use infer8::engine::serialize;

fn regression(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn engine_error(name: &str) -> String {
    match serialize::from_bytes(&regression(name)) {
        Ok(_) => panic!("{name}: accepted"),
        Err(e) => e.to_string(),
    }
}

/// A header length of 2^64 - 28: adding the header size for the message overflowed (a panic with
/// overflow checks, a wrong number without).
#[test]
fn engine_header_length_overflow() {
    let e = engine_error("engine_header_length_overflow.bin");
    assert!(
        e.contains("engine file is 53 bytes, its header says 18446744073709551615"),
        "{e}"
    );
}

/// A convolution whose output maps and kernel size, multiplied for the kernel's weight count,
/// overflowed in shape inference. Parameters are now held to C++ `int` range on load and the count
/// is computed with checked arithmetic.
#[test]
fn engine_conv_weight_count_overflow() {
    let e = engine_error("engine_conv_weight_count_overflow.bin");
    assert!(
        e.contains("out-of-range value") || e.contains("more than can be counted"),
        "{e}"
    );
}

/// A pooling layer whose padding was as large as its window: shape inference accepted it and the
/// CPU kernel, asked for a window starting past the input, panicked when the engine ran. Such
/// padding is now refused when the engine is read, as Caffe and TensorRT refuse it.
#[test]
fn engine_pool_window_in_padding() {
    let e = engine_error("engine_pool_window_in_padding.bin");
    assert!(e.contains("must be smaller than the window"), "{e}");
}
