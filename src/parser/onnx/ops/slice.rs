//! Slice, Gather and Pad. Pad is built from slices and concatenations, so every mode and axis
//! works without a padding kernel.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_i, attr_ints, attr_s, axis};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::{DataType, ElementWiseOperation};

/// A slice of `t` on one axis (`start`, `size` elements, `step`), other axes whole.
fn slice_axis(
    imp: &mut Importer,
    t: usize,
    a: usize,
    start: i64,
    size: usize,
    step: i64,
) -> PResult<usize> {
    let dims = imp.net.tensors[t].shape.clone();
    let mut st = vec![0; dims.len()];
    let mut sz = dims.clone();
    let mut sp = vec![1; dims.len()];
    st[a] = start;
    sz[a] = size;
    sp[a] = step;
    let dtype = imp.net.tensors[t].dtype;
    let y = imp.layer(
        LayerKind::Slice {
            start: st,
            size: sz,
            stride: sp,
        },
        &[t],
    )?;
    imp.net.tensors[y].dtype = dtype;
    Ok(y)
}

pub fn slice(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let operand = |i: usize, name: &str| -> PResult<Option<Vec<i64>>> {
        if imp.opset < 10 {
            Ok(attr_ints(node, name))
        } else {
            Ok(imp.constant(node, i, name)?.map(|c| c.as_i64s()))
        }
    };
    let starts = operand(1, "starts")?.ok_or_else(|| bad!(InvalidNode, "starts are required"))?;
    let ends = operand(2, "ends")?.ok_or_else(|| bad!(InvalidNode, "ends are required"))?;
    let axes = operand(3, "axes")?.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = if imp.opset < 10 {
        None
    } else {
        operand(4, "steps")?
    }
    .unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(bad!(
            InvalidNode,
            "starts, ends, axes and steps differ in length"
        ));
    }
    let rank = dims.len();
    let mut st = vec![0i64; rank];
    let mut sz = dims.clone();
    let mut sp = vec![1i64; rank];
    for i in 0..starts.len() {
        let a = axis(axes[i], rank)?;
        let (n, step) = (dims[a] as i64, steps[i]);
        if step == 0 {
            return Err(bad!(InvalidNode, "step 0 on axis {a}"));
        }
        let norm = |v: i64| if v < 0 { v + n } else { v };
        let (s, e) = if step > 0 {
            (norm(starts[i]).clamp(0, n), norm(ends[i]).clamp(0, n))
        } else {
            (
                norm(starts[i]).clamp(0, n - 1),
                norm(ends[i]).clamp(-1, n - 1),
            )
        };
        let count = if step > 0 {
            (e - s + step - 1) / step
        } else {
            (s - e + (-step) - 1) / (-step)
        };
        st[a] = s;
        sz[a] = count.max(0) as usize;
        sp[a] = step;
    }
    if let Val::C(k) = &x {
        let strides: Vec<usize> = (0..rank).map(|d| dims[d + 1..].iter().product()).collect();
        let n: usize = sz.iter().product();
        let values = (0..n)
            .map(|flat| {
                let (mut rem, mut src) = (flat, 0i64);
                for d in (0..rank).rev() {
                    let i = (rem % sz[d]) as i64;
                    rem /= sz[d];
                    src += (st[d] + i * sp[d]) * strides[d] as i64;
                }
                k.values[src as usize]
            })
            .collect();
        return Ok(vec![Val::C(Rc::new(Const::new(sz, values, k.elem)))]);
    }
    if sz.contains(&0) {
        return Err(bad!(
            UnsupportedNode,
            "the slice of {dims:?} is empty ({sz:?})"
        ));
    }
    let t = imp.tensor(&x)?;
    let dtype = imp.net.tensors[t].dtype;
    let y = imp.layer(
        LayerKind::Slice {
            start: st,
            size: sz,
            stride: sp,
        },
        &[t],
    )?;
    imp.net.tensors[y].dtype = dtype;
    Ok(vec![Val::T(y)])
}

pub fn gather(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let idx = imp.req(node, 1)?;
    let dims = imp.shape(&x);
    let a = axis(attr_i(node, "axis", 0), dims.len())?;
    let idx_dims = imp.shape(&idx);
    let mut out_dims = dims[..a].to_vec();
    out_dims.extend(&idx_dims);
    out_dims.extend(&dims[a + 1..]);
    let n = dims[a] as f64;
    let idx = match idx {
        Val::C(k) => {
            let values: Vec<f64> = k
                .values
                .iter()
                .map(|&v| if v < 0.0 { v + n } else { v })
                .collect();
            if let Some(v) = values.iter().find(|&&v| v < 0.0 || v >= n) {
                return Err(bad!(InvalidNode, "index {v} is outside 0..{n} of axis {a}"));
            }
            if let Val::C(data) = &x {
                let outer: usize = dims[..a].iter().product();
                let inner: usize = dims[a + 1..].iter().product();
                let mut out = Vec::with_capacity(out_dims.iter().product());
                for o in 0..outer {
                    for &i in &values {
                        let from = (o * dims[a] + i as usize) * inner;
                        out.extend_from_slice(&data.values[from..from + inner]);
                    }
                }
                return Ok(vec![Val::C(Rc::new(Const::new(out_dims, out, data.elem)))]);
            }
            Val::C(Rc::new(Const::new(k.dims.clone(), values, elem::INT32)))
        }
        Val::T(i) => Val::T(wrap_indices(imp, i, dims[a])?),
    };
    let t = imp.tensor(&x)?;
    let dtype = imp.net.tensors[t].dtype;
    let i = imp.tensor(&idx)?;
    if imp.net.tensors[i].dtype != DataType::Int32 {
        return Err(bad!(InvalidNode, "indices must be integers"));
    }
    let y = imp.layer(LayerKind::Gather { axis: a }, &[t, i])?;
    imp.net.tensors[y].dtype = dtype;
    // A scalar index (held as one element) removes the axis.
    Ok(vec![Val::T(imp.reshape(y, &out_dims)?)])
}

