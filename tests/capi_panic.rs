//! A panic inside a real C entry point is caught at the boundary: the call returns its failure value
//! and the last error says it was an internal error. (`INFER8_TEST_PANIC` is read once per process,
//! which is why this test has a file of its own.)

use std::ffi::CStr;

use infer8::capi::boundary::infer8_last_error;
use infer8::capi::builder::infer8_builder_create;
use infer8::capi::logger::infer8_logger;

#[test]
fn a_panic_becomes_an_internal_error() {
    // SAFETY: set before any library call reads it; this process runs only this test.
    unsafe { std::env::set_var("INFER8_TEST_PANIC", "infer8_builder_create") };
    let logger = infer8_logger {
        user: std::ptr::null_mut(),
        log: None,
    };
    // SAFETY: a valid logger.
    let b = unsafe { infer8_builder_create(&logger) };
    assert!(b.is_null());
    // SAFETY: set by the failed call above.
    let e = unsafe { CStr::from_ptr(infer8_last_error()) }.to_string_lossy();
    assert!(
        e.starts_with("infer8_builder_create: internal error"),
        "{e}"
    );
}
