//! A C++ `IInt8Calibrator` that misbehaves: a batch size of 0, negative or absurdly large, one that
//! changes between calls, no batch at all. Each INT8 build returns null with a logger error naming
//! the problem (or, for the changing size, uses the first answer throughout); none crashes.

mod abi_support;

use std::ffi::{c_char, c_void};
use std::sync::Mutex;

use abi_support::{TestLogger, int8_conv, serial, vt};
use infer8::abi::calibrator::IInt8CalibratorVtbl;
use infer8::abi::engine::ICudaEngineVtbl;

#[repr(C)]
struct Calibrator {
    vtable: &'static IInt8CalibratorVtbl,
    /// Answers of successive getBatchSize calls; the last one repeats.
    sizes: Vec<i32>,
    size_calls: Mutex<usize>,
    batches_left: Mutex<usize>,
    data: Vec<f32>,
}

unsafe fn me<'a>(this: *mut c_void) -> &'a Calibrator {
    unsafe { &*(this as *const Calibrator) }
}

unsafe extern "C" fn batch_size(this: *mut c_void) -> i32 {
    let c = unsafe { me(this) };
    let mut calls = c.size_calls.lock().unwrap();
    *calls += 1;
    c.sizes[(*calls - 1).min(c.sizes.len() - 1)]
}

unsafe extern "C" fn get_batch(
    this: *mut c_void,
    bindings: *mut *mut c_void,
    _names: *const *const c_char,
    _nb: i32,
) -> bool {
    let c = unsafe { me(this) };
    let mut left = c.batches_left.lock().unwrap();
    if *left == 0 {
        return false;
    }
    *left -= 1;
    unsafe { *bindings = c.data.as_ptr().cast_mut().cast() };
    true
}

unsafe extern "C" fn read_cache(_: *mut c_void, len: *mut usize) -> *const c_void {
    unsafe { *len = 0 };
    std::ptr::null()
}

unsafe extern "C" fn write_cache(_: *mut c_void, _: *const c_void, _: usize) {}

unsafe extern "C" fn algorithm(_: *mut c_void) -> i32 {
    2
}

unsafe extern "C" fn no_dtor(_: *mut c_void) {}

static VTABLE: IInt8CalibratorVtbl = IInt8CalibratorVtbl {
    getBatchSize: batch_size,
    getBatch: get_batch,
    readCalibrationCache: read_cache,
    writeCalibrationCache: write_cache,
    getAlgorithm: algorithm,
    dtor_complete: no_dtor,
    dtor_deleting: no_dtor,
};

/// Builds the INT8 convolution of `abi_support::int8_conv` with `cal`; the engine, or null on error.
unsafe fn build(logger: &'static TestLogger, cal: &Calibrator) -> *mut c_void {
    // SAFETY: `cal` is a C++-shaped calibrator, alive during the build.
    unsafe { int8_conv::build(logger, (cal as *const Calibrator).cast()) }
}

fn calibrator(sizes: &[i32], batches: usize) -> Calibrator {
    Calibrator {
        vtable: &VTABLE,
        sizes: sizes.to_vec(),
        size_calls: Mutex::new(0),
        batches_left: Mutex::new(batches),
        data: (0..4 * 16).map(|i| i as f32 * 0.1 - 2.0).collect(),
    }
}

fn fails(sizes: &[i32], batches: usize, expected: &str) {
    let logger = TestLogger::new();
    let cal = calibrator(sizes, batches);
    // SAFETY: the calibrator outlives the build.
    let engine = unsafe { build(logger, &cal) };
    assert!(
        engine.is_null(),
        "sizes {sizes:?}, {batches} batches: built"
    );
    logger.expect_error(expected);
}

#[test]
fn a_zero_batch_size_is_refused() {
    let _g = serial();
    fails(&[0], 3, "getBatchSize() returned 0");
}

#[test]
fn a_negative_batch_size_is_refused() {
    let _g = serial();
    fails(&[-3], 3, "IInt8Calibrator::getBatchSize returned -3");
}

/// Before the memory cap was checked here, INT_MAX items of 16 floats asked the allocator for
/// 128 GiB and aborted the process.
#[test]
fn a_huge_batch_size_is_refused_before_allocating() {
    let _g = serial();
    fails(
        &[i32::MAX],
        3,
        "calibration batch of 2147483647 items for input 'data'",
    );
}

#[test]
fn no_batch_on_the_first_call_is_refused() {
    let _g = serial();
    fails(&[4], 0, "the calibrator returned no batch");
}

/// TensorRT asks for the batch size once per calibration; a calibrator whose answer changes gets
/// its first answer used for every batch, so buffers never disagree with what was announced.
#[test]
fn a_changing_batch_size_uses_the_first_answer() {
    let _g = serial();
    let logger = TestLogger::new();
    let cal = calibrator(&[4, 1, 9], 2);
    // SAFETY: the calibrator outlives the build.
    let engine = unsafe { build(logger, &cal) };
    logger.expect_no_error();
    assert!(!engine.is_null());
    assert_eq!(*cal.batches_left.lock().unwrap(), 0);
    // SAFETY: a live engine made above.
    unsafe { (vt::<ICudaEngineVtbl, _>(engine).destroy)(engine.cast()) };
}
