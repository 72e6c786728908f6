//! Integer GEMM for INT8 layers: `C = A·B` with INT8 values held as `i16`, exact `i32`
//! accumulation, and an epilogue that scales each row or column back to real values (plus bias)
//! and stores them as `f32` or requantized to INT8.
//!
//! Operands are packed in depth pairs: an A panel is `[pair][MR][2]` and a B panel `[pair][NR][2]`,
//! so one `vpmaddwd` multiplies a broadcast pair of A by eight pairs of B and adds each pair's two
//! products into an `i32` lane. Values are in `[-127, 127]`, so the pair sum stays far inside
//! `i16 x i16 -> i32` and nothing saturates (unlike `vpmaddubsw`); a depth of `2^17` pairs still
//! cannot overflow `i32`. VNNI's `vpdpwssd` computes exactly that pair sum and adds it into the
//! accumulator in one instruction (it wraps like `vpaddd`, and never needs to), so the same
//! packing serves it and every path gives the same integers: AVX512-VNNI, AVX-VNNI, AVX2 or
//! portable, chosen at run time by `isa.rs`.

use super::isa::{Int8Isa, int8_isa};

pub const MR: usize = 6;
pub const NR: usize = 16;

pub fn pairs(k: usize) -> usize {
    k.div_ceil(2)
}

pub fn packed_a_len(m: usize, k: usize) -> usize {
    m.div_ceil(MR) * MR * pairs(k) * 2
}

pub fn packed_b_len(k: usize, n: usize) -> usize {
    n.div_ceil(NR) * NR * pairs(k) * 2
}

/// Packs the `m x k` matrix `get(i, p)`; rows past `m` and the odd depth's pad are zero.
pub fn pack_a(dst: &mut [i16], m: usize, k: usize, get: impl Fn(usize, usize) -> i16) {
    let kp = pairs(k);
    for (panel, out) in dst[..packed_a_len(m, k)]
        .chunks_exact_mut(MR * kp * 2)
        .enumerate()
    {
        for (pair, step) in out.chunks_exact_mut(MR * 2).enumerate() {
            for (i, v) in step.chunks_exact_mut(2).enumerate() {
                let r = panel * MR + i;
                for (h, x) in v.iter_mut().enumerate() {
                    let p = pair * 2 + h;
                    *x = if r < m && p < k { get(r, p) } else { 0 };
                }
            }
        }
    }
}

/// Packs the `k x n` matrix `get(p, j)`; columns past `n` and the odd depth's pad are zero.
pub fn pack_b(dst: &mut [i16], k: usize, n: usize, get: impl Fn(usize, usize) -> i16) {
    let kp = pairs(k);
    for (panel, out) in dst[..packed_b_len(k, n)]
        .chunks_exact_mut(NR * kp * 2)
        .enumerate()
    {
        for (pair, step) in out.chunks_exact_mut(NR * 2).enumerate() {
            for (j, v) in step.chunks_exact_mut(2).enumerate() {
                let c = panel * NR + j;
                for (h, x) in v.iter_mut().enumerate() {
                    let p = pair * 2 + h;
                    *x = if c < n && p < k { get(p, c) } else { 0 };
                }
            }
        }
    }
}

/// How accumulators become outputs: `acc · mul[c] + add[c]`, where `c` is the row (per output
/// channel of a convolution) or the column (per output of a fully connected layer), then a
/// following ReLU when `relu` (the engine fused it: the layer's output is the activation's).
pub struct Epilogue<'a> {
    pub per_row: bool,
    pub mul: &'a [f32],
    pub add: &'a [f32],
    pub relu: bool,
}

/// Where C goes, row stride `rs`: real values, or INT8 values (`mul`/`add` already divided by
/// the output scale) rounded half to even and clamped to `[-127, 127]` (`[0, 127]` under ReLU,
/// which is what clamping first and taking the ReLU of the INT8 value gives).
pub enum Dst<'a> {
    F32(&'a mut [f32]),
    I8(&'a mut [i8]),
}

pub type Tile = [[i32; NR]; MR];

/// B of an implicit GEMM over an INT8 convolution's input (no im2col matrix): `pairs` is the
/// input as a plane of depth pairs (see `pair_plane.rs`), and column `j` of depth pair `p` in panel
/// `pj` is the pair at `rows[p] + halves[pj][j / 8] + j % 8`: each panel's columns are two runs of
/// 8 consecutive plane positions. The same integers as im2col's packed B, so the same sums.
#[derive(Clone, Copy)]
pub struct Windows<'a> {
    pairs: &'a [i16],
    rows: &'a [usize],
    halves: &'a [[usize; 2]],
}

