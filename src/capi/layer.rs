//! `infer8_layer`: a handle to one layer of a network, owned by the network. Besides the functions
//! every layer has, a setter per layer parameter; a setter names the layer kinds it applies to and
//! fails on others. Shapes are inferred again after each change; a change that leaves them
//! inconsistent (a kernel size set before its weights) is kept with a warning, and building fails
//! unless later changes fix it, as in TensorRT.

use std::ffi::c_char;

use super::boundary::{
    Reporter, enum_arg, ffi_boundary, get, positive_arg, size_arg, slice_arg, str_arg,
};
use super::network::infer8_network;
use super::tensor::infer8_tensor;
use super::types::shape_arg;
use crate::error::{Error, Result};
use crate::logger::Severity;
use crate::network::{Hw, LayerId, LayerKind};
use crate::types::*;

/// A layer of a network. Valid until its network is destroyed; never freed by the caller.
pub struct infer8_layer {
    pub(crate) network: *mut infer8_network,
    pub(crate) id: LayerId,
}

/// Resolves a layer handle to its network and id (see `tensor::resolve`).
///
/// # Safety
/// `l` is null or a handle of a live network that nothing else accesses during the call.
unsafe fn resolve<'a>(
    rep: &mut Reporter,
    l: *const infer8_layer,
) -> Result<(&'a mut infer8_network, LayerId)> {
    // SAFETY: the caller's contract.
    let (network, id) = unsafe { get(l, "layer") }.map(|h| (h.network, h.id))?;
    // SAFETY: a handle points to the network that owns it, alive as long as the handle.
    let n = unsafe { &mut *network };
    rep.set_logger(&n.logger);
    Ok((n, id))
}

/// Applies `set` to the layer's parameters; `set` returns false when the layer kind has no such
/// parameter, and validates its values before changing anything.
///
/// # Safety
/// As `resolve`.
unsafe fn edit(
    rep: &mut Reporter,
    layer: *mut infer8_layer,
    what: &str,
    set: impl FnOnce(&mut LayerKind) -> Result<bool>,
) -> Result<bool> {
    // SAFETY: the caller's contract.
    let (n, l) = unsafe { resolve(rep, layer) }?;
    let layer = &mut n.net.layers[l];
    if !set(&mut layer.kind)? {
        crate::bail!(
            InvalidArgument,
            "layer '{}' ({}) has no {what}",
            layer.name,
            layer.kind.type_name()
        );
    }
    if let Err(e) = n.net.refresh_shapes() {
        let name = &n.net.layers[l].name;
        n.logger.log(
            Severity::Warning,
            &format!("after setting the {what} of layer '{name}': {e}"),
        );
    }
    Ok(true)
}

fn positive_hw(h: i32, w: i32, what: &str) -> Result<Hw> {
    Ok([positive_arg(h, what)?, positive_arg(w, what)?])
}

fn size_hw(h: i32, w: i32, what: &str) -> Result<Hw> {
    Ok([size_arg(h, what)?, size_arg(w, what)?])
}

fn weights(values: &[f32]) -> Weights {
    if values.is_empty() {
        Weights::empty()
    } else {
        Weights::new(values.to_vec())
    }
}

/// A permutation or dimension list from C.
///
/// # Safety
/// `p` is null or points to `n` values.
unsafe fn list(p: *const i32, n: i32, what: &str) -> Result<Vec<i32>> {
    // SAFETY: the caller's contract.
    Ok(unsafe { slice_arg(p, i64::from(n), what) }?.to_vec())
}

fn index(i: i32, len: usize, what: &str) -> Result<usize> {
    usize::try_from(i).ok().filter(|&i| i < len).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{what} index {i} is out of range (the layer has {len})"
        ))
    })
}

