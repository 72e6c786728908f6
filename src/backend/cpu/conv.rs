//! Convolution as im2col + GEMM: per batch item and group, `out[Kg, P] = W[Kg, Cg·kh·kw] · col`,
//! where im2col writes `col` directly in the GEMM's packed-B layout so it is copied only once.

use super::gemm::{self, Bias, COut, NR};
use super::{In, Out, tasks};
use crate::error::Result;
use crate::network::ConvParams;
use crate::network::shape::conv_geometry;
use rayon::prelude::*;

type Gemm = fn(usize, usize, usize, &[f32], &[f32], COut, Bias);

pub struct Conv {
    /// Items per batch item: the product of the dimensions before C.
    outer: usize,
    c: usize,
    hw: [usize; 2],
    k: usize,
    out: [usize; 2],
    kernel: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    /// Rows of one group's im2col matrix: `C/groups · kh · kw`.
    kdim: usize,
    /// Each group's weights packed as GEMM A operands, one after the other.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Input position of each output position's window origin, `(y, x)`, in wrapping
    /// arithmetic (a window starting in the padding wraps to a huge value and reads as zero);
    /// padded up to whole GEMM panels with positions that are always outside.
    origins: Vec<(usize, usize)>,
}

impl Conv {
    pub fn new(p: &ConvParams, input: &[usize]) -> Result<Conv> {
        let n = input.len();
        if n < 3 {
            crate::bail!(
                Network,
                "convolution input {input:?} needs at least 3 dimensions"
            );
        }
        let (c, hw) = (input[n - 3], [input[n - 2], input[n - 1]]);
        let g = conv_geometry(p, hw, false).map_err(crate::error::Error::Network)?;
        let (k, groups) = (p.nb_output_maps, p.groups);
        if groups == 0 || c % groups != 0 || k % groups != 0 {
            crate::bail!(
                Network,
                "convolution: {c} channels and {k} maps do not split into {groups} groups"
            );
        }
        let kdim = c / groups * p.kernel[0] * p.kernel[1];
        let kg = k / groups;
        if p.kernel_weights.len() != k * kdim {
            crate::bail!(
                Network,
                "convolution: {} weights, expected {}",
                p.kernel_weights.len(),
                k * kdim
            );
        }
        let glen = gemm::packed_a_len(kg, kdim);
        let mut weights = vec![0.0; glen * groups];
        for (gi, dst) in weights.chunks_exact_mut(glen).enumerate() {
            gemm::pack_a(
                dst,
                kg,
                kdim,
                &p.kernel_weights.values[gi * kg * kdim..],
                kdim,
                1,
            );
        }
        let (pre, out) = ([g[0].pre, g[1].pre], [g[0].out, g[1].out]);
        let outside = (usize::MAX / 2, usize::MAX / 2);
        let mut origins = vec![outside; (out[0] * out[1]).div_ceil(NR) * NR];
        for (i, o) in origins.iter_mut().take(out[0] * out[1]).enumerate() {
            let (oy, ox) = (i / out[1], i % out[1]);
            *o = (
                (oy * p.stride[0]).wrapping_sub(pre[0]),
                (ox * p.stride[1]).wrapping_sub(pre[1]),
            );
        }
        Ok(Conv {
            outer: input[..n - 3].iter().product(),
            c,
            hw,
            k,
            out,
            kernel: p.kernel,
            dilation: p.dilation,
            groups,
            kdim,
            weights,
            bias: bias_or_zero(&p.bias.values, k),
            origins,
        })
    }

    fn col_len(&self) -> usize {
        gemm::packed_b_len(self.kdim, self.out[0] * self.out[1])
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.outer) * self.col_len()
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32]) {
        let items = batch * self.outer;
        let (isz, osz) = (
            self.c * self.hw[0] * self.hw[1],
            self.k * self.out[0] * self.out[1],
        );
        let col_len = self.col_len();
        if items < rayon::current_num_threads() {
            // Too few items to go around: threads share each item's GEMM instead.
            for (item, yi) in y.data[..items * osz].chunks_exact_mut(osz).enumerate() {
                self.one(
                    x.item_of(item, self.outer, isz),
                    yi,
                    &mut scratch[..col_len],
                    gemm::gemm_par,
                );
            }
            return;
        }
        let per = items.div_ceil(tasks(items));
        y.data[..items * osz]
            .par_chunks_mut(per * osz)
            .zip(scratch.par_chunks_mut(col_len))
            .enumerate()
            .for_each(|(t, (ys, col))| {
                for (i, yi) in ys.chunks_exact_mut(osz).enumerate() {
                    let item = t * per + i;
                    let xi = x.item_of(item, self.outer, isz);
                    self.one(xi, yi, col, gemm::gemm);
                }
            });
    }

    fn one(&self, x: &[f32], y: &mut [f32], col: &mut [f32], gemm: Gemm) {
        let (kg, p) = (self.k / self.groups, self.out[0] * self.out[1]);
        let glen = gemm::packed_a_len(kg, self.kdim);
        for g in 0..self.groups {
            self.im2col(x, g, col);
            let c = COut {
                data: &mut y[g * kg * p..],
                rs: p,
                cs: 1,
            };
            let w = &self.weights[g * glen..][..glen];
            gemm(kg, p, self.kdim, w, col, c, Bias::Row(&self.bias[g * kg..]));
        }
    }

    /// Writes group `g`'s im2col matrix (`kdim x P`) into `col` in packed-B layout, one panel
    /// of `NR` output positions at a time so that the writes are sequential.
    fn im2col(&self, x: &[f32], g: usize, col: &mut [f32]) {
        let [h, w] = self.hw;
        let [kh, kw] = self.kernel;
        let [dh, dw] = self.dilation;
        let cg = self.c / self.groups;
        for (panel, pos) in col[..self.col_len()]
            .chunks_exact_mut(NR * self.kdim)
            .zip(self.origins.chunks_exact(NR))
        {
            let mut rows = panel.chunks_exact_mut(NR);
            for ci in 0..cg {
                let plane = &x[(g * cg + ci) * h * w..][..h * w];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let Some(row) = rows.next() else { return };
                        for (o, &(y0, x0)) in row.iter_mut().zip(pos) {
                            let (iy, ix) = (y0.wrapping_add(ky * dh), x0.wrapping_add(kx * dw));
                            *o = if iy < h && ix < w {
                                plane[iy * w + ix]
                            } else {
                                0.0
                            };
                        }
                    }
                }
            }
        }
    }
}

pub fn bias_or_zero(bias: &[f32], n: usize) -> Vec<f32> {
    if bias.is_empty() {
        vec![0.0; n]
    } else {
        bias.to_vec()
    }
}
