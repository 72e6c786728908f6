//! `nvinfer1::ILogger`: the user's logger is called through its vtable (slot 0,
//! `log(Severity, const char*)`). TensorRT treats the logger as a process singleton ("multiple
//! instances … must all use the same logger"), so the last one given to `createInferBuilder` /
//! `createInferRuntime` is also the process logger: the Caffe parser and calls on null objects log
//! there. Before any is given, a library logger printing warnings and errors to stderr stands in;
//! it is also what `getLogger()` returns then.

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr::NonNull;
use std::sync::{Arc, RwLock};

use crate::logger::{Logger, Severity, SharedLogger, StderrLogger};

vtable! {
    /// Implemented by the user; also by the library's stand-in logger.
    "ILogger" => struct ILoggerVtbl {
        log: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
        dtor_complete as "~D1": unsafe extern "C" fn(*mut c_void),
        dtor_deleting as "~D0": unsafe extern "C" fn(*mut c_void),
    }
}

/// The first word of any `ILogger` object.
#[repr(C)]
pub struct ILoggerHeader {
    vtable: &'static ILoggerVtbl,
}

/// A user `ILogger*` as a [`Logger`].
pub struct CppLogger(NonNull<ILoggerHeader>);

// SAFETY: TensorRT's contract makes the logger a process-wide singleton that the library calls from
// whatever thread runs a builder, runtime or context; the application provides a thread-safe one.
unsafe impl Send for CppLogger {}
unsafe impl Sync for CppLogger {}

impl CppLogger {
    /// # Safety
    /// A non-null `p` must be an `ILogger` that outlives every object created with it.
    pub unsafe fn new(p: *mut c_void) -> Option<CppLogger> {
        NonNull::new(p.cast()).map(CppLogger)
    }

    pub fn as_ptr(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }
}

impl Logger for CppLogger {
    fn log(&self, severity: Severity, msg: &str) {
        let msg = CString::new(msg.replace('\0', "?")).unwrap_or_default();
        // SAFETY: `self.0` is a live ILogger (see `new`); slot 0 is `log`.
        unsafe { (self.0.as_ref().vtable.log)(self.as_ptr(), severity as i32, msg.as_ptr()) }
    }
}

unsafe extern "C" fn stderr_log(_this: *mut c_void, severity: i32, msg: *const c_char) {
    if msg.is_null() {
        return;
    }
    // SAFETY: callers pass a NUL-terminated message, as `ILogger::log` requires.
    let msg = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    let severity = match severity {
        0 => Severity::InternalError,
        1 => Severity::Error,
        2 => Severity::Warning,
        3 => Severity::Info,
        _ => Severity::Verbose,
    };
    // Printing cannot unwind here: `eprintln!` only panics when stderr is gone, and then dropping
    // the message is the right outcome.
    let _ = std::panic::catch_unwind(|| {
        StderrLogger {
            max_severity: Severity::Warning,
        }
        .log(severity, &msg)
    });
}

/// The library's own logger object is static: deleting it must do nothing.
unsafe extern "C" fn static_dtor(_this: *mut c_void) {}

static STDERR_VTBL: ILoggerVtbl = ILoggerVtbl {
    log: stderr_log,
    dtor_complete: static_dtor,
    dtor_deleting: static_dtor,
};
static STDERR_LOGGER: ILoggerHeader = ILoggerHeader {
    vtable: &STDERR_VTBL,
};

struct Process {
    logger: SharedLogger,
    /// What `getLogger()` returns: the user's `ILogger*` or the stand-in.
    object: *mut c_void,
}

// SAFETY: `object` is only handed out, never dereferenced through this struct.
unsafe impl Send for Process {}
unsafe impl Sync for Process {}

static PROCESS: RwLock<Option<Process>> = RwLock::new(None);

fn stand_in() -> Process {
    Process {
        logger: Arc::new(StderrLogger {
            max_severity: Severity::Warning,
        }),
        object: (&STDERR_LOGGER as *const ILoggerHeader).cast_mut().cast(),
    }
}

/// Makes a user logger the process logger (called by `createInferBuilder/Runtime`).
pub fn set_process_logger(logger: Arc<CppLogger>) {
    let object = logger.as_ptr();
    let mut p = PROCESS.write().unwrap_or_else(|e| e.into_inner());
    *p = Some(Process { logger, object });
}

pub fn process_logger() -> SharedLogger {
    let p = PROCESS.read().unwrap_or_else(|e| e.into_inner());
    p.as_ref()
        .map_or_else(|| stand_in().logger, |p| p.logger.clone())
}

/// `extern "C" nvinfer1::ILogger* getLogger()`.
#[unsafe(no_mangle)]
pub extern "C" fn getLogger() -> *mut c_void {
    super::boundary::function("getLogger", std::ptr::null_mut(), || {
        let p = PROCESS.read().unwrap_or_else(|e| e.into_inner());
        Ok(p.as_ref().map_or_else(|| stand_in().object, |p| p.object))
    })
}
