//! MatMul (numpy semantics: 1-D operands are vectors, batch dimensions broadcast) and Gemm.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_i};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::{ElementWiseOperation, MatrixOperation};

fn matrix_multiply(
    imp: &mut Importer,
    a: &Val,
    b: &Val,
    op0: MatrixOperation,
    op1: MatrixOperation,
) -> PResult<usize> {
    let (ra, rb) = (imp.shape(a).len(), imp.shape(b).len());
    let (mut ta, mut tb) = (imp.tensor(a)?, imp.tensor(b)?);
    let op0 = if ra == 1 { MatrixOperation::Vector } else { op0 };
    let op1 = if rb == 1 { MatrixOperation::Vector } else { op1 };
    if ra >= 2 && rb >= 2 {
        let rank = ra.max(rb);
        ta = imp.to_rank(ta, rank)?;
        tb = imp.to_rank(tb, rank)?;
    }
    imp.layer(LayerKind::MatrixMultiply { op0, op1 }, &[ta, tb])
}

pub fn matmul(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let a = imp.req(node, 0)?;
    let b = imp.req(node, 1)?;
    let y = matrix_multiply(imp, &a, &b, MatrixOperation::None, MatrixOperation::None)?;
    Ok(vec![Val::T(y)])
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
    let op = |t: i64| {
        if t != 0 {
            MatrixOperation::Transpose
        } else {
            MatrixOperation::None
        }
    };
    let (alpha, beta) = (attr_f(node, "alpha", 1.0), attr_f(node, "beta", 1.0));
    let mut y = Val::T(matrix_multiply(
        imp,
        &a,
        &b,
        op(attr_i(node, "transA", 0)),
        op(attr_i(node, "transB", 0)),
    )?);
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
