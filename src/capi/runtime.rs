//! `infer8_runtime`: turns engine bytes back into an engine (TensorRT's `IRuntime`).

use std::ffi::c_void;

use super::boundary::{ffi_boundary, get, slice_arg};
use super::engine::infer8_engine;
use super::logger::{infer8_logger, logger_arg};
use crate::engine::serialize;
use crate::logger::SharedLogger;

/// Made by `infer8_runtime_create`, freed by `infer8_runtime_destroy`.
pub struct infer8_runtime {
    logger: SharedLogger,
}

/// A runtime whose messages, and those of the engines it makes, go to `logger` (copied; its `user`
/// must outlive them). NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_runtime_create(
    logger: *const infer8_logger,
) -> *mut infer8_runtime {
    ffi_boundary!("infer8_runtime_create", std::ptr::null_mut(), |_rep| {
        // SAFETY: the header's contract: null or valid.
        let logger = unsafe { logger_arg(logger) }?;
        Ok(super::handles::adopt(Box::new(infer8_runtime { logger })))
    })
}

/// Frees a runtime; engines made by it stay usable. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_runtime_destroy(runtime: *mut infer8_runtime) {
    ffi_boundary!("infer8_runtime_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live runtime made by this library.
        drop(unsafe { super::handles::release(runtime, "runtime") }?);
        Ok(())
    })
}

/// An engine from `size` bytes made by `infer8_engine_serialize`, freed with `infer8_engine_destroy`.
/// A truncated, corrupt or foreign buffer gives NULL and a logger error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_runtime_deserialize_engine(
    runtime: *mut infer8_runtime,
    data: *const c_void,
    size: usize,
) -> *mut infer8_engine {
    ffi_boundary!(
        "infer8_runtime_deserialize_engine",
        std::ptr::null_mut(),
        |rep| {
            // SAFETY (pointer arguments): the header's contract: null or valid for `size` bytes.
            let r = unsafe { get(runtime, "runtime") }?;
            rep.set_logger(&r.logger);
            if data.is_null() {
                crate::bail!(InvalidArgument, "data is NULL");
            }
            let bytes = unsafe { slice_arg(data as *const u8, size as i64, "data") }?;
            let engine = serialize::from_bytes(bytes)?;
            Ok(super::handles::adopt(Box::new(infer8_engine::new(
                engine,
                r.logger.clone(),
            )?)))
        }
    )
}
