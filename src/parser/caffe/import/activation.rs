//! Element-wise activations. ReLU, PReLU, Sigmoid, TanH, ELU, AbsVal, BNLL, Clip and Power map as in
//! TensorRT's parser; Exp, Log and Threshold are compositions of Scale, Activation and Unary layers.

use super::super::weights::Fill;
use super::Ctx;
use crate::error::Result;
use crate::network::{LayerKind, TensorId};
use crate::types::{ActivationType, ScaleMode, UnaryOperation, Weights};

fn activation(cx: &mut Ctx, kind: ActivationType, alpha: f32, beta: f32) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    Ok(vec![cx.add(
        LayerKind::Activation { kind, alpha, beta },
        &[cx.input(0)],
    )?])
}

pub(super) fn relu(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    let slope = cx
        .layer
        .relu_param
        .as_ref()
        .map_or(0.0, |p| p.negative_slope());
    if slope == 0.0 {
        activation(cx, ActivationType::Relu, 0.0, 0.0)
    } else {
        activation(cx, ActivationType::LeakyRelu, slope, 0.0)
    }
}

pub(super) fn sigmoid(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    activation(cx, ActivationType::Sigmoid, 0.0, 0.0)
}

pub(super) fn tanh(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    activation(cx, ActivationType::Tanh, 0.0, 0.0)
}

pub(super) fn elu(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    let alpha = cx.layer.elu_param.as_ref().map_or(1.0, |p| p.alpha());
    activation(cx, ActivationType::Elu, alpha, 0.0)
}

/// log(1 + e^x) is TensorRT's softplus with alpha = beta = 1.
pub(super) fn bnll(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    activation(cx, ActivationType::Softplus, 1.0, 1.0)
}

pub(super) fn clip(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    let p = cx
        .layer
        .clip_param
        .ok_or_else(|| cx.error("clip_param (min, max) is missing"))?;
    activation(cx, ActivationType::Clip, p.min, p.max)
}

pub(super) fn absval(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    Ok(vec![cx.add(
        LayerKind::Unary {
            op: UnaryOperation::Abs,
        },
        &[cx.input(0)],
    )?])
}

/// Slopes become a constant of shape [C, 1, ...] (or all ones when shared) feeding ParametricReLU.
pub(super) fn prelu(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let shape = cx.shape(0);
    let shared = cx
        .layer
        .prelu_param
        .as_ref()
        .is_some_and(|p| p.channel_shared());
    let channels = *shape
        .first()
        .ok_or_else(|| cx.error("needs an input with channels"))?;
    let n = if shared { 1 } else { channels };
    let slopes = cx.blob(0, "slopes", n, Fill::Uniform(0.0, 1.0))?;
    let mut dims = vec![1; shape.len()];
    dims[0] = n;
    let c = cx.add_part(
        "slopes",
        LayerKind::Constant {
            dims,
            weights: slopes,
        },
        &[],
    )?;
    Ok(vec![cx.add(LayerKind::ParametricRelu, &[cx.input(0), c])?])
}

/// `(shift + scale * x) ^ power` as one uniform Scale, as TensorRT's `parsePower`.
pub(super) fn power(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.power_param.unwrap_or_default();
    let kind = uniform_scale(cx, p.shift(), p.scale(), p.power());
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

fn uniform_scale(cx: &Ctx, shift: f32, scale: f32, power: f32) -> LayerKind {
    LayerKind::Scale {
        mode: ScaleMode::Uniform,
        shift: cx.values(vec![shift]),
        scale: cx.values(vec![scale]),
        power: cx.values(vec![power]),
    }
}

/// Natural logarithm of a Caffe `base` (-1 means e); the base must be positive.
fn ln_base(cx: &Ctx, base: f32) -> Result<f32> {
    match base {
        -1.0 => Ok(1.0),
        b if b > 0.0 => Ok(b.ln()),
        b => Err(cx.error(format!("base {b} must be positive or -1 (e)"))),
    }
}

/// `base ^ (shift + scale * x)` = `exp(ln(base) * shift + ln(base) * scale * x)`.
pub(super) fn exp(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.exp_param.unwrap_or_default();
    let ln_b = ln_base(cx, p.base())?;
    let (shift, scale) = (ln_b * p.shift(), ln_b * p.scale());
    let mut x = cx.input(0);
    if shift != 0.0 || scale != 1.0 {
        x = cx.add_part("scale", uniform_scale(cx, shift, scale, 1.0), &[x])?;
    }
    Ok(vec![cx.add(
        LayerKind::Unary {
            op: UnaryOperation::Exp,
        },
        &[x],
    )?])
}

/// `log_base(shift + scale * x)` = `ln(shift + scale * x) / ln(base)`.
pub(super) fn log(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.log_param.unwrap_or_default();
    let ln_b = ln_base(cx, p.base())?;
    let mut x = cx.input(0);
    if p.shift() != 0.0 || p.scale() != 1.0 {
        x = cx.add_part("scale", uniform_scale(cx, p.shift(), p.scale(), 1.0), &[x])?;
    }
    if ln_b == 1.0 {
        return Ok(vec![cx.add(
            LayerKind::Unary {
                op: UnaryOperation::Log,
            },
            &[x],
        )?]);
    }
    let l = cx.add_part(
        "log",
        LayerKind::Unary {
            op: UnaryOperation::Log,
        },
        &[x],
    )?;
    Ok(vec![cx.add(uniform_scale(cx, 0.0, 1.0 / ln_b, 1.0), &[l])?])
}

/// `x > t ? 1 : 0` = `ceil(clip(x - t, 0, 1))`: x - t of distinct floats is never 0, so any x above
/// t gives a positive value that ceil lifts to 1.
pub(super) fn threshold(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let t = cx
        .layer
        .threshold_param
        .as_ref()
        .map_or(0.0, |p| p.threshold());
    let shifted = cx.add_part(
        "shift",
        LayerKind::Scale {
            mode: ScaleMode::Uniform,
            shift: cx.values(vec![-t]),
            scale: Weights::empty(),
            power: Weights::empty(),
        },
        &[cx.input(0)],
    )?;
    let clipped = cx.add_part(
        "clip",
        LayerKind::Activation {
            kind: ActivationType::Clip,
            alpha: 0.0,
            beta: 1.0,
        },
        &[shifted],
    )?;
    Ok(vec![cx.add(
        LayerKind::Unary {
            op: UnaryOperation::Ceil,
        },
        &[clipped],
    )?])
}
