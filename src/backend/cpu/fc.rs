//! Fully connected layer as one GEMM: `out[rows, N] = x[rows, K] · Wᵀ + bias`, with Wᵀ packed once.

use super::activation::relu_in_place;
use super::conv::bias_or_zero;
use super::gemm::{self, Bias, COut, MR, NR};
use super::{In, Out, tasks, tasks_for};
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
            crate::bail!(
                Network,
                "fully connected: {} weights, expected {}",
                kernel.len(),
                nout * kdim
            );
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

    /// Threads take whole panels of rows.
    fn rows(&self, rows: usize, x: &[f32], y: &mut [f32], scratch: &mut [f32], relu: bool) {
        let rows_per = self.split(rows) * MR;
        let (k, n) = (self.kdim, self.nout);
        y.par_chunks_mut(rows_per * n)
            .zip(scratch.par_chunks_mut(rows_per * k))
            .enumerate()
            .for_each(|(t, (ys, a))| {
                let m = ys.len() / n;
                gemm::pack_a(a, m, k, &x[t * rows_per * k..], k, 1);
                let c = COut {
                    data: ys,
                    rs: n,
                    cs: 1,
                };
                gemm::gemm(m, n, k, a, &self.weights, c, Bias::Col(&self.bias));
                if relu {
                    relu_in_place(ys);
                }
            });
    }

    /// A single row (batch 1) has no rows to share out: threads take column panels instead.
    fn one_row(&self, x: &[f32], y: &mut [f32], a: &mut [f32], relu: bool) {
        let (k, n) = (self.kdim, self.nout);
        gemm::pack_a(a, 1, k, x, k, 1);
        let panels = n.div_ceil(NR);
        let cols_per = panels.div_ceil(tasks_for(panels, n * k)) * NR;
        let a = &a[..gemm::packed_a_len(1, k)];
        y.par_chunks_mut(cols_per).enumerate().for_each(|(i, ys)| {
            let c0 = i * cols_per;
            let c = COut {
                data: ys,
                rs: n,
                cs: 1,
            };
            gemm::gemm(
                1,
                c.data.len(),
                k,
                a,
                &self.weights[c0 * k..],
                c,
                Bias::Col(&self.bias[c0..]),
            );
            if relu {
                relu_in_place(ys);
            }
        });
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        gemm::packed_a_len(batch * self.outer, self.kdim)
    }

    /// `relu`: a following ReLU fused in (see `CpuLayer::run_fused`).
    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32], relu: bool) {
        // A batch-invariant input gives batch-invariant rows: compute them once and copy.
        let rows = if x.batch == 1 {
            self.outer
        } else {
            batch * self.outer
        };
        if rows == 1 {
            self.one_row(x.data, &mut y.data[..self.nout], scratch, relu);
        } else {
            self.rows(rows, x.data, &mut y.data[..rows * self.nout], scratch, relu);
        }
        if x.batch == 1 {
            for b in 1..batch {
                y.data.copy_within(..rows * self.nout, b * rows * self.nout);
            }
        }
    }
}
