//! INT8 fully connected layer: rows of the input quantized (or already INT8) and packed in depth
//! units (byte quads where AVX512-VNNI runs them, else pairs), the integer GEMM against the
//! per-output INT8 weights (packed once), and the epilogue of `conv_int8.rs` applied per column.

use super::igemm::{self, Dst, Epilogue, Format, MR, Role};
use super::quant::{Int8Gemm, WeightsQ, i8_view, i8_view_mut, i16_view_mut};
use super::{In, Out, tasks};
use crate::error::Result;
use rayon::prelude::*;

pub struct FcInt8 {
    /// Rows per batch item: the product of the dimensions before the last three.
    outer: usize,
    kdim: usize,
    nout: usize,
    mode: Int8Gemm,
    fmt: Format,
    weights: Vec<i16>,
    epilogue_mul: Vec<f32>,
    epilogue_add: Vec<f32>,
    /// Per output, the quads' zero point (empty for pairs).
    zero: Vec<i32>,
}

impl FcInt8 {
    pub fn new(
        nout: usize,
        kernel: &[f32],
        bias: &[f32],
        input: &[usize],
        mode: Int8Gemm,
    ) -> Result<FcInt8> {
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
        let q = WeightsQ::new(kernel, nout);
        let fmt = Format::current();
        let mut weights = vec![0; igemm::packed_b_len(kdim, nout, fmt)];
        // B[p, j] = W[j, p]: the weights are stored one output per row.
        igemm::pack_b(&mut weights, kdim, nout, fmt, Role::Weights, |p, j| {
            q.values[j * kdim + p] as i16
        });
        let zero = match fmt {
            Format::Pairs => Vec::new(),
            Format::Quads => igemm::zero_points(&q.values, nout),
        };
        let (epilogue_mul, epilogue_add) = mode.epilogue(&q.scales, bias);
        Ok(FcInt8 {
            outer: input[..keep].iter().product(),
            kdim,
            nout,
            mode,
            fmt,
            weights,
            epilogue_mul,
            epilogue_add,
            zero,
        })
    }

    /// Packed rows as `i16`: tasks round their rows up to whole panels, at most doubling them,
    /// and two `i16` fit in each `f32`.
    pub fn scratch_len(&self, batch: usize) -> usize {
        igemm::packed_a_len(batch * self.outer, self.kdim, self.fmt)
    }

    /// `relu`: a following ReLU fused into the epilogue (see `CpuLayer::run_fused`).
    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32], relu: bool) {
        // A batch-invariant input gives batch-invariant rows: compute them once and copy.
        let rows = if x.batch == 1 {
            self.outer
        } else {
            batch * self.outer
        };
        let (k, n) = (self.kdim, self.nout);
        let panels = rows.div_ceil(MR);
        let rows_per = panels.div_ceil(tasks(panels)) * MR;
        let (fmt, act) = (self.fmt, Role::Activations);
        let a_per = igemm::packed_a_len(rows_per, k, fmt);
        let scratch = i16_view_mut(scratch);
        let epi = Epilogue {
            per_row: false,
            mul: &self.epilogue_mul,
            add: &self.epilogue_add,
            relu,
            zero: &self.zero,
        };
        let run = |t: usize, dst: Dst, a: &mut [i16]| {
            let r0 = t * rows_per;
            let m = rows_per.min(rows - r0);
            if self.mode.input_int8 {
                let xs = &i8_view(x.data)[r0 * k..];
                igemm::pack_a(a, m, k, fmt, act, |i, p| xs[i * k + p] as i16);
            } else {
                let (xs, s) = (&x.data[r0 * k..], self.mode.input_scale);
                igemm::pack_a(a, m, k, fmt, act, |i, p| {
                    igemm::saturate(xs[i * k + p] / s) as i16
                });
            }
            let mut dst = dst;
            igemm::igemm(m, n, k, fmt, a, &self.weights, &epi, &mut dst, n);
        };
        let scratch = &mut scratch[..panels.div_ceil(rows_per / MR) * a_per];
        if self.mode.output_scale.is_some() {
            let out = i8_view_mut(y.data);
            out[..rows * n]
                .par_chunks_mut(rows_per * n)
                .zip(scratch.par_chunks_mut(a_per))
                .enumerate()
                .for_each(|(t, (ys, a))| run(t, Dst::I8(ys), a));
            if x.batch == 1 {
                for b in 1..batch {
                    out.copy_within(..rows * n, b * rows * n);
                }
            }
        } else {
            y.data[..rows * n]
                .par_chunks_mut(rows_per * n)
                .zip(scratch.par_chunks_mut(a_per))
                .enumerate()
                .for_each(|(t, (ys, a))| run(t, Dst::F32(ys), a));
            if x.batch == 1 {
                for b in 1..batch {
                    y.data.copy_within(..rows * n, b * rows * n);
                }
            }
        }
    }
}
