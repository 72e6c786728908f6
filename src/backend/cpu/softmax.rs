//! Softmax along one axis, shifted by the maximum so that `exp` cannot overflow.

use super::par_rows;

pub struct Softmax {
    /// Per batch item: the product of the dimensions before the axis, the axis, and after it.
    outer: usize,
    n: usize,
    inner: usize,
}

impl Softmax {
    pub fn new(axes: u32, input: &[usize]) -> Softmax {
        let axis = (axes.trailing_zeros() as usize).min(input.len().saturating_sub(1));
        Softmax {
            outer: input[..axis].iter().product(),
            n: input.get(axis).copied().unwrap_or(1),
            inner: input[(axis + 1).min(input.len())..].iter().product(),
        }
    }

    pub fn run(&self, batch: usize, x: &[f32], x_batch: usize, y: &mut [f32]) {
        let (n, inner) = (self.n, self.inner);
        let len = n * inner;
        let items = if x_batch == 1 {
            self.outer
        } else {
            batch * self.outer
        };
        par_rows(y, batch * self.outer, len, |r, out| {
            let src = &x[(r % items) * len..][..len];
            for i in 0..inner {
                let max = (0..n)
                    .map(|j| src[j * inner + i])
                    .fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for j in 0..n {
                    let e = (src[j * inner + i] - max).exp();
                    out[j * inner + i] = e;
                    sum += e;
                }
                for j in 0..n {
                    out[j * inner + i] /= sum;
                }
            }
        });
    }
}
