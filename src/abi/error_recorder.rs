//! `nvinfer1::IErrorRecorder` (6.0): an application object that hears of every error of the
//! builder or runtime it is set on, and of the engines and contexts made from them (they share its
//! logger). Errors still reach the `ILogger` too. The recorder is reference counted by the
//! library, as TensorRT does: `incRefCount` when set, `decRefCount` when replaced or freed.

use std::ffi::{CString, c_char, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::logger::{Logger, Severity, SharedLogger};

vtable! {
    /// Implemented by the application; the destructor is declared first.
    "IErrorRecorder" => struct IErrorRecorderVtbl {
        dtor_complete as "~D1": unsafe extern "C" fn(*mut c_void),
        dtor_deleting as "~D0": unsafe extern "C" fn(*mut c_void),
        getNbErrors: unsafe extern "C" fn(*mut c_void) -> i32,
        getErrorCode: unsafe extern "C" fn(*mut c_void, i32) -> i32,
        getErrorDesc: unsafe extern "C" fn(*mut c_void, i32) -> *const c_char,
        hasOverflowed: unsafe extern "C" fn(*mut c_void) -> bool,
        clear: unsafe extern "C" fn(*mut c_void),
        reportError: unsafe extern "C" fn(*mut c_void, i32, *const c_char) -> bool,
        incRefCount: unsafe extern "C" fn(*mut c_void) -> i32,
        decRefCount: unsafe extern "C" fn(*mut c_void) -> i32,
    }
}

#[repr(C)]
struct Header {
    vtable: &'static IErrorRecorderVtbl,
}

/// `ErrorCode::kUNSPECIFIED_ERROR` and `kINTERNAL_ERROR`: the logger only knows the severity.
const UNSPECIFIED_ERROR: i32 = 1;
const INTERNAL_ERROR: i32 = 2;

/// A logger that also reports errors to an `IErrorRecorder`, holding one reference to it.
pub struct RecordingLogger {
    inner: SharedLogger,
    recorder: NonNull<Header>,
}

// SAFETY: TensorRT requires a recorder shared by objects used from several threads to be
// thread-safe; the application provides one, as it does its ILogger.
unsafe impl Send for RecordingLogger {}
unsafe impl Sync for RecordingLogger {}

impl RecordingLogger {
    fn vtable(&self) -> &'static IErrorRecorderVtbl {
        // SAFETY: `recorder` is a live IErrorRecorder while this logger holds a reference.
        unsafe { self.recorder.as_ref().vtable }
    }

    pub fn recorder(&self) -> *mut c_void {
        self.recorder.as_ptr().cast()
    }
}

impl Logger for RecordingLogger {
    fn log(&self, severity: Severity, msg: &str) {
        self.inner.log(severity, msg);
        let code = match severity {
            Severity::InternalError => INTERNAL_ERROR,
            Severity::Error => UNSPECIFIED_ERROR,
            _ => return,
        };
        let desc = CString::new(msg.replace('\0', "?")).unwrap_or_default();
        // SAFETY: slot 7 is `reportError(ErrorCode, const char*)`.
        unsafe { (self.vtable().reportError)(self.recorder(), code, desc.as_ptr()) };
    }
}

impl Drop for RecordingLogger {
    fn drop(&mut self) {
        // SAFETY: gives back the reference taken in `ErrorRecorderSlot::set`.
        unsafe { (self.vtable().decRefCount)(self.recorder()) };
    }
}

/// The recorder an object was given: its logger with and without it.
#[derive(Default)]
pub struct ErrorRecorderSlot {
    recording: Option<Arc<RecordingLogger>>,
}

impl ErrorRecorderSlot {
    /// Sets (or, with null, removes) the recorder on `logger`, the object's current logger.
    ///
    /// # Safety
    /// A non-null `recorder` must be an `IErrorRecorder` that lives until its reference count
    /// drops to zero.
    pub unsafe fn set(&mut self, logger: &mut SharedLogger, recorder: *mut c_void) {
        let base = self
            .recording
            .take()
            .map_or_else(|| logger.clone(), |r| r.inner.clone());
        *logger = match NonNull::new(recorder.cast::<Header>()) {
            None => base,
            Some(recorder) => {
                // SAFETY: per the contract above; slot 8 is `incRefCount`.
                unsafe { (recorder.as_ref().vtable.incRefCount)(recorder.as_ptr().cast()) };
                let r = Arc::new(RecordingLogger {
                    inner: base,
                    recorder,
                });
                self.recording = Some(r.clone());
                r
            }
        };
    }

    pub fn get(&self) -> *mut c_void {
        self.recording
            .as_ref()
            .map_or(std::ptr::null_mut(), |r| r.recorder())
    }
}