/// The layer's type (`infer8_layer_type`), or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_type(layer: *const infer8_layer) -> i32 {
    ffi_boundary!("infer8_layer_get_type", -1, |rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        let (n, l) = unsafe { resolve(rep, layer) }?;
        Ok(n.net.layers[l].kind.layer_type() as i32)
    })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_name(
    layer: *mut infer8_layer,
    name: *const c_char,
) -> bool {
    ffi_boundary!("infer8_layer_set_name", false, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        n.net.layers[l].name = unsafe { str_arg(name, "name") }?.to_string();
        Ok(true)
    })
}

/// The layer's name, owned by the network: valid until the layer is renamed or the network destroyed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_name(layer: *const infer8_layer) -> *const c_char {
    ffi_boundary!("infer8_layer_get_name", std::ptr::null(), |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        n.layer_names.get(l, &n.net.layers[l].name)
    })
}

/// Number of inputs, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_nb_inputs(layer: *const infer8_layer) -> i32 {
    ffi_boundary!("infer8_layer_get_nb_inputs", -1, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        Ok(n.net.layers[l].inputs.len() as i32)
    })
}

/// Input `index`, or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_input(
    layer: *const infer8_layer,
    index: i32,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_layer_get_input", std::ptr::null_mut(), |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        let inputs = &n.net.layers[l].inputs;
        let t = inputs[self::index(index, inputs.len(), "input")?];
        Ok(n.tensor_handle(t))
    })
}

/// Replaces input `index` with `tensor` (of the same network); shapes are inferred again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_input(
    layer: *mut infer8_layer,
    index: i32,
    tensor: *mut infer8_tensor,
) -> bool {
    ffi_boundary!("infer8_layer_set_input", false, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        let t = unsafe { n.tensor_id(tensor, "tensor") }?;
        let i = self::index(index, n.net.layers[l].inputs.len(), "input")?;
        n.net.set_layer_input(l, i, t)?;
        if let Err(e) = n.net.refresh_shapes() {
            n.logger.log(
                Severity::Warning,
                &format!(
                    "after setting input {i} of layer '{}': {e}",
                    n.net.layers[l].name
                ),
            );
        }
        Ok(true)
    })
}

/// Number of outputs, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_nb_outputs(layer: *const infer8_layer) -> i32 {
    ffi_boundary!("infer8_layer_get_nb_outputs", -1, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        Ok(n.net.layers[l].outputs.len() as i32)
    })
}

/// Output `index`, or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_output(
    layer: *const infer8_layer,
    index: i32,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_layer_get_output", std::ptr::null_mut(), |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        let outputs = &n.net.layers[l].outputs;
        let t = outputs[self::index(index, outputs.len(), "output")?];
        Ok(n.tensor_handle(t))
    })
}

/// The precision the layer must run in under strict types (`infer8_data_type`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_precision(layer: *mut infer8_layer, dtype: i32) -> bool {
    ffi_boundary!("infer8_layer_set_precision", false, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        n.net.layers[l].precision = Some(enum_arg(dtype, DataType::from_i32, "dtype")?);
        Ok(true)
    })
}

/// The precision set with `infer8_layer_set_precision`, FLOAT if none was set, -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_precision(layer: *const infer8_layer) -> i32 {
    ffi_boundary!("infer8_layer_get_precision", -1, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        Ok(n.net.layers[l].precision.unwrap_or(DataType::Float) as i32)
    })
}

/// The type output `index` must have under strict types (`infer8_data_type`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_output_type(
    layer: *mut infer8_layer,
    index: i32,
    dtype: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_output_type", false, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        let dtype = enum_arg(dtype, DataType::from_i32, "dtype")?;
        let types = &mut n.net.layers[l].output_types;
        let i = self::index(index, types.len(), "output")?;
        types[i] = Some(dtype);
        Ok(true)
    })
}

