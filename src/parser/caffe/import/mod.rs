//! Turns a Caffe net (current form, TEST phase) into `Network` calls: one importer per Caffe layer
//! type, each calling `Network::add_layer` as TensorRT's Caffe parser did, or composing TensorRT
//! layers for the Caffe types TensorRT's parser lacked.

mod activation;
mod conv;
mod norm;
mod tensor;

use super::BlobNameToTensor;
use super::plugin::PluginFactory;
use super::proto::LayerParameter;
use super::upgrade::{Net, in_test_phase};
use super::weights::{Fill, WeightStore};
use crate::error::{Error, Result};
use crate::network::{LayerKind, Network, TensorId};
use crate::types::{DataType, Weights};
use std::fmt::Display;

/// Imports one Caffe layer; returns the tensors for its tops, in order.
type Importer = fn(&mut Ctx) -> Result<Vec<TensorId>>;

/// The importer for a Caffe layer type. `Input`, `Dropout` and `Split` are handled by `import_layer`
/// because they add no layer.
fn importer(layer_type: &str) -> Option<Importer> {
    Some(match layer_type {
        "Convolution" => conv::convolution,
        "Deconvolution" => conv::deconvolution,
        "Pooling" => conv::pooling,
        "InnerProduct" => conv::inner_product,
        "ReLU" => activation::relu,
        "PReLU" => activation::prelu,
        "Sigmoid" => activation::sigmoid,
        "TanH" => activation::tanh,
        "ELU" => activation::elu,
        "AbsVal" => activation::absval,
        "Power" => activation::power,
        "Exp" => activation::exp,
        "Log" => activation::log,
        "BNLL" => activation::bnll,
        "Threshold" => activation::threshold,
        "Clip" => activation::clip,
        "Softmax" => norm::softmax,
        "LRN" => norm::lrn,
        "BatchNorm" => norm::batch_norm,
        "Scale" => norm::scale,
        "Bias" => norm::bias,
        "Normalize" => norm::normalize,
        "Eltwise" => tensor::eltwise,
        "Concat" => tensor::concat,
        "Slice" => tensor::slice,
        "Flatten" => tensor::flatten,
        "Reshape" => tensor::reshape,
        "Permute" => tensor::permute,
        "Crop" => tensor::crop,
        "Reduction" => tensor::reduction,
        "ArgMax" => tensor::argmax,
        _ => return None,
    })
}

/// Imports `net` into `network`; `file` names the deploy file in errors.
pub(super) fn import_net(
    net: &Net,
    weights: &mut WeightStore,
    network: &mut Network,
    file: &str,
    plugins: &mut dyn PluginFactory,
) -> Result<BlobNameToTensor> {
    let mut blobs = BlobNameToTensor::default();
    for (name, dims) in &net.inputs {
        let t = add_input(network, name, dims)
            .map_err(|e| Error::Format(format!("{file}: input '{name}': {e}")))?;
        blobs.blobs.insert(name.clone(), t);
    }
    for layer in net.layers.iter().filter(|l| in_test_phase(l)) {
        import_layer(layer, network, weights, &mut blobs, file, plugins)?;
    }
    // TensorRT's setTensorNames: every blob names its (last) tensor, so with in-place layers the
    // earlier producers keep their default names.
    for (name, &t) in &blobs.blobs {
        network.tensors[t].name = name.clone();
    }
    Ok(blobs)
}

/// Adds a network input from Caffe dimensions; the first (batch) dimension is implicit.
fn add_input(network: &mut Network, name: &str, dims: &[i64]) -> Result<TensorId, String> {
    if dims.len() < 2 {
        return Err(format!(
            "dimensions {dims:?} need a batch and at least one more dimension"
        ));
    }
    let shape = dims[1..]
        .iter()
        .map(|&d| usize::try_from(d).ok().filter(|&d| d > 0))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("dimensions {dims:?} must be positive"))?;
    network
        .add_input(name, DataType::Float, &shape)
        .map_err(|e| e.to_string())
}

