//! The steps of a plugin layer: the application's `enqueue` on FP32 linear tensors of `batch`
//! items each (TensorRT's contract, and the CPU's: backend/cpu/plugin.rs). An input the plan
//! stores otherwise (half, INT8, or once for the whole batch) is converted into a buffer of its
//! own first; an output it stores otherwise is written to a buffer and converted after.

use super::{Builder, Store, convert};
use crate::backend::cuda::memory::DeviceBuffer;
use crate::backend::cuda::plugin::PluginCall;
use crate::backend::cuda::step::{Loc, Step};
use crate::error::Result;
use crate::network::LayerId;
use crate::network::plugin::PluginLayer;
use crate::types::volume;

impl Builder<'_> {
    pub(super) fn plugin(&mut self, l: LayerId, p: &PluginLayer) -> Result<()> {
        let net = self.net;
        let layer = &net.layers[l];
        // Batch-invariant outputs (every input is): the plugin runs one item, as on the CPU.
        let invariant = layer
            .outputs
            .iter()
            .all(|&t| net.tensors[t].broadcast_across_batch);
        let items = if invariant {
            1
        } else {
            self.engine.max_batch_size
        };
        let mut inputs = Vec::with_capacity(layer.inputs.len());
        for &x in &layer.inputs {
            let x_invariant = net.tensors[x].broadcast_across_batch;
            let fp32 = matches!(self.store[x], Store::F32 | Store::F32Half);
            if fp32 && (invariant || !x_invariant) {
                inputs.push(self.loc(x)?);
                continue;
            }
            let vol = volume(&net.tensors[x].shape);
            let buf = self.buffer(DeviceBuffer::alloc_from(items * vol * 4, &self.source)?);
            let from = (self.loc(x)?, self.store[x]);
            let step = convert(from, (buf, Store::F32), vol, x_invariant, invariant)?;
            self.steps.push(step);
            inputs.push(buf);
        }
        let mut outputs = Vec::with_capacity(layer.outputs.len());
        let mut after = Vec::new();
        for &t in &layer.outputs {
            if self.store[t] == Store::F32 {
                outputs.push(self.loc(t)?);
                continue;
            }
            let vol = volume(&net.tensors[t].shape);
            let buf = self.buffer(DeviceBuffer::alloc_from(items * vol * 4, &self.source)?);
            let to = (self.loc(t)?, self.store[t]);
            after.push(convert((buf, Store::F32), to, vol, invariant, invariant)?);
            outputs.push(buf);
        }
        let workspace = self.plugin_workspace(p.plugin.workspace_size())?;
        let call = PluginCall {
            layer: layer.name.clone(),
            plugin: p.plugin.clone(),
            inputs,
            outputs,
            workspace,
        };
        self.steps.push(Step::plugin(call, invariant));
        self.steps.extend(after);
        Ok(())
    }

    /// The plugins' shared workspace, for a plugin asking for `bytes` (`getWorkspaceSize` at the
    /// maximum batch); None for none.
    fn plugin_workspace(&mut self, bytes: usize) -> Result<Option<Loc>> {
        if bytes == 0 {
            return Ok(None);
        }
        self.plugin_ws_bytes = self.plugin_ws_bytes.max(bytes);
        if self.plugin_ws.is_none() {
            // Empty until every plugin has said what it needs.
            self.plugin_ws = Some(self.buffer(DeviceBuffer::alloc_from(0, &None)?));
        }
        Ok(self.plugin_ws)
    }

    /// Allocates the reserved plugin workspace at the most bytes a plugin asked for; gives them.
    pub(super) fn allocate_plugin_workspace(&mut self) -> Result<usize> {
        let Some(Loc::Buffer(i)) = self.plugin_ws else {
            return Ok(0);
        };
        self.buffers[i] = DeviceBuffer::alloc_from(self.plugin_ws_bytes, &self.source)?;
        Ok(self.plugin_ws_bytes)
    }
}