/// The type set for output `index`, FLOAT if none was set, -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_get_output_type(
    layer: *const infer8_layer,
    index: i32,
) -> i32 {
    ffi_boundary!("infer8_layer_get_output_type", -1, |rep| {
        let (n, l) = unsafe { resolve(rep, layer) }?;
        let types = &n.net.layers[l].output_types;
        Ok(types[self::index(index, types.len(), "output")?].unwrap_or(DataType::Float) as i32)
    })
}

/// Convolution, deconvolution, pooling: the stride (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_stride(layer: *mut infer8_layer, h: i32, w: i32) -> bool {
    ffi_boundary!("infer8_layer_set_stride", false, |rep| {
        let set = |k: &mut LayerKind| {
            let s = positive_hw(h, w, "stride")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.stride = s,
                LayerKind::Pooling(p) => p.stride = s,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "stride", set) }
    })
}

/// Convolution, deconvolution, pooling: the same padding before and after (non-negative).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_padding(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_padding", false, |rep| {
        let set = |k: &mut LayerKind| {
            let s = size_hw(h, w, "padding")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => {
                    (p.pre_padding, p.post_padding) = (s, s)
                }
                LayerKind::Pooling(p) => (p.pre_padding, p.post_padding) = (s, s),
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "padding", set) }
    })
}

/// Convolution, deconvolution, pooling: the padding before (non-negative); padding layer: the
/// padding before (negative crops).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_pre_padding(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_pre_padding", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => {
                    p.pre_padding = size_hw(h, w, "pre-padding")?
                }
                LayerKind::Pooling(p) => p.pre_padding = size_hw(h, w, "pre-padding")?,
                LayerKind::Padding { pre, .. } => *pre = [h.into(), w.into()],
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "pre-padding", set) }
    })
}

/// As `infer8_layer_set_pre_padding`, for the padding after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_post_padding(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_post_padding", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => {
                    p.post_padding = size_hw(h, w, "post-padding")?
                }
                LayerKind::Pooling(p) => p.post_padding = size_hw(h, w, "post-padding")?,
                LayerKind::Padding { post, .. } => *post = [h.into(), w.into()],
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "post-padding", set) }
    })
}

/// Convolution, deconvolution, pooling: how output sizes round (`infer8_padding_mode`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_padding_mode(
    layer: *mut infer8_layer,
    mode: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_padding_mode", false, |rep| {
        let set = |k: &mut LayerKind| {
            let m = enum_arg(mode, PaddingMode::from_i32, "mode")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.padding_mode = m,
                LayerKind::Pooling(p) => p.padding_mode = m,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "padding mode", set) }
    })
}

/// Convolution, deconvolution: the dilation (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_dilation(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_dilation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let s = positive_hw(h, w, "dilation")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.dilation = s,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "dilation", set) }
    })
}

/// Convolution, deconvolution: the number of groups (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_groups(layer: *mut infer8_layer, groups: i32) -> bool {
    ffi_boundary!("infer8_layer_set_groups", false, |rep| {
        let set = |k: &mut LayerKind| {
            let g = positive_arg(groups, "groups")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.groups = g,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "number of groups", set) }
    })
}

/// Convolution, deconvolution: the kernel size (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_kernel_size(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_kernel_size", false, |rep| {
        let set = |k: &mut LayerKind| {
            let s = positive_hw(h, w, "kernel size")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.kernel = s,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "kernel size", set) }
    })
}

/// Convolution, deconvolution: the number of output maps; fully connected: of outputs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_nb_outputs(
    layer: *mut infer8_layer,
    nb_outputs: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_nb_outputs", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = positive_arg(nb_outputs, "nb_outputs")?;
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.nb_output_maps = v,
                LayerKind::FullyConnected { nb_outputs, .. } => *nb_outputs = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "number of outputs", set) }
    })
}

/// Convolution, deconvolution, fully connected: the kernel weights (copied).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_kernel_weights(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_kernel_weights", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.kernel_weights = v,
                LayerKind::FullyConnected { kernel, .. } => *kernel = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "kernel weights", set) }
    })
}