impl<'a> Windows<'a> {
    /// `None` when a window would read past the plane.
    pub fn new(pairs: &'a [i16], rows: &'a [usize], halves: &'a [[usize; 2]]) -> Option<Self> {
        let reach = rows.iter().max()? + halves.iter().flatten().max()? + 8;
        (2 * reach <= pairs.len()).then_some(Windows {
            pairs,
            rows,
            halves,
        })
    }

    pub fn depth_pairs(&self) -> usize {
        self.rows.len()
    }

    /// Panel `pj` alone (one tile column), already checked.
    pub fn panel(&self, pj: usize) -> Windows<'a> {
        Windows {
            halves: &self.halves[pj..pj + 1],
            ..*self
        }
    }
}

/// Where a tile's B panel lies: packed by [`pack_b`], or panel `pj` of windows.
#[derive(Clone, Copy)]
pub enum Panel<'a> {
    Packed(&'a [i16]),
    Window(&'a Windows<'a>, usize),
}

/// What a tile kernel does with its accumulators: hand back the sums, or run the epilogue on
/// them while they are still in registers and store whole 16-column rows.
pub enum TileOut<'s, 'd> {
    Sums(&'s mut Tile),
    Store(Sink<'s, 'd>),
}

/// `rows` whole rows of a tile's outputs at `dst[at..]`, row stride `rs`.
pub struct Sink<'s, 'd> {
    pub f: &'s Factors<'s>,
    pub rows: usize,
    pub dst: &'s mut Dst<'d>,
    pub at: usize,
    pub rs: usize,
}

impl Sink<'_, '_> {
    /// Whether every row the sink names lies in `dst`: the vector stores' bounds check.
    fn in_bounds(&self) -> bool {
        let need = self.at + (self.rows.max(1) - 1) * self.rs + NR;
        let len = match &*self.dst {
            Dst::F32(v) => v.len(),
            Dst::I8(v) => v.len(),
        };
        self.rows <= MR && len >= need
    }
}

/// `C = epilogue(A·B)` with A packed by [`pack_a`] (`m x k`) and B by [`pack_b`] (`k x n`).
#[allow(clippy::too_many_arguments)]
pub fn igemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[i16],
    b: &[i16],
    epi: &Epilogue,
    dst: &mut Dst,
    rs: usize,
) {
    let kp = pairs(k);
    if m == 1 {
        // A single row (a batch-1 fully connected layer): a tile would multiply five rows of
        // zeros, and the weights' trip through memory is the cost, so one row's sums per panel.
        let row = select_row();
        let mut t = [[0; NR]; MR];
        for pj in 0..n.div_ceil(NR) {
            let c0 = pj * NR;
            let cols = NR.min(n - c0);
            row(kp, a, &b[c0 * kp * 2..][..NR * kp * 2], &mut t[0]);
            store(&t, &Factors::new(epi, 0, c0, 1, cols), 1, cols, dst, c0, rs);
        }
        return;
    }
    tiles(
        m,
        n,
        kp,
        a,
        |pj| Panel::Packed(&b[pj * NR * kp * 2..][..NR * kp * 2]),
        epi,
        dst,
        rs,
    );
}

/// [`igemm`] with B read through `w`, over its `w.depth_pairs()` pairs of depth; the panels are
/// `w`'s first `n.div_ceil(NR)`.
pub fn igemm_windows(
    m: usize,
    n: usize,
    a: &[i16],
    w: &Windows,
    epi: &Epilogue,
    dst: &mut Dst,
    rs: usize,
) {
    assert!(n.div_ceil(NR) <= w.halves.len());
    tiles(
        m,
        n,
        w.depth_pairs(),
        a,
        |pj| Panel::Window(w, pj),
        epi,
        dst,
        rs,
    );
}

/// Every tile of `C = epilogue(A·B)`, B's panel `pj` being `b(pj)`.
#[allow(clippy::too_many_arguments)]
fn tiles<'b>(
    m: usize,
    n: usize,
    kp: usize,
    a: &[i16],
    b: impl Fn(usize) -> Panel<'b>,
    epi: &Epilogue,
    dst: &mut Dst,
    rs: usize,
) {
    let tile = select();
    let mut t = [[0; NR]; MR];
    for pj in 0..n.div_ceil(NR) {
        let bp = b(pj);
        for pi in 0..m.div_ceil(MR) {
            let ap = &a[pi * MR * kp * 2..][..MR * kp * 2];
            let (r0, c0) = (pi * MR, pj * NR);
            let (rows, cols) = (MR.min(m - r0), NR.min(n - c0));
            let f = Factors::new(epi, r0, c0, rows, cols);
            let at = r0 * rs + c0;
            if cols == NR {
                let sink = Sink {
                    f: &f,
                    rows,
                    dst: &mut *dst,
                    at,
                    rs,
                };
                tile(kp, ap, bp, TileOut::Store(sink));
            } else {
                tile(kp, ap, bp, TileOut::Sums(&mut t));
                store(&t, &f, rows, cols, dst, at, rs);
            }
        }
    }
}

