//! The CUDA backend (DESIGN.md decisions 2 and 4): an engine compiled into fused kernel launches
//! (kernels/*.cu, NVRTC-compiled at first use), replayed as a CUDA graph on the caller's stream.
//! Numerics follow the CPU backend, the oracle: FP16 layers store half values, INT8 layers
//! multiply INT8 by INT8 in INT32 with per-channel weight scales.

mod args;
mod calibrate;
mod compile;
mod executor;
mod igemm;
mod kernels;
mod memory;
mod plan;
mod plugin;
mod probe;
mod resident;
mod step;
mod tactic;

pub use calibrate::calibration_histograms;
pub use executor::Executor;
pub use memory::{DeviceBuffer, Source, copy, copy_to_host};
pub use plan::unsupported;
pub use probe::{Gpu, gpu, unavailable_reason};
pub use tactic::{Schedule, choose_tactics};

use cudarc::driver::sys;

use crate::error::{Error, Result};

fn gpu_or_err() -> Result<&'static Gpu> {
    gpu().map(|g| &**g).ok_or_else(|| {
        Error::Unsupported(format!("no usable CUDA device: {}", unavailable_reason()))
    })
}

/// Bytes of workspace the CUDA plan of `engine` uses on this GPU (within its maximum), and the
/// bytes it would use with no maximum.
pub fn workspace_size(engine: &crate::engine::Engine) -> Result<(usize, usize)> {
    gpu_or_err()?
        .ctx
        .bind_to_thread()
        .map_err(cuda_err("binding the context"))?;
    let plan = plan::build(engine, &None, false)?;
    Ok((plan.workspace, plan.workspace_wanted))
}

/// Maps a driver error to ours, naming what failed.
fn cuda_err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> Error + '_ {
    move |e| Error::Runtime(format!("CUDA: {what}: {e:?}"))
}

/// Records `event` on `stream` (TensorRT's `inputConsumed`).
///
/// # Safety
/// `event` and `stream` must be handles of the primary context (stream 0 is the default stream).
pub unsafe fn record_event(event: u64, stream: u64) -> Result<()> {
    // SAFETY: the caller's handles.
    unsafe { sys::cuEventRecord(event as sys::CUevent, stream as sys::CUstream) }
        .result()
        .map_err(cuda_err("cuEventRecord"))
}

/// Waits for the work queued on `stream`.
///
/// # Safety
/// `stream` must be a stream of the primary context, or 0.
pub unsafe fn synchronize(stream: u64) -> Result<()> {
    gpu_or_err()?
        .ctx
        .bind_to_thread()
        .map_err(cuda_err("binding the context"))?;
    // SAFETY: the caller's stream.
    unsafe { sys::cuStreamSynchronize(stream as sys::CUstream) }
        .result()
        .map_err(cuda_err("cuStreamSynchronize"))
}
