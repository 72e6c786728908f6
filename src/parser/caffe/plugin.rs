//! The application's plugin factory as the Caffe parser consults it: TensorRT's
//! `nvcaffeparser1::IPluginFactory`, `IPluginFactoryExt` and `IPluginFactoryV2`, behind one trait
//! (the C++ ABI adapts the user's objects, `abi::plugin_factory`).

use crate::error::Result;
use crate::network::plugin::PluginLayer;

pub trait PluginFactory {
    /// Whether the application implements the layer of this name (`isPlugin`, `isPluginExt`,
    /// `isPluginV2`).
    fn is_plugin(&mut self, layer: &str) -> bool;
    /// The layer's plugin, made from the model's blobs of the layer (FP32; none without a model).
    fn create(&mut self, layer: &str, blobs: Vec<Vec<f32>>) -> Result<PluginLayer>;
}

/// No factory: every layer goes to the built-in importers.
pub(super) struct NoPluginFactory;

impl PluginFactory for NoPluginFactory {
    fn is_plugin(&mut self, _: &str) -> bool {
        false
    }

    fn create(&mut self, layer: &str, _: Vec<Vec<f32>>) -> Result<PluginLayer> {
        crate::bail!(
            InvalidArgument,
            "no plugin factory is set, so layer '{layer}' cannot be a plugin"
        )
    }
}
