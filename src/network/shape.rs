//! Shape inference: the output dimensions (without the batch) of every layer kind, with an error
//! naming what is impossible. The same padding arithmetic serves the kernels, so the two cannot drift.

use super::layer::*;
use crate::types::*;

/// Input dimensions and element type of one layer input.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorDesc {
    pub shape: Shape,
    pub dtype: DataType,
}

/// Output size and the effective (pre, post) padding of one spatial dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpatialOut {
    pub out: usize,
    pub pre: usize,
    pub post: usize,
}

/// Output size of a sliding window (convolution or pooling) in one dimension, TensorRT's rules for
/// each `PaddingMode`. `window` is the dilated extent. Caffe's ceil mode drops a last window that
/// would start in the padding, as Caffe does.
pub fn window_out(
    mode: PaddingMode,
    input: usize,
    window: usize,
    stride: usize,
    pre: usize,
    post: usize,
) -> Result<SpatialOut, String> {
    if stride == 0 {
        return Err("stride must be positive".into());
    }
    let (i, k, s) = (input as i64, window as i64, stride as i64);
    let (out, pre, post) = match mode {
        PaddingMode::ExplicitRoundDown | PaddingMode::ExplicitRoundUp => {
            let span = i + pre as i64 + post as i64 - k;
            if span < 0 {
                return Err(format!(
                    "window {window} is larger than the padded input {}",
                    i + pre as i64 + post as i64
                ));
            }
            let out = if mode == PaddingMode::ExplicitRoundDown {
                span / s + 1
            } else {
                (span + s - 1) / s + 1
            };
            (out, pre as i64, post as i64)
        }
        PaddingMode::SameUpper | PaddingMode::SameLower => {
            let out = (i + s - 1) / s;
            let total = ((out - 1) * s + k - i).max(0);
            let small = total / 2;
            if mode == PaddingMode::SameUpper {
                (out, small, total - small)
            } else {
                (out, total - small, small)
            }
        }
        PaddingMode::CaffeRoundDown | PaddingMode::CaffeRoundUp => {
            // Caffe pads symmetrically with the pre padding.
            let p = pre as i64;
            let span = i + 2 * p - k;
            if span < 0 {
                return Err(format!(
                    "window {window} is larger than the padded input {}",
                    i + 2 * p
                ));
            }
            let mut out = if mode == PaddingMode::CaffeRoundDown {
                span / s + 1
            } else {
                (span + s - 1) / s + 1
            };
            if mode == PaddingMode::CaffeRoundUp && p > 0 && (out - 1) * s >= i + p {
                out -= 1;
            }
            (out, p, p)
        }
    };
    if out <= 0 {
        return Err(format!("output size {out} is not positive"));
    }
    Ok(SpatialOut {
        out: out as usize,
        pre: pre as usize,
        post: post as usize,
    })
}

/// Output size of a transposed convolution in one dimension.
pub fn deconv_out(
    mode: PaddingMode,
    input: usize,
    window: usize,
    stride: usize,
    pre: usize,
    post: usize,
) -> Result<SpatialOut, String> {
    if stride == 0 {
        return Err("stride must be positive".into());
    }
    let full = (input as i64 - 1) * stride as i64 + window as i64;
    let (pre, post) = match mode {
        PaddingMode::SameUpper | PaddingMode::SameLower => {
            let total = (full - (input * stride) as i64).max(0);
            let small = total / 2;
            if mode == PaddingMode::SameUpper {
                (small, total - small)
            } else {
                (total - small, small)
            }
        }
        PaddingMode::CaffeRoundDown | PaddingMode::CaffeRoundUp => (pre as i64, pre as i64),
        _ => (pre as i64, post as i64),
    };
    let out = full - pre - post;
    if out <= 0 {
        return Err(format!("output size {out} is not positive"));
    }
    Ok(SpatialOut {
        out: out as usize,
        pre: pre as usize,
        post: post as usize,
    })
}

pub fn dilated(kernel: usize, dilation: usize) -> usize {
    dilation * (kernel - 1) + 1
}

/// Spatial output geometry of a convolution or deconvolution: `[h, w]`.
pub fn conv_geometry(
    p: &ConvParams,
    hw: [usize; 2],
    deconv: bool,
) -> Result<[SpatialOut; 2], String> {
    let mut out = [SpatialOut {
        out: 0,
        pre: 0,
        post: 0,
    }; 2];
    for d in 0..2 {
        if p.kernel[d] == 0 || p.dilation[d] == 0 {
            return Err(format!(
                "kernel size and dilation must be positive (dimension {d})"
            ));
        }
        let k = dilated(p.kernel[d], p.dilation[d]);
        let f = if deconv { deconv_out } else { window_out };
        out[d] = f(
            p.padding_mode,
            hw[d],
            k,
            p.stride[d],
            p.pre_padding[d],
            p.post_padding[d],
        )
        .map_err(|e| format!("{} dimension: {e}", ["height", "width"][d]))?;
    }
    Ok(out)
}

