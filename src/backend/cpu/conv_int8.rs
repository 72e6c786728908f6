//! INT8 convolution: the input quantized (or already INT8) into an `i16` plane, the integer GEMM
//! against per-output-channel INT8 weights, and an epilogue that applies `scale_in · scale_w[k]`
//! and the bias, then stores real values or requantizes to INT8. B is read through windows of the
//! plane made into depth units (`unit_plane.rs`: byte quads where AVX512-VNNI runs them, else
//! pairs) where output rows are runs of 8 positions, else from an im2col matrix in the same units.
//! A shallow reduction runs the direct kernel of `direct.rs` on the quantized plane as `f32`
//! instead, with the same sums and epilogue.

use super::direct::Direct;
use super::igemm::{self, Dst, Epilogue, Format, NR, Role, Windows};
use super::im2col::Geometry;
use super::pool::Pool;
use super::quant::{Int8Gemm, WeightsQ, i8_view, i8_view_mut, i16_view_mut};
use super::unit_plane::UnitPlane;
use super::{Absorbed, In, Out, tasks};
use crate::error::Result;
use crate::network::ConvParams;
use rayon::prelude::*;

pub struct ConvInt8 {
    outer: usize,
    geo: Geometry,
    mode: Int8Gemm,
    /// How `weights` and B (through windows or as an im2col matrix) are packed.
    fmt: Format,
    /// Each group's INT8 weights packed as integer GEMM A operands (none when `direct`).
    weights: Vec<i16>,
    epilogue_mul: Vec<f32>,
    epilogue_add: Vec<f32>,
    /// Per output channel, the quads' zero point (empty for pairs).
    zero: Vec<i32>,
    direct: Option<Direct>,
    windows: Option<PlaneWindows>,
}

/// B read from the input plane made into depth units: the unit plane's layout, each GEMM panel's
/// two runs of 8 positions, and the same runs in the order of 2x2 pooling windows when a
/// pooling layer can be absorbed tile by tile.
struct PlaneWindows {
    units: UnitPlane,
    halves: Vec<[usize; 2]>,
    pooled: Option<Vec<[usize; 2]>>,
}

impl ConvInt8 {
    /// `direct`: whether the direct kernel may be chosen where it applies.
    pub fn new(p: &ConvParams, input: &[usize], mode: Int8Gemm, direct: bool) -> Result<ConvInt8> {
        Self::build(p, input, mode, direct, true)
    }

