//! Fully connected layer as one GEMM: `out[rows, N] = x[rows, K] · Wᵀ + bias`, with Wᵀ packed once.

use super::conv::bias_or_zero;
use super::gemm::{self, Bias, COut, MR};
use super::{In, Out, tasks};
use crate::error::Result;
use rayon::prelude::*;

pub struct Fc {
    /// Rows per batch item: the product of the dimensions before the last three.
    outer: usize,
    kdim: usize,
    nout: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Fc {
    pub fn new(nout: usize, kernel: &[f32], bias: &[f32], input: &[usize]) -> Result<Fc> {
        let keep = input.len().saturating_sub(3);
        let kdim: usize = input[keep..].iter().product();
        if kernel.len() != nout * kdim {
            crate::bail!(Network, "fully connected: {} weights, expected {}", kernel.len(), nout * kdim);
        }
        let mut weights = vec![0.0; gemm::packed_b_len(kdim, nout)];
        // B[p, j] = W[j, p]: the weights are stored one output per row.
        gemm::pack_b(&mut weights, kdim, nout, kernel, 1, kdim);
        Ok(Fc {
            outer: input[..keep].iter().product(),
            kdim,
            nout,
            weights,
            bias: bias_or_zero(bias, nout),
        })
    }

    /// Row panels per task, so that tasks own whole panels of A and whole rows of C.
    fn split(&self, rows: usize) -> usize {
        let panels = rows.div_ceil(MR);
        panels.div_ceil(tasks(panels))
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        gemm::packed_a_len(batch * self.outer, self.kdim)
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32]) {
        // A batch-invariant input gives batch-invariant rows: compute them once and copy.
        let rows = if x.batch == 1 { self.outer } else { batch * self.outer };
        let rows_per = self.split(rows) * MR;
        let (k, n) = (self.kdim, self.nout);
        y.data[..rows * n]
            .par_chunks_mut(rows_per * n)
            .zip(scratch.par_chunks_mut(rows_per * k))
            .enumerate()
            .for_each(|(t, (ys, a))| {
                let r0 = t * rows_per;
                let m = ys.len() / n;
                gemm::pack_a(a, m, k, &x.data[r0 * k..], k, 1);
                let c = COut { data: ys, rs: n, cs: 1 };
                gemm::gemm(m, n, k, a, &self.weights, c, Bias::Col(&self.bias));
            });
        if x.batch == 1 {
            for b in 1..batch {
                y.data.copy_within(..rows * n, b * rows * n);
            }
        }
    }
}