pub fn pool_geometry(p: &PoolParams, hw: [usize; 2]) -> Result<[SpatialOut; 2], String> {
    let mut out = [SpatialOut {
        out: 0,
        pre: 0,
        post: 0,
    }; 2];
    for d in 0..2 {
        if p.window[d] == 0 {
            return Err("window size must be positive".into());
        }
        out[d] = window_out(
            p.padding_mode,
            hw[d],
            p.window[d],
            p.stride[d],
            p.pre_padding[d],
            p.post_padding[d],
        )
        .map_err(|e| format!("{} dimension: {e}", ["height", "width"][d]))?;
        // As in Caffe and TensorRT: otherwise a window can lie wholly in the padding, outside the input.
        if out[d].pre >= p.window[d] || out[d].post >= p.window[d] {
            return Err(format!(
                "{} dimension: padding {}+{} must be smaller than the window {}",
                ["height", "width"][d],
                out[d].pre,
                out[d].post,
                p.window[d]
            ));
        }
    }
    Ok(out)
}

/// The last two dimensions as `[h, w]` plus the rest, for layers that need at least `[C, H, W]`.
fn chw(shape: &[usize], what: &str) -> Result<(usize, [usize; 2]), String> {
    if shape.len() < 3 {
        return Err(format!(
            "{what} needs an input with at least 3 dimensions (C, H, W), got {shape:?}"
        ));
    }
    let n = shape.len();
    Ok((shape[n - 3], [shape[n - 2], shape[n - 1]]))
}

fn single_axis(axes: u32, rank: usize, what: &str) -> Result<usize, String> {
    if axes.count_ones() != 1 || axes.trailing_zeros() as usize >= rank {
        return Err(format!(
            "{what}: axes mask {axes:#x} must select exactly one of the {rank} dimensions"
        ));
    }
    Ok(axes.trailing_zeros() as usize)
}

/// TensorRT's element-wise broadcast: equal ranks, each dimension equal or 1 on one side.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Shape, String> {
    if a.len() != b.len() {
        return Err(format!(
            "inputs have different numbers of dimensions: {a:?} and {b:?}"
        ));
    }
    a.iter()
        .zip(b)
        .map(|(&x, &y)| match (x, y) {
            _ if x == y => Ok(x),
            (1, _) => Ok(y),
            (_, 1) => Ok(x),
            _ => Err(format!("dimensions {a:?} and {b:?} cannot be broadcast")),
        })
        .collect()
}

pub fn resolve_reshape(input: &[usize], spec: &[i64]) -> Result<Shape, String> {
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            0 => out.push(*input.get(i).ok_or_else(|| {
                format!(
                    "reshape dimension {i} is 0 (copy) but the input has only {} dimensions",
                    input.len()
                )
            })?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            d if d > 0 => out.push(d as usize),
            _ => {
                return Err(format!(
                    "reshape dimensions {spec:?} are invalid (one -1 at most, no other negatives)"
                ));
            }
        }
    }
    let vin = volume(input);
    let vout = volume(&out);
    if let Some(i) = infer {
        if vout == 0 || !vin.is_multiple_of(vout) {
            return Err(format!(
                "cannot infer dimension {i} of reshape {spec:?} from {input:?}"
            ));
        }
        out[i] = vin / vout;
    } else if vin != vout {
        return Err(format!(
            "reshape {spec:?} of {input:?} changes the volume ({vin} to {vout})"
        ));
    }
    Ok(out)
}

fn permute(shape: &[usize], perm: &[usize]) -> Result<Shape, String> {
    if perm.is_empty() {
        return Ok(shape.to_vec());
    }
    let mut seen = vec![false; shape.len()];
    if perm.len() != shape.len()
        || perm
            .iter()
            .any(|&p| p >= shape.len() || std::mem::replace(&mut seen[p], true))
    {
        return Err(format!(
            "{perm:?} is not a permutation of {} dimensions",
            shape.len()
        ));
    }
    Ok(perm.iter().map(|&p| shape[p]).collect())
}

