//! A plugin layer in a CUDA plan: the application's `enqueue` with device pointers and the
//! caller's stream, as TensorRT calls it (`network::plugin`). The plan gives it FP32 linear
//! tensors (converting neighbours stored otherwise) and a workspace of its `getWorkspaceSize`.

use std::sync::Arc;

use super::step::Loc;
use crate::error::{Error, Result};
use crate::network::plugin::Plugin;

pub struct PluginCall {
    /// The layer's name, for errors.
    pub layer: String,
    pub plugin: Arc<dyn Plugin>,
    /// FP32 tensors of `batch` items each.
    pub inputs: Vec<Loc>,
    pub outputs: Vec<Loc>,
    /// The plan's plugin workspace, where the plugin asked for one.
    pub workspace: Option<Loc>,
}

impl PluginCall {
    /// Calls the plugin's `enqueue` for `batch` items on `stream`; `resolve` gives each location's
    /// address. The plugin's own code runs now, on this thread; what it queues runs on `stream`.
    ///
    /// # Safety
    /// The addresses `resolve` returns must be device memory of the sizes the engine's shapes
    /// imply for this batch; `stream` a stream of the primary context (or 0).
    pub unsafe fn enqueue(
        &self,
        batch: usize,
        resolve: &dyn Fn(Loc) -> u64,
        stream: u64,
    ) -> Result<()> {
        let ins: Vec<*const f32> = self
            .inputs
            .iter()
            .map(|&l| resolve(l) as *const f32)
            .collect();
        let outs: Vec<*mut f32> = self
            .outputs
            .iter()
            .map(|&l| resolve(l) as *mut f32)
            .collect();
        let workspace = self
            .workspace
            .map_or(std::ptr::null_mut(), |l| resolve(l) as *mut u8);
        // SAFETY: the caller's contract; the plan sized the workspace by `workspace_size`.
        unsafe { self.plugin.enqueue(batch, &ins, &outs, workspace, stream) }
            .map_err(|e| Error::Runtime(format!("plugin layer '{}': {e}", self.layer)))
    }
}