static ONES: [f32; NR] = [1.0; NR];
static ZEROS: [f32; NR] = [0.0; NR];

/// One tile's epilogue factors: `C[i][j] = acc · (row_mul[i] · col_mul[j]) + (row_add[i] +
/// col_add[j])`, where one side is 1 and 0, so each product and sum is the exact `mul[c]` and
/// `add[c]` of [`Epilogue`] and every store path gives the same bits. Borrowed, not copied:
/// a tile of a short reduction is only a few dozen cycles of multiplies.
pub struct Factors<'a> {
    row_mul: &'a [f32],
    row_add: &'a [f32],
    col_mul: &'a [f32],
    col_add: &'a [f32],
    relu: bool,
}

impl<'a> Factors<'a> {
    fn new(epi: &Epilogue<'a>, r0: usize, c0: usize, rows: usize, cols: usize) -> Factors<'a> {
        let relu = epi.relu;
        if epi.per_row {
            let (row_mul, row_add) = (&epi.mul[r0..r0 + rows], &epi.add[r0..r0 + rows]);
            Factors {
                row_mul,
                row_add,
                col_mul: &ONES,
                col_add: &ZEROS,
                relu,
            }
        } else {
            let (col_mul, col_add) = (&epi.mul[c0..c0 + cols], &epi.add[c0..c0 + cols]);
            Factors {
                row_mul: &ONES,
                row_add: &ZEROS,
                col_mul,
                col_add,
                relu,
            }
        }
    }
}

/// Stores `rows x cols` of a tile at `dst[at..]`, row stride `rs`.
fn store(t: &Tile, f: &Factors, rows: usize, cols: usize, dst: &mut Dst, at: usize, rs: usize) {
    let lo = if f.relu { 0.0 } else { -127.0 };
    for (i, trow) in t.iter().enumerate().take(rows) {
        let real = |j: usize| {
            let v = trow[j] as f32 * (f.row_mul[i] * f.col_mul[j]) + (f.row_add[i] + f.col_add[j]);
            if f.relu { v.max(0.0) } else { v }
        };
        let base = at + i * rs;
        match dst {
            Dst::F32(out) => {
                for (j, o) in out[base..base + cols].iter_mut().enumerate() {
                    *o = real(j);
                }
            }
            Dst::I8(out) => {
                for (j, o) in out[base..base + cols].iter_mut().enumerate() {
                    *o = round_i8(real(j).clamp(lo, 127.0));
                }
            }
        }
    }
}

/// 1.5 · 2^23: adding and subtracting it rounds an `f32` of magnitude below 2^22 to an integer,
/// half to even (the default rounding mode), without a libm call.
const ROUND: f32 = 12_582_912.0;

/// `v` (already within ±127) rounded half to even.
#[inline]
fn round_i8(v: f32) -> i8 {
    ((v + ROUND) - ROUND) as i8
}

/// INT8 value of `v` (already in units of the output scale): clamp to ±127, round half to even.
#[inline]
pub fn saturate(v: f32) -> i8 {
    round_i8(v.clamp(-127.0, 127.0))
}

type TileFn = fn(usize, &[i16], Panel, TileOut);

fn select() -> TileFn {
    // `Int8Isa::available` checked the features before the path could be chosen.
    #[cfg(target_arch = "x86_64")]
    match int8_isa() {
        Int8Isa::Portable => {}
        Int8Isa::Avx2 => return tile_avx2_entry,
        Int8Isa::AvxVnni => return tile_avxvnni_entry,
        Int8Isa::Avx512Vnni => return tile_avx512vnni_entry,
    }
    tile_portable
}

/// `out[j] = Σ_p A[0][p] · B[p][j]` over `kp` pairs: row 0 of an A panel against a B panel.
type RowFn = fn(usize, &[i16], &[i16], &mut [i32; NR]);

fn select_row() -> RowFn {
    // Every SIMD path's CPU has AVX2; `vpmaddwd` gives the same integers as VNNI.
    #[cfg(target_arch = "x86_64")]
    if int8_isa() != Int8Isa::Portable {
        return row_avx2_entry;
    }
    row_portable
}

fn row_portable(kp: usize, a: &[i16], b: &[i16], out: &mut [i32; NR]) {
    *out = [0; NR];
    for (x, bk) in a[..kp * MR * 2]
        .chunks_exact(MR * 2)
        .zip(b[..kp * NR * 2].chunks_exact(NR * 2))
    {
        for (acc, y) in out.iter_mut().zip(bk.chunks_exact(2)) {
            *acc += x[0] as i32 * y[0] as i32 + x[1] as i32 * y[1] as i32;
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn row_avx2_entry(kp: usize, a: &[i16], b: &[i16], out: &mut [i32; NR]) {
    assert!(a.len() >= kp * MR * 2 && b.len() >= kp * NR * 2);
    // SAFETY: `select_row` returns this entry only after `int8_isa` found AVX2; the assert
    // covers every read.
    unsafe { row_avx2(kp, a.as_ptr(), b.as_ptr(), out) }
}

/// Per pair: row 0's pair of A broadcast, two `vpmaddwd` against the panel's 16 column pairs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_avx2(kp: usize, a: *const i16, b: *const i16, out: &mut [i32; NR]) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the entry checked that `a` and `b` hold `kp` pairs of their panels.
    unsafe {
        let (mut lo, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for p in 0..kp {
            let x = _mm256_set1_epi32((a.add(p * MR * 2) as *const i32).read_unaligned());
            let bp = b.add(p * NR * 2) as *const __m256i;
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(x, _mm256_loadu_si256(bp)));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(x, _mm256_loadu_si256(bp.add(1))));
        }
        _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, lo);
        _mm256_storeu_si256(out.as_mut_ptr().add(8) as *mut __m256i, hi);
    }
}

pub fn tile_portable(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    let mut t = [[0; NR]; MR];
    for (p, ak) in a[..kp * MR * 2].chunks_exact(MR * 2).enumerate() {
        let pair = |j: usize| -> [i16; 2] {
            let (v, at) = match b {
                Panel::Packed(b) => (b, p * NR + j),
                Panel::Window(w, pj) => (w.pairs, w.rows[p] + w.halves[pj][j / 8] + j % 8),
            };
            [v[2 * at], v[2 * at + 1]]
        };
        for (row, x) in t.iter_mut().zip(ak.chunks_exact(2)) {
            for (j, acc) in row.iter_mut().enumerate() {
                let y = pair(j);
                *acc += x[0] as i32 * y[0] as i32 + x[1] as i32 * y[1] as i32;
            }
        }
    }
    match out {
        TileOut::Sums(sums) => *sums = t,
        TileOut::Store(s) => store(&t, s.f, s.rows, NR, s.dst, s.at, s.rs),
    }
}

/// The checks every SIMD tile entry makes before its `unsafe` body: the panels hold `kp` pairs
/// (a window's reads were bounded by [`Windows::new`]) and a sink's rows lie in its destination.
#[cfg(target_arch = "x86_64")]
fn check_tile(kp: usize, a: &[i16], b: &Panel, out: &TileOut) {
    assert!(a.len() >= kp * MR * 2);
    match b {
        Panel::Packed(b) => assert!(b.len() >= kp * NR * 2),
        Panel::Window(w, pj) => assert!(w.rows.len() >= kp && *pj < w.halves.len()),
    }
    if let TileOut::Store(s) = out {
        assert!(s.in_bounds());
    }
}

/// Calls the SIMD tile body `$tile` with B's two vectors of pair `p` where `$b` (a [`Panel`]
/// that `check_tile` accepted) says: consecutive in a packed panel, or at the window's row offset
/// plus each half's start.
macro_rules! with_panel {
    ($tile:ident, $kp:expr, $a:expr, $b:expr, $out:expr) => {
        match $b {
            Panel::Packed(b) => {
                let b = b.as_ptr();
                $tile(
                    $kp,
                    $a.as_ptr(),
                    |p| [b.add(p * NR * 2), b.add(p * NR * 2 + 16)],
                    $out,
                )
            }
            Panel::Window(w, pj) => {
                let ([h0, h1], pairs, rows) = (w.halves[pj], w.pairs.as_ptr(), w.rows);
                let at = |p: usize| *rows.get_unchecked(p);
                $tile(
                    $kp,
                    $a.as_ptr(),
                    |p| [pairs.add((at(p) + h0) * 2), pairs.add((at(p) + h1) * 2)],
                    $out,
                )
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
fn tile_avx2_entry(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    check_tile(kp, a, &b, &out);
    // SAFETY: `select` returns this entry only after detecting AVX2; `check_tile` and
    // `Windows::new` cover every read and write.
    unsafe { with_panel!(tile_avx2, kp, a, b, out) }
}

/// A tile's accumulators (`$acc`, 16 `i32` lanes per row in two ymm registers) to where `$out`
/// says: the sums into memory, or [`store`]'s epilogue straight from the registers (the same
/// multiply, add, ReLU, clamp and round-half-to-even, by `vcvtps2dq` in the default rounding
/// mode, eight lanes at a time). A macro, not a function: a call would take the accumulators
/// through memory, and `#[inline(always)]` is not allowed on target-feature functions. Expands
/// inside an `unsafe` AVX2 function whose entry checked the sink's bounds.
macro_rules! emit_avx2 {
    ($acc:expr, $out:expr) => {{
        let acc: &[[__m256i; 2]; MR] = $acc;
        match $out {
            TileOut::Sums(t) => {
                for (row, o) in acc.iter().zip(t.iter_mut()) {
                    _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, row[0]);
                    _mm256_storeu_si256(o.as_mut_ptr().add(8) as *mut __m256i, row[1]);
                }
            }
            TileOut::Store(s) => {
                let f = s.f;
                let zero = _mm256_setzero_ps();
                let lo = _mm256_set1_ps(if f.relu { 0.0 } else { -127.0 });
                let hi = _mm256_set1_ps(127.0);
                let col_mul = [0, 8].map(|h| _mm256_loadu_ps(f.col_mul.as_ptr().add(h)));
                let col_add = [0, 8].map(|h| _mm256_loadu_ps(f.col_add.as_ptr().add(h)));
                for (i, row) in acc.iter().enumerate().take(s.rows) {
                    let (rm, ra) = (_mm256_set1_ps(f.row_mul[i]), _mm256_set1_ps(f.row_add[i]));
                    let v = [0, 1].map(|h| {
                        let mul = _mm256_mul_ps(rm, col_mul[h]);
                        let add = _mm256_add_ps(ra, col_add[h]);
                        _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(row[h]), mul), add)
                    });
                    let base = s.at + i * s.rs;
                    match s.dst {
                        Dst::F32(out) => {
                            // max(v, 0) gives 0 for NaN, as `f32::max` does in [`store`].
                            let v = if f.relu {
                                v.map(|v| _mm256_max_ps(v, zero))
                            } else {
                                v
                            };
                            _mm256_storeu_ps(out.as_mut_ptr().add(base), v[0]);
                            _mm256_storeu_ps(out.as_mut_ptr().add(base + 8), v[1]);
                        }
                        Dst::I8(out) => {
                            let q = v.map(|v| {
                                _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi))
                            });
                            // Lanes are in [-127, 127]: packing cannot saturate; fix the lane
                            // order of the 256-bit packs, then keep the low 16 bytes.
                            let w = _mm256_permute4x64_epi64(
                                _mm256_packs_epi32(q[0], q[1]),
                                0b11_01_10_00,
                            );
                            let b = _mm256_packs_epi16(w, w);
                            let b = _mm256_permute4x64_epi64(b, 0b11_01_10_00);
                            _mm_storeu_si128(
                                out.as_mut_ptr().add(base) as *mut __m128i,
                                _mm256_castsi256_si128(b),
                            );
                        }
                    }
                }
            }
        }
    }};
}

