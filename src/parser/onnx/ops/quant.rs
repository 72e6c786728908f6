//! QuantizeLinear / DequantizeLinear. A Q/DQ pair on an activation is what TensorRT 7 read as
//! the INT8 range of that tensor: the pair becomes a pass-through and the tensor gets the dynamic
//! range `±127 · scale`. On constants (quantized weights) both fold to values.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_i, axis};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};

fn scale_and_zero(imp: &Importer, node: &NodeProto) -> PResult<(Rc<Const>, Option<Rc<Const>>)> {
    let scale = imp
        .constant(node, 1, "scale")?
        .ok_or_else(|| bad!(InvalidNode, "the scale input is missing"))?;
    Ok((scale, imp.constant(node, 2, "zero point")?))
}

/// The single scale of a per-tensor quantization with zero point 0 (symmetric INT8).
fn symmetric_scale(scale: &Const, zero: Option<&Const>) -> PResult<f32> {
    if scale.values.len() != 1 {
        return Err(bad!(
            UnsupportedNode,
            "per-axis scales ({} values) on an activation; INT8 activations have one scale",
            scale.values.len()
        ));
    }
    if zero.is_some_and(|z| z.values.iter().any(|&v| v != 0.0)) {
        return Err(bad!(
            UnsupportedNode,
            "a non-zero zero point; INT8 in TensorRT is symmetric"
        ));
    }
    Ok(scale.values[0] as f32)
}

fn set_range(imp: &mut Importer, t: usize, scale: f32) {
    let r = 127.0 * scale;
    imp.net.tensors[t].dynamic_range = Some((-r, r));
}

/// Per-tensor or per-axis (`axis`, default 1) parameters for element `i` of `dims`.
fn param_at(p: &Const, dims: &[usize], axis: usize, i: usize) -> f64 {
    if p.values.len() == 1 {
        return p.values[0];
    }
    let inner: usize = dims[axis + 1..].iter().product();
    p.values[(i / inner) % dims[axis]]
}

fn axis_of(node: &NodeProto, rank: usize) -> PResult<usize> {
    axis(attr_i(node, "axis", 1), rank.max(1))
}

pub fn quantize(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let (scale, zero) = scale_and_zero(imp, node)?;
    match x {
        Val::C(k) => {
            let a = axis_of(node, k.dims.len())?;
            let out = zero.as_ref().map_or(elem::UINT8, |z| z.elem);
            let (lo, hi) = if out == elem::INT8 {
                (-128.0, 127.0)
            } else {
                (0.0, 255.0)
            };
            let values = (0..k.values.len())
                .map(|i| {
                    let s = param_at(&scale, &k.dims, a, i);
                    let z = zero.as_ref().map_or(0.0, |z| param_at(z, &k.dims, a, i));
                    ((k.values[i] / s).round_ties_even() + z).clamp(lo, hi)
                })
                .collect();
            Ok(vec![Val::C(Rc::new(Const::new(
                k.dims.clone(),
                values,
                out,
            )))])
        }
        Val::T(t) => {
            let s = symmetric_scale(&scale, zero.as_deref())?;
            set_range(imp, t, s);
            Ok(vec![Val::T(t)])
        }
    }
}

pub fn dequantize(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let (scale, zero) = scale_and_zero(imp, node)?;
    match x {
        Val::C(k) => {
            let a = axis_of(node, k.dims.len())?;
            let values = (0..k.values.len())
                .map(|i| {
                    let s = param_at(&scale, &k.dims, a, i);
                    let z = zero.as_ref().map_or(0.0, |z| param_at(z, &k.dims, a, i));
                    ((k.values[i] - z) * s) as f32 as f64
                })
                .collect();
            Ok(vec![Val::C(Rc::new(Const::new(
                k.dims.clone(),
                values,
                elem::FLOAT,
            )))])
        }
        Val::T(t) => {
            let s = symmetric_scale(&scale, zero.as_deref())?;
            if imp.net.tensors[t].dynamic_range.is_none() {
                return Err(bad!(
                    UnsupportedNode,
                    "DequantizeLinear of a tensor that no QuantizeLinear produced"
                ));
            }
            let y = imp.layer(crate::network::LayerKind::Identity, &[t])?;
            set_range(imp, y, s);
            Ok(vec![Val::T(y)])
        }
    }
}
