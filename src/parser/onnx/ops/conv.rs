//! Conv, ConvTranspose, MaxPool, AveragePool and the global pools. The layers are 2-D; 1-D
//! operators run as 2-D ones over a width of 1.

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_i, attr_ints, attr_s};
use super::super::proto::NodeProto;
use crate::network::{ConvParams, LayerKind, PoolParams};
use crate::types::{ElementWiseOperation, PaddingMode, PoolingType, ReduceOperation, Weights};

/// Kernel, strides, pads (begin, end), dilations and padding mode of a 1-D or 2-D window.
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    dilation: [usize; 2],
    mode: PaddingMode,
}

fn pair(v: &[i64], spatial: usize, default: usize, what: &str) -> PResult<[usize; 2]> {
    if v.is_empty() {
        return Ok([default; 2]);
    }
    if v.len() != spatial || v.iter().any(|&x| x < 0) {
        return Err(bad!(
            InvalidNode,
            "{what} {v:?} must have {spatial} non-negative values"
        ));
    }
    Ok([v[0] as usize, if spatial == 2 { v[1] as usize } else { 1 }])
}

fn window(node: &NodeProto, spatial: usize, kernel: &[i64], ceil: bool) -> PResult<Window> {
    let pads = attr_ints(node, "pads").unwrap_or_default();
    let (pre, post) = if pads.is_empty() {
        ([0; 2], [0; 2])
    } else {
        if pads.len() != 2 * spatial {
            return Err(bad!(
                InvalidNode,
                "pads {pads:?} must have {} values",
                2 * spatial
            ));
        }
        (
            pair(&pads[..spatial], spatial, 0, "pads")?,
            pair(&pads[spatial..], spatial, 0, "pads")?,
        )
    };
    let mode = match attr_s(node, "auto_pad", "NOTSET").as_str() {
        "NOTSET" | "" if ceil => PaddingMode::ExplicitRoundUp,
        "NOTSET" | "" => PaddingMode::ExplicitRoundDown,
        "VALID" => PaddingMode::ExplicitRoundDown,
        "SAME_UPPER" => PaddingMode::SameUpper,
        "SAME_LOWER" => PaddingMode::SameLower,
        other => {
            return Err(bad!(
                InvalidNode,
                "auto_pad '{other}' is not an ONNX padding mode"
            ));
        }
    };
    let valid = attr_s(node, "auto_pad", "NOTSET") == "VALID";
    Ok(Window {
        kernel: pair(kernel, spatial, 1, "kernel_shape")?,
        stride: pair(
            &attr_ints(node, "strides").unwrap_or_default(),
            spatial,
            1,
            "strides",
        )?,
        pre: if valid { [0; 2] } else { pre },
        post: if valid { [0; 2] } else { post },
        dilation: pair(
            &attr_ints(node, "dilations").unwrap_or_default(),
            spatial,
            1,
            "dilations",
        )?,
        mode,
    })
}

/// The input as `[N, C, H, W]`: 1-D operators get a trailing width of 1. Returns the spatial rank.
fn as_2d(imp: &mut Importer, x: &Val, op: &str) -> PResult<(usize, usize)> {
    let shape = imp.shape(x);
    let spatial = shape.len().saturating_sub(2);
    if !(1..=2).contains(&spatial) {
        return Err(bad!(
            UnsupportedNode,
            "{op} over {spatial} spatial dimensions (input {shape:?}); 1-D and 2-D are supported"
        ));
    }
    let mut t = imp.tensor(x)?;
    if spatial == 1 {
        let mut dims = shape.clone();
        dims.push(1);
        t = imp.reshape(t, &dims)?;
    }
    Ok((t, spatial))
}

fn back_from_2d(imp: &mut Importer, y: usize, spatial: usize) -> PResult<Val> {
    if spatial == 2 {
        return Ok(Val::T(y));
    }
    let mut dims = imp.net.tensors[y].shape.clone();
    dims.pop();
    Ok(Val::T(imp.reshape(y, &dims)?))
}

pub fn conv(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let deconv = node.op_type() == "ConvTranspose";
    let x = imp.req(node, 0)?;
    let w = imp
        .constant(node, 1, "weights")?
        .ok_or_else(|| bad!(InvalidNode, "the weights input is missing"))?;
    let bias = imp.constant(node, 2, "bias")?;
    let (t, spatial) = as_2d(imp, &x, node.op_type())?;
    if w.dims.len() != spatial + 2 {
        return Err(bad!(
            InvalidNode,
            "weights have dimensions {:?}, expected {} dimensions",
            w.dims,
            spatial + 2
        ));
    }
    let groups = attr_i(node, "group", 1).max(1) as usize;
    let kernel = attr_ints(node, "kernel_shape")
        .unwrap_or_else(|| w.dims[2..].iter().map(|&d| d as i64).collect());
    let win = window(node, spatial, &kernel, false)?;
    let maps = if deconv {
        w.dims[1] * groups
    } else {
        w.dims[0]
    };
    let mut p = ConvParams::new(
        maps,
        win.kernel,
        Weights::new(w.as_f32s()),
        bias.map_or_else(Weights::empty, |b| Weights::new(b.as_f32s())),
    );
    p.stride = win.stride;
    p.pre_padding = win.pre;
    p.post_padding = win.post;
    p.dilation = win.dilation;
    p.groups = groups;
    p.padding_mode = win.mode;
    if !deconv {
        let y = imp.layer(LayerKind::Convolution(p), &[t])?;
        return Ok(vec![back_from_2d(imp, y, spatial)?]);
    }
    let grow = deconv_padding(imp, node, t, spatial, &mut p)?;
    if grow == [[0; 2]; 2] {
        let y = imp.layer(LayerKind::Deconvolution(p), &[t])?;
        return Ok(vec![back_from_2d(imp, y, spatial)?]);
    }
    let bias = std::mem::take(&mut p.bias);
    let mut y = imp.layer(LayerKind::Deconvolution(p), &[t])?;
    for (d, &[pre, post]) in grow.iter().enumerate() {
        if pre + post > 0 {
            y = super::slice::pad_axis(imp, y, 2 + d, pre as i64, post as i64, "constant", 0.0)?;
        }
    }
    if !bias.is_empty() {
        let b = imp.channel_const(bias.values, 4, 1)?;
        y = imp.elementwise(ElementWiseOperation::Sum, &Val::T(y), &b)?;
    }
    Ok(vec![back_from_2d(imp, y, spatial)?])
}

