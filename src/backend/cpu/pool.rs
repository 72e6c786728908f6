//! Max, average and max-average-blend pooling over the last two dimensions.

use super::quant::{i8_view, i8_view_mut};
use super::{In, Out, par_rows};
use crate::error::Result;
use crate::network::PoolParams;
use crate::network::shape::pool_geometry;
use crate::types::PoolingType;
use rayon::prelude::*;

pub struct Pool {
    /// Planes per batch item: the product of the dimensions before H and W.
    planes: usize,
    hw: [usize; 2],
    out: [usize; 2],
    window: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    kind: PoolingType,
    blend: f32,
    exclude_padding: bool,
    /// The window of every output row and column.
    spans: [Vec<Span>; 2],
    /// Output columns whose window lies wholly inside the input row, a contiguous range.
    full_cols: std::ops::Range<usize>,
}

/// One dimension of a window: the clipped input range and the window's extent inside the padding.
#[derive(Clone, Copy)]
struct Span {
    lo: usize,
    hi: usize,
    /// Caffe's divisor when padding counts: the window clipped to `[-pre, I + post)`.
    padded: usize,
}

impl Pool {
    pub fn new(p: &PoolParams, input: &[usize]) -> Result<Pool> {
        let n = input.len();
        if n < 3 {
            crate::bail!(
                Network,
                "pooling input {input:?} needs at least 3 dimensions"
            );
        }
        let hw = [input[n - 2], input[n - 1]];
        let g = pool_geometry(p, hw).map_err(crate::error::Error::Network)?;
        let mut pool = Pool {
            planes: input[..n - 2].iter().product(),
            hw,
            out: [g[0].out, g[1].out],
            window: p.window,
            stride: p.stride,
            pre: [g[0].pre, g[1].pre],
            post: [g[0].post, g[1].post],
            kind: p.kind,
            blend: p.blend_factor,
            exclude_padding: p.average_count_excludes_padding,
            spans: [Vec::new(), Vec::new()],
            full_cols: 0..0,
        };
        pool.spans = [0, 1].map(|d| (0..pool.out[d]).map(|o| pool.span(d, o)).collect());
        let full = |o: &usize| {
            let s = pool.spans[1][*o];
            s.hi - s.lo == pool.window[1] && s.lo + pool.pre[1] == o * pool.stride[1]
        };
        let first = (0..pool.out[1]).find(full).unwrap_or(0);
        let end = (first..pool.out[1])
            .find(|o| !full(o))
            .unwrap_or(pool.out[1]);
        pool.full_cols = first..end.max(first);
        Ok(pool)
    }

    fn span(&self, d: usize, o: usize) -> Span {
        let start = (o * self.stride[d]) as i64 - self.pre[d] as i64;
        let end = (start + self.window[d] as i64).min((self.hw[d] + self.post[d]) as i64);
        let lo = start.max(0) as usize;
        Span {
            lo,
            hi: (end.max(0) as usize).clamp(lo, self.hw[d]),
            padded: (end - start).max(0) as usize,
        }
    }

    /// Values of one output plane.
    /// Output rows and columns of each plane.
    pub fn out(&self) -> [usize; 2] {
        self.out
    }

