//! The twelve activation functions of `IActivationLayer`, each with its alpha and beta.

use super::par_map;
use crate::types::ActivationType;

pub fn run(kind: ActivationType, alpha: f32, beta: f32, x: &[f32], y: &mut [f32]) {
    // One monomorphized loop per function keeps the common ones (ReLU) vectorized.
    match kind {
        ActivationType::Relu => par_map(x, y, |v| v.max(0.0)),
        ActivationType::Sigmoid => par_map(x, y, sigmoid),
        ActivationType::Tanh => par_map(x, y, f32::tanh),
        ActivationType::LeakyRelu => par_map(x, y, |v| if v >= 0.0 { v } else { alpha * v }),
        ActivationType::Elu => par_map(x, y, |v| if v >= 0.0 { v } else { alpha * v.exp_m1() }),
        ActivationType::Selu => par_map(x, y, |v| {
            if v > 0.0 {
                beta * v
            } else {
                beta * alpha * v.exp_m1()
            }
        }),
        ActivationType::Softsign => par_map(x, y, |v| v / (1.0 + v.abs())),
        ActivationType::Softplus => par_map(x, y, |v| alpha * softplus(beta * v)),
        ActivationType::Clip => par_map(x, y, |v| alpha.max(beta.min(v))),
        ActivationType::HardSigmoid => par_map(x, y, |v| (alpha * v + beta).clamp(0.0, 1.0)),
        ActivationType::ScaledTanh => par_map(x, y, |v| alpha * (beta * v).tanh()),
        ActivationType::ThresholdedRelu => par_map(x, y, |v| if v > alpha { v } else { 0.0 }),
    }
}

/// A ReLU fused into the layer that wrote `y` (applied while `y` is still in cache).
pub fn relu_in_place(y: &mut [f32]) {
    for v in y {
        *v = v.max(0.0);
    }
}

pub fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// `ln(1 + e^v)` without overflowing for large `v`.
fn softplus(v: f32) -> f32 {
    v.max(0.0) + (-v.abs()).exp().ln_1p()
}
