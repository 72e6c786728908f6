//! `infer8_network`: the network definition, and the functions that add layers to it. Tensors and
//! layers are handed to C as handles owned by the network (stable addresses, valid until
//! `infer8_network_destroy`), the way TensorRT's `ITensor*`/`ILayer*` belong to the network.

use std::ffi::c_char;

use super::boundary::{
    NameCache, enum_arg, ffi_boundary, get, get_mut, positive_arg, slice_arg, str_arg,
};
use super::layer::infer8_layer;
use super::tensor::infer8_tensor;
use super::types::shape_arg;
use crate::error::{Error, Result};
use crate::logger::SharedLogger;
use crate::network::{
    ConvParams, LayerId, LayerKind, Network, PoolParams, ShuffleParams, TensorId,
};
use crate::types::*;

/// A network under construction. Made by `infer8_builder_create_network`, freed by
/// `infer8_network_destroy`.
pub struct infer8_network {
    pub(crate) net: Network,
    pub(crate) logger: SharedLogger,
    /// One handle per tensor/layer id, made when C first asks for it. Boxed: C keeps the pointers,
    /// which must survive the Vec growing.
    #[allow(clippy::vec_box)]
    tensors: Vec<Box<infer8_tensor>>,
    #[allow(clippy::vec_box)]
    layers: Vec<Box<infer8_layer>>,
    pub(crate) tensor_names: NameCache,
    pub(crate) layer_names: NameCache,
}

impl infer8_network {
    pub(crate) fn new(logger: SharedLogger) -> infer8_network {
        infer8_network {
            net: Network::new(),
            logger,
            tensors: Vec::new(),
            layers: Vec::new(),
            tensor_names: NameCache::default(),
            layer_names: NameCache::default(),
        }
    }

    pub(crate) fn tensor_handle(&mut self, id: TensorId) -> *mut infer8_tensor {
        let me: *mut infer8_network = self;
        while self.tensors.len() <= id {
            let next = self.tensors.len();
            self.tensors.push(Box::new(infer8_tensor {
                network: me,
                id: next,
            }));
        }
        &mut *self.tensors[id]
    }

    pub(crate) fn layer_handle(&mut self, id: LayerId) -> *mut infer8_layer {
        let me: *mut infer8_network = self;
        while self.layers.len() <= id {
            let next = self.layers.len();
            self.layers.push(Box::new(infer8_layer {
                network: me,
                id: next,
            }));
        }
        &mut *self.layers[id]
    }

    /// The id behind a tensor handle passed to this network, which must be one of its own.
    ///
    /// # Safety
    /// `t` is null or a tensor handle of a live network.
    pub(crate) unsafe fn tensor_id(&self, t: *const infer8_tensor, what: &str) -> Result<TensorId> {
        // SAFETY: the caller's contract.
        let h = unsafe { get(t, what) }?;
        if !std::ptr::eq(h.network, self) || h.id >= self.net.tensors.len() {
            crate::bail!(InvalidArgument, "{what} belongs to another network");
        }
        Ok(h.id)
    }

    fn add(&mut self, kind: LayerKind, inputs: &[TensorId]) -> Result<*mut infer8_layer> {
        let id = self.net.add_layer(kind, inputs)?;
        Ok(self.layer_handle(id))
    }
}

/// Resolves the network argument and points the reporter at its logger.
///
/// # Safety
/// `net` is null or a live network that nothing else accesses during the call.
unsafe fn network<'a>(
    rep: &mut super::boundary::Reporter,
    net: *mut infer8_network,
) -> Result<&'a mut infer8_network> {
    // SAFETY: the caller's contract.
    let n = unsafe { get_mut(net, "network") }?;
    rep.set_logger(&n.logger);
    Ok(n)
}

fn weights(values: &[f32]) -> Weights {
    if values.is_empty() {
        Weights::empty()
    } else {
        Weights::new(values.to_vec())
    }
}

/// Frees a network and all its tensor and layer handles. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_destroy(net: *mut infer8_network) {
    ffi_boundary!("infer8_network_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live net made by this library.
        drop(unsafe { super::handles::release(net, "net") }?);
        Ok(())
    })
}