    /// [`ConvInt8::new`]; `windows`: whether B may be read through windows of the input (tests
    /// compare them with im2col).
    fn build(
        p: &ConvParams,
        input: &[usize],
        mode: Int8Gemm,
        direct: bool,
        windows: bool,
    ) -> Result<ConvInt8> {
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
        let fmt = match direct {
            None => Format::current(),
            Some(_) => Format::Pairs,
        };
        let windows = (windows && direct.is_none())
            .then(|| geo.windows(NR))
            .flatten()
            .map(|halves| {
                let pooled = geo.pooled_windows(geo.out[0] / 2);
                PlaneWindows {
                    units: UnitPlane::new(p, &geo, fmt),
                    halves,
                    pooled,
                }
            });
        let depth = windows.as_ref().map_or(kdim, |w| w.units.depth());
        let glen = igemm::packed_a_len(kg, depth, fmt);
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
            match &windows {
                Some(win) => igemm::pack_a(dst, kg, depth, fmt, Role::Weights, |i, k| {
                    win.units.weight(w, kdim, i, k)
                }),
                None => igemm::pack_a(dst, kg, kdim, fmt, Role::Weights, |i, k| {
                    w[i * kdim + k] as i16
                }),
            }
        }
        let zero = match fmt {
            Format::Pairs => Vec::new(),
            Format::Quads => igemm::zero_points(&q.values, geo.k),
        };
        Ok(ConvInt8 {
            outer: input[..n - 3].iter().product(),
            geo,
            mode,
            fmt,
            weights,
            epilogue_mul,
            epilogue_add,
            zero,
            direct,
            windows,
        })
    }

    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// `f32` slots per task for the input: B (the im2col matrix or one group's pair plane) and
    /// the plane as `i16` values, or the plane as `f32` values for the direct kernel.
    fn input_slots(&self) -> usize {
        let g = &self.geo;
        match (&self.direct, &self.windows) {
            (Some(_), _) => g.plane_len(),
            (None, Some(w)) => (w.units.values() + g.plane_len()).div_ceil(2),
            (None, None) => {
                let b = igemm::packed_b_len(g.kdim, g.positions(), self.fmt);
                (b + g.plane_len()).div_ceil(2)
            }
        }
    }

    /// `f32` slots per task: the input's, then one item's output (real or INT8) for a pooling
    /// layer absorbed without pooled windows (convolved first, then pooled).
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
                if let Some(halves) = self.pooled(p) {
                    self.one_pooled(x, item, &mut y, i * ysz, input, then.relu, p, halves);
                    continue;
                }
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

    /// The pooled windows, when the absorbed pooling `p` can run on each tile as it leaves the
    /// GEMM: 2x2 max pooling over whole output rows of runs of 8, so that a tile's 16 columns are
    /// the two rows of 4 pooling windows, and an epilogue that never decreases (scales are not
    /// negative), so that pooling the sums pools the outputs.
    fn pooled(&self, p: &Pool) -> Option<&[[usize; 2]]> {
        let [h, w] = self.geo.out;
        let pooled = self.windows.as_ref()?.pooled.as_deref()?;
        let monotone = self.epilogue_mul.iter().all(|&m| m >= 0.0);
        (monotone && p.is_max_2x2() && p.out() == [h / 2, w / 2]).then_some(pooled)
    }

    /// The item's input as the plane in `plane`: its INT8 values (or the real values quantized)
    /// as `T`.
    fn fill_plane<T: Copy + Default>(
        &self,
        x: &In,
        item: usize,
        plane: &mut [T],
        f: impl Fn(i8) -> T,
    ) {
        let g = &self.geo;
        let isz = g.c * g.hw[0] * g.hw[1];
        if self.mode.input_int8 {
            let xi = &i8_view(x.data)[x.index_of(item, self.outer) * isz..][..isz];
            g.fill_plane(xi, plane, f);
        } else {
            let s = self.mode.input_scale;
            g.fill_plane(x.item_of(item, self.outer, isz), plane, |v| {
                f(igemm::saturate(v / s))
            });
        }
    }

    /// One item through the windows with the ReLU, requantization and 2x2 max pooling applied
    /// to each tile (`halves`, in pooling order): the same values the unfused path pools (max
    /// commutes with the epilogue, which never decreases), without writing the convolution's
    /// output.
    #[allow(clippy::too_many_arguments)]
    fn one_pooled(
        &self,
        x: &In,
        item: usize,
        y: &mut Dst,
        offset: usize,
        input: &mut [f32],
        relu: bool,
        pool: &Pool,
        halves: &[[usize; 2]],
    ) {
        let (g, w) = (&self.geo, self.windows.as_ref().expect("pooled windows"));
        let (kg, po) = (g.k / g.groups, pool.plane_out());
        let (units, plane) = i16_view_mut(input).split_at_mut(w.units.values());
        self.fill_plane(x, item, plane, i16::from);
        let glen = igemm::packed_a_len(kg, w.units.depth(), self.fmt);
        for gi in 0..g.groups {
            w.units.fill(g.group_plane(plane, gi), units);
            let win = Windows::new(units, w.units.rows(), halves).expect("windows in the plane");
            let epi = self.group_epilogue(gi, relu);
            let a = &self.weights[gi * glen..][..glen];
            for pj in 0..halves.len() {
                let at = offset + gi * kg * po + pj * NR / 4;
                igemm::igemm_pooled(kg, self.fmt, a, &win.panel(pj), &epi, y, at, po);
            }
        }
    }

    fn group_epilogue(&self, gi: usize, relu: bool) -> Epilogue<'_> {
        let kg = self.geo.k / self.geo.groups;
        Epilogue {
            per_row: true,
            mul: &self.epilogue_mul[gi * kg..],
            add: &self.epilogue_add[gi * kg..],
            relu,
            zero: self.zero.get(gi * kg..).unwrap_or_default(),
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
        let b_len = self.input_slots() * 2 - g.plane_len();
        let (b, plane) = i16_view_mut(scratch).split_at_mut(b_len);
        self.fill_plane(x, item, plane, i16::from);
        let depth = self.windows.as_ref().map_or(g.kdim, |w| w.units.depth());
        let glen = igemm::packed_a_len(kg, depth, self.fmt);
        for gi in 0..g.groups {
            let epi = self.group_epilogue(gi, relu);
            let at = offset + gi * kg * p;
            let mut dst = match y {
                Dst::F32(v) => Dst::F32(&mut v[at..]),
                Dst::I8(v) => Dst::I8(&mut v[at..]),
            };
            let a = &self.weights[gi * glen..][..glen];
            let group = g.group_plane(plane, gi);
            match &self.windows {
                Some(w) => {
                    w.units.fill(group, b);
                    let win =
                        Windows::new(b, w.units.rows(), &w.halves).expect("windows in the plane");
                    igemm::igemm_windows(kg, p, self.fmt, a, &win, &epi, &mut dst, p);
                }
                None => {
                    match self.fmt {
                        Format::Pairs => g.im2col_pairs(group, b, NR),
                        Format::Quads => g.im2col_quads(group, b, NR),
                    }
                    igemm::igemm(kg, p, g.kdim, self.fmt, a, b, &epi, &mut dst, p);
                }
            }
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
        self.fill_plane(x, item, plane, f32::from);
        // The direct kernel has one group.
        let epi = self.group_epilogue(0, relu);
        let mut dst = match y {
            Dst::F32(v) => Dst::F32(&mut v[offset..]),
            Dst::I8(v) => Dst::I8(&mut v[offset..]),
        };
        d.run(plane, &mut dst, Some(&epi), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::super::conv::tests::values;
    use super::*;
    use crate::network::PoolParams;
    use crate::types::{PoolingType, Weights};

    /// (channels, input plane, maps, kernel, padding, dilation, groups)
    type Case = (usize, [usize; 2], usize, [usize; 2], usize, usize, usize);

    /// LeNet's conv2 (channel pairs) and conv1 (one channel: column pairs), an odd channel
    /// count, an odd kernel width with dilation 2, a padded grouped one.
    const CASES: [Case; 5] = [
        (20, [12, 12], 50, [5, 5], 0, 1, 1),
        (1, [28, 28], 20, [5, 5], 0, 1, 1),
        (5, [11, 10], 9, [3, 3], 0, 1, 1),
        (1, [20, 20], 7, [3, 3], 0, 2, 1),
        (4, [10, 16], 6, [3, 3], 1, 1, 2),
    ];

    fn conv(case: Case, seed: u32, output_scale: Option<f32>, windows: bool) -> ConvInt8 {
        let (c, hw, k, kernel, pad, dilation, groups) = case;
        let kdim = c / groups * kernel[0] * kernel[1];
        let mut p = ConvParams::new(
            k,
            kernel,
            Weights::new(values(k * kdim, seed + 1)),
            Weights::new(values(k, seed + 2)),
        );
        p.pre_padding = [pad; 2];
        p.post_padding = [pad; 2];
        p.dilation = [dilation; 2];
        p.groups = groups;
        let mode = Int8Gemm {
            input_scale: 1.0 / 127.0,
            input_int8: false,
            output_scale,
        };
        ConvInt8::build(&p, &[c, hw[0], hw[1]], mode, false, windows).expect("conv")
    }

    /// One item of `conv` on `x` (real or INT8 output, ReLU or not).
    fn one(conv: &ConvInt8, x: &[f32], shape: &[usize], relu: bool) -> Vec<f32> {
        let input = In {
            data: x,
            batch: 1,
            shape,
        };
        let mut scratch = vec![0.0; conv.task_slots()];
        let len = conv.geo.k * conv.geo.positions();
        let mut y = vec![0.0; len];
        match conv.mode.output_scale {
            None => conv.one(&input, 0, &mut Dst::F32(&mut y), 0, &mut scratch, relu),
            Some(_) => {
                let q = &mut i8_view_mut(&mut y)[..len];
                conv.one(&input, 0, &mut Dst::I8(q), 0, &mut scratch, relu);
                return q.iter().map(|&v| f32::from(v)).collect();
            }
        }
        y
    }

    /// Windows of the unit plane (pairs or quads) give the bits of im2col in depth pairs, real
    /// and INT8 outputs, with and without ReLU.
    #[test]
    fn windows_give_the_bits_of_im2col() {
        for (i, case) in CASES.into_iter().enumerate() {
            let (c, hw) = (case.0, case.1);
            let x = values(c * hw[0] * hw[1], i as u32 + 9);
            for out in [None, Some(0.05)] {
                let (fast, plain) = (
                    conv(case, i as u32, out, true),
                    conv(case, i as u32, out, false),
                );
                assert!(
                    fast.windows.is_some() && plain.windows.is_none(),
                    "case {i}"
                );
                for relu in [false, true] {
                    let shape = [c, hw[0], hw[1]];
                    let (a, b) = (one(&fast, &x, &shape, relu), one(&plain, &x, &shape, relu));
                    for (j, (a, b)) in a.iter().zip(&b).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "case {i} {out:?} relu {relu}: {j}"
                        );
                    }
                }
            }
        }
    }

    /// The 2x2 max pooling run on each column of tiles gives the bits of the convolution, then
    /// the pooling, real and INT8 outputs, with and without ReLU (output rows of 8 and of 24, an
    /// odd number of rows).
    #[test]
    fn pooled_tiles_give_the_bits_of_conv_then_pool() {
        for (i, case) in CASES.into_iter().enumerate().take(3) {
            let (c, hw) = (case.0, case.1);
            let x = values(c * hw[0] * hw[1], i as u32 + 19);
            let shape = [c, hw[0], hw[1]];
            for out in [None, Some(0.05)] {
                let conv = conv(case, i as u32, out, true);
                let [h, w] = conv.geo.out;
                let pool = Pool::new(
                    &PoolParams::new(PoolingType::Max, [2, 2]),
                    &[conv.geo.k, h, w],
                )
                .expect("pool");
                let halves = conv.pooled(&pool).expect("pooled windows");
                for relu in [false, true] {
                    let plain = one(&conv, &x, &shape, relu);
                    let mut want = vec![0.0; conv.geo.k * pool.plane_out()];
                    pool.max_2x2_planes(&plain, &mut want);
                    let input = In {
                        data: &x,
                        batch: 1,
                        shape: &shape,
                    };
                    let mut scratch = vec![0.0; conv.input_slots()];
                    let a = &mut scratch;
                    let mut got = vec![0.0; want.len()];
                    match out {
                        None => {
                            let y = &mut Dst::F32(&mut got);
                            conv.one_pooled(&input, 0, y, 0, a, relu, &pool, halves);
                        }
                        Some(_) => {
                            let mut q = vec![0i8; want.len()];
                            let y = &mut Dst::I8(&mut q);
                            conv.one_pooled(&input, 0, y, 0, a, relu, &pool, halves);
                            got = q.iter().map(|&v| f32::from(v)).collect();
                        }
                    }
                    for (j, (a, b)) in got.iter().zip(&want).enumerate() {
                        assert_eq!(
                            a.to_bits(),
                            b.to_bits(),
                            "case {i} {out:?} relu {relu}: {j}"
                        );
                    }
                }
            }
        }
    }
}