/// Convolution, deconvolution, fully connected: the bias (copied; count 0: no bias).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_bias_weights(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_bias_weights", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => p.bias = v,
                LayerKind::FullyConnected { bias, .. } => *bias = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "bias weights", set) }
    })
}

/// Pooling: the kind of pooling (`infer8_pooling_type`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_pooling_type(
    layer: *mut infer8_layer,
    pooling_type: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_pooling_type", false, |rep| {
        let set = |k: &mut LayerKind| {
            let t = enum_arg(pooling_type, PoolingType::from_i32, "pooling_type")?;
            match k {
                LayerKind::Pooling(p) => p.kind = t,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "pooling type", set) }
    })
}

/// Pooling: the window size (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_window_size(
    layer: *mut infer8_layer,
    h: i32,
    w: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_window_size", false, |rep| {
        let set = |k: &mut LayerKind| {
            let s = positive_hw(h, w, "window size")?;
            match k {
                LayerKind::Pooling(p) => p.window = s,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "window size", set) }
    })
}

/// Pooling (max-average blend): the weight of max, in [0, 1].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_blend_factor(
    layer: *mut infer8_layer,
    blend_factor: f32,
) -> bool {
    ffi_boundary!("infer8_layer_set_blend_factor", false, |rep| {
        let set = |k: &mut LayerKind| {
            if !(0.0..=1.0).contains(&blend_factor) {
                crate::bail!(
                    InvalidArgument,
                    "blend_factor = {blend_factor} is outside [0, 1]"
                );
            }
            match k {
                LayerKind::Pooling(p) => p.blend_factor = blend_factor,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "blend factor", set) }
    })
}

/// Pooling (average): whether padded elements are left out of the count.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_average_count_excludes_padding(
    layer: *mut infer8_layer,
    exclusive: bool,
) -> bool {
    ffi_boundary!(
        "infer8_layer_set_average_count_excludes_padding",
        false,
        |rep| {
            let set = |k: &mut LayerKind| {
                match k {
                    LayerKind::Pooling(p) => p.average_count_excludes_padding = exclusive,
                    _ => return Ok(false),
                }
                Ok(true)
            };
            unsafe { edit(rep, layer, "average count mode", set) }
        }
    )
}

/// Activation: the function (`infer8_activation_type`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_activation_type(
    layer: *mut infer8_layer,
    activation_type: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_activation_type", false, |rep| {
        let set = |k: &mut LayerKind| {
            let t = enum_arg(activation_type, ActivationType::from_i32, "activation_type")?;
            match k {
                LayerKind::Activation { kind, .. } => *kind = t,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "activation type", set) }
    })
}

/// Activation: alpha (leaky slope, ELU/SELU/clip parameter, ...); LRN: alpha.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_alpha(layer: *mut infer8_layer, alpha: f32) -> bool {
    ffi_boundary!("infer8_layer_set_alpha", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Activation { alpha: a, .. } | LayerKind::Lrn { alpha: a, .. } => {
                    *a = alpha
                }
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "alpha", set) }
    })
}

/// Activation: beta; LRN: beta.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_beta(layer: *mut infer8_layer, beta: f32) -> bool {
    ffi_boundary!("infer8_layer_set_beta", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Activation { beta: b, .. } | LayerKind::Lrn { beta: b, .. } => *b = beta,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "beta", set) }
    })
}

/// LRN: the window size across channels (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_lrn_window(
    layer: *mut infer8_layer,
    window: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_lrn_window", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = positive_arg(window, "window")?;
            match k {
                LayerKind::Lrn { window, .. } => *window = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "window", set) }
    })
}

/// LRN: k.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_lrn_k(layer: *mut infer8_layer, k_value: f32) -> bool {
    ffi_boundary!("infer8_layer_set_lrn_k", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Lrn { k: lrn_k, .. } => *lrn_k = k_value,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "k", set) }
    })
}

