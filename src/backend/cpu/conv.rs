//! Convolution as im2col + GEMM: per batch item and group, `out[Kg, P] = W[Kg, Cg·kh·kw] · col`,
//! where im2col (see `im2col.rs`) writes `col` directly in the GEMM's packed-B layout; or, for a
//! shallow reduction, the direct kernel of `direct.rs`, which gives the same bits.

use super::activation::relu_in_place;
use super::direct::Direct;
use super::gemm::{self, Bias, COut, NR};
use super::igemm::Dst;
use super::im2col::Geometry;
use super::pool::{Pool, PoolValue};
use super::{Absorbed, In, Out, tasks, tasks_for};
use crate::error::Result;
use crate::network::ConvParams;
use rayon::prelude::*;

type Gemm = fn(usize, usize, usize, &[f32], &[f32], COut, Bias);

pub struct Conv {
    /// Items per batch item: the product of the dimensions before C.
    outer: usize,
    geo: Geometry,
    /// Each group's weights packed as GEMM A operands, one after the other (none when `direct`).
    weights: Vec<f32>,
    bias: Vec<f32>,
    direct: Option<Direct>,
    /// B read from the input plane itself, no im2col matrix (see [`gemm::Windows`]).
    windows: Option<Vec<[usize; 2]>>,
    /// The windows in the order of 2x2 pooling windows (see [`Geometry::pooled_windows`]).
    pooled: Option<Vec<[usize; 2]>>,
}

impl Conv {
    /// `direct`: whether the direct kernel may be chosen where it applies.
    pub fn new(p: &ConvParams, input: &[usize], direct: bool) -> Result<Conv> {
        let n = input.len();
        if n < 3 {
            crate::bail!(
                Network,
                "convolution input {input:?} needs at least 3 dimensions"
            );
        }
        let geo = Geometry::new(p, input[n - 3], [input[n - 2], input[n - 1]], NR)?;
        let outer = input[..n - 3].iter().product();
        let bias = bias_or_zero(&p.bias.values, geo.k);
        if direct && Direct::applies(p, &geo) {
            // The GEMM tile's accumulators start at `bias + 0` (its column term), which turns a
            // -0 bias into +0.
            let start: Vec<f32> = bias.iter().map(|&b| b + 0.0).collect();
            return Ok(Conv {
                outer,
                direct: Some(Direct::new(p, &geo, &p.kernel_weights.values, &start)),
                bias,
                geo,
                weights: Vec::new(),
                windows: None,
                pooled: None,
            });
        }
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
        let windows = gemm::fma_available().then(|| geo.windows(NR)).flatten();
        let pooled = windows.as_ref().and(geo.pooled_windows(geo.out[0] / 2));
        Ok(Conv {
            outer,
            bias,
            geo,
            weights,
            direct: None,
            windows,
            pooled,
        })
    }

    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The im2col matrix; the direct kernel and the windows have none.
    fn im2col_len(&self) -> usize {
        if self.direct.is_some() || self.windows.is_some() {
            0
        } else {
            gemm::packed_b_len(self.geo.kdim, self.geo.positions())
        }
    }

    /// im2col matrix, then the padded input when there is one.
    fn col_len(&self) -> usize {
        let pad = if self.geo.padded {
            self.geo.plane_len()
        } else {
            0
        };
        self.im2col_len() + pad
    }