    pub fn plane_out(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// The 2x2 max pooling (the layer [`Pool::is_max_2x2`]) of the whole planes in `src` into
    /// `out`: what a convolution that absorbed this layer does with each item's output.
    pub fn max_2x2_planes<T: PoolValue>(&self, src: &[T], out: &mut [T]) {
        let [h, w] = self.hw;
        let ow = self.out[1];
        for (plane, o) in src
            .chunks_exact(h * w)
            .zip(out.chunks_exact_mut(self.plane_out()))
        {
            max_2x2(plane, w, ow, o);
        }
    }

    pub fn is_max_2x2(&self) -> bool {
        self.kind == PoolingType::Max
            && self.window == [2, 2]
            && self.stride == [2, 2]
            && self.pre == [0, 0]
            && 2 * self.out[0] <= self.hw[0]
            && 2 * self.out[1] <= self.hw[1]
    }

    /// Max pooling of INT8 values: exact, since quantization preserves order (the engine runs
    /// it on INT8 data only for max pooling). A window with no input element yields 0.
    pub fn run_i8(&self, batch: usize, x: &In, y: &mut Out) -> Result<()> {
        if self.kind != PoolingType::Max {
            crate::bail!(Unsupported, "INT8 pooling is max pooling only");
        }
        let [h, w] = self.hw;
        let [oh, ow] = self.out;
        let max2x2 = self.is_max_2x2();
        let src = i8_view(x.data);
        let planes = batch * self.planes;
        let run = |plane: usize, out: &mut [i8]| {
            let i = x.index_of(plane, self.planes);
            let src = &src[i * h * w..][..h * w];
            if max2x2 {
                return max_2x2(src, w, ow, out);
            }
            for (orow, sy) in out.chunks_exact_mut(ow).zip(&self.spans[0]) {
                for (o, sx) in orow.iter_mut().zip(&self.spans[1]) {
                    *o = (sy.lo..sy.hi)
                        .flat_map(|y| &src[y * w + sx.lo..y * w + sx.hi])
                        .copied()
                        .max()
                        .unwrap_or(0);
                }
            }
        };
        let out = &mut i8_view_mut(y.data)[..planes * oh * ow];
        if oh * ow == 0 {
            return Ok(());
        }
        if out.len() < super::PAR_MIN * 4 {
            out.chunks_exact_mut(oh * ow)
                .enumerate()
                .for_each(|(p, o)| run(p, o));
        } else {
            let min = planes.div_ceil(super::tasks(planes));
            out.par_chunks_exact_mut(oh * ow)
                .with_min_len(min)
                .enumerate()
                .for_each(|(p, o)| run(p, o));
        }
        Ok(())
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        let [h, w] = self.hw;
        let [oh, ow] = self.out;
        let max2x2 = self.is_max_2x2();
        par_rows(y.data, batch * self.planes, oh * ow, |plane, out| {
            let src = x.item_of(plane, self.planes, h * w);
            if max2x2 {
                return max_2x2(src, w, ow, out);
            }
            match self.kind {
                PoolingType::Max => {
                    return self.separable(src, w, out, f32::NEG_INFINITY, f32::max);
                }
                PoolingType::Average => return self.separable(src, w, out, 0.0, |a, b| a + b),
                PoolingType::MaxAverageBlend => {}
            }
            for (orow, sy) in out.chunks_exact_mut(ow).zip(&self.spans[0]) {
                for (o, sx) in orow.iter_mut().zip(&self.spans[1]) {
                    *o = self.window_value(src, w, *sy, *sx);
                }
            }
        });
    }

    /// Max or average pooling of one plane, an output row at a time, in contiguous passes the
    /// compiler vectorises: the input rows of the row's window are combined into one row `v`,
    /// then `v` is combined over every window offset into `m` (`m[x]` covers `v[x..x + kw]`),
    /// and whole windows read their result from `m`; windows clipped at an edge fold `v`
    /// directly. Average pooling divides the window sum as `window_value` does. The two rows
    /// live in a per-thread buffer kept between calls.
    fn separable(
        &self,
        src: &[f32],
        w: usize,
        out: &mut [f32],
        identity: f32,
        combine: impl Fn(f32, f32) -> f32,
    ) {
        thread_local! {
            static ROWS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        ROWS.with_borrow_mut(|rows| {
            rows.resize(2 * w, 0.0);
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 detected.
                return unsafe { self.separable_avx2(src, w, out, rows, identity, combine) };
            }
            self.separable_rows(src, w, out, rows, identity, combine)
        })
    }

    /// [`Pool::separable`] compiled for AVX2: the crate builds for baseline x86-64, whose
    /// 4-lane SSE halves the width of the row passes. Each value is combined in the same order,
    /// so the bits are the same.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn separable_avx2(
        &self,
        src: &[f32],
        w: usize,
        out: &mut [f32],
        rows: &mut [f32],
        identity: f32,
        combine: impl Fn(f32, f32) -> f32,
    ) {
        self.separable_rows(src, w, out, rows, identity, combine)
    }

