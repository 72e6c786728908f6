//! Operators that move data without arithmetic: Constant, Identity, Dropout, Shape, Cast,
//! Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat. Each folds when its inputs are
//! constants, which is what turns `Shape -> Gather -> Concat -> Reshape` chains into constants.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{
    Importer, Val, attr_floats, attr_i, attr_ints, attr_tensor, axis, has_attr,
};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::DataType;

fn c(v: Const) -> Val {
    Val::C(Rc::new(v))
}

pub fn constant(_: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    if let Some(t) = attr_tensor(node, "value")? {
        return Ok(vec![c(t)]);
    }
    if let Some(v) = attr_floats(node, "value_floats") {
        let n = v.len();
        return Ok(vec![c(Const::new(
            vec![n],
            v.iter().map(|&x| x as f64).collect(),
            elem::FLOAT,
        ))]);
    }
    if has_attr(node, "value_float") {
        let v = super::super::importer::attr_f(node, "value_float", 0.0);
        return Ok(vec![c(Const::scalar(v as f64, elem::FLOAT))]);
    }
    if let Some(v) = attr_ints(node, "value_ints") {
        return Ok(vec![c(Const::ints(&v))]);
    }
    if has_attr(node, "value_int") {
        return Ok(vec![c(Const::scalar(
            attr_i(node, "value_int", 0) as f64,
            elem::INT64,
        ))]);
    }
    Err(bad!(
        UnsupportedNode,
        "Constant needs a value, value_float(s) or value_int(s) attribute"
    ))
}

pub fn identity(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let mut outs = vec![x.clone()];
    if node.op_type() == "Dropout" {
        let ratio = match imp.input(node, 1)? {
            Some(Val::C(r)) => r.values.first().copied().unwrap_or(0.5),
            _ => 0.5,
        };
        let training = match imp.input(node, 2)? {
            // Training with ratio 0 keeps everything: the same as inference.
            Some(Val::C(t)) => t.values.first().is_some_and(|&v| v != 0.0) && ratio != 0.0,
            Some(Val::T(_)) => {
                return Err(bad!(UnsupportedNode, "training_mode must be a constant"));
            }
            None => false,
        };
        if training {
            return Err(bad!(
                UnsupportedNode,
                "Dropout in training mode is random; only inference is supported"
            ));
        }
        if node.output.get(1).is_some_and(|m| !m.is_empty()) {
            // In inference every element is kept: the mask is all true.
            let dims = imp.shape(&x);
            let n = dims.iter().product();
            outs.push(c(Const::new(dims, vec![1.0; n], elem::BOOL)));
        }
    }
    Ok(outs)
}

pub fn shape(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let r = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(attr_i(node, "start", 0));
    let end = clamp(attr_i(node, "end", r));
    let dims: Vec<i64> = dims[start..end.max(start)]
        .iter()
        .map(|&d| d as i64)
        .collect();
    Ok(vec![c(Const::ints(&dims))])
}

pub fn cast(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let to = attr_i(node, "to", 0) as i32;
    let int = match to {
        elem::FLOAT | elem::DOUBLE | elem::FLOAT16 => false,
        elem::INT32
        | elem::INT64
        | elem::INT8
        | elem::UINT8
        | elem::INT16
        | elem::UINT16
        | elem::UINT32
        | elem::UINT64
        | elem::BOOL => true,
        other => {
            return Err(bad!(
                UnsupportedNode,
                "Cast to {} is not supported",
                elem::name(other)
            ));
        }
    };
    match x {
        Val::C(k) => {
            let values = k
                .values
                .iter()
                .map(|&v| match to {
                    elem::BOOL => (v != 0.0) as u8 as f64,
                    _ if int => v.trunc(),
                    elem::FLOAT => v as f32 as f64,
                    elem::FLOAT16 => half::f16::from_f64(v).to_f64(),
                    _ => v,
                })
                .collect();
            Ok(vec![c(Const::new(k.dims.clone(), values, to))])
        }
        Val::T(t) => {
            if to == elem::DOUBLE || (int && !matches!(to, elem::INT32 | elem::INT64)) {
                return Err(bad!(
                    UnsupportedNode,
                    "Cast of a network tensor to {} (tensors are FLOAT, FLOAT16 or INT32)",
                    elem::name(to)
                ));
            }
            let y = imp.layer(LayerKind::Identity, &[t])?;
            // The engine rounds toward zero when it writes an INT32 tensor, as a cast does.
            imp.net.tensors[y].dtype = match to {
                _ if int => DataType::Int32,
                elem::FLOAT16 => DataType::Half,
                _ => DataType::Float,
            };
            Ok(vec![Val::T(y)])
        }
    }
}

