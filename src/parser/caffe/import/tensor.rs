//! Layers that combine, split or rearrange blobs: Eltwise, Concat, Slice, Flatten, Reshape, Permute,
//! Crop, Reduction and ArgMax.

use super::super::proto::eltwise_parameter::EltwiseOp;
use super::super::proto::reduction_parameter::ReductionOp;
use super::Ctx;
use crate::error::Result;
use crate::network::{LayerKind, ShuffleParams, TensorId};
use crate::types::{
    ElementWiseOperation, ReduceOperation, ScaleMode, TopKOperation, UnaryOperation, Weights,
    volume,
};

/// Two bottoms map to one ElementWise layer, as in TensorRT's parser; more are chained, and SUM
/// coefficients other than 1 scale their bottom first.
pub(super) fn eltwise(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(2, usize::MAX, 1)?;
    let p = cx.layer.eltwise_param.clone().unwrap_or_default();
    let op = match p.operation() {
        EltwiseOp::Sum => ElementWiseOperation::Sum,
        EltwiseOp::Prod => ElementWiseOperation::Prod,
        EltwiseOp::Max => ElementWiseOperation::Max,
    };
    let n = cx.inputs.len();
    if !p.coeff.is_empty() && (op != ElementWiseOperation::Sum || p.coeff.len() != n) {
        return Err(cx.error(format!(
            "coeff needs SUM and one value per bottom ({n}), got {}",
            p.coeff.len()
        )));
    }
    let mut terms = Vec::with_capacity(n);
    for i in 0..n {
        let c = p.coeff.get(i).copied().unwrap_or(1.0);
        terms.push(if c == 1.0 {
            cx.input(i)
        } else {
            let kind = LayerKind::Scale {
                mode: ScaleMode::Uniform,
                shift: Weights::empty(),
                scale: cx.values(vec![c]),
                power: Weights::empty(),
            };
            cx.add_part(&format!("coeff{i}"), kind, &[cx.input(i)])?
        });
    }
    let mut acc = terms[0];
    for (i, &t) in terms.iter().enumerate().skip(1) {
        acc = if i + 1 == n {
            cx.add(LayerKind::ElementWise { op }, &[acc, t])?
        } else {
            cx.add_part(
                &format!("partial{i}"),
                LayerKind::ElementWise { op },
                &[acc, t],
            )?
        };
    }
    Ok(vec![acc])
}

pub(super) fn concat(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, usize::MAX, 1)?;
    let p = cx.layer.concat_param.unwrap_or_default();
    // The legacy concat_dim is used only when axis is absent, as in Caffe.
    let axis = p.axis.unwrap_or(p.concat_dim() as i32);
    let axis = cx.axis(axis, 0)?;
    let inputs = cx.inputs.clone();
    Ok(vec![cx.add(LayerKind::Concatenation { axis }, &inputs)?])
}

/// One Slice layer per top, named `<caffe name>/<top>`.
pub(super) fn slice(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    let tops = cx.layer.top.len();
    cx.expect(1, 1, tops.max(1))?;
    let p = cx.layer.slice_param.clone().unwrap_or_default();
    let axis = cx.axis(p.slice_dim.map_or(p.axis(), |d| d as i32), 0)?;
    let shape = cx.shape(0);
    let dim = shape[axis];
    let points: Vec<usize> = if p.slice_point.is_empty() {
        if !dim.is_multiple_of(tops) {
            return Err(cx.error(format!(
                "dimension {dim} does not split evenly into {tops} tops"
            )));
        }
        (1..tops).map(|i| i * dim / tops).collect()
    } else {
        p.slice_point.iter().map(|&s| s as usize).collect()
    };
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(points)
        .chain(std::iter::once(dim))
        .collect();
    if bounds.len() != tops + 1 || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(cx.error(format!("slice points {:?} must increase strictly inside (0, {dim}), one fewer than the {tops} tops", &bounds[1..bounds.len() - 1])));
    }
    let mut out = Vec::with_capacity(tops);
    for (i, w) in bounds.windows(2).enumerate() {
        let mut start = vec![0i64; shape.len()];
        start[axis] = w[0] as i64;
        let mut size = shape.clone();
        size[axis] = w[1] - w[0];
        let kind = LayerKind::Slice {
            start,
            size,
            stride: vec![1; shape.len()],
        };
        let part = cx.layer.top[i].clone();
        out.push(cx.add_part(&part, kind, &[cx.input(0)])?);
    }
    Ok(out)
}