/// ConvTranspose's pads, `output_padding` and `output_shape` as the layer's explicit padding.
/// Returns, per spatial dimension, how many outputs lie past the layer's full output: those see
/// no input, only the bias, and are added by padding.
fn deconv_padding(
    imp: &Importer,
    node: &NodeProto,
    t: usize,
    spatial: usize,
    p: &mut ConvParams,
) -> PResult<[[usize; 2]; 2]> {
    let shape = &imp.net.tensors[t].shape;
    let input = [shape[2], shape[3]];
    let extra = pair(
        &attr_ints(node, "output_padding").unwrap_or_default(),
        spatial,
        0,
        "output_padding",
    )?;
    let out_shape = attr_ints(node, "output_shape").unwrap_or_default();
    let same = matches!(
        p.padding_mode,
        PaddingMode::SameUpper | PaddingMode::SameLower
    );
    // [dimension][begin, end]
    let mut grow = [[0; 2]; 2];
    for d in 0..spatial {
        let full = (input[d] - 1) * p.stride[d] + (p.kernel[d] - 1) * p.dilation[d] + 1 + extra[d];
        let target = if !out_shape.is_empty() {
            Some(out_shape[out_shape.len() - spatial + d] as usize)
        } else if same {
            Some(input[d] * p.stride[d])
        } else {
            None
        };
        let (pre, post) = match target {
            Some(out) => {
                let total = full as i64 - out as i64;
                let small = total.div_euclid(2);
                if p.padding_mode == PaddingMode::SameLower {
                    (total - small, small)
                } else {
                    (small, total - small)
                }
            }
            None => (p.pre_padding[d] as i64, p.post_padding[d] as i64),
        };
        let post = post - extra[d] as i64;
        p.pre_padding[d] = pre.max(0) as usize;
        p.post_padding[d] = post.max(0) as usize;
        grow[d] = [(-pre).max(0) as usize, (-post).max(0) as usize];
    }
    p.padding_mode = PaddingMode::ExplicitRoundDown;
    Ok(grow)
}

pub fn pool(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    if node.output.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(bad!(
            UnsupportedNode,
            "MaxPool's Indices output is not supported"
        ));
    }
    let x = imp.req(node, 0)?;
    let dilated = attr_ints(node, "dilations").is_some_and(|d| d.iter().any(|&v| v != 1));
    if dilated || imp.shape(&x).len() > 4 {
        return super::pool_taps::pool(imp, node, &x);
    }
    let (t, spatial) = as_2d(imp, &x, node.op_type())?;
    let kernel = attr_ints(node, "kernel_shape")
        .ok_or_else(|| bad!(InvalidNode, "kernel_shape is required"))?;
    let win = window(node, spatial, &kernel, attr_i(node, "ceil_mode", 0) != 0)?;
    let kind = if node.op_type() == "MaxPool" {
        PoolingType::Max
    } else {
        PoolingType::Average
    };
    let mut p = PoolParams::new(kind, win.kernel);
    p.stride = win.stride;
    p.pre_padding = win.pre;
    p.post_padding = win.post;
    p.padding_mode = win.mode;
    if win.mode == PaddingMode::ExplicitRoundUp {
        // ONNX drops a last window that would start in the end padding; rounding down is then
        // exactly one window less.
        let shape = &imp.net.tensors[t].shape;
        let hw = [shape[2], shape[3]];
        let drop = (0..2).any(|d| {
            let span = hw[d] + p.pre_padding[d] + p.post_padding[d] - p.window[d];
            let out = span.div_ceil(p.stride[d]) + 1;
            !span.is_multiple_of(p.stride[d]) && (out - 1) * p.stride[d] >= hw[d] + p.pre_padding[d]
        });
        if drop {
            p.padding_mode = PaddingMode::ExplicitRoundDown;
        }
    }
    p.average_count_excludes_padding = attr_i(node, "count_include_pad", 0) == 0;
    let y = imp.layer(LayerKind::Pooling(p), &[t])?;
    Ok(vec![back_from_2d(imp, y, spatial)?])
}

pub fn global_pool(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let rank = imp.shape(&x).len();
    if rank < 3 {
        return Err(bad!(InvalidNode, "input needs N, C and spatial dimensions"));
    }
    let op = if node.op_type() == "GlobalMaxPool" {
        ReduceOperation::Max
    } else {
        ReduceOperation::Avg
    };
    let t = imp.tensor(&x)?;
    let axes = (2..rank).fold(0u32, |m, a| m | 1 << a);
    Ok(vec![Val::T(imp.layer(
        LayerKind::Reduce {
            op,
            axes,
            keep_dims: true,
        },
        &[t],
    )?)])
}