/// Moves `x` to `dims` (a constant is reshaped without a layer).
pub fn reshape_to(imp: &mut Importer, x: &Val, dims: Vec<usize>) -> PResult<Val> {
    match x {
        Val::C(k) => Ok(c(Const::new(dims, k.values.clone(), k.elem))),
        Val::T(t) => {
            let y = imp.reshape(*t, &dims)?;
            if y != *t {
                return Ok(Val::T(y));
            }
            // Same shape: still a distinct tensor, so the node's output gets its own name.
            let y = imp.layer(LayerKind::Identity, &[*t])?;
            imp.net.tensors[y].dtype = imp.net.tensors[*t].dtype;
            Ok(Val::T(y))
        }
    }
}

pub fn reshape(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let input = imp.shape(&x);
    let spec = if imp.opset < 5 {
        attr_ints(node, "shape").unwrap_or_default()
    } else {
        imp.constant(node, 1, "shape")?
            .ok_or_else(|| bad!(InvalidNode, "the shape input is missing"))?
            .as_i64s()
    };
    let allow_zero = attr_i(node, "allowzero", 0) != 0;
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            0 if !allow_zero => out.push(*input.get(i).ok_or_else(|| {
                bad!(
                    InvalidNode,
                    "shape {spec:?}: dimension {i} copies a dimension the input {input:?} lacks"
                )
            })?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            d if d >= 0 => out.push(d as usize),
            _ => return Err(bad!(InvalidNode, "shape {spec:?} is invalid")),
        }
    }
    let vin: usize = input.iter().product();
    let vout: usize = out.iter().product();
    if let Some(i) = infer {
        if vout == 0 || !vin.is_multiple_of(vout) {
            return Err(bad!(
                InvalidNode,
                "cannot infer dimension {i} of {spec:?} for input {input:?}"
            ));
        }
        out[i] = vin / vout;
    } else if vin != vout {
        return Err(bad!(
            InvalidNode,
            "shape {spec:?} does not match the input {input:?}"
        ));
    }
    Ok(vec![reshape_to(imp, &x, out)?])
}

pub fn flatten(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let r = dims.len() as i64;
    let a = attr_i(node, "axis", 1);
    let a = if a < 0 { a + r } else { a };
    if !(0..=r).contains(&a) {
        return Err(bad!(InvalidNode, "axis {a} is out of range for rank {r}"));
    }
    let a = a as usize;
    let out = vec![dims[..a].iter().product(), dims[a..].iter().product()];
    Ok(vec![reshape_to(imp, &x, out)?])
}

pub fn transpose(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let perm: Vec<usize> = match attr_ints(node, "perm") {
        Some(p) => p
            .iter()
            .map(|&a| axis(a, dims.len()))
            .collect::<PResult<_>>()?,
        None => (0..dims.len()).rev().collect(),
    };
    let mut seen = vec![false; dims.len()];
    if perm.len() != dims.len() || perm.iter().any(|&p| std::mem::replace(&mut seen[p], true)) {
        return Err(bad!(
            InvalidNode,
            "perm {perm:?} is not a permutation of {} axes",
            dims.len()
        ));
    }
    match &x {
        Val::C(k) => {
            let out: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
            let strides: Vec<usize> = (0..dims.len())
                .map(|d| dims[d + 1..].iter().product())
                .collect();
            let n = k.values.len();
            let values = (0..n)
                .map(|flat| {
                    let (mut rem, mut src) = (flat, 0);
                    for d in (0..out.len()).rev() {
                        src += (rem % out[d]) * strides[perm[d]];
                        rem /= out[d];
                    }
                    k.values[src]
                })
                .collect();
            Ok(vec![c(Const::new(out, values, k.elem))])
        }
        Val::T(t) => Ok(vec![Val::T(imp.shuffle(*t, perm, None)?)]),
    }
}

