//! Direct convolution for shallow reductions (a network's first layer: one to three input
//! channels, a small kernel), used by the FP32 and INT8 convolutions in place of im2col + GEMM.
//!
//! With a depth of 25 (LeNet's conv1) a GEMM tile spends about as long being set up and stored
//! as multiplying, and im2col writes the input 25 times over; here outputs are computed straight
//! from the plane. A tile is 4 output channels by 2 vectors of 8 consecutive outputs of a row,
//! in 8 ymm accumulators: per tap `(c, ky, kx)` two unaligned loads of the plane, four broadcast
//! weights and eight FMAs. (Three vectors, 12 accumulators, leave LLVM one register short: it
//! spills in the tap loop and runs at half the speed.) The vectors of a tile need not share a
//! row, so every output row's vectors are taken two at a time in one run over the whole plane.
//!
//! The bits are the GEMM's: accumulators start where its tile's do (`bias + 0.0`, or 0 for the
//! INT8 sums) and take one multiply-add per tap in its depth order `(c·kh + ky)·kw + kx` (the
//! GEMM does the whole depth in one pass below its `KC`), fused or not as the GEMM kernel this
//! CPU runs. INT8 values are held as integral `f32`: below a depth of 1040 (`1040 · 127² <
//! 2^24`) every partial sum is an exact integer, so the sums are the integer GEMM's, and its
//! epilogue is applied to them as `igemm` does.
//!
//! A row's last vector ends at its last column, overlapping the one before when the width is not
//! a multiple of 8 (the overlapped outputs are computed twice, identically): no load leaves the
//! plane's row and no store leaves the output row.

use super::igemm::{self, Dst, Epilogue};
use super::im2col::Geometry;
use crate::network::ConvParams;
use rayon::prelude::*;

/// Output channels per tile.
const KB: usize = 4;
/// Outputs per vector.
const LANES: usize = 8;

/// The deepest reduction the direct kernel takes. Deeper ones amortize a GEMM tile's overhead
/// (whose 12 accumulators beat these 8), and INT8's `vpmaddwd` does twice the work per
/// instruction of an FP32 FMA: CIFAR-10's conv1 (depth 75) measured no faster here in FP32 and
/// slower in INT8, while LeNet's and MTCNN det3's (25 and 27) run up to twice as fast.
const MAX_KDIM: usize = 64;

pub struct Direct {
    /// Input channels.
    c: usize,
    k: usize,
    /// The plane the kernel reads, `[h, w]`: the input's, or the padded copy's.
    plane: [usize; 2],
    out: [usize; 2],
    /// Offset in the plane of each tap `(c, ky, kx)` from the window's origin.
    taps: Vec<usize>,
    kernel: [usize; 2],
    /// Per block of `KB` output channels, per tap, the block's `KB` weights (zero past `k`).
    weights: Vec<f32>,
    /// Each output channel's accumulator start, zero past `k`.
    start: Vec<f32>,
    /// Per vector of 8 outputs, row by row: its first window's origin in the plane and its first
    /// output's offset in an output plane.
    vectors: Vec<[usize; 2]>,
    fma: bool,
}

impl Direct {
    /// Whether the kernel applies: one group, stride and dilation 1, rows of at least one vector,
    /// a depth up to [`MAX_KDIM`], and more than one output channel (the GEMM computes a single
    /// row apart, in another order).
    pub fn applies(p: &ConvParams, geo: &Geometry) -> bool {
        geo.groups == 1
            && p.stride == [1, 1]
            && p.dilation == [1, 1]
            && geo.out[1] >= LANES
            && geo.kdim <= MAX_KDIM
            && geo.k > 1
    }

    /// `weights` are `[k, c, kh, kw]`; `start[o]` is output channel `o`'s first accumulator
    /// value. The caller checked [`Direct::applies`].
    pub fn new(p: &ConvParams, geo: &Geometry, weights: &[f32], start: &[f32]) -> Direct {
        let [kh, kw] = p.kernel;
        let [ph, pw] = geo.plane;
        let [oh, ow] = geo.out;
        assert!(oh + kh - 1 <= ph && ow + kw - 1 <= pw && ow >= LANES);
        let mut taps = Vec::with_capacity(geo.kdim);
        for c in 0..geo.c {
            for ky in 0..kh {
                for kx in 0..kw {
                    taps.push((c * ph + ky) * pw + kx);
                }
            }
        }
        let blocks = geo.k.div_ceil(KB);
        let mut packed = vec![0.0; blocks * geo.kdim * KB];
        for (b, block) in packed.chunks_exact_mut(geo.kdim * KB).enumerate() {
            for (t, tap) in block.chunks_exact_mut(KB).enumerate() {
                for (i, w) in tap.iter_mut().enumerate() {
                    let o = b * KB + i;
                    if o < geo.k {
                        *w = weights[o * geo.kdim + t];
                    }
                }
            }
        }
        let mut starts = vec![0.0; blocks * KB];
        starts[..geo.k].copy_from_slice(&start[..geo.k]);
        let mut cols: Vec<usize> = (0..ow / LANES).map(|v| v * LANES).collect();
        if !ow.is_multiple_of(LANES) {
            cols.push(ow - LANES);
        }
        let vectors = (0..oh)
            .flat_map(|oy| cols.iter().map(move |&x| [oy * pw + x, oy * ow + x]))
            .collect();
        Direct {
            c: geo.c,
            k: geo.k,
            plane: geo.plane,
            out: geo.out,
            taps,
            kernel: p.kernel,
            weights: packed,
            start: starts,
            vectors,
            fma: fma_available(),
        }
    }

