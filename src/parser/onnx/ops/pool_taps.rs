//! Pooling the layer cannot express (3-D windows, dilations) as one strided slice per window
//! tap, combined with element-wise max or sum: `y[o] = max_j x[o·s + j·d - pad]`. Averages
//! divide by a constant count per output position that follows ONNX's padding rules.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_i, attr_ints, attr_s};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use super::slice::pad_axis;
use crate::network::LayerKind;
use crate::types::ElementWiseOperation;

/// Geometry of one spatial dimension.
struct Dim {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pre: usize,
    post: usize,
    out: usize,
}

fn dims(node: &NodeProto, shape: &[usize]) -> PResult<Vec<Dim>> {
    let n = shape.len() - 2;
    let get = |name: &str, default: i64| -> PResult<Vec<usize>> {
        let v = attr_ints(node, name).unwrap_or_else(|| vec![default; n]);
        if v.len() != n || v.iter().any(|&x| x < 0) {
            return Err(bad!(
                InvalidNode,
                "{name} {v:?} must have {n} non-negative values"
            ));
        }
        Ok(v.into_iter().map(|x| x as usize).collect())
    };
    let kernel = attr_ints(node, "kernel_shape")
        .ok_or_else(|| bad!(InvalidNode, "kernel_shape is required"))?;
    if kernel.len() != n || kernel.iter().any(|&k| k <= 0) {
        return Err(bad!(
            InvalidNode,
            "kernel_shape {kernel:?} must have {n} positive values"
        ));
    }
    let (stride, dilation) = (get("strides", 1)?, get("dilations", 1)?);
    let pads = attr_ints(node, "pads").unwrap_or_else(|| vec![0; 2 * n]);
    if pads.len() != 2 * n || pads.iter().any(|&p| p < 0) {
        return Err(bad!(
            InvalidNode,
            "pads {pads:?} must have {} non-negative values",
            2 * n
        ));
    }
    let auto_pad = attr_s(node, "auto_pad", "NOTSET");
    let ceil = attr_i(node, "ceil_mode", 0) != 0;
    (0..n)
        .map(|i| {
            let (input, k, s, d) = (shape[2 + i], kernel[i] as usize, stride[i], dilation[i]);
            if s == 0 || d == 0 {
                return Err(bad!(InvalidNode, "strides and dilations must be positive"));
            }
            let ek = (k - 1) * d + 1;
            let (pre, post, out) = match auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => {
                    let out = input.div_ceil(s);
                    let total = ((out - 1) * s + ek).saturating_sub(input);
                    let small = total / 2;
                    let pre = if auto_pad == "SAME_UPPER" {
                        small
                    } else {
                        total - small
                    };
                    (pre, total - pre, out)
                }
                _ => {
                    let (pre, post) = if auto_pad == "VALID" {
                        (0, 0)
                    } else {
                        (pads[i] as usize, pads[n + i] as usize)
                    };
                    let span = (input + pre + post).checked_sub(ek).ok_or_else(|| {
                        bad!(InvalidNode, "window {ek} is larger than the padded input")
                    })?;
                    let mut out = if ceil {
                        span.div_ceil(s) + 1
                    } else {
                        span / s + 1
                    };
                    if ceil && (out - 1) * s >= input + pre {
                        out -= 1;
                    }
                    (pre, post, out)
                }
            };
            Ok(Dim {
                input,
                kernel: k,
                stride: s,
                dilation: d,
                pre,
                post,
                out,
            })
        })
        .collect()
}

/// Taps of the window at output `o` that count towards an average.
fn count(d: &Dim, o: usize, include_pad: bool) -> usize {
    (0..d.kernel)
        .filter(|&j| {
            let p = (o * d.stride + j * d.dilation) as i64 - d.pre as i64;
            let (lo, hi) = if include_pad {
                (-(d.pre as i64), (d.input + d.post) as i64)
            } else {
                (0, d.input as i64)
            };
            (lo..hi).contains(&p)
        })
        .count()
}

pub fn pool(imp: &mut Importer, node: &NodeProto, x: &Val) -> PResult<Vec<Val>> {
    let shape = imp.shape(x);
    if shape.len() < 3 {
        return Err(bad!(
            InvalidNode,
            "input {shape:?} needs N, C and spatial dimensions"
        ));
    }
    let geo = dims(node, &shape)?;
    let max = node.op_type() == "MaxPool";
    let taps: usize = geo.iter().map(|d| d.kernel).product();
    if taps > 1024 {
        return Err(bad!(
            UnsupportedNode,
            "a {taps}-tap window is too large to pool tap by tap"
        ));
    }
    let fill = if max { f64::NEG_INFINITY } else { 0.0 };
    let mut t = imp.tensor(x)?;
    for (i, d) in geo.iter().enumerate() {
        let extent = (d.out - 1) * d.stride + (d.kernel - 1) * d.dilation + 1;
        let post = extent as i64 - (d.pre + d.input) as i64;
        if d.pre > 0 || post != 0 {
            t = pad_axis(imp, t, 2 + i, d.pre as i64, post, "constant", fill)?;
        }
    }
    let padded = imp.net.tensors[t].shape.clone();
    let op = if max {
        ElementWiseOperation::Max
    } else {
        ElementWiseOperation::Sum
    };
    let mut acc: Option<usize> = None;
    for tap in 0..taps {
        let (mut rest, mut start, mut size, mut stride) = (
            tap,
            vec![0i64; padded.len()],
            padded.clone(),
            vec![1i64; padded.len()],
        );
        for (i, d) in geo.iter().enumerate().rev() {
            let j = rest % d.kernel;
            rest /= d.kernel;
            start[2 + i] = (j * d.dilation) as i64;
            size[2 + i] = d.out;
            stride[2 + i] = d.stride as i64;
        }
        let s = imp.layer(
            LayerKind::Slice {
                start,
                size,
                stride,
            },
            &[t],
        )?;
        acc = Some(match acc {
            None => s,
            Some(a) => imp.elementwise(op, &Val::T(a), &Val::T(s))?,
        });
    }
    let mut y = acc.ok_or_else(|| bad!(InvalidNode, "the window has no taps"))?;
    if !max {
        let include = attr_i(node, "count_include_pad", 0) != 0;
        let outs: Vec<usize> = geo.iter().map(|d| d.out).collect();
        let n: usize = outs.iter().product();
        let counts = (0..n)
            .map(|flat| {
                let mut rest = flat;
                let mut c = 1;
                for d in geo.iter().rev() {
                    c *= count(d, rest % d.out, include);
                    rest /= d.out;
                }
                c.max(1) as f64
            })
            .collect();
        let mut cdims = vec![1, 1];
        cdims.extend(outs);
        let c = Val::C(Rc::new(Const::new(cdims, counts, elem::FLOAT)));
        y = imp.elementwise(ElementWiseOperation::Div, &Val::T(y), &c)?;
    }
    Ok(vec![Val::T(y)])
}
