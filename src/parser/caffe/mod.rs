//! TensorRT's Caffe parser (`nvcaffeparser1::ICaffeParser`): a deploy prototxt plus an optional
//! caffemodel become `Network` calls, layer by layer, as TensorRT's open-source parser made them.
//!
//! Pipeline: `text` (prototxt) and `weights` (caffemodel) decode, `upgrade` brings legacy nets to
//! the current form and keeps the TEST-phase layers, `import` adds the layers. The user's plugin
//! factory ([`PluginFactory`]) is consulted in `import::import_layer` before the built-in importers.

mod import;
mod plugin;
mod proto;
mod text;
mod upgrade;
mod weights;

use crate::error::{Error, Result};
use crate::network::{Network, TensorId};
use crate::types::DataType;
use plugin::NoPluginFactory;
pub use plugin::PluginFactory;
use prost::Message;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

/// TensorRT's default limit on a protobuf file ("Default size is 2^30 bytes").
const DEFAULT_BUFFER_SIZE: usize = 1 << 30;

/// Caffe blob names to the network tensors holding them (`IBlobNameToTensor`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlobNameToTensor {
    /// Ordered, so renaming aliases (Dropout, Split) is deterministic, as with TensorRT's `std::map`.
    blobs: BTreeMap<String, TensorId>,
    /// Each Caffe layer's first top as that layer produced it, before any in-place layer replaced it.
    layer_outputs: HashMap<String, TensorId>,
}

impl BlobNameToTensor {
    /// The tensor a blob name ends up at (after in-place layers, their last one).
    pub fn find(&self, blob: &str) -> Option<TensorId> {
        self.blobs.get(blob).copied()
    }

    /// The output of the Caffe layer named `layer` itself: for in-place layers, which share a blob
    /// name, this tells their tensors apart (useful to compare intermediate results with Caffe's).
    pub fn layer_output(&self, layer: &str) -> Option<TensorId> {
        self.layer_outputs.get(layer).copied()
    }

    /// All blob names and their tensors, in name order.
    pub fn blobs(&self) -> impl Iterator<Item = (&str, TensorId)> {
        self.blobs.iter().map(|(k, &v)| (k.as_str(), v))
    }
}

/// A mean file or other `BlobProto` (`IBinaryProtoBlob`): NCHW dimensions and FP32 data.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryProtoBlob {
    pub dims: [usize; 4],
    pub data: Vec<f32>,
}

/// The Caffe parser (`ICaffeParser`).
#[derive(Debug, Clone)]
pub struct CaffeParser {
    buffer_size: usize,
}

impl Default for CaffeParser {
    fn default() -> Self {
        CaffeParser {
            buffer_size: DEFAULT_BUFFER_SIZE,
        }
    }
}

