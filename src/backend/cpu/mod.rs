//! The CPU backend: one prepared kernel per engine layer.
//!
//! Contract with the engine (src/engine): all activations are batch-major `f32` buffers
//! (`[batch, ..shape]`, C order); INT32 tensors (top-k indices, gather indices) hold their integer
//! values as `f32` (exact below 2^24). An input whose `batch` is 1 while the layer runs a larger
//! batch is broadcast across the batch (constants). Weights are packed once in [`CpuLayer::new`];
//! `run` does not allocate on the hot path beyond what `scratch` holds.

use crate::error::Result;
use crate::network::LayerKind;

/// A read-only input of a layer.
pub struct In<'a> {
    pub data: &'a [f32],
    /// 1 for batch-invariant tensors, else the run's batch size.
    pub batch: usize,
    pub shape: &'a [usize],
}

/// An output of a layer, always `batch * volume(shape)` elements.
pub struct Out<'a> {
    pub data: &'a mut [f32],
    pub shape: &'a [usize],
}

/// A layer ready to run on the CPU: parameters checked, weights packed.
pub struct CpuLayer {
    kind: LayerKind,
}

impl CpuLayer {
    /// `inputs` and `outputs` are the non-batch shapes the engine inferred.
    pub fn new(kind: &LayerKind, inputs: &[&[usize]], outputs: &[&[usize]]) -> Result<CpuLayer> {
        let _ = (inputs, outputs);
        Ok(CpuLayer { kind: kind.clone() })
    }

    /// Number of f32 scratch elements `run` needs at this batch size (im2col buffers and the like).
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    pub fn run(&self, batch: usize, inputs: &[In], outputs: &mut [Out], scratch: &mut [f32]) -> Result<()> {
        let _ = (batch, inputs, outputs, scratch);
        crate::bail!(Unsupported, "CPU kernel for {} is not implemented yet", self.kind.type_name())
    }
}
