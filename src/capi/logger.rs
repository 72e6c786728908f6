//! The user's logger: a struct of a nullable function pointer and a user pointer, copied into every
//! object created with it.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use super::boundary::get;
use crate::error::Result;
use crate::logger::{Logger, Severity, SharedLogger};

/// A logger implemented by the caller. `log` may be NULL (messages are dropped); `user` is passed back
/// unchanged and must stay valid while any object created with this logger is alive. The library may
/// call `log` from any thread that calls into it with such an object. `msg` is valid during the call.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct infer8_logger {
    pub user: *mut c_void,
    pub log: Option<unsafe extern "C" fn(user: *mut c_void, severity: i32, msg: *const c_char)>,
}

/// The Rust side of an `infer8_logger`.
struct CLogger(infer8_logger);

// SAFETY: the header tells the caller that `log` is called from whichever thread uses the objects;
// the user pointer is only handed back to their function.
unsafe impl Send for CLogger {}
// SAFETY: as above.
unsafe impl Sync for CLogger {}

impl Logger for CLogger {
    fn log(&self, severity: Severity, msg: &str) {
        if let Some(f) = self.0.log {
            let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
            // SAFETY: a function the caller provided for exactly this, with their user pointer.
            unsafe { f(self.0.user, severity as i32, c.as_ptr()) };
        }
    }
}

/// Copies the caller's logger into a shared [`Logger`].
///
/// # Safety
/// `logger` is null or points to a valid `infer8_logger`.
pub unsafe fn logger_arg(logger: *const infer8_logger) -> Result<SharedLogger> {
    // SAFETY: the caller's contract.
    let l = unsafe { get(logger, "logger") }?;
    Ok(Arc::new(CLogger(*l)))
}
