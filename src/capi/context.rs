//! `infer8_context`: runs an engine (TensorRT's `IExecutionContext`), and the user's profiler.

use std::ffi::{CString, c_char, c_void};

use super::boundary::{Reporter, ffi_boundary, get_mut, positive_arg, slice_arg};
use crate::engine::ExecutionContext;
use crate::engine::context::{HostBinding, Profiler};
use crate::error::Result;
use crate::logger::SharedLogger;
use crate::types::volume;

/// Made by `infer8_engine_create_execution_context`, freed by `infer8_context_destroy`. Used by one
/// thread at a time.
pub struct infer8_context {
    pub(crate) ctx: ExecutionContext,
    pub(crate) logger: SharedLogger,
}

/// A profiler implemented by the caller, copied by `infer8_context_set_profiler`: after each run,
/// `report_layer_time` gets every layer's name (valid during the call) and time in milliseconds.
/// `user` is passed back unchanged and must stay valid while the profiler is set.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct infer8_profiler {
    pub user: *mut c_void,
    pub report_layer_time:
        Option<unsafe extern "C" fn(user: *mut c_void, layer_name: *const c_char, ms: f32)>,
}

struct CProfiler(infer8_profiler);

// SAFETY: a context is used by one thread at a time, so the callback is never called concurrently;
// the header tells the caller it may be called from whichever thread runs the context.
unsafe impl Send for CProfiler {}

impl Profiler for CProfiler {
    fn report_layer_time(&mut self, layer_name: &str, ms: f32) {
        if let Some(f) = self.0.report_layer_time {
            let name = CString::new(layer_name.replace('\0', " ")).unwrap_or_default();
            // SAFETY: the caller's function with their user pointer.
            unsafe { f(self.0.user, name.as_ptr(), ms) };
        }
    }
}

/// # Safety
/// `c` is null or a live context that nothing else accesses during the call.
unsafe fn context<'a>(
    rep: &mut Reporter,
    c: *mut infer8_context,
) -> Result<&'a mut infer8_context> {
    // SAFETY: the caller's contract.
    let c = unsafe { get_mut(c, "context") }?;
    rep.set_logger(&c.logger);
    Ok(c)
}

/// Frees a context. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_context_destroy(context: *mut infer8_context) {
    ffi_boundary!("infer8_context_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live context made by this library.
        drop(unsafe { super::handles::release(context, "context") }?);
        Ok(())
    })
}

/// Runs `batch` items (1 to the engine's maximum batch size) synchronously. `bindings` holds one host
/// pointer per engine binding, in binding order: inputs are read, outputs written, each
/// `batch * volume(binding dims)` elements of the binding's type. Outputs are not touched on failure
/// of the argument checks.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_context_execute(
    context: *mut infer8_context,
    batch: i32,
    bindings: *const *mut c_void,
) -> bool {
    ffi_boundary!("infer8_context_execute", false, |rep| {
        // SAFETY (pointer arguments): the header's contract: null or valid, bindings as documented.
        let c = unsafe { self::context(rep, context) }?;
        let batch = positive_arg(batch, "batch")?;
        let engine = c.ctx.engine().clone();
        let ptrs = unsafe { slice_arg(bindings, engine.bindings.len() as i64, "bindings") }?;
        let mut host = Vec::with_capacity(ptrs.len());
        for (i, (b, &p)) in engine.bindings.iter().zip(ptrs).enumerate() {
            if p.is_null() {
                crate::bail!(InvalidArgument, "bindings[{i}] ('{}') is NULL", b.name);
            }
            // Bounded by the engine's maximum batch, checked again by the context before any use.
            let len = batch.min(engine.max_batch_size) * volume(&b.shape) * b.dtype.size();
            // SAFETY: the caller provides `len` bytes per binding; input and output buffers are distinct.
            host.push(if b.is_input {
                HostBinding::Input(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
            } else {
                HostBinding::Output(unsafe { std::slice::from_raw_parts_mut(p as *mut u8, len) })
            });
        }
        c.ctx.execute(batch, &mut host)?;
        Ok(true)
    })
}

/// Sets the profiler told each layer's time after every run (copied; NULL removes it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_context_set_profiler(
    context: *mut infer8_context,
    profiler: *const infer8_profiler,
) -> bool {
    ffi_boundary!("infer8_context_set_profiler", false, |rep| {
        let c = unsafe { self::context(rep, context) }?;
        // SAFETY: null or a valid profiler struct.
        let p = unsafe { profiler.as_ref() }.map(|p| Box::new(CProfiler(*p)) as Box<dyn Profiler>);
        c.ctx.set_profiler(p);
        Ok(true)
    })
}
