//! Activations, unary functions, element-wise arithmetic (with constant folding), Clip and PRelu.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, has_attr};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::{ActivationType, DataType, ElementWiseOperation, UnaryOperation};

pub fn activation(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let (kind, alpha, beta) = match node.op_type() {
        "Relu" => (ActivationType::Relu, 0.0, 0.0),
        "LeakyRelu" => (ActivationType::LeakyRelu, attr_f(node, "alpha", 0.01), 0.0),
        "Sigmoid" => (ActivationType::Sigmoid, 0.0, 0.0),
        "Tanh" => (ActivationType::Tanh, 0.0, 0.0),
        "Elu" => (ActivationType::Elu, attr_f(node, "alpha", 1.0), 0.0),
        "Selu" => (
            ActivationType::Selu,
            attr_f(node, "alpha", 1.673_263_2),
            attr_f(node, "gamma", 1.050_701),
        ),
        "Softsign" => (ActivationType::Softsign, 0.0, 0.0),
        "Softplus" => (ActivationType::Softplus, 1.0, 1.0),
        "HardSigmoid" => (
            ActivationType::HardSigmoid,
            attr_f(node, "alpha", 0.2),
            attr_f(node, "beta", 0.5),
        ),
        "ThresholdedRelu" => (
            ActivationType::ThresholdedRelu,
            attr_f(node, "alpha", 1.0),
            0.0,
        ),
        op => return Err(bad!(UnsupportedNode, "{op} is not an activation")),
    };
    let x = imp.req(node, 0)?;
    let x = imp.tensor(&x)?;
    Ok(vec![Val::T(imp.layer(
        LayerKind::Activation { kind, alpha, beta },
        &[x],
    )?)])
}

pub fn unary(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let op = match node.op_type() {
        "Exp" => UnaryOperation::Exp,
        "Log" => UnaryOperation::Log,
        "Sqrt" => UnaryOperation::Sqrt,
        "Reciprocal" => UnaryOperation::Recip,
        "Abs" => UnaryOperation::Abs,
        "Neg" => UnaryOperation::Neg,
        "Floor" => UnaryOperation::Floor,
        "Ceil" => UnaryOperation::Ceil,
        "Sin" => UnaryOperation::Sin,
        "Cos" => UnaryOperation::Cos,
        "Erf" => UnaryOperation::Erf,
        op => return Err(bad!(UnsupportedNode, "{op} is not a unary function")),
    };
    let x = imp.req(node, 0)?;
    let t = imp.tensor(&x)?;
    let int = imp.is_int(&x);
    let out = imp.layer(LayerKind::Unary { op }, &[t])?;
    if int {
        imp.net.tensors[out].dtype = DataType::Int32;
    }
    Ok(vec![Val::T(out)])
}

/// The layer operation and its f64 counterpart for folding constants.
type BinaryOp = (ElementWiseOperation, fn(f64, f64) -> f64);

fn binary_op(op_type: &str) -> PResult<BinaryOp> {
    Ok(match op_type {
        "Add" | "Sum" => (ElementWiseOperation::Sum, |a, b| a + b),
        "Sub" => (ElementWiseOperation::Sub, |a, b| a - b),
        "Mul" => (ElementWiseOperation::Prod, |a, b| a * b),
        "Div" => (ElementWiseOperation::Div, |a, b| a / b),
        "Pow" => (ElementWiseOperation::Pow, f64::powf),
        "Max" => (ElementWiseOperation::Max, f64::max),
        "Min" => (ElementWiseOperation::Min, f64::min),
        op => {
            return Err(bad!(
                UnsupportedNode,
                "{op} is not an element-wise operation"
            ));
        }
    })
}

/// Numpy (multidirectional) broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> PResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        let pad = rank - s.len();
        if i < pad { 1 } else { s[i - pad] }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(bad!(
                InvalidNode,
                "shapes {a:?} and {b:?} cannot be broadcast"
            )),
        })
        .collect()
}

