//! INT8 convolution: the input quantized (or already INT8) into an `i16` plane, im2col in depth
//! pairs, the integer GEMM against per-output-channel INT8 weights, and an epilogue that applies
//! `scale_in · scale_w[k]` and the bias, then stores real values or requantizes to INT8. A
//! shallow reduction runs the direct kernel of `direct.rs` on the quantized plane as `f32`
//! instead, with the same sums and epilogue.

use super::direct::Direct;
use super::igemm::{self, Dst, Epilogue, NR};
use super::im2col::Geometry;
use super::quant::{Int8Gemm, WeightsQ, i8_view, i8_view_mut, i16_view_mut};
use super::{Absorbed, In, Out, tasks};
use crate::error::Result;
use crate::network::ConvParams;
use rayon::prelude::*;

pub struct ConvInt8 {
    outer: usize,
    geo: Geometry,
    mode: Int8Gemm,
    /// Each group's INT8 weights packed as integer GEMM A operands (none when `direct`).
    weights: Vec<i16>,
    epilogue_mul: Vec<f32>,
    epilogue_add: Vec<f32>,
    direct: Option<Direct>,
}

impl ConvInt8 {
    /// `direct`: whether the direct kernel may be chosen where it applies.
    pub fn new(p: &ConvParams, input: &[usize], mode: Int8Gemm, direct: bool) -> Result<ConvInt8> {
        let n = input.len();
        if n < 3 {
            crate::bail!(
                Network,
                "convolution input {input:?} needs at least 3 dimensions"
            );
        }
        let geo = Geometry::new(p, input[n - 3], [input[n - 2], input[n - 1]], NR)?;
        let (kdim, kg) = (geo.kdim, geo.k / geo.groups);
        let q = WeightsQ::new(&p.kernel_weights.values, geo.k);
        let (epilogue_mul, epilogue_add) = mode.epilogue(&q.scales, &p.bias.values);
        let direct = (direct && Direct::applies(p, &geo)).then(|| {
            let w: Vec<f32> = q.values.iter().map(|&v| f32::from(v)).collect();
            Direct::new(p, &geo, &w, &vec![0.0; geo.k])
        });
        let glen = igemm::packed_a_len(kg, kdim);
        let mut weights = vec![
            0;
            if direct.is_some() {
                0
            } else {
                glen * geo.groups
            }
        ];
        for (gi, dst) in weights.chunks_exact_mut(glen).enumerate() {
            let w = &q.values[gi * kg * kdim..];
            igemm::pack_a(dst, kg, kdim, |i, k| w[i * kdim + k] as i16);
        }
        Ok(ConvInt8 {
            outer: input[..n - 3].iter().product(),
            geo,
            mode,
            weights,
            epilogue_mul,
            epilogue_add,
            direct,
        })
    }

    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// `f32` slots per task for the input: the im2col matrix and the plane as `i16` values, or
    /// the plane as `f32` values for the direct kernel.
    fn input_slots(&self) -> usize {
        let g = &self.geo;
        if self.direct.is_some() {
            g.plane_len()
        } else {
            (igemm::packed_b_len(g.kdim, g.positions()) + g.plane_len()).div_ceil(2)
        }
    }

    /// `f32` slots per task: the input's, then one item's output (real or INT8) when a pooling
    /// layer is absorbed.
    fn task_slots(&self) -> usize {
        self.input_slots() + self.geo.k * self.geo.positions()
    }

    pub fn scratch_len(&self, batch: usize) -> usize {
        tasks(batch * self.outer) * self.task_slots()
    }