impl CaffeParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest prototxt, caffemodel or binaryproto accepted, in bytes (`setProtobufBufferSize`).
    pub fn set_protobuf_buffer_size(&mut self, size: usize) {
        self.buffer_size = size;
    }

    /// Parses a deploy prototxt and, if given, its caffemodel into `net`, with weights converted to
    /// `weight_type` (FP32 or FP16). Without a model the weights are generated (TensorRT's behaviour).
    pub fn parse(
        &mut self,
        deploy: &Path,
        model: Option<&Path>,
        net: &mut Network,
        weight_type: DataType,
    ) -> Result<BlobNameToTensor> {
        self.parse_with_plugins(deploy, model, net, weight_type, &mut NoPluginFactory)
    }

    /// `parse`, asking `plugins` first for each layer (`setPluginFactory`, `setPluginFactoryV2`).
    pub fn parse_with_plugins(
        &mut self,
        deploy: &Path,
        model: Option<&Path>,
        net: &mut Network,
        weight_type: DataType,
        plugins: &mut dyn PluginFactory,
    ) -> Result<BlobNameToTensor> {
        let deploy_bytes = self.read(deploy)?;
        let model_bytes = model.map(|m| self.read(m)).transpose()?;
        let model_name = model.map(|m| m.display().to_string()).unwrap_or_default();
        let model = model_bytes.as_deref().map(|b| (b, model_name.as_str()));
        self.parse_named(
            (&deploy_bytes, &deploy.display().to_string()),
            model,
            net,
            weight_type,
            plugins,
        )
    }

    /// `parse` from memory (`parseBuffers`).
    pub fn parse_buffers(
        &mut self,
        deploy: &[u8],
        model: Option<&[u8]>,
        net: &mut Network,
        weight_type: DataType,
    ) -> Result<BlobNameToTensor> {
        self.parse_buffers_with_plugins(deploy, model, net, weight_type, &mut NoPluginFactory)
    }

    /// `parse_buffers`, asking `plugins` first for each layer.
    pub fn parse_buffers_with_plugins(
        &mut self,
        deploy: &[u8],
        model: Option<&[u8]>,
        net: &mut Network,
        weight_type: DataType,
        plugins: &mut dyn PluginFactory,
    ) -> Result<BlobNameToTensor> {
        for (what, bytes) in [("deploy buffer", Some(deploy)), ("model buffer", model)] {
            if let Some(b) = bytes {
                self.check_size(what, b.len() as u64)?;
            }
        }
        self.parse_named(
            (deploy, "deploy buffer"),
            model.map(|m| (m, "model buffer")),
            net,
            weight_type,
            plugins,
        )
    }

    fn parse_named(
        &self,
        deploy: (&[u8], &str),
        model: Option<(&[u8], &str)>,
        net: &mut Network,
        weight_type: DataType,
        plugins: &mut dyn PluginFactory,
    ) -> Result<BlobNameToTensor> {
        if !matches!(weight_type, DataType::Float | DataType::Half) {
            crate::bail!(
                InvalidArgument,
                "Caffe parser: weight type {weight_type:?} is not supported (FP32 or FP16 only)"
            );
        }
        let deploy_net = upgrade::upgrade(text::parse_net(deploy.0, deploy.1)?, deploy.1)?;
        let mut store = match model {
            Some((bytes, file)) => {
                let model_net = upgrade::upgrade(weights::decode_model(bytes, file)?, file)?;
                weights::WeightStore::from_model(model_net.layers, file, weight_type)
            }
            None => weights::WeightStore::generated(weight_type),
        };
        import::import_net(&deploy_net, &mut store, net, deploy.1, plugins)
    }

    /// Reads a mean file (`parseBinaryProto`): a `BlobProto` whose dimensions (up to 4, right-aligned
    /// into NCHW) must match its data.
    pub fn parse_binary_proto(&self, path: &Path) -> Result<BinaryProtoBlob> {
        self.parse_binary_proto_buffer(&self.read(path)?, &path.display().to_string())
    }

    /// `parse_binary_proto` from memory; `file` names the blob in errors.
    pub fn parse_binary_proto_buffer(&self, bytes: &[u8], file: &str) -> Result<BinaryProtoBlob> {
        self.check_size(file, bytes.len() as u64)?;
        let blob = proto::BlobProto::decode(bytes).map_err(|e| {
            Error::Format(format!("{file}: not a valid binaryproto (BlobProto): {e}"))
        })?;
        let shape = weights::blob_dims(&blob);
        if shape.len() > 4 {
            crate::bail!(
                Format,
                "{file}: blob has {} dimensions; at most 4 (NCHW) are supported",
                shape.len()
            );
        }
        let data =
            weights::blob_values(&blob).map_err(|e| Error::Format(format!("{file}: {e}")))?;
        if data.is_empty() {
            crate::bail!(Format, "{file}: the blob holds no data");
        }
        let mut dims = [1usize; 4];
        for (d, &s) in dims[4 - shape.len()..].iter_mut().zip(&shape) {
            // blob_values checked every dimension is non-negative and their product is the data size.
            *d = s as usize;
        }
        Ok(BinaryProtoBlob { dims, data })
    }

    fn check_size(&self, what: &str, len: u64) -> Result<()> {
        if len > self.buffer_size as u64 {
            crate::bail!(
                Format,
                "{what}: {len} bytes is larger than the protobuf buffer size {} (see setProtobufBufferSize)",
                self.buffer_size
            );
        }
        Ok(())
    }

    /// Reads a whole file, refusing one larger than the buffer size before reading it.
    fn read(&self, path: &Path) -> Result<Vec<u8>> {
        let file = path.display().to_string();
        let io = |e: std::io::Error| Error::Io(format!("{file}: {e}"));
        let f = std::fs::File::open(path).map_err(io)?;
        self.check_size(&file, f.metadata().map_err(io)?.len())?;
        let mut bytes = Vec::new();
        // The limit also holds if the file grows while we read it.
        f.take(self.buffer_size as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        self.check_size(&file, bytes.len() as u64)?;
        Ok(bytes)
    }
}