/// A 6x16 tile in 12 ymm `i32` accumulators: per depth pair two loads of B (where `b(p)` says),
/// six broadcast pairs of A and twelve multiply-accumulates of 16-bit pairs (`$madd`, whose
/// arguments are named by the caller), under the target features `$features`.
macro_rules! ymm_tile {
    ($(#[$doc:meta])* $name:ident, $features:literal, |$acc:ident, $x:ident, $b:ident| $madd:expr) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(
            kp: usize,
            a: *const i16,
            b: impl Fn(usize) -> [*const i16; 2],
            out: TileOut,
        ) {
            use std::arch::x86_64::*;
            // SAFETY (whole body): the entry checked that `a` and every pointer `b` gives hold
            // `kp` pairs and that the sink's rows are in bounds.
            unsafe {
                let mut acc = [[_mm256_setzero_si256(); 2]; MR];
                let mut a = a;
                for p in 0..kp {
                    let [p0, p1] = b(p);
                    let b0 = _mm256_loadu_si256(p0 as *const __m256i);
                    let b1 = _mm256_loadu_si256(p1 as *const __m256i);
                    for (i, row) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_epi32((a.add(2 * i) as *const i32).read_unaligned());
                        for (r, bv) in row.iter_mut().zip([b0, b1]) {
                            let ($acc, $x, $b) = (*r, x, bv);
                            *r = $madd;
                        }
                    }
                    a = a.add(MR * 2);
                }
                emit_avx2!(&acc, out);
            }
        }
    };
}

