//! MatMul (numpy semantics: 1-D operands are vectors, batch dimensions broadcast) and Gemm.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_i};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::{ElementWiseOperation, MatrixOperation, Weights};

fn matrix_multiply(
    imp: &mut Importer,
    a: &Val,
    b: &Val,
    op0: MatrixOperation,
    op1: MatrixOperation,
) -> PResult<usize> {
    let (ra, rb) = (imp.shape(a).len(), imp.shape(b).len());
    let (mut ta, mut tb) = (imp.tensor(a)?, imp.tensor(b)?);
    let op0 = if ra == 1 {
        MatrixOperation::Vector
    } else {
        op0
    };
    let op1 = if rb == 1 {
        MatrixOperation::Vector
    } else {
        op1
    };
    if ra >= 2 && rb >= 2 {
        let rank = ra.max(rb);
        ta = imp.expand_rank(ta, rank)?;
        tb = imp.expand_rank(tb, rank)?;
    }
    imp.layer(LayerKind::MatrixMultiply { op0, op1 }, &[ta, tb])
}

pub fn matmul(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let a = imp.req(node, 0)?;
    let b = imp.req(node, 1)?;
    let y = matrix_multiply(imp, &a, &b, MatrixOperation::None, MatrixOperation::None)?;
    Ok(vec![Val::T(y)])
}

/// Gemm with constant weights and a per-output (or absent) constant bias is a fully connected
/// layer, as TensorRT 7's parser made it: `[M, K]` runs as `[M, K, 1, 1]`, so the weights are
/// used as Caffe's InnerProduct uses them (same kernel, same sums).
#[allow(clippy::too_many_arguments)]
fn fully_connected(
    imp: &mut Importer,
    node: &NodeProto,
    a: &Val,
    b: &Val,
    trans_a: bool,
    trans_b: bool,
    alpha: f32,
    beta: f32,
) -> PResult<Option<usize>> {
    let Val::C(w) = b else { return Ok(None) };
    let (k, n) = if trans_b {
        (w.dims[1], w.dims[0])
    } else {
        (w.dims[0], w.dims[1])
    };
    let bias = match imp.input(node, 2)? {
        None => vec![],
        Some(Val::C(c)) if c.values.len() == n && c.dims.last() == Some(&n) => {
            c.values.iter().map(|&v| v as f32 * beta).collect()
        }
        Some(Val::C(c)) if c.values.len() == 1 => vec![c.values[0] as f32 * beta; n],
        Some(_) => return Ok(None),
    };
    let kernel: Vec<f32> = (0..n * k)
        .map(|i| {
            let (row, col) = (i / k, i % k);
            let v = if trans_b {
                w.values[row * k + col]
            } else {
                w.values[col * n + row]
            };
            v as f32 * alpha
        })
        .collect();
    let mut t = imp.tensor(a)?;
    if trans_a {
        t = imp.shuffle(t, vec![1, 0], None)?;
    }
    let m = imp.net.tensors[t].shape[0];
    let t = imp.reshape(t, &[m, k, 1, 1])?;
    let y = imp.layer(
        LayerKind::FullyConnected {
            nb_outputs: n,
            kernel: Weights::new(kernel),
            bias: Weights::new(bias),
        },
        &[t],
    )?;
    Ok(Some(imp.reshape(y, &[m, n])?))
}

/// `alpha * A' * B' + beta * C`, with C broadcast (unidirectionally) to the product.
pub fn gemm(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let a = imp.req(node, 0)?;
    let b = imp.req(node, 1)?;
    if imp.shape(&a).len() != 2 || imp.shape(&b).len() != 2 {
        return Err(bad!(
            InvalidNode,
            "A {:?} and B {:?} must be matrices",
            imp.shape(&a),
            imp.shape(&b)
        ));
    }
    let op = |t: bool| {
        if t {
            MatrixOperation::Transpose
        } else {
            MatrixOperation::None
        }
    };
    let (alpha, beta) = (attr_f(node, "alpha", 1.0), attr_f(node, "beta", 1.0));
    let (trans_a, trans_b) = (
        attr_i(node, "transA", 0) != 0,
        attr_i(node, "transB", 0) != 0,
    );
    if let Some(y) = fully_connected(imp, node, &a, &b, trans_a, trans_b, alpha, beta)? {
        return Ok(vec![Val::T(y)]);
    }
    let mut y = Val::T(matrix_multiply(imp, &a, &b, op(trans_a), op(trans_b))?);
    if alpha != 1.0 {
        let s = Val::C(Rc::new(Const::scalar(alpha as f64, elem::FLOAT)));
        y = Val::T(imp.elementwise(ElementWiseOperation::Prod, &y, &s)?);
    }
    if let Some(c) = imp.input(node, 2)? {
        let c = match (&c, beta) {
            (_, 1.0) => c,
            (Val::C(k), _) => Val::C(Rc::new(Const::new(
                k.dims.clone(),
                k.values.iter().map(|&v| (v as f32 * beta) as f64).collect(),
                elem::FLOAT,
            ))),
            (Val::T(_), _) => {
                let s = Val::C(Rc::new(Const::scalar(beta as f64, elem::FLOAT)));
                Val::T(imp.elementwise(ElementWiseOperation::Prod, &c, &s)?)
            }
        };
        y = Val::T(imp.elementwise(ElementWiseOperation::Sum, &y, &c)?);
    }
    Ok(vec![y])
}