/// `f` applied to two constants with numpy broadcasting.
pub fn fold(a: &Const, b: &Const, elem_out: i32, f: impl Fn(f64, f64) -> f64) -> PResult<Const> {
    let out = broadcast_shape(&a.dims, &b.dims)?;
    let n: usize = out.iter().product();
    let index = |c: &Const, flat: usize| {
        let pad = out.len() - c.dims.len();
        let (mut rem, mut idx, mut stride) = (flat, 0, 1);
        for d in (0..out.len()).rev() {
            let i = rem % out[d];
            rem /= out[d];
            if d >= pad {
                let size = c.dims[d - pad];
                if size != 1 {
                    idx += i * stride;
                }
                stride *= size;
            }
        }
        idx
    };
    let values = (0..n)
        .map(|i| f(a.values[index(a, i)], b.values[index(b, i)]))
        .collect();
    Ok(Const::new(out, values, elem_out))
}

/// Integer division and powers stay integers, as ONNX defines them for integer types.
fn int_result(v: f64, op_type: &str) -> f64 {
    if op_type == "Div" { v.trunc() } else { v }
}

pub fn binary(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let (op, f) = binary_op(node.op_type())?;
    let n = node.input.len();
    if n == 0 {
        return Err(bad!(InvalidNode, "needs at least one input"));
    }
    let mut acc = imp.req(node, 0)?;
    for i in 1..n {
        let b = imp.req(node, i)?;
        acc = match (&acc, &b) {
            (Val::C(x), Val::C(y)) => {
                let int = x.is_int() && y.is_int();
                let op_type = node.op_type().to_string();
                let c = fold(
                    x,
                    y,
                    if int {
                        x.elem
                    } else {
                        elem::FLOAT.max(x.elem.min(y.elem))
                    },
                    |a, b| {
                        let v = f(a, b);
                        if int { int_result(v, &op_type) } else { v }
                    },
                )?;
                Val::C(Rc::new(c))
            }
            _ => Val::T(imp.elementwise(op, &acc, &b)?),
        };
    }
    if let Val::C(c) = &acc
        && !c.is_int()
        && c.elem != elem::DOUBLE
    {
        // Folded float results are what an FP32 engine would compute.
        let c = Const::new(
            c.dims.clone(),
            c.values.iter().map(|&v| v as f32 as f64).collect(),
            c.elem,
        );
        return Ok(vec![Val::C(Rc::new(c))]);
    }
    if n == 1 {
        // A single-input Max/Min/Sum is a copy.
        let t = imp.tensor(&acc)?;
        return Ok(vec![Val::T(imp.layer(LayerKind::Identity, &[t])?)]);
    }
    Ok(vec![acc])
}

pub fn prelu(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let slope = imp.req(node, 1)?;
    let x = imp.tensor(&x)?;
    let rank = imp.net.tensors[x].shape.len();
    let s = imp.tensor(&slope)?;
    let s = imp.expand_rank(s, rank)?;
    Ok(vec![Val::T(imp.layer(LayerKind::ParametricRelu, &[x, s])?)])
}

pub fn clip(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let (lo, hi) = if imp.opset < 11 {
        let lo = has_attr(node, "min").then(|| {
            Val::C(Rc::new(Const::scalar(
                attr_f(node, "min", 0.0) as f64,
                elem::FLOAT,
            )))
        });
        let hi = has_attr(node, "max").then(|| {
            Val::C(Rc::new(Const::scalar(
                attr_f(node, "max", 0.0) as f64,
                elem::FLOAT,
            )))
        });
        (lo, hi)
    } else {
        (imp.input(node, 1)?, imp.input(node, 2)?)
    };
    let scalar = |v: &Option<Val>| match v {
        None => Some(None),
        Some(Val::C(c)) if c.values.len() == 1 => Some(Some(c.values[0] as f32)),
        _ => None,
    };
    if !imp.is_int(&x)
        && let (Some(l), Some(h)) = (scalar(&lo), scalar(&hi))
    {
        let t = imp.tensor(&x)?;
        let kind = LayerKind::Activation {
            kind: ActivationType::Clip,
            alpha: l.unwrap_or(f32::NEG_INFINITY),
            beta: h.unwrap_or(f32::INFINITY),
        };
        return Ok(vec![Val::T(imp.layer(kind, &[t])?)]);
    }
    // Bounds computed at run time: max(x, lo), then min(.., hi).
    let mut y = x;
    if let Some(lo) = lo {
        y = Val::T(imp.elementwise(ElementWiseOperation::Max, &y, &lo)?);
    }
    if let Some(hi) = hi {
        y = Val::T(imp.elementwise(ElementWiseOperation::Min, &y, &hi)?);
    }
    Ok(vec![y])
}
