//! Custom layers the application implements (TensorRT's `IPlugin`, `IPluginExt`, `IPluginV2`
//! family). The network holds each one as a [`Plugin`]: the C++ ABI (`abi::user_plugin`) wraps the
//! user's object, so that shape inference, the builder, the CPU backend and the engine file reach it
//! without knowing its vtable.
//!
//! Execution contract: a plugin layer always runs in FP32 on linear (NCHW) batch-major buffers, in
//! the memory of the backend that runs the engine, as TensorRT runs it: the CUDA backend hands
//! `enqueue` device pointers and the caller's stream, the CPU backend host pointers and a null
//! stream (DESIGN.md decision 2: bindings are device pointers on CUDA, host pointers on the CPU).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::types::Shape;

/// How a plugin layer is written to an engine file and re-created from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// `IPlugin` / `IPluginExt`: its bytes go back to the `IPluginFactory` given to
    /// `deserializeCudaEngine`, with the layer's name.
    Factory,
    /// `IPluginV2`: its bytes go to the registry's creator of this type, version and namespace.
    Registry {
        name: String,
        version: String,
        namespace: String,
    },
}

/// A user-implemented layer. Calls reach application code, which may fail; errors name the call.
pub trait Plugin: Any + Send + Sync {
    /// `getNbOutputs`.
    fn nb_outputs(&self) -> Result<usize>;
    /// Where the engine file finds the plugin again.
    fn origin(&self) -> Result<PluginOrigin>;
    /// `getOutputDimensions` for each output, from the inputs' shapes (no batch).
    fn output_shapes(&self, inputs: &[Shape]) -> Result<Vec<Shape>>;
    /// The object an engine runs: for `IPluginV2` a `clone()` the engine owns (the application may
    /// destroy its own once the engine is built), for the older generations the same object.
    fn for_engine(&self) -> Result<Arc<dyn Plugin>>;
    /// `configure` / `configureWithFormat` / `configurePlugin` for FP32 linear tensors, after the
    /// format is checked with `supportsFormat`.
    fn configure(&self, inputs: &[Shape], outputs: &[Shape], max_batch: usize) -> Result<()>;
    /// `initialize`, then `getWorkspaceSize(max_batch)`; `terminate` follows when the object is
    /// dropped.
    fn initialize(&self, max_batch: usize) -> Result<()>;
    /// Bytes of workspace `enqueue` needs (known after `initialize`).
    fn workspace_size(&self) -> usize;
    /// `enqueue(batch, inputs, outputs, workspace, stream)`: device pointers and a `cudaStream_t`
    /// on the CUDA backend, host pointers and a null `stream` (0) on the CPU.
    ///
    /// # Safety
    /// Each input points at `batch` items of its tensor, each output at room for `batch` items,
    /// all FP32; `workspace` at [`Plugin::workspace_size`] bytes (or null when that is 0); all in
    /// the memory of the backend, and `stream` a stream of the primary context (or 0).
    unsafe fn enqueue(
        &self,
        batch: usize,
        inputs: &[*const f32],
        outputs: &[*mut f32],
        workspace: *mut u8,
        stream: u64,
    ) -> Result<()>;
    /// `getSerializationSize` + `serialize`.
    fn serialize(&self) -> Result<Vec<u8>>;
    fn as_any(&self) -> &dyn Any;
}

/// A plugin layer's parameters: the plugin, with what the network needs to know of it up front.
#[derive(Clone)]
pub struct PluginLayer {
    pub plugin: Arc<dyn Plugin>,
    pub nb_outputs: usize,
    pub origin: PluginOrigin,
}

/// TensorRT's limit on a layer's outputs is far lower; this only keeps a hostile count from
/// reaching allocations.
const MAX_OUTPUTS: usize = 64;

impl PluginLayer {
    pub fn new(plugin: Arc<dyn Plugin>) -> Result<PluginLayer> {
        let nb_outputs = plugin.nb_outputs()?;
        if nb_outputs == 0 || nb_outputs > MAX_OUTPUTS {
            crate::bail!(
                Network,
                "the plugin reports {nb_outputs} outputs (getNbOutputs); 1 to {MAX_OUTPUTS} are supported"
            );
        }
        let origin = plugin.origin()?;
        Ok(PluginLayer {
            plugin,
            nb_outputs,
            origin,
        })
    }

    /// The engine's own plugin object (see [`Plugin::for_engine`]).
    pub fn for_engine(&self) -> Result<PluginLayer> {
        let layer = PluginLayer::new(self.plugin.for_engine()?)?;
        if layer.nb_outputs != self.nb_outputs {
            crate::bail!(
                Network,
                "the plugin's clone reports {} outputs, the plugin {}",
                layer.nb_outputs,
                self.nb_outputs
            );
        }
        Ok(layer)
    }

    pub fn is_v2(&self) -> bool {
        matches!(self.origin, PluginOrigin::Registry { .. })
    }

    /// Output shapes, checked: as many as the plugin has outputs, each 1 to 8 positive dimensions.
    pub fn output_shapes(&self, inputs: &[Shape]) -> Result<Vec<Shape>, String> {
        let shapes = self
            .plugin
            .output_shapes(inputs)
            .map_err(|e| e.to_string())?;
        if shapes.len() != self.nb_outputs {
            return Err(format!(
                "the plugin gave {} output shapes for {} outputs",
                shapes.len(),
                self.nb_outputs
            ));
        }
        for (i, s) in shapes.iter().enumerate() {
            if s.is_empty() || s.len() > 8 || s.contains(&0) {
                return Err(format!(
                    "the plugin's output {i} has dimensions {s:?} (getOutputDimensions); 1 to 8 positive values are needed"
                ));
            }
        }
        Ok(shapes)
    }
}

impl fmt::Debug for PluginLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginLayer")
            .field("origin", &self.origin)
            .field("nb_outputs", &self.nb_outputs)
            .finish_non_exhaustive()
    }
}

/// Two plugin layers are equal when they hold the same plugin object.
impl PartialEq for PluginLayer {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.plugin), Arc::as_ptr(&other.plugin))
    }
}

/// Re-creates plugin layers while an engine file is read (`IRuntime::deserializeCudaEngine`).
pub trait PluginResolver {
    fn resolve(
        &mut self,
        layer: &str,
        origin: &PluginOrigin,
        data: &[u8],
    ) -> Result<Arc<dyn Plugin>>;
}

/// For readers without a plugin factory or registry: a plugin layer is an error naming it.
pub struct NoPlugins;

impl PluginResolver for NoPlugins {
    fn resolve(&mut self, layer: &str, origin: &PluginOrigin, _: &[u8]) -> Result<Arc<dyn Plugin>> {
        Err(Error::Unsupported(format!(
            "engine file: layer '{layer}' is a plugin layer ({origin:?}); it can only be \
             deserialized through IRuntime::deserializeCudaEngine with its plugin factory or creator"
        )))
    }
}