/// Adds a network input of `nb_dims` dimensions (without the batch). Returns its tensor, or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_input(
    net: *mut infer8_network,
    name: *const c_char,
    dtype: i32,
    dims: *const i32,
    nb_dims: i32,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_network_add_input", std::ptr::null_mut(), |rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        let n = unsafe { network(rep, net) }?;
        let name = unsafe { str_arg(name, "name") }?;
        let dtype = enum_arg(dtype, DataType::from_i32, "dtype")?;
        let shape = unsafe { shape_arg(dims, nb_dims, "dims") }?;
        let id = n.net.add_input(name, dtype, &shape)?;
        Ok(n.tensor_handle(id))
    })
}

/// Marks a tensor as a network output (an engine binding after the inputs, in marking order).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_mark_output(
    net: *mut infer8_network,
    tensor: *mut infer8_tensor,
) -> bool {
    ffi_boundary!("infer8_network_mark_output", false, |rep| {
        let n = unsafe { network(rep, net) }?;
        let t = unsafe { n.tensor_id(tensor, "tensor") }?;
        n.net.mark_output(t)?;
        Ok(true)
    })
}

/// Undoes `infer8_network_mark_output`; fails if the tensor is not an output.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_unmark_output(
    net: *mut infer8_network,
    tensor: *mut infer8_tensor,
) -> bool {
    ffi_boundary!("infer8_network_unmark_output", false, |rep| {
        let n = unsafe { network(rep, net) }?;
        let t = unsafe { n.tensor_id(tensor, "tensor") }?;
        n.net.unmark_output(t)?;
        Ok(true)
    })
}

/// Number of layers, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_nb_layers(net: *mut infer8_network) -> i32 {
    ffi_boundary!("infer8_network_get_nb_layers", -1, |rep| {
        let n = unsafe { network(rep, net) }?;
        Ok(n.net.layers.len() as i32)
    })
}

/// Number of inputs, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_nb_inputs(net: *mut infer8_network) -> i32 {
    ffi_boundary!("infer8_network_get_nb_inputs", -1, |rep| {
        let n = unsafe { network(rep, net) }?;
        Ok(n.net.inputs.len() as i32)
    })
}

/// Number of outputs, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_nb_outputs(net: *mut infer8_network) -> i32 {
    ffi_boundary!("infer8_network_get_nb_outputs", -1, |rep| {
        let n = unsafe { network(rep, net) }?;
        Ok(n.net.outputs.len() as i32)
    })
}

fn index(i: i32, len: usize, what: &str) -> Result<usize> {
    usize::try_from(i).ok().filter(|&i| i < len).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{what} index {i} is out of range (there are {len})"
        ))
    })
}

/// The layer at `index` (in the order added), or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_layer(
    net: *mut infer8_network,
    index: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_get_layer", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let l = self::index(index, n.net.layers.len(), "layer")?;
        Ok(n.layer_handle(l))
    })
}

/// The input at `index` (in the order added), or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_input(
    net: *mut infer8_network,
    index: i32,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_network_get_input", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let t = n.net.inputs[self::index(index, n.net.inputs.len(), "input")?];
        Ok(n.tensor_handle(t))
    })
}

/// The output at `index` (in marking order), or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_get_output(
    net: *mut infer8_network,
    index: i32,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_network_get_output", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let t = n.net.outputs[self::index(index, n.net.outputs.len(), "output")?];
        Ok(n.tensor_handle(t))
    })
}

/// The tensor named `name` (the first one, if several share it), or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_find_tensor(
    net: *mut infer8_network,
    name: *const c_char,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_network_find_tensor", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let name = unsafe { str_arg(name, "name") }?;
        let t = n
            .net
            .find_tensor(name)
            .ok_or_else(|| Error::InvalidArgument(format!("no tensor named '{name}'")))?;
        Ok(n.tensor_handle(t))
    })
}