    /// [`Pool::separable`] with its two rows in `rows`.
    #[inline(always)]
    fn separable_rows(
        &self,
        src: &[f32],
        w: usize,
        out: &mut [f32],
        rows: &mut [f32],
        identity: f32,
        combine: impl Fn(f32, f32) -> f32,
    ) {
        let ow = self.out[1];
        let kw = self.window[1];
        let max = self.kind == PoolingType::Max;
        let full = self.full_cols.clone();
        let (stride, pre) = (self.stride[1], self.pre[1]);
        let (v, m) = rows.split_at_mut(w);
        for (orow, sy) in out.chunks_exact_mut(ow).zip(&self.spans[0]) {
            v.fill(identity);
            for y in sy.lo..sy.hi {
                for (a, &b) in v.iter_mut().zip(&src[y * w..(y + 1) * w]) {
                    *a = combine(*a, b);
                }
            }
            if !full.is_empty() {
                let len = w + 1 - kw;
                m[..len].fill(identity);
                for k in 0..kw {
                    for (a, &b) in m[..len].iter_mut().zip(&v[k..k + len]) {
                        *a = combine(*a, b);
                    }
                }
            }
            // Whole windows, without a branch per value: a strided copy of `m`, divided by one
            // count for the row when averaging (the division `window_value` makes, same bits).
            let whole = &mut orow[full.clone()];
            let from = &m[(full.start * stride).saturating_sub(pre)..];
            let rows = sy.hi - sy.lo;
            if max || rows == 0 {
                let zero = rows == 0;
                for (o, &x) in whole.iter_mut().zip(from.iter().step_by(stride)) {
                    *o = if zero { 0.0 } else { x };
                }
            } else {
                let divisor = if self.exclude_padding {
                    rows * kw
                } else {
                    sy.padded * kw
                } as f32;
                for (o, &x) in whole.iter_mut().zip(from.iter().step_by(stride)) {
                    *o = x / divisor;
                }
            }
            let edges = (0..full.start).chain(full.end.max(full.start)..ow);
            for ox in edges {
                let sx = self.spans[1][ox];
                let count = rows * (sx.hi - sx.lo);
                let value = v[sx.lo..sx.hi].iter().fold(identity, |a, &b| combine(a, b));
                orow[ox] = if count == 0 {
                    0.0
                } else if max {
                    value
                } else if self.exclude_padding {
                    value / count as f32
                } else {
                    value / (sy.padded * sx.padded) as f32
                };
            }
        }
    }

    /// A window with no input element inside (possible only with padding at least as large as
    /// the window) yields 0.
    fn window_value(&self, src: &[f32], w: usize, sy: Span, sx: Span) -> f32 {
        let count = (sy.hi - sy.lo) * (sx.hi - sx.lo);
        if count == 0 {
            return 0.0;
        }
        let (mut max, mut sum) = (f32::NEG_INFINITY, 0.0f32);
        for y in sy.lo..sy.hi {
            for &v in &src[y * w + sx.lo..y * w + sx.hi] {
                max = max.max(v);
                sum += v;
            }
        }
        let divisor = if self.exclude_padding {
            count
        } else {
            sy.padded * sx.padded
        };
        let avg = sum / divisor as f32;
        match self.kind {
            PoolingType::Max => max,
            PoolingType::Average => avg,
            PoolingType::MaxAverageBlend => self.blend * max + (1.0 - self.blend) * avg,
        }
    }
}

/// The common 2x2, stride-2 max pooling without padding, one output row from two input rows.
fn max_2x2<T: PoolValue>(src: &[T], w: usize, ow: usize, out: &mut [T]) {
    for (oy, orow) in out.chunks_exact_mut(ow).enumerate() {
        let top = &src[2 * oy * w..][..2 * ow];
        let bottom = &src[(2 * oy + 1) * w..][..2 * ow];
        T::max_2x2_row(top, bottom, orow);
    }
}