    /// Per task: the im2col matrix (and padded input), then one item's output when a pooling
    /// layer is absorbed.
    fn task_len(&self) -> usize {
        self.col_len() + self.geo.k * self.geo.positions()
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.outer) * self.task_len()
    }

    /// `then`: the layers fused into this one (see `CpuLayer::run_fused`); `y` is the last one's
    /// output.
    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32], then: Absorbed) {
        let items = batch * self.outer;
        let g = &self.geo;
        let (isz, osz) = (g.c * g.hw[0] * g.hw[1], g.k * g.positions());
        let ysz = then.pool.map_or(osz, |p| g.k * p.plane_out());
        let (col_len, task_len) = (self.col_len(), self.task_len());
        // One item: convolved into `yi`, or into `tmp` and pooled into `yi`.
        let item = |xi: &[f32], yi: &mut [f32], task: &mut [f32], shared: bool| {
            // One thread per item, or an item too small to share (see `tasks_for`).
            let alone = !shared || tasks_for(g.k, g.k * g.positions() * g.kdim) == 1;
            if let Some(p) = then.pool.filter(|p| alone && self.pools_tiles(p)) {
                return self.one_pooled(xi, yi, task, then.relu, p);
            }
            let (col, tmp) = task.split_at_mut(col_len);
            let conv_out = if then.pool.is_some() {
                &mut tmp[..osz]
            } else {
                &mut *yi
            };
            self.one(xi, conv_out, col, shared);
            if then.relu {
                relu_in_place(conv_out);
            }
            if let Some(p) = then.pool {
                p.max_2x2_planes(&tmp[..osz], yi);
            }
        };
        if items < rayon::current_num_threads() {
            // Too few items to go around: threads share each item instead.
            for (i, yi) in y.data[..items * ysz].chunks_exact_mut(ysz).enumerate() {
                let xi = x.item_of(i, self.outer, isz);
                item(xi, yi, &mut scratch[..task_len], true);
            }
            return;
        }
        let per = items.div_ceil(tasks(items));
        y.data[..items * ysz]
            .par_chunks_mut(per * ysz)
            .zip(scratch.par_chunks_mut(task_len))
            .enumerate()
            .for_each(|(t, (ys, task))| {
                for (i, yi) in ys.chunks_exact_mut(ysz).enumerate() {
                    let xi = x.item_of(t * per + i, self.outer, isz);
                    item(xi, yi, task, false);
                }
            });
    }

    /// Whether the absorbed pooling `p` can run on each tile as it leaves the GEMM: 2x2 max
    /// pooling of output rows of runs of 8 read through windows, so that a tile's 16 columns are
    /// the two rows of 4 pooling windows.
    fn pools_tiles(&self, p: &Pool) -> bool {
        let [h, w] = self.geo.out;
        self.pooled.is_some() && p.is_max_2x2() && p.out() == [h / 2, w / 2]
    }

    /// One item through [`gemm::windows_tiles`] with the ReLU and the 2x2 max pooling applied
    /// to each tile: the unfused path's functions on the same values, so the same bits, without
    /// writing and reading back the convolution's output.
    fn one_pooled(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], relu: bool, pool: &Pool) {
        let g = &self.geo;
        let kg = g.k / g.groups;
        let plane = if g.padded {
            g.fill_plane(x, scratch, |v| v);
            &*scratch
        } else {
            x
        };
        let (glen, po) = (gemm::packed_a_len(kg, g.kdim), pool.plane_out());
        let halves = self.pooled.as_deref().unwrap_or_default();
        for gi in 0..g.groups {
            let b = gemm::Windows {
                plane: g.group_plane(plane, gi),
                rows: g.row_offsets(),
                halves,
            };
            let w = &self.weights[gi * glen..][..glen];
            let bias = &self.bias[gi * kg..][..kg];
            gemm::windows_tiles(
                kg,
                halves.len(),
                g.kdim,
                w,
                &b,
                bias,
                |r0, pj, tile, rows| {
                    for (i, t) in tile.chunks_exact_mut(NR).take(rows).enumerate() {
                        if relu {
                            relu_in_place(t);
                        }
                        let (top, bottom) = t.split_at(NR / 2);
                        let out = &mut y[(gi * kg + r0 + i) * po + pj * 4..][..4];
                        f32::max_2x2_row(top, bottom, out);
                    }
                },
            );
        }
    }

    /// One item; `shared`: the threads share it.
    fn one(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], shared: bool) {
        let g = &self.geo;
        let (kg, p) = (g.k / g.groups, g.positions());
        let (col, pad) = scratch.split_at_mut(self.im2col_len());
        let plane = if g.padded {
            g.fill_plane(x, pad, |v| v);
            &*pad
        } else {
            x
        };
        if let Some(d) = &self.direct {
            let t = if shared {
                tasks_for(g.k, g.k * p * g.kdim)
            } else {
                1
            };
            return d.run(plane, &mut Dst::F32(y), None, t);
        }
        let gemm: Gemm = if shared { gemm::gemm_par } else { gemm::gemm };
        let glen = gemm::packed_a_len(kg, g.kdim);
        for gi in 0..g.groups {
            let c = COut {
                data: &mut y[gi * kg * p..],
                rs: p,
                cs: 1,
            };
            let w = &self.weights[gi * glen..][..glen];
            let bias = Bias::Row(&self.bias[gi * kg..]);
            if let Some(halves) = &self.windows {
                let b = gemm::Windows {
                    plane: g.group_plane(plane, gi),
                    rows: g.row_offsets(),
                    halves,
                };
                let run = if shared {
                    gemm::gemm_windows_par
                } else {
                    gemm::gemm_windows
                };
                run(kg, p, g.kdim, w, &b, c, bias);
                continue;
            }
            g.im2col(g.group_plane(plane, gi), col, NR);
            gemm(kg, p, g.kdim, w, col, c, bias);
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::types::Weights;

    /// `n` deterministic values in [-1, 1] (xorshift), for the convolution tests here and in
    /// `conv_int8.rs`.
    pub(in crate::backend::cpu) fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn conv(c: usize, k: usize, kernel: [usize; 2], pad: [usize; 2], seed: u32) -> ConvParams {
        let kdim = c * kernel[0] * kernel[1];
        let mut p = ConvParams::new(
            k,
            kernel,
            Weights::new(values(k * kdim, seed + 1)),
            Weights::new(values(k, seed + 2)),
        );
        p.pre_padding = pad;
        p.post_padding = pad;
        p
    }

    /// The 2x2 max pooling (and ReLU) a convolution absorbed, run on each tile of output rows of
    /// 8 or 24 (LeNet's conv2 and conv1, an odd number of rows, a padded input): the bits of the
    /// convolution, then the ReLU, then the pooling.
    #[test]
    fn pooled_tiles_give_the_bits_of_conv_then_pool() {
        if !gemm::fma_available() {
            return;
        }
        for (i, (c, hw, k, kernel, pad)) in [
            (20, [12, 12], 50, [5, 5], [0, 0]),
            (1, [28, 28], 20, [5, 5], [0, 0]),
            (5, [11, 10], 9, [3, 3], [0, 0]),
            (3, [8, 8], 4, [3, 3], [1, 1]),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = 40 + i as u32 * 5;
            let conv =
                Conv::new(&conv(c, k, kernel, pad, seed), &[c, hw[0], hw[1]], false).expect("conv");
            let out = conv.geo.out;
            let pool = Pool::new(
                &crate::network::PoolParams::new(crate::types::PoolingType::Max, [2, 2]),
                &[k, out[0], out[1]],
            )
            .expect("pool");
            assert!(conv.pools_tiles(&pool), "case {i}");
            let x = values(c * hw[0] * hw[1], seed + 3);
            for relu in [false, true] {
                let mut scratch = vec![0.0; conv.task_len()];
                let mut plain = vec![f32::NAN; k * out[0] * out[1]];
                conv.one(&x, &mut plain, &mut scratch, false);
                if relu {
                    relu_in_place(&mut plain);
                }
                let mut reference = vec![f32::NAN; k * pool.plane_out()];
                pool.max_2x2_planes(&plain, &mut reference);
                let mut fused = vec![f32::NAN; k * pool.plane_out()];
                conv.one_pooled(&x, &mut fused, &mut scratch, relu, &pool);
                for (j, (a, b)) in fused.iter().zip(&reference).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "case {i} relu {relu}: output {j}");
                }
            }
        }
    }

    /// Convolutions whose output rows are whole runs of 8 positions read B from the input plane
    /// (LeNet's conv2, a padded one, a grouped one, one with a partial last panel), with the
    /// same bits as im2col + GEMM, on one thread and split across threads; one whose rows are
    /// not (width 17) keeps im2col.
    #[test]
    fn windows_give_the_bits_of_im2col() {
        if !gemm::fma_available() {
            return;
        }
        // (channels, input plane, maps, kernel, padding, groups, whether windows apply)
        type Case = (
            usize,
            [usize; 2],
            usize,
            [usize; 2],
            [usize; 2],
            usize,
            bool,
        );
        let cases: [Case; 5] = [
            (20, [12, 12], 50, [5, 5], [0, 0], 1, true),
            (3, [16, 16], 7, [3, 3], [1, 1], 1, true),
            (4, [10, 16], 6, [3, 3], [1, 1], 2, true),
            (5, [11, 10], 9, [3, 3], [0, 0], 1, true),
            (3, [17, 17], 4, [3, 3], [1, 1], 1, false),
        ];
        for (i, (c, hw, k, kernel, pad, groups, windows)) in cases.into_iter().enumerate() {
            let mut p = conv(c / groups, k, kernel, pad, i as u32 * 7);
            p.groups = groups;
            let seed = i as u32 * 7;
            let mut conv = Conv::new(&p, &[c, hw[0], hw[1]], false).expect("conv");
            assert_eq!(conv.windows.is_some(), windows, "case {i}");
            let x = values(c * hw[0] * hw[1], seed + 3);
            let out = k * conv.geo.positions();
            let run = |conv: &Conv, shared: bool| {
                let mut y = vec![f32::NAN; out];
                let mut scratch = vec![0.0; conv.col_len()];
                conv.one(&x, &mut y, &mut scratch, shared);
                y
            };
            let (alone, split) = (run(&conv, false), run(&conv, true));
            conv.windows = None;
            let reference = run(&conv, false);
            for (what, got) in [("one thread", alone), ("threads", split)] {
                for (j, (a, b)) in got.iter().zip(&reference).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "case {i} {what}: output {j}");
                }
            }
        }
    }
}