/// Negative indices count from the end: `i - n * floor(i / n)` maps `-n..n` onto `0..n`.
fn wrap_indices(imp: &mut Importer, i: usize, n: usize) -> PResult<usize> {
    let n = Val::C(Rc::new(Const::scalar(n as f64, elem::INT32)));
    let q = imp.elementwise(ElementWiseOperation::FloorDiv, &Val::T(i), &n)?;
    let m = imp.elementwise(ElementWiseOperation::Prod, &Val::T(q), &n)?;
    imp.elementwise(ElementWiseOperation::Sub, &Val::T(i), &Val::T(m))
}

pub fn pad(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let rank = dims.len();
    let (pads, value) = if imp.opset < 11 {
        (
            attr_ints(node, "pads").ok_or_else(|| bad!(InvalidNode, "pads are required"))?,
            attr_f(node, "value", 0.0) as f64,
        )
    } else {
        let pads = imp
            .constant(node, 1, "pads")?
            .ok_or_else(|| bad!(InvalidNode, "pads are required"))?
            .as_i64s();
        let value = imp
            .constant(node, 2, "constant_value")?
            .map_or(0.0, |c| c.values.first().copied().unwrap_or(0.0));
        (pads, value)
    };
    let axes: Vec<usize> = match imp.constant(node, 3, "axes")? {
        Some(a) => a
            .as_i64s()
            .iter()
            .map(|&v| axis(v, rank))
            .collect::<PResult<_>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(bad!(
            InvalidNode,
            "pads {pads:?} must have {} values",
            2 * axes.len()
        ));
    }
    let mode = attr_s(node, "mode", "constant");
    if !matches!(mode.as_str(), "constant" | "edge" | "reflect" | "wrap") {
        return Err(bad!(UnsupportedNode, "pad mode '{mode}' is not supported"));
    }
    let mut t = imp.tensor(&x)?;
    let mut changed = false;
    for (i, &a) in axes.iter().enumerate() {
        let (pre, post) = (pads[i], pads[i + axes.len()]);
        if pre == 0 && post == 0 {
            continue;
        }
        changed = true;
        t = pad_axis(imp, t, a, pre, post, &mode, value)?;
    }
    if !changed {
        t = imp.layer(LayerKind::Identity, &[t])?;
    }
    Ok(vec![Val::T(t)])
}

/// Pads (or, for negative amounts, crops) one axis.
pub(super) fn pad_axis(
    imp: &mut Importer,
    t: usize,
    a: usize,
    pre: i64,
    post: i64,
    mode: &str,
    value: f64,
) -> PResult<usize> {
    let n = imp.net.tensors[t].shape[a] as i64;
    let (crop_pre, crop_post) = ((-pre).max(0), (-post).max(0));
    let mut t = t;
    if crop_pre > 0 || crop_post > 0 {
        let keep = n - crop_pre - crop_post;
        if keep <= 0 {
            return Err(bad!(
                InvalidNode,
                "negative pads remove all {n} elements of axis {a}"
            ));
        }
        t = slice_axis(imp, t, a, crop_pre, keep as usize, 1)?;
    }
    let n = imp.net.tensors[t].shape[a] as i64;
    let (pre, post) = (pre.max(0), post.max(0));
    if mode == "reflect" && (pre >= n || post >= n) {
        return Err(bad!(
            InvalidNode,
            "reflect pads ({pre}, {post}) must be smaller than axis {a} ({n})"
        ));
    }
    let mut parts = Vec::new();
    let piece = |imp: &mut Importer, amount: i64, before: bool| -> PResult<usize> {
        match mode {
            "constant" => {
                let mut dims = imp.net.tensors[t].shape.clone();
                dims[a] = amount as usize;
                let count = dims.iter().product();
                let k = Const::new(dims, vec![value; count], elem::FLOAT);
                let c = imp.tensor(&Val::C(Rc::new(k)))?;
                imp.net.tensors[c].dtype = imp.net.tensors[t].dtype;
                Ok(c)
            }
            "edge" => {
                let at = if before { 0 } else { n - 1 };
                let one = slice_axis(imp, t, a, at, 1, 1)?;
                let copies: Vec<usize> = vec![one; amount as usize];
                if copies.len() == 1 {
                    return Ok(one);
                }
                imp.layer(LayerKind::Concatenation { axis: a }, &copies)
            }
            "wrap" => {
                if amount > n {
                    return Err(bad!(
                        UnsupportedNode,
                        "wrap pad {amount} exceeds axis {a} ({n})"
                    ));
                }
                let start = if before { n - amount } else { 0 };
                slice_axis(imp, t, a, start, amount as usize, 1)
            }
            _ => {
                // Reflection excludes the edge element: before = x[amount..=1], after = x[n-2..].
                if before {
                    slice_axis(imp, t, a, amount, amount as usize, -1)
                } else {
                    slice_axis(imp, t, a, n - 2, amount as usize, -1)
                }
            }
        }
    };
    if pre > 0 {
        parts.push(piece(imp, pre, true)?);
    }
    parts.push(t);
    if post > 0 {
        parts.push(piece(imp, post, false)?);
    }
    let dtype = imp.net.tensors[t].dtype;
    let y = imp.layer(LayerKind::Concatenation { axis: a }, &parts)?;
    imp.net.tensors[y].dtype = dtype;
    Ok(y)
}