/// Convolution with `nb_outputs` maps and a `kh`×`kw` kernel; `kernel` holds
/// `nb_outputs * C * kh * kw` values (KCRS), `bias` `nb_outputs` values or none (`bias_count` 0).
/// Stride 1, no padding, one group; change them with the `infer8_layer_set_*` functions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_convolution(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    nb_outputs: i32,
    kh: i32,
    kw: i32,
    kernel: *const f32,
    kernel_count: i64,
    bias: *const f32,
    bias_count: i64,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_convolution",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let x = unsafe { n.tensor_id(input, "input") }?;
            let p = conv_params(
                nb_outputs,
                kh,
                kw,
                unsafe { slice_arg(kernel, kernel_count, "kernel") }?,
                unsafe { slice_arg(bias, bias_count, "bias") }?,
            )?;
            n.add(LayerKind::Convolution(p), &[x])
        }
    )
}

/// Deconvolution (transposed convolution): arguments as `infer8_network_add_convolution`, the kernel
/// laid out `C * (nb_outputs / groups) * kh * kw` (Caffe's layout).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_deconvolution(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    nb_outputs: i32,
    kh: i32,
    kw: i32,
    kernel: *const f32,
    kernel_count: i64,
    bias: *const f32,
    bias_count: i64,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_deconvolution",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let x = unsafe { n.tensor_id(input, "input") }?;
            let p = conv_params(
                nb_outputs,
                kh,
                kw,
                unsafe { slice_arg(kernel, kernel_count, "kernel") }?,
                unsafe { slice_arg(bias, bias_count, "bias") }?,
            )?;
            n.add(LayerKind::Deconvolution(p), &[x])
        }
    )
}

fn conv_params(
    nb_outputs: i32,
    kh: i32,
    kw: i32,
    kernel: &[f32],
    bias: &[f32],
) -> Result<ConvParams> {
    Ok(ConvParams::new(
        positive_arg(nb_outputs, "nb_outputs")?,
        [positive_arg(kh, "kh")?, positive_arg(kw, "kw")?],
        weights(kernel),
        weights(bias),
    ))
}

/// Pooling of `type` (`infer8_pooling_type`) over a `wh`×`ww` window; the stride defaults to the window.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_pooling(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    pooling_type: i32,
    wh: i32,
    ww: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_pooling", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let kind = enum_arg(pooling_type, PoolingType::from_i32, "pooling_type")?;
        let window = [positive_arg(wh, "wh")?, positive_arg(ww, "ww")?];
        n.add(LayerKind::Pooling(PoolParams::new(kind, window)), &[x])
    })
}

/// Fully connected layer of `nb_outputs` outputs over the last three dimensions; `kernel` holds
/// `nb_outputs * C * H * W` values, `bias` `nb_outputs` values or none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_fully_connected(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    nb_outputs: i32,
    kernel: *const f32,
    kernel_count: i64,
    bias: *const f32,
    bias_count: i64,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_fully_connected",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let x = unsafe { n.tensor_id(input, "input") }?;
            let kind = LayerKind::FullyConnected {
                nb_outputs: positive_arg(nb_outputs, "nb_outputs")?,
                kernel: weights(unsafe { slice_arg(kernel, kernel_count, "kernel") }?),
                bias: weights(unsafe { slice_arg(bias, bias_count, "bias") }?),
            };
            n.add(kind, &[x])
        }
    )
}

/// Activation of `type` (`infer8_activation_type`); alpha and beta start at 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_activation(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    activation_type: i32,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_activation",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let x = unsafe { n.tensor_id(input, "input") }?;
            let kind = enum_arg(activation_type, ActivationType::from_i32, "activation_type")?;
            n.add(
                LayerKind::Activation {
                    kind,
                    alpha: 0.0,
                    beta: 0.0,
                },
                &[x],
            )
        }
    )
}

/// Parametric ReLU: `x < 0 ? slopes * x : x`, `slopes` broadcast like an element-wise product.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_parametric_relu(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    slopes: *mut infer8_tensor,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_parametric_relu",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let x = unsafe { n.tensor_id(input, "input") }?;
            let s = unsafe { n.tensor_id(slopes, "slopes") }?;
            n.add(LayerKind::ParametricRelu, &[x, s])
        }
    )
}

