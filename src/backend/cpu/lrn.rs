//! Cross-channel local response normalization:
//! `y = x / (k + alpha / window · Σ x²)^beta`, the sum over a window of channels centred on the
//! channel and clipped at the first and last channel.

use super::{In, Out, par_rows};

pub struct Lrn {
    outer: usize,
    c: usize,
    plane: usize,
    window: usize,
    alpha: f32,
    beta: f32,
    k: f32,
}

impl Lrn {
    pub fn new(window: usize, alpha: f32, beta: f32, k: f32, input: &[usize]) -> Lrn {
        let n = input.len();
        Lrn {
            outer: input[..n - 3].iter().product(),
            c: input[n - 3],
            plane: input[n - 2] * input[n - 1],
            window,
            alpha,
            beta,
            k,
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        let (c, plane, half) = (self.c, self.plane, self.window / 2);
        let scale = self.alpha / self.window as f32;
        par_rows(y.data, batch * self.outer, c * plane, |item, out| {
            let src = x.item_of(item, self.outer, c * plane);
            for ch in 0..c {
                let (lo, hi) = (ch.saturating_sub(half), (ch + half + 1).min(c));
                for i in 0..plane {
                    let sum: f32 = (lo..hi)
                        .map(|j| src[j * plane + i] * src[j * plane + i])
                        .sum();
                    out[ch * plane + i] =
                        src[ch * plane + i] / (self.k + scale * sum).powf(self.beta);
                }
            }
        });
    }
}