    /// `then`: the layers fused into this one (see `CpuLayer::run_fused`); `y` is the last one's
    /// output.
    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32], then: Absorbed) {
        let items = batch * self.outer;
        let g = &self.geo;
        let osz = g.k * g.positions();
        let ysz = then.pool.map_or(osz, |p| g.k * p.plane_out());
        let slots = self.task_slots();
        let per = items.div_ceil(tasks(items));
        let run = |t: usize, y: Dst, task: &mut [f32]| {
            let (input, tmp) = task.split_at_mut(slots - osz);
            let mut y = y;
            for i in 0..(items - t * per).min(per) {
                let item = t * per + i;
                let Some(p) = then.pool else {
                    self.one(x, item, &mut y, i * ysz, input, then.relu);
                    continue;
                };
                // Convolved into `tmp`, then pooled into the item's output.
                match &mut y {
                    Dst::F32(out) => {
                        self.one(x, item, &mut Dst::F32(tmp), 0, input, then.relu);
                        p.max_2x2_planes(&tmp[..osz], &mut out[i * ysz..][..ysz]);
                    }
                    Dst::I8(out) => {
                        let conv_out = &mut i8_view_mut(tmp)[..osz];
                        self.one(x, item, &mut Dst::I8(conv_out), 0, input, then.relu);
                        p.max_2x2_planes(conv_out, &mut out[i * ysz..][..ysz]);
                    }
                }
            }
        };
        let out_i8 = self.mode.output_scale.is_some();
        let scratch = &mut scratch[..tasks(items) * slots];
        if out_i8 {
            i8_view_mut(y.data)[..items * ysz]
                .par_chunks_mut(per * ysz)
                .zip(scratch.par_chunks_mut(slots))
                .enumerate()
                .for_each(|(t, (ys, s))| run(t, Dst::I8(ys), s));
        } else {
            y.data[..items * ysz]
                .par_chunks_mut(per * ysz)
                .zip(scratch.par_chunks_mut(slots))
                .enumerate()
                .for_each(|(t, (ys, s))| run(t, Dst::F32(ys), s));
        }
    }

    /// One item into `y` at `offset`; `scratch` holds [`ConvInt8::input_slots`].
    fn one(
        &self,
        x: &In,
        item: usize,
        y: &mut Dst,
        offset: usize,
        scratch: &mut [f32],
        relu: bool,
    ) {
        if let Some(d) = &self.direct {
            return self.one_direct(d, x, item, y, offset, scratch, relu);
        }
        let g = &self.geo;
        let (kg, p) = (g.k / g.groups, g.positions());
        let isz = g.c * g.hw[0] * g.hw[1];
        let scratch = i16_view_mut(scratch);
        let (col, plane) = scratch.split_at_mut(igemm::packed_b_len(g.kdim, p));
        if self.mode.input_int8 {
            let xi = &i8_view(x.data)[x.index_of(item, self.outer) * isz..][..isz];
            g.fill_plane(xi, plane, |v| v as i16);
        } else {
            let s = self.mode.input_scale;
            g.fill_plane(x.item_of(item, self.outer, isz), plane, |v| {
                igemm::saturate(v / s) as i16
            });
        }
        let glen = igemm::packed_a_len(kg, g.kdim);
        for gi in 0..g.groups {
            g.im2col_pairs(g.group_plane(plane, gi), col, NR);
            let epi = Epilogue {
                per_row: true,
                mul: &self.epilogue_mul[gi * kg..],
                add: &self.epilogue_add[gi * kg..],
                relu,
            };
            let at = offset + gi * kg * p;
            let mut dst = match y {
                Dst::F32(v) => Dst::F32(&mut v[at..]),
                Dst::I8(v) => Dst::I8(&mut v[at..]),
            };
            let w = &self.weights[gi * glen..][..glen];
            igemm::igemm(kg, p, g.kdim, w, col, &epi, &mut dst, p);
        }
    }

    /// [`ConvInt8::one`] by the direct kernel, on the quantized plane held as `f32` values.
    #[allow(clippy::too_many_arguments)]
    fn one_direct(
        &self,
        d: &Direct,
        x: &In,
        item: usize,
        y: &mut Dst,
        offset: usize,
        plane: &mut [f32],
        relu: bool,
    ) {
        let g = &self.geo;
        let isz = g.c * g.hw[0] * g.hw[1];
        if self.mode.input_int8 {
            let xi = &i8_view(x.data)[x.index_of(item, self.outer) * isz..][..isz];
            g.fill_plane(xi, plane, f32::from);
        } else {
            let s = self.mode.input_scale;
            g.fill_plane(x.item_of(item, self.outer, isz), plane, |v| {
                f32::from(igemm::saturate(v / s))
            });
        }
        let epi = Epilogue {
            per_row: true,
            mul: &self.epilogue_mul,
            add: &self.epilogue_add,
            relu,
        };
        let mut dst = match y {
            Dst::F32(v) => Dst::F32(&mut v[offset..]),
            Dst::I8(v) => Dst::I8(&mut v[offset..]),
        };
        d.run(plane, &mut dst, Some(&epi), 1);
    }
}
