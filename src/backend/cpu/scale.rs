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
            } else {
                out.iter_mut()
                    .zip(src)
                    .for_each(|(o, &v)| *o = (v * a + b).powf(p));
            }
        });
    }
}