pub fn shuffle_shapes(p: &ShuffleParams, input: &[usize]) -> Result<(Shape, Shape, Shape), String> {
    let first = permute(input, &p.first_transpose)?;
    let reshaped = match &p.reshape {
        Some(spec) => resolve_reshape(&first, spec)?,
        None => first.clone(),
    };
    let second = permute(&reshaped, &p.second_transpose)?;
    Ok((first, reshaped, second))
}

/// `expected` is `None` when the count the parameters imply overflows: no weights can match it.
fn check_weights(what: &str, w: &Weights, expected: Option<usize>) -> Result<(), String> {
    match expected {
        Some(n) if n == w.len() => Ok(()),
        Some(n) => Err(format!("{what} has {} values, expected {n}", w.len())),
        None => Err(format!(
            "{what} has {} values; the layer's parameters ask for more than can be counted",
            w.len()
        )),
    }
}

fn matrix_dims(shape: &[usize], op: MatrixOperation, what: &str) -> Result<(usize, usize), String> {
    match (op, shape.len()) {
        (MatrixOperation::Vector, 0) => Err(format!("{what} is a vector but has no dimensions")),
        (MatrixOperation::Vector, n) => Ok((1, shape[n - 1])),
        (_, n) if n < 2 => Err(format!("{what} needs at least 2 dimensions, got {shape:?}")),
        (MatrixOperation::Transpose, n) => Ok((shape[n - 1], shape[n - 2])),
        (MatrixOperation::None, n) => Ok((shape[n - 2], shape[n - 1])),
    }
}

