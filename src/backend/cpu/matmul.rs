//! Batched matrix multiply: each operand may be transposed or a vector, and leading dimensions of
//! 1 (or missing, or a batch-invariant batch) broadcast.

use super::gemm::{self, Bias, COut};
use super::{In, Out, tasks};
use crate::network::matmul::{MatmulGeometry, MatmulOperand};
use crate::types::MatrixOperation;
use rayon::prelude::*;

pub struct MatMul {
    geo: MatmulGeometry,
}

/// Offset of `op`'s matrix (of `size` values) for output lead index `l` (in `lead`) of batch
/// item `batch`.
fn offset(
    op: &MatmulOperand,
    size: usize,
    x: &In,
    batch: usize,
    mut l: usize,
    lead: &[usize],
) -> usize {
    let (mut at, mut step) = (0, 1);
    for d in (0..lead.len()).rev() {
        let i = l % lead[d];
        l /= lead[d];
        if op.lead[d] != 1 {
            at += i * step;
        }
        step *= op.lead[d];
    }
    let b = if x.batch == 1 { 0 } else { batch };
    (b * step + at) * size
}

impl MatMul {
    pub fn new(
        op0: MatrixOperation,
        op1: MatrixOperation,
        a: &[usize],
        b: &[usize],
        out: &[usize],
    ) -> MatMul {
        MatMul {
            geo: MatmulGeometry::new(op0, op1, a, b, out),
        }
    }

    fn task_len(&self) -> usize {
        let g = &self.geo;
        gemm::packed_a_len(g.m, g.k) + gemm::packed_b_len(g.k, g.n)
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.geo.lead.iter().product::<usize>()) * self.task_len()
    }

    pub fn run(&self, batch: usize, a: &In, b: &In, y: &mut Out, scratch: &mut [f32]) {
        let g = &self.geo;
        let (m, n, k) = (g.m, g.n, g.k);
        let per_item: usize = g.lead.iter().product();
        let count = batch * per_item;
        let per = count.div_ceil(tasks(count));
        y.data[..count * m * n]
            .par_chunks_mut(per * m * n)
            .zip(scratch.par_chunks_mut(self.task_len()))
            .enumerate()
            .for_each(|(t, (ys, sc))| {
                let (pa, pb) = sc.split_at_mut(gemm::packed_a_len(m, k));
                for (i, c) in ys.chunks_exact_mut(m * n).enumerate() {
                    let idx = t * per + i;
                    let (bi, l) = (idx / per_item, idx % per_item);
                    let ao = offset(&g.a, m * k, a, bi, l, &g.lead);
                    let bo = offset(&g.b, k * n, b, bi, l, &g.lead);
                    gemm::pack_a(pa, m, k, &a.data[ao..], g.a.rs, g.a.cs);
                    gemm::pack_b(pb, k, n, &b.data[bo..], g.b.rs, g.b.cs);
                    gemm::gemm(
                        m,
                        n,
                        k,
                        pa,
                        pb,
                        COut {
                            data: c,
                            rs: n,
                            cs: 1,
                        },
                        Bias::None,
                    );
                }
            });
    }
}
