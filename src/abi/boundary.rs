//! The panic and error boundary every `extern "C"` function of the C++ ABI goes through
//! (DESIGN.md decision 7, rustls-ffi's `ffi_panic_boundary!`): a panic must never unwind into C++
//! (since Rust 1.81 that aborts the host), and errors reach the user's `ILogger` with the name of
//! the function, then the call returns a neutral value (null, false, 0, -1, empty `Dims`).

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use super::logger;
use crate::error::{Error, Result};
use crate::logger::{Logger, Severity, SharedLogger};

/// A library object handed to C++: it knows the logger its errors go to.
pub trait Object {
    fn logger(&self) -> SharedLogger;
}

/// Names the exported function (`Interface::method`) that must panic on purpose, so that tests can
/// prove the boundary of real entry points; read once, it costs one branch per call.
fn test_panic_target() -> Option<&'static str> {
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    TARGET
        .get_or_init(|| std::env::var("INFER8_TEST_PANIC").ok())
        .as_deref()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}

/// Runs `body`; an `Err` is logged at kERROR and a panic at kINTERNAL_ERROR, both naming `func`,
/// and either gives `default`.
pub fn guard<R>(
    func: &str,
    logger: &dyn Logger,
    default: R,
    body: impl FnOnce() -> Result<R>,
) -> R {
    let run = || {
        if test_panic_target() == Some(func) {
            panic!("INFER8_TEST_PANIC requested a panic in {func}");
        }
        body()
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            logger.log(Severity::Error, &format!("{func}: {e}"));
            default
        }
        Err(payload) => {
            logger.log(
                Severity::InternalError,
                &format!(
                    "{func}: internal error, the call was abandoned ({})",
                    panic_message(payload.as_ref())
                ),
            );
            default
        }
    }
}

/// The boundary for a method: `this` is checked for null (logged through the process logger, as
/// the object's own is out of reach), then `body` runs on the object under [`guard`].
pub(crate) fn method<T: Object, R>(
    func: &str,
    this: *mut T,
    default: R,
    body: impl FnOnce(&mut T) -> Result<R>,
) -> R {
    // SAFETY: a non-null `this` is an object this library created and handed out (C++ reaches these
    // functions only through the object's own vtable).
    let Some(obj) = (unsafe { this.as_mut() }) else {
        logger::process_logger().log(Severity::Error, &format!("{func}: `this` is null"));
        return default;
    };
    let log = obj.logger();
    guard(func, &*log, default, || body(obj))
}

/// [`method`] for objects shared by every caller (the plugin registry): only `&T` is handed out.
pub(crate) fn shared_method<T: Object, R>(
    func: &str,
    this: *const T,
    default: R,
    body: impl FnOnce(&T) -> Result<R>,
) -> R {
    // SAFETY: as in `method`.
    let Some(obj) = (unsafe { this.as_ref() }) else {
        logger::process_logger().log(Severity::Error, &format!("{func}: `this` is null"));
        return default;
    };
    guard(func, &*obj.logger(), default, || body(obj))
}

/// `destroy()` and the destructor slots of an object the caller owns: frees it (a `Box` made by
/// the library) inside the boundary.
///
/// # Safety
/// A non-null `this` must be a boxed object of this library that the caller gives up.
pub unsafe fn release<T: Object>(func: &str, this: *mut T) {
    // SAFETY: per the contract above.
    let log = unsafe { this.as_ref() }.map_or_else(logger::process_logger, |o| o.logger());
    guard(func, &*log, (), || {
        if this.is_null() {
            crate::bail!(InvalidArgument, "`this` is null");
        }
        // SAFETY: per the contract above.
        drop(unsafe { Box::from_raw(this) });
        Ok(())
    })
}

/// A free function (`createInferBuilder_INTERNAL`, …): errors go to the process logger.
pub fn function<R>(func: &str, default: R, body: impl FnOnce() -> Result<R>) -> R {
    guard(func, &*logger::process_logger(), default, body)
}

fn null(arg: &str) -> Error {
    Error::InvalidArgument(format!("argument `{arg}` is null"))
}

/// A required pointer argument.
pub fn non_null<T>(p: *const T, arg: &str) -> Result<*const T> {
    if p.is_null() { Err(null(arg)) } else { Ok(p) }
}

/// A required C string, as UTF-8 (TensorRT names are ASCII in practice; anything else is replaced).
///
/// # Safety
/// A non-null `p` must point at a NUL-terminated string.
pub unsafe fn c_str(p: *const c_char, arg: &str) -> Result<String> {
    non_null(p, arg)?;
    // SAFETY: non-null and NUL-terminated per the contract above.
    Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A C++ `int` count or index that must be within `0..len`.
pub fn index(i: i32, len: usize, what: &str) -> Result<usize> {
    usize::try_from(i).ok().filter(|&i| i < len).ok_or_else(|| {
        Error::InvalidArgument(format!("{what} {i} is out of range (there are {len})"))
    })
}

/// A checked enum argument: invalid values are rejected, never transmuted.
pub fn enum_arg<T>(v: i32, from: fn(i32) -> Option<T>, what: &str) -> Result<T> {
    from(v).ok_or_else(|| Error::InvalidArgument(format!("{v} is not a valid {what}")))
}

/// A C++ `int` that must be positive (sizes, counts).
pub fn positive(v: i32, what: &str) -> Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| Error::InvalidArgument(format!("{what} must be positive, got {v}")))
}

/// A string cached in an object so that the `const char*` handed to C++ stays valid until the
/// value changes; an unchanged value keeps its pointer.
pub fn cache_c_string(slot: &mut std::ffi::CString, value: &str) -> *const c_char {
    if slot.as_bytes() != value.as_bytes() {
        *slot = std::ffi::CString::new(value.replace('\0', "?")).unwrap_or_default();
    }
    slot.as_ptr()
}

/// Logged for calls that TensorRT declares but infer8 does not implement: the call does nothing.
pub fn unsupported<R>(what: &str) -> Result<R> {
    Err(Error::Unsupported(format!(
        "{what} is not supported by infer8"
    )))
}