/// Scale: how the weights apply (`infer8_scale_mode`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_scale_mode(layer: *mut infer8_layer, mode: i32) -> bool {
    ffi_boundary!("infer8_layer_set_scale_mode", false, |rep| {
        let set = |k: &mut LayerKind| {
            let m = enum_arg(mode, ScaleMode::from_i32, "mode")?;
            match k {
                LayerKind::Scale { mode, .. } => *mode = m,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "scale mode", set) }
    })
}

/// Scale: the shift weights (copied; count 0: shift 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_shift(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_shift", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Scale { shift, .. } => *shift = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "shift", set) }
    })
}

/// Scale: the scale weights (copied; count 0: scale 1).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_scale(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_scale", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Scale { scale, .. } => *scale = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "scale", set) }
    })
}

/// Scale: the power weights (copied; count 0: power 1).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_power(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_power", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Scale { power, .. } => *power = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "power", set) }
    })
}

/// Softmax, reduce, top-k: the bit mask of axes (bit 0: the first non-batch axis).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_axes(layer: *mut infer8_layer, axes: u32) -> bool {
    ffi_boundary!("infer8_layer_set_axes", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::SoftMax { axes: a }
                | LayerKind::Reduce { axes: a, .. }
                | LayerKind::TopK { axes: a, .. } => *a = axes,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "axes", set) }
    })
}

/// Concatenation, gather: the axis (non-negative, not counting the batch).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_axis(layer: *mut infer8_layer, axis: i32) -> bool {
    ffi_boundary!("infer8_layer_set_axis", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = size_arg(axis, "axis")?;
            match k {
                LayerKind::Concatenation { axis } | LayerKind::Gather { axis } => *axis = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "axis", set) }
    })
}

/// Element-wise: the operation (`infer8_element_wise_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_elementwise_operation(
    layer: *mut infer8_layer,
    op: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_elementwise_operation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = enum_arg(op, ElementWiseOperation::from_i32, "op")?;
            match k {
                LayerKind::ElementWise { op } => *op = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "element-wise operation", set) }
    })
}

/// Unary: the operation (`infer8_unary_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_unary_operation(
    layer: *mut infer8_layer,
    op: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_unary_operation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = enum_arg(op, UnaryOperation::from_i32, "op")?;
            match k {
                LayerKind::Unary { op } => *op = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "unary operation", set) }
    })
}

/// Reduce: the operation (`infer8_reduce_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_reduce_operation(
    layer: *mut infer8_layer,
    op: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_reduce_operation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = enum_arg(op, ReduceOperation::from_i32, "op")?;
            match k {
                LayerKind::Reduce { op, .. } => *op = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "reduce operation", set) }
    })
}

/// Reduce: whether reduced axes stay as size 1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_keep_dimensions(
    layer: *mut infer8_layer,
    keep_dims: bool,
) -> bool {
    ffi_boundary!("infer8_layer_set_keep_dimensions", false, |rep| {
        let set = |k: &mut LayerKind| {
            match k {
                LayerKind::Reduce { keep_dims: kd, .. } => *kd = keep_dims,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "keep-dimensions flag", set) }
    })
}

/// Top-k: largest or smallest (`infer8_top_k_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_topk_operation(
    layer: *mut infer8_layer,
    op: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_topk_operation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = enum_arg(op, TopKOperation::from_i32, "op")?;
            match k {
                LayerKind::TopK { op, .. } => *op = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "top-k operation", set) }
    })
}

/// Top-k: k (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_k(layer: *mut infer8_layer, k_value: i32) -> bool {
    ffi_boundary!("infer8_layer_set_k", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = positive_arg(k_value, "k")?;
            match k {
                LayerKind::TopK { k, .. } => *k = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "k", set) }
    })
}

