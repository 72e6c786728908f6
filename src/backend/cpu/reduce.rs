//! Reductions over a mask of non-batch axes.

use super::strided::MAX_DIMS;
use super::{In, Out};
use crate::types::ReduceOperation;

pub struct Reduce {
    op: ReduceOperation,
    input: Vec<usize>,
    /// Output stride of each input dimension, 0 along reduced axes.
    out_strides: Vec<usize>,
    out_volume: usize,
    count: usize,
}

impl Reduce {
    pub fn new(op: ReduceOperation, axes: u32, input: &[usize]) -> Reduce {
        let mut out_strides = vec![0; input.len()];
        let mut step = 1;
        for d in (0..input.len()).rev() {
            if axes >> d & 1 == 0 {
                out_strides[d] = step;
                step *= input[d];
            }
        }
        let count = (0..input.len())
            .filter(|d| axes >> d & 1 == 1)
            .map(|d| input[d])
            .product();
        Reduce {
            op,
            input: input.to_vec(),
            out_strides,
            out_volume: step,
            count,
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        use ReduceOperation::*;
        let init = match self.op {
            Sum | Avg => 0.0,
            Prod => 1.0,
            Max => f32::NEG_INFINITY,
            Min => f32::INFINITY,
        };
        let v: usize = self.input.iter().product();
        let r = self.input.len();
        for b in 0..batch {
            let src = x.item_of(b, 1, v);
            let out = &mut y.data[b * self.out_volume..][..self.out_volume];
            out.fill(init);
            let mut idx = [0usize; MAX_DIMS];
            for &val in src {
                let o: usize = idx.iter().zip(&self.out_strides).map(|(i, s)| i * s).sum();
                let acc = &mut out[o];
                *acc = match self.op {
                    Sum | Avg => *acc + val,
                    Prod => *acc * val,
                    Max => acc.max(val),
                    Min => acc.min(val),
                };
                for d in (0..r).rev() {
                    idx[d] += 1;
                    if idx[d] < self.input[d] {
                        break;
                    }
                    idx[d] = 0;
                }
            }
            if self.op == Avg {
                out.iter_mut().for_each(|o| *o /= self.count as f32);
            }
        }
    }
}
