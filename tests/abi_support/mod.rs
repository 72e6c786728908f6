//! Helpers for the ABI tests: a C++-style `ILogger` built in Rust, and access to the vtables of
//! library objects, so tests call the library exactly as compiled C++ does (through slots).
#![allow(dead_code)]

use std::ffi::{CStr, c_char, c_void};
use std::sync::Mutex;

use infer8::abi::logger::ILoggerVtbl;

pub mod int8_conv;
pub mod session;

/// An `ILogger` object: vptr first, then what it recorded.
#[repr(C)]
pub struct TestLogger {
    vtable: &'static ILoggerVtbl,
    pub messages: Mutex<Vec<(i32, String)>>,
}

unsafe extern "C" fn log(this: *mut c_void, severity: i32, msg: *const c_char) {
    let logger = unsafe { &*(this as *const TestLogger) };
    let msg = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    logger.messages.lock().unwrap().push((severity, msg));
}

unsafe extern "C" fn dtor(_: *mut c_void) {}

static LOGGER_VTABLE: ILoggerVtbl = ILoggerVtbl {
    log,
    dtor_complete: dtor,
    dtor_deleting: dtor,
};

impl TestLogger {
    /// Leaked: the library may keep it as the process logger after the test.
    pub fn new() -> &'static TestLogger {
        Box::leak(Box::new(TestLogger {
            vtable: &LOGGER_VTABLE,
            messages: Mutex::new(Vec::new()),
        }))
    }

    pub fn ptr(&'static self) -> *mut c_void {
        (self as *const TestLogger).cast_mut().cast()
    }

    /// Messages of severity kERROR or worse logged since the last call, cleared.
    pub fn take_errors(&self) -> Vec<String> {
        let mut m = self.messages.lock().unwrap();
        let errors = m
            .iter()
            .filter(|(s, _)| *s <= 1)
            .map(|(_, t)| t.clone())
            .collect();
        m.clear();
        errors
    }

    /// Asserts that exactly the last calls logged one error mentioning `needle`.
    pub fn expect_error(&self, needle: &str) {
        let errors = self.take_errors();
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "expected an error mentioning '{needle}', got {errors:?}"
        );
    }

    pub fn expect_no_error(&self) {
        let errors = self.take_errors();
        assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    }
}

/// The vtable of a library object, as C++ reads it (`*(void***)obj`).
pub fn vt<V, T>(obj: *mut T) -> &'static V {
    assert!(!obj.is_null(), "null object");
    unsafe { *(obj as *const &'static V) }
}

/// Tests in one binary share the process logger: they run one at a time.
pub static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