ymm_tile!(
    /// `vpmaddwd` then `vpaddd`.
    tile_avx2, "avx2", |acc, x, b| _mm256_add_epi32(acc, _mm256_madd_epi16(x, b))
);

ymm_tile!(
    /// [`tile_avx2`] with each `vpmaddwd` + `vpaddd` pair fused into one `vpdpwssd` (same sums).
    tile_avxvnni, "avx2,avxvnni", |acc, x, b| _mm256_dpwssd_avx_epi32(acc, x, b)
);

#[cfg(target_arch = "x86_64")]
fn tile_avxvnni_entry(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    assert!(Int8Isa::AvxVnni.available());
    check_tile(kp, a, &b, &out);
    // SAFETY: AVX-VNNI (and AVX2) checked above; `check_tile` and `Windows::new` cover every
    // read and write.
    unsafe { with_panel!(tile_avxvnni, kp, a, b, out) }
}

#[cfg(target_arch = "x86_64")]
fn tile_avx512vnni_entry(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    assert!(Int8Isa::Avx512Vnni.available());
    check_tile(kp, a, &b, &out);
    // SAFETY: AVX512F and AVX512-VNNI checked above; `check_tile` and `Windows::new` cover
    // every read and write.
    unsafe { with_panel!(tile_avx512vnni, kp, a, b, out) }
}

