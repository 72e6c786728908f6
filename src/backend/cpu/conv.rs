//! Convolution as im2col + GEMM: per batch item and group, `out[Kg, P] = W[Kg, Cg·kh·kw] · col`,
//! where im2col (see `im2col.rs`) writes `col` directly in the GEMM's packed-B layout.

use super::activation::relu_in_place;
use super::gemm::{self, Bias, COut, NR};
use super::im2col::Geometry;
use super::{In, Out, tasks};
use crate::error::Result;
use crate::network::ConvParams;
use rayon::prelude::*;

type Gemm = fn(usize, usize, usize, &[f32], &[f32], COut, Bias);

pub struct Conv {
    /// Items per batch item: the product of the dimensions before C.
    outer: usize,
    geo: Geometry,
    /// Each group's weights packed as GEMM A operands, one after the other.
    weights: Vec<f32>,
    bias: Vec<f32>,
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
        let geo = Geometry::new(p, input[n - 3], [input[n - 2], input[n - 1]], NR)?;
        let (kdim, kg) = (geo.kdim, geo.k / geo.groups);
        let glen = gemm::packed_a_len(kg, kdim);
        let mut weights = vec![0.0; glen * geo.groups];
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
        Ok(Conv {
            outer: input[..n - 3].iter().product(),
            bias: bias_or_zero(&p.bias.values, geo.k),
            geo,
            weights,
        })
    }

    /// im2col matrix, then the padded input when there is one.
    fn col_len(&self) -> usize {
        let pad = if self.geo.padded {
            self.geo.plane_len()
        } else {
            0
        };
        gemm::packed_b_len(self.geo.kdim, self.geo.positions()) + pad
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.outer) * self.col_len()
    }

    /// `relu`: a following ReLU fused in (see `CpuLayer::run_fused`).
    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32], relu: bool) {
        let items = batch * self.outer;
        let g = &self.geo;
        let (isz, osz) = (g.c * g.hw[0] * g.hw[1], g.k * g.positions());
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
                if relu {
                    relu_in_place(yi);
                }
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
                    if relu {
                        relu_in_place(yi);
                    }
                }
            });
    }

    fn one(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], gemm: Gemm) {
        let g = &self.geo;
        let (kg, p) = (g.k / g.groups, g.positions());
        let glen = gemm::packed_a_len(kg, g.kdim);
        let (col, pad) = scratch.split_at_mut(gemm::packed_b_len(g.kdim, p));
        let plane = if g.padded {
            g.fill_plane(x, pad, |v| v);
            &*pad
        } else {
            x
        };
        for gi in 0..g.groups {
            g.im2col(g.group_plane(plane, gi), col, NR);
            let c = COut {
                data: &mut y[gi * kg * p..],
                rs: p,
                cs: 1,
            };
            let w = &self.weights[gi * glen..][..glen];
            gemm(kg, p, g.kdim, w, col, c, Bias::Row(&self.bias[gi * kg..]));
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