    /// One item: `plane` (laid out as [`Geometry::fill_plane`] writes it) into `dst`, `[k, oh,
    /// ow]`, through the INT8 epilogue `epi` when there is one (its `mul` and `add` indexed by
    /// output channel) or as the sums. `tasks` threads share the channel blocks.
    pub fn run(&self, plane: &[f32], dst: &mut Dst, epi: Option<&Epilogue>, tasks: usize) {
        let plane = &plane[..self.c * self.plane[0] * self.plane[1]];
        if let Some(e) = epi {
            assert!(e.mul.len() >= self.k && e.add.len() >= self.k);
        }
        let len = KB * self.out[0] * self.out[1];
        let blocks = self.k.div_ceil(KB);
        let per = blocks.div_ceil(tasks.max(1));
        let run = |b0: usize, out: &mut Dst| {
            for b in b0..(b0 + per).min(blocks) {
                let at = (b - b0) * len;
                let mut out = match out {
                    Dst::F32(v) => Dst::F32(&mut v[at..]),
                    Dst::I8(v) => Dst::I8(&mut v[at..]),
                };
                self.block(plane, b, &mut out, epi);
            }
        };
        let total = self.k * self.out[0] * self.out[1];
        match dst {
            Dst::F32(v) if per < blocks => v[..total]
                .par_chunks_mut(per * len)
                .enumerate()
                .for_each(|(t, o)| run(t * per, &mut Dst::F32(o))),
            Dst::I8(v) if per < blocks => v[..total]
                .par_chunks_mut(per * len)
                .enumerate()
                .for_each(|(t, o)| run(t * per, &mut Dst::I8(o))),
            Dst::F32(v) => run(0, &mut Dst::F32(&mut v[..total])),
            Dst::I8(v) => run(0, &mut Dst::I8(&mut v[..total])),
        }
    }

    /// Output channels `b·KB..` (at most `KB`, the rest of `k`) into `out`, which starts at the
    /// first of them.
    fn block(&self, plane: &[f32], b: usize, out: &mut Dst, epi: Option<&Epilogue>) {
        let rows = KB.min(self.k - b * KB);
        let len = match out {
            Dst::F32(v) => v.len(),
            Dst::I8(v) => v.len(),
        };
        assert!(len >= rows * self.out[0] * self.out[1]);
        let taps = self.taps.len();
        let w = &self.weights[b * taps * KB..][..taps * KB];
        let start: &[f32; KB] = self.start[b * KB..][..KB].try_into().expect("block");
        let factors = epi.map(|e| {
            std::array::from_fn(|i| {
                // `igemm`'s factors for a row: `mul · 1` and `add + 0`.
                let o = b * KB + i.min(rows - 1);
                Factors {
                    mul: e.mul[o],
                    add: e.add[o] + 0.0,
                    relu: e.relu,
                }
            })
        });
        let blk = Block {
            w,
            start,
            rows,
            factors,
        };
        #[cfg(target_arch = "x86_64")]
        if self.fma {
            // SAFETY: AVX2 and FMA detected; `new` checked that every window of the output lies
            // in the plane, `run` that the plane holds every channel, and the assert above that
            // `out` holds the block's channels.
            return unsafe { self.block_fma(plane, &blk, out) };
        }
        self.block_portable(plane, &blk, out);
    }