/// Local response normalization across channels.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_lrn(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    window: i32,
    alpha: f32,
    beta: f32,
    k: f32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_lrn", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        n.add(
            LayerKind::Lrn {
                window: positive_arg(window, "window")?,
                alpha,
                beta,
                k,
            },
            &[x],
        )
    })
}

/// `(x * scale + shift) ^ power` per `mode` (`infer8_scale_mode`); a count of 0 means the default
/// (shift 0, scale 1, power 1).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_scale(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    mode: i32,
    shift: *const f32,
    shift_count: i64,
    scale: *const f32,
    scale_count: i64,
    power: *const f32,
    power_count: i64,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_scale", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let kind = LayerKind::Scale {
            mode: enum_arg(mode, ScaleMode::from_i32, "mode")?,
            shift: weights(unsafe { slice_arg(shift, shift_count, "shift") }?),
            scale: weights(unsafe { slice_arg(scale, scale_count, "scale") }?),
            power: weights(unsafe { slice_arg(power, power_count, "power") }?),
        };
        n.add(kind, &[x])
    })
}

/// The axis TensorRT picks by default for softmax and concatenation: channels (the number of non-batch
/// axes minus three), or 0 for fewer than three axes.
fn default_axis(n: &infer8_network, t: TensorId) -> usize {
    n.net.tensors[t].shape.len().saturating_sub(3)
}

/// Softmax over the default axis (channels for CHW); change it with `infer8_layer_set_axes`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_softmax(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_softmax", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let axes = 1u32 << default_axis(n, x);
        n.add(LayerKind::SoftMax { axes }, &[x])
    })
}

/// Concatenation of `nb_inputs` tensors along the default axis (channels for CHW).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_concatenation(
    net: *mut infer8_network,
    inputs: *const *mut infer8_tensor,
    nb_inputs: i32,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_concatenation",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let handles = unsafe {
                slice_arg(
                    inputs,
                    positive_arg(nb_inputs, "nb_inputs")? as i64,
                    "inputs",
                )
            }?;
            let ids = handles
                .iter()
                .enumerate()
                .map(|(i, &h)| unsafe { n.tensor_id(h, &format!("inputs[{i}]")) })
                .collect::<Result<Vec<_>>>()?;
            let axis = default_axis(n, ids[0]);
            n.add(LayerKind::Concatenation { axis }, &ids)
        }
    )
}

/// Element-wise `op` (`infer8_element_wise_operation`) with TensorRT's broadcast rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_elementwise(
    net: *mut infer8_network,
    a: *mut infer8_tensor,
    b: *mut infer8_tensor,
    op: i32,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_elementwise",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let a = unsafe { n.tensor_id(a, "a") }?;
            let b = unsafe { n.tensor_id(b, "b") }?;
            let op = enum_arg(op, ElementWiseOperation::from_i32, "op")?;
            n.add(LayerKind::ElementWise { op }, &[a, b])
        }
    )
}

/// Unary `op` (`infer8_unary_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_unary(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    op: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_unary", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let op = enum_arg(op, UnaryOperation::from_i32, "op")?;
        n.add(LayerKind::Unary { op }, &[x])
    })
}

/// Zero padding of the last two dimensions; negative values crop.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_padding(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    pre_h: i32,
    pre_w: i32,
    post_h: i32,
    post_w: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_padding", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let kind = LayerKind::Padding {
            pre: [pre_h.into(), pre_w.into()],
            post: [post_h.into(), post_w.into()],
        };
        n.add(kind, &[x])
    })
}

/// Shuffle, the identity until `infer8_layer_set_first_transpose`, `_set_reshape_dimensions` or
/// `_set_second_transpose` say otherwise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_shuffle(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_shuffle", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let p = ShuffleParams {
            first_transpose: Vec::new(),
            reshape: None,
            second_transpose: Vec::new(),
        };
        n.add(LayerKind::Shuffle(p), &[x])
    })
}