fn axes_operand(imp: &Importer, node: &NodeProto, input: usize) -> PResult<Option<Vec<i64>>> {
    if let Some(a) = attr_ints(node, "axes") {
        return Ok(Some(a));
    }
    Ok(imp.constant(node, input, "axes")?.map(|c| c.as_i64s()))
}

pub fn squeeze(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let axes: Vec<usize> = match axes_operand(imp, node, 1)? {
        Some(a) => a
            .iter()
            .map(|&v| axis(v, dims.len()))
            .collect::<PResult<_>>()?,
        None => (0..dims.len()).filter(|&d| dims[d] == 1).collect(),
    };
    if let Some(&a) = axes.iter().find(|&&a| dims[a] != 1) {
        return Err(bad!(
            InvalidNode,
            "axis {a} of {dims:?} is not 1 and cannot be squeezed"
        ));
    }
    let out = dims
        .iter()
        .enumerate()
        .filter(|(d, _)| !axes.contains(d))
        .map(|(_, &n)| n)
        .collect();
    Ok(vec![reshape_to(imp, &x, out)?])
}

pub fn unsqueeze(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let axes = axes_operand(imp, node, 1)?.ok_or_else(|| bad!(InvalidNode, "axes are required"))?;
    let rank = dims.len() + axes.len();
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| axis(a, rank))
        .collect::<PResult<_>>()?;
    axes.sort_unstable();
    let mut rest = dims.iter();
    let out = (0..rank)
        .map(|d| {
            if axes.contains(&d) {
                1
            } else {
                rest.next().copied().unwrap_or(1)
            }
        })
        .collect();
    Ok(vec![reshape_to(imp, &x, out)?])
}

pub fn concat(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let vals: Vec<Val> = (0..node.input.len())
        .filter_map(|i| imp.input(node, i).transpose())
        .collect::<PResult<_>>()?;
    let first_shape = imp.shape(
        vals.first()
            .ok_or_else(|| bad!(InvalidNode, "needs at least one input"))?,
    );
    let rank = first_shape.len();
    let a = axis(attr_i(node, "axis", 1), rank)?;
    // Empty inputs contribute nothing (shape subgraphs concatenate empty lists).
    let vals: Vec<Val> = vals.into_iter().filter(|v| imp.shape(v)[a] > 0).collect();
    if vals.iter().all(|v| matches!(v, Val::C(_))) {
        let consts: Vec<&Const> = vals
            .iter()
            .map(|v| match v {
                Val::C(k) => k.as_ref(),
                Val::T(_) => unreachable!("all constants"),
            })
            .collect();
        let Some(k0) = consts.first() else {
            let mut dims = first_shape;
            dims[a] = 0;
            return Ok(vec![c(Const::new(dims, vec![], elem::INT64))]);
        };
        let mut dims = k0.dims.clone();
        dims[a] = consts.iter().map(|k| k.dims[a]).sum();
        let outer: usize = dims[..a].iter().product();
        let mut values = Vec::with_capacity(dims.iter().product());
        for o in 0..outer {
            for k in &consts {
                let chunk: usize = k.dims[a..].iter().product();
                values.extend_from_slice(&k.values[o * chunk..(o + 1) * chunk]);
            }
        }
        return Ok(vec![c(Const::new(dims, values, k0.elem))]);
    }
    let int = vals.iter().all(|v| imp.is_int(v));
    let ts: Vec<usize> = vals.iter().map(|v| imp.tensor(v)).collect::<PResult<_>>()?;
    let y = if ts.len() == 1 {
        imp.layer(LayerKind::Identity, &ts)?
    } else {
        imp.layer(LayerKind::Concatenation { axis: a }, &ts)?
    };
    if int {
        imp.net.tensors[y].dtype = DataType::Int32;
    }
    Ok(vec![Val::T(y)])
}
