//! Transposed convolution as GEMM + col2im: per batch item and group,
//! `col[Kg·kh·kw, H·W] = Wᵀ · x`, then every column entry is added to the output pixel it feeds.

use super::conv::bias_or_zero;
use super::gemm::{self, Bias, COut};
use super::{In, Out, tasks};
use crate::error::Result;
use crate::network::ConvParams;
use crate::network::shape::conv_geometry;
use rayon::prelude::*;

pub struct Deconv {
    outer: usize,
    c: usize,
    hw: [usize; 2],
    k: usize,
    out: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    /// Each group's `Wᵀ` (`Kg·kh·kw x C/groups`) packed as a GEMM A operand.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Deconv {
    pub fn new(p: &ConvParams, input: &[usize]) -> Result<Deconv> {
        let n = input.len();
        if n < 3 {
            crate::bail!(
                Network,
                "deconvolution input {input:?} needs at least 3 dimensions"
            );
        }
        let (c, hw) = (input[n - 3], [input[n - 2], input[n - 1]]);
        let g = conv_geometry(p, hw, true).map_err(crate::error::Error::Network)?;
        let (k, groups) = (p.nb_output_maps, p.groups);
        if groups == 0 || c % groups != 0 || k % groups != 0 {
            crate::bail!(
                Network,
                "deconvolution: {c} channels and {k} maps do not split into {groups} groups"
            );
        }
        let (cg, rows) = (c / groups, k / groups * p.kernel[0] * p.kernel[1]);
        if p.kernel_weights.len() != c * rows {
            crate::bail!(
                Network,
                "deconvolution: {} weights, expected {}",
                p.kernel_weights.len(),
                c * rows
            );
        }
        let glen = gemm::packed_a_len(rows, cg);
        let mut weights = vec![0.0; glen * groups];
        for (gi, dst) in weights.chunks_exact_mut(glen).enumerate() {
            // Weights are [C, Kg, kh, kw]: element (row, c) of Wᵀ is at c * rows + row.
            gemm::pack_a(
                dst,
                rows,
                cg,
                &p.kernel_weights.values[gi * cg * rows..],
                1,
                rows,
            );
        }
        Ok(Deconv {
            outer: input[..n - 3].iter().product(),
            c,
            hw,
            k,
            out: [g[0].out, g[1].out],
            kernel: p.kernel,
            stride: p.stride,
            pre: [g[0].pre, g[1].pre],
            dilation: p.dilation,
            groups,
            weights,
            bias: bias_or_zero(&p.bias.values, k),
        })
    }

    fn rows(&self) -> usize {
        self.k / self.groups * self.kernel[0] * self.kernel[1]
    }

    /// Packed input plus the column matrix, per task.
    fn task_len(&self) -> usize {
        let p = self.hw[0] * self.hw[1];
        gemm::packed_b_len(self.c / self.groups, p) + self.rows() * p
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.outer) * self.task_len()
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32]) {
        let items = batch * self.outer;
        let (isz, osz) = (
            self.c * self.hw[0] * self.hw[1],
            self.k * self.out[0] * self.out[1],
        );
        let per = items.div_ceil(tasks(items));
        y.data[..items * osz]
            .par_chunks_mut(per * osz)
            .zip(scratch.par_chunks_mut(self.task_len()))
            .enumerate()
            .for_each(|(t, (ys, sc))| {
                for (i, yi) in ys.chunks_exact_mut(osz).enumerate() {
                    self.one(x.item_of(t * per + i, self.outer, isz), yi, sc);
                }
            });
    }

    fn one(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32]) {
        let p = self.hw[0] * self.hw[1];
        let (cg, kg, rows) = (self.c / self.groups, self.k / self.groups, self.rows());
        let (packed, col) = scratch.split_at_mut(gemm::packed_b_len(cg, p));
        let glen = gemm::packed_a_len(rows, cg);
        let plane = self.out[0] * self.out[1];
        for (ko, out) in y.chunks_exact_mut(plane).enumerate() {
            out.fill(self.bias[ko]);
        }
        for g in 0..self.groups {
            gemm::pack_b(packed, cg, p, &x[g * cg * p..], p, 1);
            let c = COut {
                data: col,
                rs: p,
                cs: 1,
            };
            gemm::gemm(
                rows,
                p,
                cg,
                &self.weights[g * glen..][..glen],
                packed,
                c,
                Bias::None,
            );
            self.col2im(col, &mut y[g * kg * plane..][..kg * plane]);
        }
    }

    fn col2im(&self, col: &[f32], y: &mut [f32]) {
        let ([h, w], [oh, ow]) = (self.hw, self.out);
        let [kh, kw] = self.kernel;
        let (kg, p) = (self.k / self.groups, h * w);
        for kl in 0..kg {
            let out = &mut y[kl * oh * ow..][..oh * ow];
            for ky in 0..kh {
                for kx in 0..kw {
                    let src = &col[((kl * kh + ky) * kw + kx) * p..][..p];
                    for iy in 0..h {
                        let oy =
                            (iy * self.stride[0] + ky * self.dilation[0]).wrapping_sub(self.pre[0]);
                        if oy >= oh {
                            continue;
                        }
                        for ix in 0..w {
                            let ox = (ix * self.stride[1] + kx * self.dilation[1])
                                .wrapping_sub(self.pre[1]);
                            if ox < ow {
                                out[oy * ow + ox] += src[iy * w + ix];
                            }
                        }
                    }
                }
            }
        }
    }
}
