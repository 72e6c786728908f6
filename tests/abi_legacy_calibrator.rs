//! A C++ `IInt8LegacyCalibrator` that records every call the builder makes, as TensorRT drives it:
//! `readCalibrationCache` first, then `readHistogramCache`; with neither, `getBatchSize` once,
//! `getBatch` until false, `writeHistogramCache`, `writeCalibrationCache`. A histogram cache
//! handed back replaces the batches (none is asked for) and gives the same calibration cache.

mod abi_support;

use std::ffi::{c_char, c_void};
use std::sync::Mutex;

use abi_support::{TestLogger, int8_conv, serial, vt};
use infer8::abi::calibrator::{IInt8CalibratorVtbl, IInt8LegacyCalibratorVtbl};
use infer8::abi::engine::ICudaEngineVtbl;

const BATCHES: usize = 3;

#[repr(C)]
struct Calibrator {
    vtable: &'static IInt8LegacyCalibratorVtbl,
    calls: Mutex<Vec<&'static str>>,
    batches_left: Mutex<usize>,
    data: Vec<f32>,
    /// What readHistogramCache returns (empty: nothing).
    histogram_in: Vec<u8>,
    histogram_out: Mutex<Vec<u8>>,
    calibration_out: Mutex<Vec<u8>>,
}

unsafe fn me<'a>(this: *mut c_void) -> &'a Calibrator {
    unsafe { &*(this as *const Calibrator) }
}

fn record(this: *mut c_void, call: &'static str) -> &'static Calibrator {
    let c = unsafe { me(this) };
    c.calls.lock().unwrap().push(call);
    c
}

unsafe extern "C" fn batch_size(this: *mut c_void) -> i32 {
    record(this, "getBatchSize");
    4
}

unsafe extern "C" fn get_batch(
    this: *mut c_void,
    bindings: *mut *mut c_void,
    _names: *const *const c_char,
    _nb: i32,
) -> bool {
    let c = record(this, "getBatch");
    let mut left = c.batches_left.lock().unwrap();
    if *left == 0 {
        return false;
    }
    *left -= 1;
    // Each batch differs, so the histograms depend on every batch having been seen.
    let offset = (*left * 16) % c.data.len();
    unsafe { *bindings = c.data[offset..].as_ptr().cast_mut().cast() };
    true
}

unsafe extern "C" fn read_cache(this: *mut c_void, len: *mut usize) -> *const c_void {
    record(this, "readCalibrationCache");
    unsafe { *len = 0 };
    std::ptr::null()
}

unsafe extern "C" fn write_cache(this: *mut c_void, p: *const c_void, len: usize) {
    let c = record(this, "writeCalibrationCache");
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    *c.calibration_out.lock().unwrap() = bytes.to_vec();
}

unsafe extern "C" fn algorithm(_: *mut c_void) -> i32 {
    0
}

unsafe extern "C" fn quantile(_: *mut c_void) -> f64 {
    0.99
}

unsafe extern "C" fn cutoff(_: *mut c_void) -> f64 {
    0.5
}

unsafe extern "C" fn read_histograms(this: *mut c_void, len: *mut usize) -> *const c_void {
    let c = record(this, "readHistogramCache");
    unsafe { *len = c.histogram_in.len() };
    if c.histogram_in.is_empty() {
        std::ptr::null()
    } else {
        c.histogram_in.as_ptr().cast()
    }
}

unsafe extern "C" fn write_histograms(this: *mut c_void, p: *const c_void, len: usize) {
    let c = record(this, "writeHistogramCache");
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    *c.histogram_out.lock().unwrap() = bytes.to_vec();
}

unsafe extern "C" fn no_dtor(_: *mut c_void) {}

static VTABLE: IInt8LegacyCalibratorVtbl = IInt8LegacyCalibratorVtbl {
    base: IInt8CalibratorVtbl {
        getBatchSize: batch_size,
        getBatch: get_batch,
        readCalibrationCache: read_cache,
        writeCalibrationCache: write_cache,
        getAlgorithm: algorithm,
        dtor_complete: no_dtor,
        dtor_deleting: no_dtor,
    },
    getQuantile: quantile,
    getRegressionCutoff: cutoff,
    readHistogramCache: read_histograms,
    writeHistogramCache: write_histograms,
};

fn calibrator(histogram_in: Vec<u8>) -> Calibrator {
    Calibrator {
        vtable: &VTABLE,
        calls: Mutex::new(Vec::new()),
        batches_left: Mutex::new(BATCHES),
        data: (0..(BATCHES + 4) * 16)
            .map(|i| ((i * 37) % 101) as f32 * 0.05 - 2.0)
            .collect(),
        histogram_in,
        histogram_out: Mutex::new(Vec::new()),
        calibration_out: Mutex::new(Vec::new()),
    }
}

/// Builds the INT8 convolution of `abi_support::int8_conv` with `cal`, destroys the engine and
/// returns the calls the calibrator saw (getAlgorithm and the legacy parameters are not recorded).
fn build(cal: &Calibrator) -> Vec<&'static str> {
    let logger = TestLogger::new();
    // SAFETY: `cal` is a C++-shaped legacy calibrator, alive during the build.
    let engine = unsafe { int8_conv::build(logger, (cal as *const Calibrator).cast()) };
    logger.expect_no_error();
    assert!(!engine.is_null());
    // SAFETY: an engine the builder just made.
    unsafe { (vt::<ICudaEngineVtbl, _>(engine).destroy)(engine.cast()) };
    cal.calls.lock().unwrap().clone()
}

#[test]
fn histogram_cache_calls_follow_tensorrt_and_replace_the_batches() {
    let _g = serial();
    let first = calibrator(Vec::new());
    let calls = build(&first);
    let mut expected = vec!["readCalibrationCache", "readHistogramCache", "getBatchSize"];
    expected.extend(["getBatch"; BATCHES + 1]);
    expected.extend(["writeHistogramCache", "writeCalibrationCache"]);
    println!("without a histogram cache: {calls:?}");
    assert_eq!(calls, expected);
    let histograms = first.histogram_out.lock().unwrap().clone();
    assert!(histograms.starts_with(b"infer8-histogram-cache 1 2048\n"));

    let second = calibrator(histograms.clone());
    let calls = build(&second);
    println!("with the histogram cache: {calls:?}");
    assert_eq!(
        calls,
        [
            "readCalibrationCache",
            "readHistogramCache",
            "writeCalibrationCache"
        ]
    );
    assert_eq!(
        *second.calibration_out.lock().unwrap(),
        *first.calibration_out.lock().unwrap(),
        "the histogram cache gave other scales than the batches"
    );
    assert_eq!(*second.batches_left.lock().unwrap(), BATCHES);
}

#[test]
fn a_foreign_histogram_cache_is_ignored_and_the_batches_run() {
    let _g = serial();
    let foreign = b"infer8-histogram-cache 1 2048\n".to_vec();
    let cal = calibrator(foreign);
    let calls = build(&cal);
    assert!(calls.contains(&"getBatchSize"), "{calls:?}");
    assert_eq!(calls.last(), Some(&"writeCalibrationCache"));
    assert_eq!(*cal.batches_left.lock().unwrap(), 0);
}