/// A constant of the given dimensions (no batch: the same for every item) holding `count` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_constant(
    net: *mut infer8_network,
    dims: *const i32,
    nb_dims: i32,
    values: *const f32,
    count: i64,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_constant", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let dims = unsafe { shape_arg(dims, nb_dims, "dims") }?;
        let weights = weights(unsafe { slice_arg(values, count, "values") }?);
        n.add(LayerKind::Constant { dims, weights }, &[])
    })
}

/// Identity (a copy; with `infer8_layer_set_output_type`, a type conversion).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_identity(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_identity", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        n.add(LayerKind::Identity, &[x])
    })
}

/// Slice: `nb_dims` values each of start, size (positive) and stride, one per non-batch dimension.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_slice(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    start: *const i32,
    size: *const i32,
    stride: *const i32,
    nb_dims: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_slice", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let start = unsafe { slice_arg(start, positive_arg(nb_dims, "nb_dims")? as i64, "start") }?;
        let size = unsafe { shape_arg(size, nb_dims, "size") }?;
        let stride = unsafe { slice_arg(stride, nb_dims.into(), "stride") }?;
        let kind = LayerKind::Slice {
            start: start.iter().map(|&v| v.into()).collect(),
            size,
            stride: stride.iter().map(|&v| v.into()).collect(),
        };
        n.add(kind, &[x])
    })
}

/// Reduction `op` (`infer8_reduce_operation`) over the axes in the bit mask `axes` (bit 0: the first
/// non-batch axis).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_reduce(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    op: i32,
    axes: u32,
    keep_dims: bool,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_reduce", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let op = enum_arg(op, ReduceOperation::from_i32, "op")?;
        n.add(
            LayerKind::Reduce {
                op,
                axes,
                keep_dims,
            },
            &[x],
        )
    })
}

/// The `k` largest or smallest (`infer8_top_k_operation`) values along the single axis in `axes`;
/// output 0 holds the values, output 1 their indices (INT32).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_topk(
    net: *mut infer8_network,
    input: *mut infer8_tensor,
    op: i32,
    k: i32,
    axes: u32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_topk", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let x = unsafe { n.tensor_id(input, "input") }?;
        let op = enum_arg(op, TopKOperation::from_i32, "op")?;
        n.add(
            LayerKind::TopK {
                op,
                k: positive_arg(k, "k")?,
                axes,
            },
            &[x],
        )
    })
}

/// Matrix product of `a` and `b`, each transposed or taken as a vector per `op0`/`op1`
/// (`infer8_matrix_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_matrix_multiply(
    net: *mut infer8_network,
    a: *mut infer8_tensor,
    op0: i32,
    b: *mut infer8_tensor,
    op1: i32,
) -> *mut infer8_layer {
    ffi_boundary!(
        "infer8_network_add_matrix_multiply",
        std::ptr::null_mut(),
        |rep| {
            let n = unsafe { network(rep, net) }?;
            let a = unsafe { n.tensor_id(a, "a") }?;
            let b = unsafe { n.tensor_id(b, "b") }?;
            let op0 = enum_arg(op0, MatrixOperation::from_i32, "op0")?;
            let op1 = enum_arg(op1, MatrixOperation::from_i32, "op1")?;
            n.add(LayerKind::MatrixMultiply { op0, op1 }, &[a, b])
        }
    )
}

/// Gathers slices of `data` along `axis` at the INT32 `indices`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_network_add_gather(
    net: *mut infer8_network,
    data: *mut infer8_tensor,
    indices: *mut infer8_tensor,
    axis: i32,
) -> *mut infer8_layer {
    ffi_boundary!("infer8_network_add_gather", std::ptr::null_mut(), |rep| {
        let n = unsafe { network(rep, net) }?;
        let d = unsafe { n.tensor_id(data, "data") }?;
        let i = unsafe { n.tensor_id(indices, "indices") }?;
        n.add(
            LayerKind::Gather {
                axis: super::boundary::size_arg(axis, "axis")?,
            },
            &[d, i],
        )
    })
}
