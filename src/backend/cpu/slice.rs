//! Slice: `start + i · stride` in every non-batch dimension; negative strides walk backwards.

use super::strided::{Plan, strides};
use super::{In, Out};

pub struct Slice {
    volume: usize,
    plan: Plan,
    base: usize,
}

impl Slice {
    pub fn new(start: &[i64], size: &[usize], stride: &[i64], input: &[usize]) -> Slice {
        let s = strides(input);
        Slice {
            volume: input.iter().product(),
            plan: Plan {
                dims: size.to_vec(),
                strides: s
                    .iter()
                    .zip(stride)
                    .map(|(&a, &b)| a * b as isize)
                    .collect(),
            },
            base: s
                .iter()
                .zip(start)
                .map(|(&a, &b)| a as usize * b as usize)
                .sum(),
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        let n: usize = self.plan.dims.iter().product();
        for (b, dst) in y.data[..batch * n].chunks_exact_mut(n).enumerate() {
            self.plan
                .gather(self.base, x.item_of(b, 1, self.volume), dst);
        }
    }
}
