//! Softmax (and LogSoftmax), BatchNormalization and LRN.

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_i, axis};
use super::super::proto::NodeProto;
use crate::network::LayerKind;
use crate::types::{ElementWiseOperation, UnaryOperation};

pub fn softmax(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let shape = imp.shape(&x);
    let rank = shape.len().max(1);
    let t = imp.tensor(&x)?;
    let y = if imp.opset < 13 {
        // Opsets 1-12 flatten to 2-D at `axis` (default 1) and normalise each row.
        let a = axis(attr_i(node, "axis", 1), rank)?;
        let rows: usize = shape[..a].iter().product();
        let flat = imp.reshape(t, &[rows, shape[a..].iter().product()])?;
        let y = imp.layer(LayerKind::SoftMax { axes: 1 << 1 }, &[flat])?;
        imp.reshape(y, &shape)?
    } else {
        let a = axis(attr_i(node, "axis", -1), rank)?;
        imp.layer(LayerKind::SoftMax { axes: 1 << a }, &[t])?
    };
    if node.op_type() == "LogSoftmax" {
        let op = UnaryOperation::Log;
        return Ok(vec![Val::T(imp.layer(LayerKind::Unary { op }, &[y])?)]);
    }
    Ok(vec![Val::T(y)])
}

/// Inference-mode batch normalisation folded into one multiply and one add per channel:
/// `y = x * s + b` with `s = gamma / sqrt(var + eps)`, `b = beta - mean * s`.
pub fn batch_norm(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    if attr_i(node, "training_mode", 0) != 0 || node.output.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(bad!(
            UnsupportedNode,
            "training mode (running statistics outputs) is not supported"
        ));
    }
    let x = imp.req(node, 0)?;
    let mut params = Vec::new();
    for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "var")] {
        params.push(
            imp.constant(node, i, what)?
                .ok_or_else(|| bad!(InvalidNode, "input {i} ({what}) is missing"))?,
        );
    }
    let rank = imp.shape(&x).len();
    let c = imp.shape(&x).get(1).copied().unwrap_or(0);
    if rank < 2 || params.iter().any(|p| p.values.len() != c) {
        return Err(bad!(
            InvalidNode,
            "input {:?} needs a channel dimension matching the {} parameters",
            imp.shape(&x),
            params[0].values.len()
        ));
    }
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let (g, b, m, v) = (
        &params[0].values,
        &params[1].values,
        &params[2].values,
        &params[3].values,
    );
    let scale: Vec<f32> = (0..c)
        .map(|i| (g[i] / (v[i] + eps).sqrt()) as f32)
        .collect();
    let shift: Vec<f32> = (0..c)
        .map(|i| (b[i] - m[i] * g[i] / (v[i] + eps).sqrt()) as f32)
        .collect();
    let s = imp.channel_const(scale, rank, 1)?;
    let h = imp.channel_const(shift, rank, 1)?;
    let y = imp.elementwise(ElementWiseOperation::Prod, &x, &s)?;
    Ok(vec![Val::T(imp.elementwise(
        ElementWiseOperation::Sum,
        &Val::T(y),
        &h,
    )?)])
}

pub fn lrn(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let t = imp.tensor(&x)?;
    let window = attr_i(node, "size", 0);
    if window <= 0 {
        return Err(bad!(InvalidNode, "size {window} must be positive"));
    }
    let kind = LayerKind::Lrn {
        window: window as usize,
        alpha: attr_f(node, "alpha", 1e-4),
        beta: attr_f(node, "beta", 0.75),
        k: attr_f(node, "bias", 1.0),
    };
    Ok(vec![Val::T(imp.layer(kind, &[t])?)])
}