/// The 6x16 tile in 6 zmm accumulators, one per row: per depth pair one load of B (16 pairs,
/// two halves where they are apart), six broadcast pairs of A and six `vpdpwssd`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn tile_avx512vnni(
    kp: usize,
    a: *const i16,
    b: impl Fn(usize) -> [*const i16; 2],
    out: TileOut,
) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the entry checked that `a` and every pointer `b` gives hold `kp`
    // pairs and that the sink's rows are in bounds.
    unsafe {
        let mut acc = [_mm512_setzero_si512(); MR];
        let mut a = a;
        for p in 0..kp {
            let [p0, p1] = b(p);
            let bv = if p1 == p0.add(16) {
                _mm512_loadu_si512(p0 as *const __m512i)
            } else {
                let lo = _mm512_castsi256_si512(_mm256_loadu_si256(p0 as *const __m256i));
                _mm512_inserti64x4::<1>(lo, _mm256_loadu_si256(p1 as *const __m256i))
            };
            for (i, row) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_epi32((a.add(2 * i) as *const i32).read_unaligned());
                *row = _mm512_dpwssd_epi32(*row, x, bv);
            }
            a = a.add(MR * 2);
        }
        let halves = acc.map(|z| [_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64::<1>(z)]);
        emit_avx2!(&halves, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic INT8 matrix with the extremes ±127 present.
    fn values(n: usize, seed: u32) -> Vec<i16> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                match i % 17 {
                    0 => 127,
                    1 => -127,
                    _ => ((s >> 16) % 255) as i16 - 127,
                }
            })
            .collect()
    }

    fn packed(m: usize, n: usize, k: usize, a: &[i16], b: &[i16]) -> (Vec<i16>, Vec<i16>) {
        let mut pa = vec![0; packed_a_len(m, k)];
        pack_a(&mut pa, m, k, |i, p| a[i * k + p]);
        let mut pb = vec![0; packed_b_len(k, n)];
        pack_b(&mut pb, k, n, |p, j| b[p * n + j]);
        (pa, pb)
    }

    /// The portable tile, then each SIMD tile this CPU can run.
    fn kernels() -> Vec<TileFn> {
        let mut kernels: Vec<TileFn> = vec![tile_portable];
        #[cfg(target_arch = "x86_64")]
        for (isa, tile) in [
            (Int8Isa::Avx2, tile_avx2_entry as TileFn),
            (Int8Isa::AvxVnni, tile_avxvnni_entry),
            (Int8Isa::Avx512Vnni, tile_avx512vnni_entry),
        ] {
            if isa.available() {
                kernels.push(tile);
            }
        }
        kernels
    }

    /// Exact `i64` reference of `A·B`.
    fn reference(m: usize, n: usize, k: usize, a: &[i16], b: &[i16]) -> Vec<i64> {
        let mut c = vec![0i64; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| a[i * k + p] as i64 * b[p * n + j] as i64)
                    .sum();
            }
        }
        c
    }

    /// A single row takes the row kernels: each equals the exact reference, and `igemm` gives
    /// that row the bits the tiles give it inside a taller matrix, real and INT8 outputs, with
    /// and without ReLU.
    #[test]
    fn single_row_matches_reference_and_tiles() {
        let m = 3;
        for &(n, k) in &[(10, 801), (500, 800), (16, 1), (33, 25)] {
            let (a, b) = (values(m * k, 3), values(k * n, 4));
            let want = reference(1, n, k, &a, &b);
            let (pa1, pb) = packed(1, n, k, &a[..k], &b);
            let kp = pairs(k);
            let mut rows: Vec<RowFn> = vec![row_portable];
            #[cfg(target_arch = "x86_64")]
            if Int8Isa::Avx2.available() {
                rows.push(row_avx2_entry);
            }
            for row in rows {
                for pj in 0..n.div_ceil(NR) {
                    let mut out = [0; NR];
                    row(kp, &pa1, &pb[pj * NR * kp * 2..], &mut out);
                    for (j, &v) in out.iter().enumerate().take(NR.min(n - pj * NR)) {
                        assert_eq!(v as i64, want[pj * NR + j], "n {n} k {k} column {j}");
                    }
                }
            }
            let (pa3, _) = packed(m, n, k, &a, &b);
            let mul: Vec<f32> = (0..n).map(|j| 2e-4 + j as f32 * 1e-6).collect();
            let add: Vec<f32> = (0..n).map(|j| j as f32 * 0.25 - 3.0).collect();
            for relu in [false, true] {
                let epi = Epilogue {
                    per_row: false,
                    mul: &mul,
                    add: &add,
                    relu,
                };
                let (mut one, mut three) = (vec![0.0f32; n], vec![0.0f32; m * n]);
                igemm(1, n, k, &pa1, &pb, &epi, &mut Dst::F32(&mut one), n);
                igemm(m, n, k, &pa3, &pb, &epi, &mut Dst::F32(&mut three), n);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&one), bits(&three[..n]), "n {n} k {k}");
                let (mut one, mut three) = (vec![0i8; n], vec![0i8; m * n]);
                igemm(1, n, k, &pa1, &pb, &epi, &mut Dst::I8(&mut one), n);
                igemm(m, n, k, &pa3, &pb, &epi, &mut Dst::I8(&mut three), n);
                assert_eq!(one, three[..n], "n {n} k {k}");
            }
        }
    }

    /// Accumulations are exact: every tile kernel equals the i64 reference, odd depths and
    /// ragged edges included, with products at the ±127 extremes.
    #[test]
    fn tiles_match_exact_reference() {
        for &(m, n, k) in &[
            (6, 16, 1),
            (7, 17, 25),
            (50, 64, 500),
            (1, 10, 801),
            (13, 33, 4096),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let want = reference(m, n, k, &a, &b);
            let (pa, pb) = packed(m, n, k, &a, &b);
            let kp = pairs(k);
            for tile in kernels() {
                for pi in 0..m.div_ceil(MR) {
                    for pj in 0..n.div_ceil(NR) {
                        let mut t = [[0; NR]; MR];
                        let (ap, bp) = (&pa[pi * MR * kp * 2..], &pb[pj * NR * kp * 2..]);
                        tile(kp, ap, Panel::Packed(bp), TileOut::Sums(&mut t));
                        for (i, trow) in t.iter().enumerate().take(MR.min(m - pi * MR)) {
                            for (j, &v) in trow.iter().enumerate().take(NR.min(n - pj * NR)) {
                                let (r, c) = (pi * MR + i, pj * NR + j);
                                assert_eq!(v as i64, want[r * n + c], "({r}, {c}) k={k}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Windows of a plane of pairs give every tile kernel the sums of the same B packed by
    /// [`pack_b`], for halves anywhere in the plane (overlapping, unaligned, apart).
    #[test]
    fn windows_equal_packed_panels() {
        let (m, kp) = (7, 13);
        let plane = values(2 * 700, 7);
        let rows: Vec<usize> = (0..kp).map(|p| p * 37 % 500).collect();
        let halves = [[3, 180], [50, 51], [0, 8]];
        let w = Windows::new(&plane, &rows, &halves).expect("in the plane");
        // The last pair read: row 444 + half 180 + 7.
        assert!(Windows::new(&plane[..2 * 632], &rows, &halves).is_some());
        assert!(Windows::new(&plane[..2 * 631], &rows, &halves).is_none());
        let n = halves.len() * NR;
        let (k, a) = (2 * kp, values(m * 2 * kp, 8));
        let mut pa = vec![0; packed_a_len(m, k)];
        pack_a(&mut pa, m, k, |i, q| a[i * k + q]);
        let mut pb = vec![0; packed_b_len(k, n)];
        pack_b(&mut pb, k, n, |q, j| {
            let pair = rows[q / 2] + halves[j / NR][j % NR / 8] + j % 8;
            plane[2 * pair + q % 2]
        });
        for tile in kernels() {
            for pj in 0..halves.len() {
                for pi in 0..m.div_ceil(MR) {
                    let ap = &pa[pi * MR * kp * 2..];
                    let (mut want, mut got) = ([[0; NR]; MR], [[0; NR]; MR]);
                    let bp = Panel::Packed(&pb[pj * NR * kp * 2..]);
                    tile_portable(kp, ap, bp, TileOut::Sums(&mut want));
                    tile(kp, ap, Panel::Window(&w, pj), TileOut::Sums(&mut got));
                    assert_eq!(want, got, "panel {pj}, rows {pi}");
                }
            }
        }
    }

    /// The epilogue's real values are within float rounding of the f64 reference
    /// (`acc · mul + add`, relative 1e-6), and INT8 outputs equal the f64 value rounded half to
    /// even and clamped, except where the f32 product lands within 1e-4 of a rounding tie.
    #[test]
    fn epilogue_matches_f64_reference() {
        let (m, n, k) = (11, 21, 75);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let want = reference(m, n, k, &a, &b);
        let (pa, pb) = packed(m, n, k, &a, &b);
        for (per_row, relu) in [(true, false), (false, false), (true, true), (false, true)] {
            let len = if per_row { m } else { n };
            let mul: Vec<f32> = (0..len).map(|c| 1e-4 * (c as f32 + 1.0)).collect();
            let add: Vec<f32> = (0..len).map(|c| c as f32 * 0.37 - 2.0).collect();
            let epi = Epilogue {
                per_row,
                mul: &mul,
                add: &add,
                relu,
            };
            let mut real = vec![0f32; m * n];
            igemm(m, n, k, &pa, &pb, &epi, &mut Dst::F32(&mut real), n);
            let mut q = vec![0i8; m * n];
            igemm(m, n, k, &pa, &pb, &epi, &mut Dst::I8(&mut q), n);
            for i in 0..m {
                for j in 0..n {
                    let c = if per_row { i } else { j };
                    let exact = want[i * n + j] as f64 * mul[c] as f64 + add[c] as f64;
                    let exact = if relu { exact.max(0.0) } else { exact };
                    let got = real[i * n + j] as f64;
                    assert!(
                        (got - exact).abs() <= 1e-6 * exact.abs().max(1.0),
                        "{got} vs {exact}"
                    );
                    let frac = exact - exact.floor();
                    if (frac - 0.5).abs() > 1e-4 {
                        let wq = exact.round_ties_even().clamp(-127.0, 127.0) as i8;
                        assert_eq!(q[i * n + j], wq, "({i}, {j}) of {exact}");
                    }
                }
            }
        }
    }

    /// Every SIMD tile's epilogue from registers gives the portable store's bits, real and
    /// INT8, per row and per column, with and without ReLU, including values beyond ±127,
    /// exact halves and a ragged last row.
    #[test]
    fn fused_stores_equal_portable() {
        let (m, n, k) = (11, 32, 9);
        let (a, b) = (values(m * k, 5), values(k * n, 6));
        let (pa, pb) = packed(m, n, k, &a, &b);
        let mul: Vec<f32> = (0..n).map(|c| [0.5, 1e-3, 2.5e-4, 1.0][c % 4]).collect();
        let add: Vec<f32> = (0..n).map(|c| c as f32 * 0.25 - 1.5).collect();
        for per_row in [true, false] {
            for relu in [false, true] {
                let epi = Epilogue {
                    per_row,
                    mul: &mul,
                    add: &add,
                    relu,
                };
                let run = |tile: TileFn, dst: &mut Dst| {
                    let kp = pairs(k);
                    for pi in 0..m.div_ceil(MR) {
                        for pj in 0..n / NR {
                            let (r0, c0) = (pi * MR, pj * NR);
                            let rows = MR.min(m - r0);
                            let f = Factors::new(&epi, r0, c0, rows, NR);
                            let sink = Sink {
                                f: &f,
                                rows,
                                dst: &mut *dst,
                                at: r0 * n + c0,
                                rs: n,
                            };
                            let (ap, bp) = (&pa[pi * MR * kp * 2..], &pb[pj * NR * kp * 2..]);
                            tile(kp, ap, Panel::Packed(bp), TileOut::Store(sink));
                        }
                    }
                };
                let (mut real, mut q) = (vec![0f32; m * n], vec![0i8; m * n]);
                run(tile_portable, &mut Dst::F32(&mut real));
                run(tile_portable, &mut Dst::I8(&mut q));
                assert!(q.contains(&127) && q.contains(if relu { &0 } else { &-127 }));
                for tile in kernels() {
                    let (mut r2, mut q2) = (vec![0f32; m * n], vec![0i8; m * n]);
                    run(tile, &mut Dst::F32(&mut r2));
                    run(tile, &mut Dst::I8(&mut q2));
                    assert_eq!(real, r2, "per_row {per_row} relu {relu}");
                    assert_eq!(q, q2, "per_row {per_row} relu {relu}");
                }
            }
        }
        assert_eq!(
            [
                saturate(0.5),
                saturate(1.5),
                saturate(-2.5),
                saturate(300.0)
            ],
            [0, 2, -2, 127]
        );
    }
}
