//! Batched matrix multiply: each operand may be transposed or a vector, and leading dimensions of
//! 1 (or missing, or a batch-invariant batch) broadcast.

use super::gemm::{self, Bias, COut};
use super::{In, Out, tasks};
use crate::types::MatrixOperation;
use rayon::prelude::*;

/// One operand: where its matrices start and how element `(row, col)` is addressed.
struct Operand {
    lead: Vec<usize>,
    size: usize,
    rs: usize,
    cs: usize,
}

pub struct MatMul {
    m: usize,
    n: usize,
    k: usize,
    lead: Vec<usize>,
    a: Operand,
    b: Operand,
}

impl Operand {
    /// Offset of the matrix for output lead index `l` (in `lead`) of batch item `batch`.
    fn offset(&self, x: &In, batch: usize, mut l: usize, lead: &[usize]) -> usize {
        let (mut at, mut step) = (0, 1);
        for d in (0..lead.len()).rev() {
            let i = l % lead[d];
            l /= lead[d];
            if self.lead[d] != 1 {
                at += i * step;
            }
            step *= self.lead[d];
        }
        let b = if x.batch == 1 { 0 } else { batch };
        (b * step + at) * self.size
    }
}

impl MatMul {
    pub fn new(
        op0: MatrixOperation,
        op1: MatrixOperation,
        a: &[usize],
        b: &[usize],
        out: &[usize],
    ) -> MatMul {
        use MatrixOperation::*;
        let last = |s: &[usize], back: usize| s[s.len() - back];
        let (m, k) = match op0 {
            None => (last(a, 2), last(a, 1)),
            Transpose => (last(a, 1), last(a, 2)),
            Vector => (1, last(a, 1)),
        };
        let n = match op1 {
            None => last(b, 1),
            Transpose => last(b, 2),
            Vector => 1,
        };
        let mat_dims = |op| if op == Vector { 1 } else { 2 };
        let lead = out[..out.len() - (op0 != Vector) as usize - (op1 != Vector) as usize].to_vec();
        let operand_lead = |s: &[usize], op| {
            let l = &s[..s.len() - mat_dims(op)];
            if l.is_empty() {
                vec![1; lead.len()]
            } else {
                l.to_vec()
            }
        };
        let (a_rs, a_cs) = match op0 {
            None => (k, 1),
            Transpose => (1, m),
            Vector => (0, 1),
        };
        let (b_rs, b_cs) = match op1 {
            None => (n, 1),
            Transpose => (1, k),
            Vector => (1, 0),
        };
        MatMul {
            m,
            n,
            k,
            a: Operand {
                lead: operand_lead(a, op0),
                size: m * k,
                rs: a_rs,
                cs: a_cs,
            },
            b: Operand {
                lead: operand_lead(b, op1),
                size: k * n,
                rs: b_rs,
                cs: b_cs,
            },
            lead,
        }
    }

    fn task_len(&self) -> usize {
        gemm::packed_a_len(self.m, self.k) + gemm::packed_b_len(self.k, self.n)
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.lead.iter().product::<usize>()) * self.task_len()
    }

    pub fn run(&self, batch: usize, a: &In, b: &In, y: &mut Out, scratch: &mut [f32]) {
        let (m, n, k) = (self.m, self.n, self.k);
        let per_item: usize = self.lead.iter().product();
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
                    let ao = self.a.offset(a, bi, l, &self.lead);
                    let bo = self.b.offset(b, bi, l, &self.lead);
                    gemm::pack_a(pa, m, k, &a.data[ao..], self.a.rs, self.a.cs);
                    gemm::pack_b(pb, k, n, &b.data[bo..], self.b.rs, self.b.cs);
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