    /// Unfused multiply-adds, as the GEMM's portable tile.
    fn block_portable(&self, plane: &[f32], blk: &Block, out: &mut Dst) {
        let po = self.out[0] * self.out[1];
        for i in 0..blk.rows {
            for &[src, dst] in &self.vectors {
                for lane in 0..LANES {
                    let origin = &plane[src + lane..];
                    let mut acc = blk.start[i];
                    for (&t, w) in self.taps.iter().zip(blk.w.chunks_exact(KB)) {
                        acc += w[i] * origin[t];
                    }
                    let at = i * po + dst + lane;
                    match (&blk.factors, &mut *out) {
                        (None, Dst::F32(y)) => y[at] = acc,
                        (None, Dst::I8(_)) => unreachable!("INT8 outputs come from an epilogue"),
                        (Some(f), out) => {
                            let f = &f[i];
                            let v = acc * f.mul + f.add;
                            let v = if f.relu { v.max(0.0) } else { v };
                            match out {
                                Dst::F32(y) => y[at] = v,
                                Dst::I8(y) => y[at] = igemm::saturate(v),
                            }
                        }
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_fma(&self, plane: &[f32], blk: &Block, out: &mut Dst) {
        let plane = plane.as_ptr();
        // SAFETY: see `block`.
        unsafe {
            match self.kernel {
                [5, 5] => self.tiles_fma::<5, 5>(plane, blk, out),
                [3, 3] => self.tiles_fma::<3, 3>(plane, blk, out),
                _ => self.tiles_fma::<0, 0>(plane, blk, out),
            }
        }
    }

    /// Every tile of the block: with the taps unrolled for a `KH`x`KW` kernel (offsets from one
    /// row pointer per kernel row, the weights' addresses constant), or from `taps` for 0x0.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tiles_fma<const KH: usize, const KW: usize>(
        &self,
        plane: *const f32,
        blk: &Block,
        out: &mut Dst,
    ) {
        for pair in self.vectors.chunks(2) {
            // SAFETY: see `block`.
            unsafe {
                match *pair {
                    [a, b] => self.tile_fma::<2, KH, KW>(blk, plane, [a, b], out),
                    [a] => self.tile_fma::<1, KH, KW>(blk, plane, [a], out),
                    _ => unreachable!("chunks of 2"),
                }
            }
        }
    }

    /// The `N` vectors `vectors` of the block's channels.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile_fma<const N: usize, const KH: usize, const KW: usize>(
        &self,
        blk: &Block,
        plane: *const f32,
        vectors: [[usize; 2]; N],
        out: &mut Dst,
    ) {
        use std::arch::x86_64::*;
        let po = self.out[0] * self.out[1];
        // SAFETY (whole body): the caller's checks cover every load and store.
        unsafe {
            let src = vectors.map(|[s, _]| plane.add(s));
            let mut acc = blk.start.map(|s| [_mm256_set1_ps(s); N]);
            let mut w = blk.w.as_ptr();
            // One tap: the vectors' inputs at offset `t` times the block's weights at `w`.
            let mut tap = |t: usize, w: *const f32| {
                let x = src.map(|s| _mm256_loadu_ps(s.add(t)));
                for (i, a) in acc.iter_mut().enumerate() {
                    let wi = _mm256_broadcast_ss(&*w.add(i));
                    for (a, &x) in a.iter_mut().zip(&x) {
                        *a = _mm256_fmadd_ps(wi, x, *a);
                    }
                }
            };
            if KH == 0 {
                for &t in &self.taps {
                    tap(t, w);
                    w = w.add(KB);
                }
            } else {
                let pw = self.plane[1];
                for c in 0..self.c {
                    for ky in 0..KH {
                        let row = (c * self.plane[0] + ky) * pw;
                        for kx in 0..KW {
                            tap(row + kx, w.add((ky * KW + kx) * KB));
                        }
                    }
                    w = w.add(KH * KW * KB);
                }
            }
            for (i, a) in acc.iter().enumerate().take(blk.rows) {
                for (&v, [_, d]) in a.iter().zip(vectors) {
                    store8(v, i * po + d, out, blk.factors.as_ref().map(|f| &f[i]));
                }
            }
        }
    }
}

/// What every tile of a block of output channels shares.
struct Block<'a> {
    /// The block's weights, `[tap][KB]`.
    w: &'a [f32],
    start: &'a [f32; KB],
    /// Output channels of the block that exist.
    rows: usize,
    /// Per output channel, the INT8 epilogue.
    factors: Option<[Factors; KB]>,
}

/// One output channel's INT8 epilogue: `acc · mul + add`, then the ReLU.
struct Factors {
    mul: f32,
    add: f32,
    relu: bool,
}

/// Eight sums to `out[at..at + 8]`: as they are, or through the INT8 epilogue `f` as `igemm`'s
/// in-register store computes it (multiply, add, ReLU, then clamp and round half to even for
/// INT8 outputs).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store8(v: std::arch::x86_64::__m256, at: usize, out: &mut Dst, f: Option<&Factors>) {
    use std::arch::x86_64::*;
    // SAFETY: the caller checked that `out` holds `at + 8` values.
    unsafe {
        let Some(f) = f else {
            let Dst::F32(y) = out else {
                unreachable!("INT8 outputs come from an epilogue")
            };
            return _mm256_storeu_ps(y.as_mut_ptr().add(at), v);
        };
        let v = _mm256_add_ps(
            _mm256_mul_ps(v, _mm256_set1_ps(f.mul)),
            _mm256_set1_ps(f.add),
        );
        match out {
            Dst::F32(y) => {
                // max(v, 0) gives 0 for NaN, as `f32::max` does.
                let v = if f.relu {
                    _mm256_max_ps(v, _mm256_setzero_ps())
                } else {
                    v
                };
                _mm256_storeu_ps(y.as_mut_ptr().add(at), v);
            }
            Dst::I8(y) => {
                let lo = _mm256_set1_ps(if f.relu { 0.0 } else { -127.0 });
                let v = _mm256_min_ps(_mm256_max_ps(v, lo), _mm256_set1_ps(127.0));
                let q = _mm256_cvtps_epi32(v);
                // Lanes are in [-127, 127]: packing cannot saturate.
                let w =
                    _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256::<1>(q));
                _mm_storel_epi64(
                    y.as_mut_ptr().add(at) as *mut __m128i,
                    _mm_packs_epi16(w, w),
                );
            }
        }
    }
}

fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        return true;
    }
    false
}
