//! `IUnaryLayer` operations.

use super::par_map;
use crate::types::UnaryOperation;

pub fn run(op: UnaryOperation, x: &[f32], y: &mut [f32]) {
    use UnaryOperation::*;
    match op {
        Exp => par_map(x, y, f32::exp),
        Log => par_map(x, y, f32::ln),
        Sqrt => par_map(x, y, f32::sqrt),
        Recip => par_map(x, y, f32::recip),
        Abs => par_map(x, y, f32::abs),
        Neg => par_map(x, y, |v| -v),
        Sin => par_map(x, y, f32::sin),
        Cos => par_map(x, y, f32::cos),
        Tan => par_map(x, y, f32::tan),
        Sinh => par_map(x, y, f32::sinh),
        Cosh => par_map(x, y, f32::cosh),
        Asin => par_map(x, y, f32::asin),
        Acos => par_map(x, y, f32::acos),
        Atan => par_map(x, y, f32::atan),
        Asinh => par_map(x, y, f32::asinh),
        Acosh => par_map(x, y, f32::acosh),
        Atanh => par_map(x, y, f32::atanh),
        Ceil => par_map(x, y, f32::ceil),
        Floor => par_map(x, y, f32::floor),
        Erf => par_map(x, y, erf),
    }
}

/// The error function (std's is unstable): the Maclaurin series in f64, exact to f32 precision
/// where erf is not yet 1 in f32 (beyond |x| = 4 it is).
fn erf(x: f32) -> f32 {
    let v = x as f64;
    if v.abs() >= 4.0 {
        return x.signum();
    }
    let (x2, mut term, mut sum) = (v * v, v, v);
    for n in 1..100 {
        term *= -x2 / n as f64;
        let t = term / (2 * n + 1) as f64;
        sum += t;
        if t.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    (sum * std::f64::consts::FRAC_2_SQRT_PI) as f32
}