/// Output shapes and types of a layer; `inputs` are its input tensors in order.
pub fn infer(kind: &LayerKind, inputs: &[TensorDesc]) -> Result<Vec<TensorDesc>, String> {
    let expected_inputs = match kind {
        LayerKind::Constant { .. } | LayerKind::Fill(_) => 0,
        LayerKind::Select => 3,
        LayerKind::ElementWise { .. }
        | LayerKind::ParametricRelu
        | LayerKind::MatrixMultiply { .. }
        | LayerKind::Gather { .. } => 2,
        LayerKind::Concatenation { .. } | LayerKind::Plugin(_) => inputs.len().max(1),
        _ => 1,
    };
    if inputs.len() != expected_inputs {
        return Err(format!(
            "takes {expected_inputs} input(s), got {}",
            inputs.len()
        ));
    }
    let float = |shape: Shape| {
        Ok(vec![TensorDesc {
            shape,
            dtype: DataType::Float,
        }])
    };
    let x = inputs.first().map(|t| t.shape.as_slice()).unwrap_or(&[]);
    match kind {
        LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => {
            let deconv = matches!(kind, LayerKind::Deconvolution(_));
            let (c, hw) = chw(x, "convolution")?;
            if p.groups == 0 || p.nb_output_maps == 0 {
                return Err("groups and the number of output maps must be positive".into());
            }
            if c % p.groups != 0 || p.nb_output_maps % p.groups != 0 {
                return Err(format!(
                    "{} input channels and {} output maps are not divisible by {} groups",
                    c, p.nb_output_maps, p.groups
                ));
            }
            let per_group = if deconv {
                p.nb_output_maps / p.groups * c
            } else {
                c / p.groups * p.nb_output_maps
            };
            check_weights(
                "kernel weights",
                &p.kernel_weights,
                crate::limits::volume(&[per_group, p.kernel[0], p.kernel[1]]),
            )?;
            if !p.bias.is_empty() {
                check_weights("bias weights", &p.bias, Some(p.nb_output_maps))?;
            }
            let g = conv_geometry(p, hw, deconv)?;
            let mut out = x[..x.len() - 3].to_vec();
            out.extend([p.nb_output_maps, g[0].out, g[1].out]);
            float(out)
        }
        LayerKind::Pooling(p) => {
            let (_, hw) = chw(x, "pooling")?;
            let g = pool_geometry(p, hw)?;
            let mut out = x[..x.len() - 2].to_vec();
            out.extend([g[0].out, g[1].out]);
            float(out)
        }
        LayerKind::FullyConnected {
            nb_outputs,
            kernel,
            bias,
        } => {
            if *nb_outputs == 0 {
                return Err("number of outputs must be positive".into());
            }
            let keep = x.len().saturating_sub(3);
            let v = volume(&x[keep..]);
            check_weights("kernel weights", kernel, nb_outputs.checked_mul(v))?;
            if !bias.is_empty() {
                check_weights("bias weights", bias, Some(*nb_outputs))?;
            }
            let mut out = x[..keep].to_vec();
            out.extend([*nb_outputs, 1, 1]);
            float(out)
        }
        LayerKind::Activation { .. } | LayerKind::Unary { .. } | LayerKind::Identity => {
            float(x.to_vec())
        }
        LayerKind::ParametricRelu => {
            broadcast(x, &inputs[1].shape).map_err(|e| format!("slopes: {e}"))?;
            float(x.to_vec())
        }
        LayerKind::Lrn { window, .. } => {
            chw(x, "LRN")?;
            if *window == 0 || window % 2 == 0 || *window > 15 {
                return Err(format!("window size {window} must be odd and in [1, 15]"));
            }
            float(x.to_vec())
        }
        LayerKind::Scale {
            mode,
            shift,
            scale,
            power,
        } => {
            let count = match mode {
                ScaleMode::Uniform => 1,
                ScaleMode::Channel => chw(x, "channel scale")?.0,
                ScaleMode::Elementwise => volume(x),
            };
            for (what, w) in [("shift", shift), ("scale", scale), ("power", power)] {
                if !w.is_empty() {
                    check_weights(what, w, Some(count))?;
                }
            }
            float(x.to_vec())
        }
        LayerKind::SoftMax { axes } => {
            single_axis(*axes, x.len().max(1), "softmax")?;
            float(x.to_vec())
        }
        LayerKind::Concatenation { axis } => {
            let first = &inputs[0].shape;
            if *axis >= first.len() {
                return Err(format!(
                    "axis {axis} is out of range for {} dimensions",
                    first.len()
                ));
            }
            let mut out = first.clone();
            out[*axis] = 0;
            for (i, t) in inputs.iter().enumerate() {
                let same = t.shape.len() == first.len()
                    && t.shape
                        .iter()
                        .zip(first)
                        .enumerate()
                        .all(|(d, (a, b))| d == *axis || a == b);
                if !same {
                    return Err(format!(
                        "input {i} has dimensions {:?}, incompatible with {first:?} on axis {axis}",
                        t.shape
                    ));
                }
                out[*axis] += t.shape[*axis];
            }
            float(out)
        }
        LayerKind::ElementWise { .. } => float(broadcast(x, &inputs[1].shape)?),
        LayerKind::Padding { pre, post } => {
            let (_, hw) = chw(x, "padding")?;
            let mut out = x[..x.len() - 2].to_vec();
            for d in 0..2 {
                let size = hw[d] as i64 + pre[d] + post[d];
                if size <= 0 {
                    return Err(format!(
                        "padding leaves {size} elements in dimension {}",
                        x.len() - 2 + d
                    ));
                }
                out.push(size as usize);
            }
            float(out)
        }
        LayerKind::Shuffle(p) => Ok(vec![TensorDesc {
            shape: shuffle_shapes(p, x)?.2,
            dtype: inputs[0].dtype,
        }]),
        LayerKind::Constant { dims, weights } => {
            check_weights("constant weights", weights, crate::limits::volume(dims))?;
            float(dims.clone())
        }
        LayerKind::Slice {
            start,
            size,
            stride,
        } => {
            if start.len() != x.len() || size.len() != x.len() || stride.len() != x.len() {
                return Err(format!(
                    "start, size and stride must have {} dimensions",
                    x.len()
                ));
            }
            for d in 0..x.len() {
                let (b, n, s) = (start[d], size[d] as i64, stride[d]);
                if n == 0 {
                    return Err(format!("size is 0 in dimension {d}"));
                }
                let last = b + (n - 1) * s;
                if b < 0 || b >= x[d] as i64 || last < 0 || last >= x[d] as i64 {
                    return Err(format!(
                        "dimension {d}: start {b}, size {n}, stride {s} reach outside 0..{}",
                        x[d]
                    ));
                }
            }
            Ok(vec![TensorDesc {
                shape: size.clone(),
                dtype: inputs[0].dtype,
            }])
        }
        LayerKind::Reduce {
            axes, keep_dims, ..
        } => {
            if *axes == 0 || (*axes >> x.len()) != 0 {
                return Err(format!(
                    "reduce axes mask {axes:#x} is invalid for {} dimensions",
                    x.len()
                ));
            }
            let out = x
                .iter()
                .enumerate()
                .filter_map(|(d, &n)| match (axes >> d & 1 == 1, keep_dims) {
                    (true, true) => Some(1),
                    (true, false) => None,
                    (false, _) => Some(n),
                })
                .collect();
            float(out)
        }
        LayerKind::TopK { k, axes, .. } => {
            let axis = single_axis(*axes, x.len(), "top-k")?;
            if *k == 0 || *k > x[axis] {
                return Err(format!("k = {k} must be in 1..={}", x[axis]));
            }
            let mut out = x.to_vec();
            out[axis] = *k;
            Ok(vec![
                TensorDesc {
                    shape: out.clone(),
                    dtype: DataType::Float,
                },
                TensorDesc {
                    shape: out,
                    dtype: DataType::Int32,
                },
            ])
        }
        LayerKind::MatrixMultiply { op0, op1 } => {
            let (a, b) = (x, inputs[1].shape.as_slice());
            let (m, k0) = matrix_dims(a, *op0, "input 0")?;
            let (k1, n) = match op1 {
                MatrixOperation::Vector => (b.last().copied().unwrap_or(0), 1),
                _ => matrix_dims(b, *op1, "input 1")?,
            };
            if k0 != k1 {
                return Err(format!(
                    "inner dimensions differ: {k0} and {k1} ({a:?} x {b:?})"
                ));
            }
            let lead = |s: &[usize], op: MatrixOperation| {
                s[..s.len() - if op == MatrixOperation::Vector { 1 } else { 2 }].to_vec()
            };
            let (la, lb) = (lead(a, *op0), lead(b, *op1));
            let batch = if la.len() == lb.len() {
                broadcast(&la, &lb)?
            } else if lb.is_empty() {
                la
            } else if la.is_empty() {
                lb
            } else {
                return Err(format!("batch dimensions {la:?} and {lb:?} differ in rank"));
            };
            let mut out = batch;
            if *op0 != MatrixOperation::Vector {
                out.push(m);
            }
            if *op1 != MatrixOperation::Vector {
                out.push(n);
            }
            float(out)
        }
        LayerKind::Gather { axis } => {
            if *axis >= x.len() {
                return Err(format!(
                    "axis {axis} is out of range for {} dimensions",
                    x.len()
                ));
            }
            if inputs[1].dtype != DataType::Int32 {
                return Err("indices must be INT32".into());
            }
            let mut out = x[..*axis].to_vec();
            out.extend(&inputs[1].shape);
            out.extend(&x[axis + 1..]);
            Ok(vec![TensorDesc {
                shape: out,
                dtype: inputs[0].dtype,
            }])
        }
        LayerKind::Select => {
            let (then, other) = (&inputs[1], &inputs[2]);
            if then.dtype != other.dtype {
                return Err(format!(
                    "the two choices have different types ({:?} and {:?})",
                    then.dtype, other.dtype
                ));
            }
            let shape = broadcast(&broadcast(x, &then.shape)?, &other.shape)?;
            Ok(vec![TensorDesc {
                shape,
                dtype: then.dtype,
            }])
        }
        LayerKind::Resize(p) => float(resize_shape(p, x)?),
        LayerKind::Shape => Ok(vec![TensorDesc {
            shape: vec![x.len()],
            dtype: DataType::Int32,
        }]),
        LayerKind::Fill(p) => {
            if p.dims.is_empty() || p.dims.contains(&0) {
                return Err(format!("fill dimensions {:?} are empty", p.dims));
            }
            if p.op == FillOperation::Linspace && p.dims.len() != 1 {
                return Err(format!(
                    "linspace with alpha and beta fills one dimension, not {:?}",
                    p.dims
                ));
            }
            if !(p.alpha.is_finite() && p.beta.is_finite()) {
                return Err(format!(
                    "alpha {} and beta {} must be finite",
                    p.alpha, p.beta
                ));
            }
            float(p.dims.clone())
        }
        LayerKind::Plugin(p) => {
            let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape.clone()).collect();
            Ok(p.output_shapes(&shapes)?
                .into_iter()
                .map(|shape| TensorDesc {
                    shape,
                    dtype: DataType::Float,
                })
                .collect())
        }
    }
}

/// The output dimensions of a resize: given, or `floor(input * scale)` per dimension.
pub fn resize_shape(p: &ResizeParams, x: &[usize]) -> Result<Shape, String> {
    let out: Shape = match (&p.output, &p.scales) {
        (Some(o), _) if o.len() != x.len() => {
            return Err(format!(
                "output dimensions {o:?} do not match the input's {x:?}"
            ));
        }
        (Some(o), _) => o.clone(),
        (None, Some(s)) if s.len() != x.len() => {
            return Err(format!(
                "{} scales for an input of {} dimensions",
                s.len(),
                x.len()
            ));
        }
        (None, Some(s)) => x
            .iter()
            .zip(s)
            .map(|(&d, &f)| (d as f64 * f as f64).floor() as usize)
            .collect(),
        (None, None) => x.to_vec(),
    };
    if out.contains(&0) {
        return Err(format!("the resized dimensions {out:?} contain 0"));
    }
    Ok(out)
}