/// The values 2x2 max pooling runs on: real (`f32`) and INT8.
pub trait PoolValue: Copy {
    /// `out[i] = max(max(top[2i], top[2i + 1]), max(bottom[2i], bottom[2i + 1]))`.
    fn max_2x2_row(top: &[Self], bottom: &[Self], out: &mut [Self]);
}

/// The scalar row, from output `from` on.
fn max_2x2_tail<T: Copy>(top: &[T], bottom: &[T], out: &mut [T], from: usize, max: fn(T, T) -> T) {
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let (t, b) = (&top[2 * i..], &bottom[2 * i..]);
        *o = max(max(t[0], t[1]), max(b[0], b[1]));
    }
}

impl PoolValue for f32 {
    /// Four outputs at a time in SSE (part of x86-64), each maximum computed as `f32::max`
    /// compiles on x86 (`maxps` with the operands swapped, then the second operand where the
    /// first is NaN), so the bits are the scalar row's, signed zeros and NaN included.
    fn max_2x2_row(top: &[f32], bottom: &[f32], out: &mut [f32]) {
        let n = out.len().min(top.len() / 2).min(bottom.len() / 2);
        let mut i = 0;
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // `f32::max(a, b)` lane by lane.
            let max = |a: __m128, b: __m128| {
                // SAFETY: SSE is part of x86-64.
                unsafe {
                    let nan = _mm_cmpunord_ps(a, a);
                    _mm_or_ps(_mm_and_ps(nan, b), _mm_andnot_ps(nan, _mm_max_ps(b, a)))
                }
            };
            while i + 4 <= n {
                // SAFETY: SSE is part of x86-64; `i + 4 <= n` keeps the 8 values of each row read
                // and the 4 outputs written in bounds.
                unsafe {
                    let pairs = |row: &[f32]| {
                        let lo = _mm_loadu_ps(row.as_ptr().add(2 * i));
                        let hi = _mm_loadu_ps(row.as_ptr().add(2 * i + 4));
                        let even = _mm_shuffle_ps::<0b10_00_10_00>(lo, hi);
                        let odd = _mm_shuffle_ps::<0b11_01_11_01>(lo, hi);
                        max(even, odd)
                    };
                    let v = max(pairs(top), pairs(bottom));
                    _mm_storeu_ps(out.as_mut_ptr().add(i), v);
                }
                i += 4;
            }
        }
        max_2x2_tail(top, bottom, &mut out[..n], i, f32::max);
    }
}

