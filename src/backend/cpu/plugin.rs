//! A plugin layer on the CPU: the application's `enqueue` on host memory, with a null stream
//! (the contract in `network::plugin`).

use super::{In, Out};
use crate::error::Result;
use crate::network::plugin::PluginLayer;
use crate::types::volume;

/// Runs `batch` items. A batch-invariant input (stored once) is replicated first: a plugin reads
/// `batch` items of every input, as TensorRT gives it.
pub fn run(
    p: &PluginLayer,
    batch: usize,
    inputs: &[In],
    outputs: &mut [Out],
    scratch: &mut [f32],
) -> Result<()> {
    let replicated: Vec<Option<Vec<f32>>> = inputs
        .iter()
        .map(|x| (x.batch != batch).then(|| x.data[..volume(x.shape)].repeat(batch)))
        .collect();
    let ins: Vec<*const f32> = inputs
        .iter()
        .zip(&replicated)
        .map(|(x, r)| r.as_deref().unwrap_or(x.data).as_ptr())
        .collect();
    let outs: Vec<*mut f32> = outputs.iter_mut().map(|o| o.data.as_mut_ptr()).collect();
    let workspace = if p.plugin.workspace_size() == 0 {
        std::ptr::null_mut()
    } else {
        scratch.as_mut_ptr().cast()
    };
    // SAFETY: `CpuLayer::check` verified each input holds `batch` (or 1, now replicated) items and
    // each output room for `batch` items of its shape; the scratch holds the workspace
    // (`scratch_len`).
    unsafe { p.plugin.enqueue(batch, &ins, &outs, workspace, 0) }
}