fn reshape_to(cx: &mut Ctx, dims: Vec<usize>) -> Result<Vec<TensorId>> {
    let reshape = Some(dims.into_iter().map(|d| d as i64).collect());
    let kind = LayerKind::Shuffle(ShuffleParams {
        first_transpose: vec![],
        reshape,
        second_transpose: vec![],
    });
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

/// Flattens axes `axis..=end_axis` into one, as a Shuffle (TensorRT's parser ignored Flatten, which
/// is wrong for anything but a following InnerProduct).
pub(super) fn flatten(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.flatten_param.unwrap_or_default();
    let (a, e) = (cx.axis(p.axis(), 0)?, cx.axis(p.end_axis(), 0)?);
    if e < a {
        return Err(cx.error(format!(
            "end_axis {} comes before axis {}",
            p.end_axis(),
            p.axis()
        )));
    }
    let shape = cx.shape(0);
    let mut dims = shape[..a].to_vec();
    dims.push(volume(&shape[a..=e]));
    dims.extend(&shape[e + 1..]);
    reshape_to(cx, dims)
}

/// Caffe's Reshape: `shape` replaces the axes `axis..axis+num_axes` (0 copies an input dimension,
/// -1 is inferred); the batch must be kept.
pub(super) fn reshape(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.reshape_param.clone().unwrap_or_default();
    let spec = p.shape.as_ref().map(|s| s.dim.clone()).unwrap_or_default();
    // Work on the full shape with the batch as `None`.
    let full: Vec<Option<usize>> = std::iter::once(None)
        .chain(cx.shape(0).into_iter().map(Some))
        .collect();
    let rank = full.len() as i64;
    let start = if p.axis() < 0 {
        i64::from(p.axis()) + rank + 1
    } else {
        i64::from(p.axis())
    };
    let end = if p.num_axes() == -1 {
        rank
    } else {
        start + i64::from(p.num_axes())
    };
    if start < 0 || start > rank || end < start || end > rank || p.num_axes() < -1 {
        return Err(cx.error(format!(
            "axis {} and num_axes {} do not fit a {rank}-D blob",
            p.axis(),
            p.num_axes()
        )));
    }
    let (start, end) = (start as usize, end as usize);
    let mut out: Vec<Option<i64>> = full[..start].iter().map(|d| d.map(|d| d as i64)).collect();
    for (i, &d) in spec.iter().enumerate() {
        out.push(match d {
            0 => full
                .get(start + i)
                .copied()
                .ok_or_else(|| {
                    cx.error(format!(
                        "shape entry {i} copies a dimension the input lacks"
                    ))
                })?
                .map(|d| d as i64),
            d if d >= -1 => Some(d),
            d => return Err(cx.error(format!("shape entry {d} is invalid"))),
        });
    }
    out.extend(full[end..].iter().map(|d| d.map(|d| d as i64)));
    if out.first() != Some(&None) || out[1..].contains(&None) {
        return Err(
            cx.unsupported("the batch dimension must stay first and unchanged (as in TensorRT)")
        );
    }
    let dims: Vec<i64> = out[1..].iter().flatten().copied().collect();
    let resolved =
        crate::network::shape::resolve_reshape(&cx.shape(0), &dims).map_err(|e| cx.error(e))?;
    reshape_to(cx, resolved)
}

/// SSD's Permute as a Shuffle transpose; the batch axis (order 0) must stay first.
pub(super) fn permute(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let order = cx
        .layer
        .permute_param
        .as_ref()
        .map(|p| p.order.clone())
        .unwrap_or_default();
    let rank = cx.shape(0).len() + 1;
    let mut full: Vec<usize> = order.iter().map(|&o| o as usize).collect();
    let mut seen = vec![false; rank];
    if full.first().is_some_and(|&o| o != 0)
        || full
            .iter()
            .any(|&o| o >= rank || std::mem::replace(&mut seen[o], true))
    {
        return Err(cx.error(format!(
            "order {order:?} must start with 0 and list distinct axes below {rank}"
        )));
    }
    // Unlisted axes follow in their original order.
    full.extend((0..rank).filter(|&a| !seen[a]));
    let perm = full[1..].iter().map(|&a| a - 1).collect();
    let kind = LayerKind::Shuffle(ShuffleParams {
        first_transpose: perm,
        reshape: None,
        second_transpose: vec![],
    });
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

/// Spatial crop of the first bottom to the second's size, as a Padding layer with negative padding
/// (TensorRT's `parseCrop`).
pub(super) fn crop(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(2, 2, 1)?;
    let p = cx.layer.crop_param.clone().unwrap_or_default();
    let ([_, h, w], [_, rh, rw]) = (cx.chw(0)?, cx.chw(1)?);
    let axis = if p.axis() < 0 { p.axis() + 4 } else { p.axis() };
    if axis != 2 && axis != 3 {
        return Err(cx.unsupported(format!(
            "axis {} crops more than height and width",
            p.axis()
        )));
    }
    let nb = (4 - axis) as usize;
    let offsets: [i64; 2] = match (p.offset.len(), axis) {
        (0, _) => [0, 0],
        (1, 2) => [i64::from(p.offset[0]); 2],
        (1, _) => [0, i64::from(p.offset[0])],
        (2, 2) => [i64::from(p.offset[0]), i64::from(p.offset[1])],
        (n, _) => return Err(cx.error(format!("{n} offsets given; 0, 1 or {nb} expected"))),
    };
    let (h, w, rh, rw) = (h as i64, w as i64, rh as i64, rw as i64);
    let (rh, rw) = if axis == 2 { (rh, rw) } else { (h, rw) };
    if offsets[0] + rh > h || offsets[1] + rw > w {
        return Err(cx.error(format!(
            "offsets {offsets:?} with reference size {rh}x{rw} reach outside the {h}x{w} input"
        )));
    }
    let kind = LayerKind::Padding {
        pre: [-offsets[0], -offsets[1]],
        post: [rh - h + offsets[0], rw - w + offsets[1]],
    };
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

/// Reduction over all axes from `axis` on, keeping them as 1s (as TensorRT's `parseReduction`):
/// ASUM takes |x| first, SUMSQ x*x, and a coefficient scales the result.
pub(super) fn reduction(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.reduction_param.unwrap_or_default();
    let first = cx.axis(p.axis(), 0)?;
    let rank = cx.shape(0).len();
    let axes = ((1u32 << rank) - 1) & !((1u32 << first) - 1);
    let mut x = cx.input(0);
    match p.operation() {
        ReductionOp::Asum => {
            x = cx.add_part(
                "abs",
                LayerKind::Unary {
                    op: UnaryOperation::Abs,
                },
                &[x],
            )?
        }
        ReductionOp::Sumsq => {
            x = cx.add_part(
                "square",
                LayerKind::ElementWise {
                    op: crate::types::ElementWiseOperation::Prod,
                },
                &[x, x],
            )?
        }
        ReductionOp::Sum | ReductionOp::Mean => {}
    }
    let op = if p.operation() == ReductionOp::Mean {
        ReduceOperation::Avg
    } else {
        ReduceOperation::Sum
    };
    let reduce = LayerKind::Reduce {
        op,
        axes,
        keep_dims: true,
    };
    if p.coeff() == 1.0 {
        return Ok(vec![cx.add(reduce, &[x])?]);
    }
    let r = cx.add_part("reduce", reduce, &[x])?;
    let kind = LayerKind::Scale {
        mode: ScaleMode::Uniform,
        shift: Weights::empty(),
        scale: cx.values(vec![p.coeff()]),
        power: Weights::empty(),
    };
    Ok(vec![cx.add(kind, &[r])?])
}

/// ArgMax as TopK: indices (INT32, where Caffe stores them as floats) or, with `out_max_val`, the
/// values. Without an axis Caffe ranks all non-batch values, so the input is flattened to [1, V].
pub(super) fn argmax(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.argmax_param.unwrap_or_default();
    let k = p.top_k() as usize;
    let (x, axis) = match p.axis {
        Some(a) => (cx.input(0), cx.axis(a, 0)?),
        None if p.out_max_val() => {
            return Err(cx.unsupported("out_max_val without axis (indices and values in one blob)"));
        }
        None => {
            let flat = LayerKind::Shuffle(ShuffleParams {
                first_transpose: vec![],
                reshape: Some(vec![1, -1]),
                second_transpose: vec![],
            });
            (cx.add_part("flatten", flat, &[cx.input(0)])?, 1)
        }
    };
    let kind = LayerKind::TopK {
        op: TopKOperation::Max,
        k,
        axes: 1 << axis,
    };
    let name = cx.name().to_string();
    let l = cx.add_named(name, kind, &[x])?;
    Ok(vec![
        cx.net.layers[l].outputs[usize::from(!p.out_max_val())],
    ])
}