/// Matrix multiply: the operation on input `index` (0 or 1; `infer8_matrix_operation`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_matrix_operation(
    layer: *mut infer8_layer,
    index: i32,
    op: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_matrix_operation", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = enum_arg(op, MatrixOperation::from_i32, "op")?;
            let i = self::index(index, 2, "input")?;
            match k {
                LayerKind::MatrixMultiply { op0, op1 } => *[op0, op1][i] = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "matrix operation", set) }
    })
}

/// Shuffle: the permutation applied first (`nb` 0: none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_first_transpose(
    layer: *mut infer8_layer,
    perm: *const i32,
    nb: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_first_transpose", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = perm_arg(unsafe { list(perm, nb, "perm") }?)?;
            match k {
                LayerKind::Shuffle(p) => p.first_transpose = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "first transpose", set) }
    })
}

/// Shuffle: the reshape after the first transpose (0 copies an input dimension,
/// -1 is inferred).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_reshape_dimensions(
    layer: *mut infer8_layer,
    dims: *const i32,
    nb: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_reshape_dimensions", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = unsafe { list(dims, nb, "dims") }?;
            match k {
                LayerKind::Shuffle(p) => p.reshape = Some(v.into_iter().map(i64::from).collect()),
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "reshape dimensions", set) }
    })
}

/// Shuffle: the permutation applied last (`nb` 0: none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_second_transpose(
    layer: *mut infer8_layer,
    perm: *const i32,
    nb: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_second_transpose", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = perm_arg(unsafe { list(perm, nb, "perm") }?)?;
            match k {
                LayerKind::Shuffle(p) => p.second_transpose = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "second transpose", set) }
    })
}

/// Constant: the values (copied).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_weights(
    layer: *mut infer8_layer,
    values: *const f32,
    count: i64,
) -> bool {
    ffi_boundary!("infer8_layer_set_weights", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = weights(unsafe { slice_arg(values, count, "values") }?);
            match k {
                LayerKind::Constant { weights, .. } => *weights = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "weights", set) }
    })
}

/// Constant: the dimensions.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_dimensions(
    layer: *mut infer8_layer,
    dims: *const i32,
    nb_dims: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_dimensions", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = unsafe { shape_arg(dims, nb_dims, "dims") }?;
            match k {
                LayerKind::Constant { dims, .. } => *dims = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "dimensions", set) }
    })
}

/// Slice: the start per non-batch dimension.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_slice_start(
    layer: *mut infer8_layer,
    start: *const i32,
    nb_dims: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_slice_start", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = unsafe { list(start, nb_dims, "start") }?;
            match k {
                LayerKind::Slice { start, .. } => *start = v.into_iter().map(i64::from).collect(),
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "start", set) }
    })
}

/// Slice: the size per non-batch dimension (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_slice_size(
    layer: *mut infer8_layer,
    size: *const i32,
    nb_dims: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_slice_size", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = unsafe { shape_arg(size, nb_dims, "size") }?;
            match k {
                LayerKind::Slice { size, .. } => *size = v,
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "size", set) }
    })
}

/// Slice: the stride per non-batch dimension.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_layer_set_slice_stride(
    layer: *mut infer8_layer,
    stride: *const i32,
    nb_dims: i32,
) -> bool {
    ffi_boundary!("infer8_layer_set_slice_stride", false, |rep| {
        let set = |k: &mut LayerKind| {
            let v = unsafe { list(stride, nb_dims, "stride") }?;
            match k {
                LayerKind::Slice { stride, .. } => *stride = v.into_iter().map(i64::from).collect(),
                _ => return Ok(false),
            }
            Ok(true)
        };
        unsafe { edit(rep, layer, "slice stride", set) }
    })
}

/// A permutation's entries from C (checked against the rank when shapes are inferred).
fn perm_arg(values: Vec<i32>) -> Result<Vec<usize>> {
    values
        .into_iter()
        .map(|v| size_arg(v, "permutation entry"))
        .collect()
}