fn import_layer(
    layer: &LayerParameter,
    network: &mut Network,
    weights: &mut WeightStore,
    blobs: &mut BlobNameToTensor,
    file: &str,
    plugins: &mut dyn PluginFactory,
) -> Result<()> {
    let what = || format!("{file}: layer '{}' ({})", layer.name(), layer.r#type());
    let inputs = layer
        .bottom
        .iter()
        .map(|b| {
            blobs.find(b).ok_or_else(|| {
                Error::Format(format!(
                    "{}: bottom '{b}' is not a network input or the top of an earlier layer",
                    what()
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for (i, top) in layer.top.iter().enumerate() {
        if layer.top[..i].contains(top) {
            crate::bail!(Format, "{}: top '{top}' is listed twice", what());
        }
        if let Some(t) = blobs.find(top) {
            if !layer.bottom.contains(top) {
                crate::bail!(
                    Format,
                    "{}: top '{top}' is already produced by an earlier layer (only in-place layers may reuse a blob)",
                    what()
                );
            }
            if network.is_input(t) {
                crate::bail!(
                    Unsupported,
                    "{}: in-place operations on network input '{top}' are not supported (as in TensorRT)",
                    what()
                );
            }
        }
    }
    let tops = match layer.r#type() {
        "Input" => {
            input_layer(layer, network).map_err(|e| Error::Format(format!("{}: {e}", what())))?
        }
        // No computation in a TEST net: the tops are the bottom.
        "Dropout" | "Split" => {
            let x = *inputs
                .first()
                .ok_or_else(|| Error::Format(format!("{}: needs one bottom", what())))?;
            vec![x; layer.top.len()]
        }
        // As TensorRT's parser: the application's factory may claim any layer, known type or not.
        _ if plugins.is_plugin(layer.name()) => {
            let mut cx = Ctx {
                net: network,
                weights,
                layer,
                inputs,
                file,
            };
            cx.plugin(plugins)?
        }
        ty => {
            let import = importer(ty).ok_or_else(|| {
                Error::Unsupported(format!(
                    "{}: unknown or unsupported layer type '{ty}'",
                    what()
                ))
            })?;
            let mut cx = Ctx {
                net: network,
                weights,
                layer,
                inputs,
                file,
            };
            import(&mut cx)?
        }
    };
    if tops.len() != layer.top.len() {
        crate::bail!(
            Format,
            "{}: has {} top(s), expected {}",
            what(),
            layer.top.len(),
            tops.len()
        );
    }
    if let Some(&first) = tops.first() {
        blobs.layer_outputs.insert(layer.name().to_string(), first);
    }
    for (top, t) in layer.top.iter().zip(tops) {
        blobs.blobs.insert(top.clone(), t);
    }
    Ok(())
}

/// An `Input` layer: one network input per top, with its own shape or the single shared one.
fn input_layer(layer: &LayerParameter, network: &mut Network) -> Result<Vec<TensorId>, String> {
    let shapes = layer
        .input_param
        .as_ref()
        .map(|p| p.shape.as_slice())
        .unwrap_or_default();
    if shapes.len() != layer.top.len() && shapes.len() != 1 {
        return Err(format!(
            "{} top(s) but {} input_param shape(s)",
            layer.top.len(),
            shapes.len()
        ));
    }
    layer
        .top
        .iter()
        .enumerate()
        .map(|(i, top)| {
            add_input(network, top, &shapes[i.min(shapes.len() - 1)].dim)
                .map_err(|e| format!("input '{top}': {e}"))
        })
        .collect()
}

/// What an importer works with: the network, the layer's message, its input tensors and weights.
pub(super) struct Ctx<'a> {
    net: &'a mut Network,
    weights: &'a mut WeightStore,
    layer: &'a LayerParameter,
    inputs: Vec<TensorId>,
    file: &'a str,
}

impl Ctx<'_> {
    fn name(&self) -> &str {
        self.layer.name()
    }

    /// A format error naming the file, layer and type.
    fn error(&self, msg: impl Display) -> Error {
        Error::Format(format!(
            "{}: layer '{}' ({}): {msg}",
            self.file,
            self.name(),
            self.layer.r#type()
        ))
    }

    fn unsupported(&self, msg: impl Display) -> Error {
        Error::Unsupported(format!(
            "{}: layer '{}' ({}): {msg}",
            self.file,
            self.name(),
            self.layer.r#type()
        ))
    }

    /// Checks the numbers of bottoms (at least `min_bottoms`, at most `max_bottoms`) and tops.
    fn expect(&self, min_bottoms: usize, max_bottoms: usize, tops: usize) -> Result<()> {
        let (b, t) = (self.inputs.len(), self.layer.top.len());
        if b < min_bottoms || b > max_bottoms || t != tops {
            let want = if min_bottoms == max_bottoms {
                min_bottoms.to_string()
            } else {
                format!("{min_bottoms} to {max_bottoms}")
            };
            return Err(self.error(format!(
                "has {b} bottom(s) and {t} top(s); it takes {want} bottom(s) and {tops} top(s)"
            )));
        }
        Ok(())
    }

    fn input(&self, i: usize) -> TensorId {
        self.inputs[i]
    }

    /// Dimensions of input `i`, without the batch.
    fn shape(&self, i: usize) -> Vec<usize> {
        self.net.tensors[self.inputs[i]].shape.clone()
    }

    /// Channels, height and width of input `i`, for layers that need `[C, H, W]`.
    fn chw(&self, i: usize) -> Result<[usize; 3]> {
        match self.shape(i)[..] {
            [c, h, w] => Ok([c, h, w]),
            ref s => Err(self.error(format!(
                "needs a [C, H, W] input (NCHW in Caffe), got {s:?}"
            ))),
        }
    }

    /// A Caffe axis of input `i` (counting the batch, negative from the end) as an index into the
    /// batch-less dimensions; the batch axis itself is unsupported, as in TensorRT.
    fn axis(&self, axis: i32, i: usize) -> Result<usize> {
        let rank = self.shape(i).len() as i64 + 1;
        let a = if axis < 0 {
            i64::from(axis) + rank
        } else {
            i64::from(axis)
        };
        if a == 0 {
            return Err(self.unsupported(
                "operating on the batch axis (0) is not supported with an implicit batch",
            ));
        }
        if a < 0 || a >= rank {
            return Err(self.error(format!("axis {axis} is out of range for a {rank}-D blob")));
        }
        Ok(a as usize - 1)
    }

    /// Adds the layer that completes this Caffe layer; it takes the Caffe layer's name.
    fn add(&mut self, kind: LayerKind, inputs: &[TensorId]) -> Result<TensorId> {
        let name = self.name().to_string();
        self.add_named(name, kind, inputs)
            .map(|l| self.net.layers[l].outputs[0])
    }

    /// The application's layer, made by its factory from the layer's blobs: as many tops as the
    /// plugin has outputs.
    fn plugin(&mut self, plugins: &mut dyn PluginFactory) -> Result<Vec<TensorId>> {
        let blobs = self.weights.all_blobs(self.name())?;
        let plugin = plugins
            .create(self.name(), blobs)
            .map_err(|e| self.error(e))?;
        let inputs = self.inputs.clone();
        let name = self.name().to_string();
        let l = self.add_named(name, LayerKind::Plugin(plugin), &inputs)?;
        Ok(self.net.layers[l].outputs.clone())
    }

    /// Adds a helper layer of a composition, named `<caffe name>/<part>`.
    fn add_part(&mut self, part: &str, kind: LayerKind, inputs: &[TensorId]) -> Result<TensorId> {
        let name = format!("{}/{part}", self.name());
        self.add_named(name, kind, inputs)
            .map(|l| self.net.layers[l].outputs[0])
    }

    fn add_named(&mut self, name: String, kind: LayerKind, inputs: &[TensorId]) -> Result<usize> {
        let l = self
            .net
            .add_layer(kind, inputs)
            .map_err(|e| self.error(e))?;
        self.net.layers[l].name = name;
        Ok(l)
    }

    /// Weight blob `index` of this layer, which must hold `expected` values.
    fn blob(&mut self, index: usize, what: &str, expected: usize, fill: Fill) -> Result<Weights> {
        let name = self.layer.name();
        self.weights.blob(name, index, what, expected, fill)
    }

    /// Number of weight blobs the model holds for this layer; `None` without a model.
    fn blob_count(&self) -> Option<usize> {
        self.weights.blob_count(self.layer.name())
    }

    /// Parameter values (not from the model) in the parser's weight type.
    fn values(&self, values: Vec<f32>) -> Weights {
        self.weights.convert(values)
    }

    /// Product of dimensions, or an error when it overflows.
    fn count(&self, dims: &[usize]) -> Result<usize> {
        dims.iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= i32::MAX as usize)
            .ok_or_else(|| self.error(format!("weight count for dimensions {dims:?} is too large")))
    }
}