impl PoolValue for i8 {
    /// Eight outputs at a time in SSE2 (part of x86-64), then four (a pooled tile's row): each
    /// byte pair widened to `i16` lanes.
    fn max_2x2_row(top: &[i8], bottom: &[i8], out: &mut [i8]) {
        let n = out.len().min(top.len() / 2).min(bottom.len() / 2);
        let mut i = 0;
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // The maxima of the byte pairs of `v`, as `i16` lanes.
            let pairs = |v: __m128i| {
                // SAFETY: SSE2 is part of x86-64.
                unsafe {
                    let even = _mm_srai_epi16::<8>(_mm_slli_epi16::<8>(v));
                    _mm_max_epi16(even, _mm_srai_epi16::<8>(v))
                }
            };
            while i + 8 <= n {
                // SAFETY: SSE2 is part of x86-64; `i + 8 <= n` keeps the 16 values of each row
                // read and the 8 outputs written in bounds.
                unsafe {
                    let load = |row: &[i8]| _mm_loadu_si128(row.as_ptr().add(2 * i) as *const _);
                    let v = _mm_max_epi16(pairs(load(top)), pairs(load(bottom)));
                    _mm_storel_epi64(out.as_mut_ptr().add(i) as *mut _, _mm_packs_epi16(v, v));
                }
                i += 8;
            }
            if i + 4 <= n {
                // SAFETY: as above, with 8 values of each row and 4 outputs.
                unsafe {
                    let load = |row: &[i8]| _mm_loadl_epi64(row.as_ptr().add(2 * i) as *const _);
                    let v = _mm_max_epi16(pairs(load(top)), pairs(load(bottom)));
                    let q = _mm_cvtsi128_si32(_mm_packs_epi16(v, v));
                    (out.as_mut_ptr().add(i) as *mut i32).write_unaligned(q);
                }
                i += 4;
            }
        }
        max_2x2_tail(top, bottom, &mut out[..n], i, i8::max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 build of the separable passes gives the baseline build's bits: max and average
    /// pooling, with padding, clipped windows and NaN.
    #[test]
    fn separable_avx2_equals_baseline() {
        for (kind, window, stride, pad, hw) in [
            (PoolingType::Max, [3, 3], [2, 2], [0, 0], [32, 32]),
            (PoolingType::Average, [3, 3], [2, 2], [0, 0], [16, 16]),
            (PoolingType::Average, [3, 3], [1, 1], [1, 1], [32, 32]),
            (PoolingType::Max, [2, 3], [1, 2], [1, 0], [9, 23]),
        ] {
            let mut p = PoolParams::new(kind, window);
            p.stride = stride;
            p.pre_padding = pad;
            p.post_padding = pad;
            let pool = Pool::new(&p, &[1, hw[0], hw[1]]).expect("pool");
            let mut s = 11u32;
            let x: Vec<f32> = (0..hw[0] * hw[1])
                .map(|i| {
                    s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    if i % 37 == 5 {
                        f32::NAN
                    } else {
                        (s >> 9) as f32 / 4e6 - 1.0
                    }
                })
                .collect();
            let n = pool.plane_out();
            let (identity, combine): (f32, fn(f32, f32) -> f32) = match kind {
                PoolingType::Max => (f32::NEG_INFINITY, f32::max),
                _ => (0.0, |a, b| a + b),
            };
            let (mut got, mut want) = (vec![0.0; n], vec![0.0; n]);
            pool.separable(&x, hw[1], &mut got, identity, combine);
            let mut rows = vec![0.0; 2 * hw[1]];
            pool.separable_rows(&x, hw[1], &mut want, &mut rows, identity, combine);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got),
                bits(&want),
                "{kind:?} {window:?} {stride:?} {pad:?}"
            );
        }
    }

    /// Rows of every length from 0 to 21 outputs (vectors and tails), with signed zeros, NaN
    /// and infinities in every pair position: the vector rows give the scalar row's bits.
    #[test]
    fn vector_rows_equal_scalar_rows() {
        let special = [
            0.0,
            -0.0,
            f32::NAN,
            1.5,
            -1.5,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.25,
        ];
        let mut s = 7u32;
        let mut next = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s >> 8
        };
        for n in 0..22 {
            for _ in 0..50 {
                let top: Vec<f32> = (0..2 * n).map(|_| special[next() as usize % 8]).collect();
                let bottom: Vec<f32> = (0..2 * n).map(|_| special[next() as usize % 8]).collect();
                let (mut got, mut want) = (vec![9.0f32; n], vec![9.0f32; n]);
                f32::max_2x2_row(&top, &bottom, &mut got);
                let max = std::hint::black_box(f32::max as fn(f32, f32) -> f32);
                max_2x2_tail(&top, &bottom, &mut want, 0, max);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{top:?} {bottom:?}");
                let top: Vec<i8> = (0..2 * n).map(|_| next() as i8).collect();
                let bottom: Vec<i8> = (0..2 * n).map(|_| next() as i8).collect();
                let (mut got, mut want) = (vec![0i8; n], vec![0i8; n]);
                i8::max_2x2_row(&top, &bottom, &mut got);
                max_2x2_tail(&top, &bottom, &mut want, 0, i8::max);
                assert_eq!(got, want);
            }
        }
    }
}
