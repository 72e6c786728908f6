//! The one way into the library from C: every exported function runs its body through [`run`] (via
//! the `ffi_boundary!` macro), which turns both `Err` and panics into a logger message, a thread-local
//! last error and the function's failure value (null, false, -1). Since Rust 1.81 an unwind out of an
//! `extern "C"` function aborts the host process, so `catch_unwind` here is what keeps a C program alive.
//!
//! The pointer helpers below are the null checks every function does first. They return errors that
//! name the argument, so the message says which one was null.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::logger::{Severity, SharedLogger};

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Where a failing call reports. The body names the logger as soon as it has resolved the object
/// that owns one; failures before that (a null object) reach only the thread-local last error.
#[derive(Default)]
pub struct Reporter {
    logger: Option<SharedLogger>,
}

impl Reporter {
    pub fn set_logger(&mut self, logger: &SharedLogger) {
        self.logger = Some(logger.clone());
    }

    fn fail(&self, severity: Severity, msg: String) {
        if let Some(logger) = &self.logger {
            // The user's logger is C code: it cannot unwind, but guard against a Rust logger that does.
            let _ = catch_unwind(AssertUnwindSafe(|| logger.log(severity, &msg)));
        }
        let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
    }
}

/// Names the exported function that must panic on purpose (`INFER8_TEST_PANIC`, shared with the C++
/// ABI's boundary), so tests can prove the boundary of a real entry point; read once per process.
fn test_panic_target() -> Option<&'static str> {
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    TARGET
        .get_or_init(|| std::env::var("INFER8_TEST_PANIC").ok())
        .as_deref()
}

/// Runs one exported function's body: `Ok(v)` returns `v`; an error or a panic is reported as
/// `"<func>: <message>"` and `default` is returned.
pub fn run<T>(func: &'static str, default: T, body: impl FnOnce(&mut Reporter) -> Result<T>) -> T {
    let mut reporter = Reporter::default();
    let call = |rep: &mut Reporter| {
        if test_panic_target() == Some(func) {
            panic!("INFER8_TEST_PANIC requested a panic in {func}");
        }
        body(rep)
    };
    match catch_unwind(AssertUnwindSafe(|| call(&mut reporter))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            reporter.fail(Severity::Error, format!("{func}: {e}"));
            default
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            reporter.fail(
                Severity::InternalError,
                format!("{func}: internal error: {what}"),
            );
            default
        }
    }
}

/// `ffi_boundary!("infer8_x_y", default, |reporter| { ...; Ok(value) })`.
macro_rules! ffi_boundary {
    ($func:literal, $default:expr, |$rep:ident| $body:block) => {
        $crate::capi::boundary::run(
            $func,
            $default,
            |$rep: &mut $crate::capi::boundary::Reporter| $body,
        )
    };
}
pub(crate) use ffi_boundary;

/// The message of the most recent failed call on this thread, or NULL if none has failed. Valid until
/// the next failing call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn infer8_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
}

fn null(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is NULL"))
}

/// `&T` from a C pointer that must not be null.
///
/// Owned handles are checked against the live ones first (`handles`).
///
/// # Safety
/// `p` is null or points to a live `T` that is not mutated while the reference lives.
pub unsafe fn get<'a, T: 'static>(p: *const T, what: &str) -> Result<&'a T> {
    if !p.is_null() {
        super::handles::check(p, what)?;
    }
    // SAFETY: the caller's contract.
    unsafe { p.as_ref() }.ok_or_else(|| null(what))
}

/// `&mut T` from a C pointer that must not be null.
///
/// # Safety
/// `p` is null or points to a live `T` that nothing else accesses while the reference lives.
pub unsafe fn get_mut<'a, T: 'static>(p: *mut T, what: &str) -> Result<&'a mut T> {
    if !p.is_null() {
        super::handles::check(p, what)?;
    }
    // SAFETY: the caller's contract.
    unsafe { p.as_mut() }.ok_or_else(|| null(what))
}

/// A UTF-8 string from a C string that must not be null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string.
pub unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// A slice from a C pointer and a signed count: null is allowed only with count 0 (TensorRT's empty
/// `Weights`), a negative count is an error.
///
/// # Safety
/// `p` is null or points to `count` readable values of `T`.
pub unsafe fn slice_arg<'a, T>(p: *const T, count: i64, what: &str) -> Result<&'a [T]> {
    let n = usize::try_from(count)
        .map_err(|_| Error::InvalidArgument(format!("{what}: count {count} is negative")))?;
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::InvalidArgument(format!(
            "{what} is NULL but its count is {count}"
        )));
    }
    // SAFETY: non-null, `n` values readable by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A non-negative `int32_t` from C as a size.
pub fn size_arg(v: i32, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::InvalidArgument(format!("{what} = {v} is negative")))
}

/// A positive `int32_t` from C as a size.
pub fn positive_arg(v: i32, what: &str) -> Result<usize> {
    match usize::try_from(v) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::InvalidArgument(format!(
            "{what} = {v} must be positive"
        ))),
    }
}

/// An enum value from C, checked with the core type's `from_i32` (never transmuted).
pub fn enum_arg<E>(v: i32, from_i32: fn(i32) -> Option<E>, what: &str) -> Result<E> {
    from_i32(v).ok_or_else(|| Error::InvalidArgument(format!("{what} = {v} is not a valid value")))
}

/// Strings handed to C, one per key, owned here. A pointer stays valid until the string under its key
/// changes (a rename) or the cache is dropped; asking again for an unchanged string returns the same
/// pointer.
#[derive(Default)]
pub struct NameCache(RefCell<HashMap<usize, CString>>);

impl NameCache {
    pub fn get(&self, key: usize, current: &str) -> Result<*const c_char> {
        let mut map = self.0.borrow_mut();
        if map
            .get(&key)
            .is_none_or(|c| c.as_bytes() != current.as_bytes())
        {
            let c = CString::new(current).map_err(|_| {
                Error::InvalidArgument(format!("name '{current}' contains a NUL character"))
            })?;
            map.insert(key, c);
        }
        Ok(map[&key].as_ptr())
    }
}
