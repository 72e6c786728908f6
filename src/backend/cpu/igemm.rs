//! Integer GEMM for INT8 layers: `C = A·B` over INT8 values, exact `i32` accumulation, and an
//! epilogue that scales each row or column back to real values (plus bias) and stores them as
//! `f32` or requantized to INT8.
//!
//! Operands are packed in 4-byte units of depth ([`Format`]): an A panel is `[unit][MR][4 bytes]`
//! and a B panel `[unit][NR][4 bytes]`, so one instruction multiplies a broadcast unit of A by
//! the units of B and adds each unit's products into an `i32` lane.
//! - Pairs of `i16`: `vpmaddwd` (then `vpaddd`) or VNNI's `vpdpwssd`. Values are in `[-127, 127]`,
//!   so the pair sum stays far inside `i16 x i16 -> i32` and nothing saturates (unlike
//!   `vpmaddubsw`); a depth of `2^17` pairs still cannot overflow `i32`.
//! - Quads of bytes: AVX512-VNNI's `vpdpbusd`, twice the products per instruction. It multiplies
//!   unsigned by signed bytes, so the activations are stored as `x + 128` (in `[1, 255]`) and the
//!   weights as they are; the extra `128 · Σ w` of each output channel is taken back by the
//!   epilogue's zero points ([`Epilogue::zero`]) in wrapping `i32` arithmetic, which `vpdpbusd`
//!   also uses (it never saturates), so the result is the exact sum again.
//!
//! Every path gives the same integers: AVX512-VNNI, AVX-VNNI, AVX2 or portable, chosen at run
//! time by `isa.rs`.

use super::isa::{Int8Isa, int8_isa};

pub const MR: usize = 6;
pub const NR: usize = 16;

/// How the depth is packed into the 4-byte units every panel and plane is made of. Storage is
/// `i16` either way (a unit is two of them), so buffers, windows and offsets do not depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Two `i16` values per unit.
    Pairs,
    /// Four bytes per unit: weights as `i8`, activations as `u8` offset by 128.
    Quads,
}

impl Format {
    /// The format for layers built now: quads where the AVX512-VNNI path runs them.
    pub fn current() -> Format {
        if int8_isa() == Int8Isa::Avx512Vnni {
            Format::Quads
        } else {
            Format::Pairs
        }
    }

    /// Depth values per unit.
    pub fn per_unit(self) -> usize {
        match self {
            Format::Pairs => 2,
            Format::Quads => 4,
        }
    }

    /// Units of a depth of `k` values.
    pub fn units(self, k: usize) -> usize {
        k.div_ceil(self.per_unit())
    }
}

/// Which operand a panel holds: quads store activations offset by 128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Weights,
    Activations,
}

pub fn packed_a_len(m: usize, k: usize, fmt: Format) -> usize {
    m.div_ceil(MR) * MR * fmt.units(k) * 2
}

pub fn packed_b_len(k: usize, n: usize, fmt: Format) -> usize {
    n.div_ceil(NR) * NR * fmt.units(k) * 2
}

/// The bytes of packed `i16` storage (quads are written and read through it).
pub fn bytes(v: &[i16]) -> &[u8] {
    // SAFETY: same memory; u8 has no alignment requirement or invalid bit patterns.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

pub fn bytes_mut(v: &mut [i16]) -> &mut [u8] {
    // SAFETY: as above, through the unique borrow.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v)) }
}

/// The byte a quad stores for the INT8 value `v` of an operand in `role` (a zero activation is
/// 128).
#[inline]
pub fn quad_byte(v: i16, role: Role) -> u8 {
    match role {
        Role::Weights => v as i8 as u8,
        Role::Activations => (v + 128) as u8,
    }
}

/// Packs `count` lanes (rows of A, columns of B) in panels of `lanes`: value `p` of lane `l` is
/// `get(l, p)`; lanes past `count` and the depth's pad hold zero.
#[allow(clippy::too_many_arguments)]
fn pack(
    dst: &mut [i16],
    lanes: usize,
    count: usize,
    k: usize,
    fmt: Format,
    role: Role,
    get: impl Fn(usize, usize) -> i16,
) {
    let shape = (lanes, count, k, fmt.per_unit());
    let len = count.div_ceil(lanes) * lanes * fmt.units(k) * 2;
    match fmt {
        Format::Pairs => fill(&mut dst[..len], shape, 0, get),
        Format::Quads => fill(
            bytes_mut(&mut dst[..len]),
            shape,
            quad_byte(0, role),
            |l, p| quad_byte(get(l, p), role),
        ),
    }
}

/// [`pack`] into `out`, values of `per` to a unit, in storage order (activations are packed on
/// every run: no per-value calls through a pointer).
fn fill<T: Copy>(
    out: &mut [T],
    (lanes, count, k, per): (usize, usize, usize, usize),
    zero: T,
    value: impl Fn(usize, usize) -> T,
) {
    let ku = k.div_ceil(per);
    for (panel, out) in out.chunks_exact_mut(lanes * ku * per).enumerate() {
        for (u, out) in out.chunks_exact_mut(lanes * per).enumerate() {
            for (i, out) in out.chunks_exact_mut(per).enumerate() {
                let l = panel * lanes + i;
                for (h, o) in out.iter_mut().enumerate() {
                    let p = u * per + h;
                    *o = if l < count && p < k {
                        value(l, p)
                    } else {
                        zero
                    };
                }
            }
        }
    }
}

/// Packs the `m x k` matrix `get(i, p)`; rows past `m` and the depth's pad are zero.
pub fn pack_a(
    dst: &mut [i16],
    m: usize,
    k: usize,
    fmt: Format,
    role: Role,
    get: impl Fn(usize, usize) -> i16,
) {
    pack(dst, MR, m, k, fmt, role, get);
}

/// Packs the `k x n` matrix `get(p, j)`; columns past `n` and the depth's pad are zero.
pub fn pack_b(
    dst: &mut [i16],
    k: usize,
    n: usize,
    fmt: Format,
    role: Role,
    get: impl Fn(usize, usize) -> i16,
) {
    pack(dst, NR, n, k, fmt, role, |j, p| get(p, j));
}

/// The zero points of quads: `-128 · Σ w` per output channel, for `channels` equal runs of
/// INT8 weights `w`.
pub fn zero_points(w: &[i8], channels: usize) -> Vec<i32> {
    let per = w.len().checked_div(channels).unwrap_or(0).max(1);
    w.chunks(per)
        .map(|c| {
            c.iter()
                .map(|&v| i32::from(v))
                .sum::<i32>()
                .wrapping_mul(-128)
        })
        .collect()
}

/// How accumulators become outputs: `acc · mul[c] + add[c]`, where `c` is the row (per output
/// channel of a convolution) or the column (per output of a fully connected layer), then a
/// following ReLU when `relu` (the engine fused it: the layer's output is the activation's).
/// The channel side holds the weights, the other the activations.
pub struct Epilogue<'a> {
    pub per_row: bool,
    pub mul: &'a [f32],
    pub add: &'a [f32],
    pub relu: bool,
    /// Per channel, added (wrapping) to the accumulator first: [`zero_points`] for quads, empty
    /// for pairs.
    pub zero: &'a [i32],
}

impl Epilogue<'_> {
    /// Whether B holds the activations (the unsigned bytes of quads).
    fn unsigned_b(&self) -> bool {
        self.per_row
    }
}

/// Where C goes, row stride `rs`: real values, or INT8 values (`mul`/`add` already divided by
/// the output scale) rounded half to even and clamped to `[-127, 127]` (`[0, 127]` under ReLU,
/// which is what clamping first and taking the ReLU of the INT8 value gives).
pub enum Dst<'a> {
    F32(&'a mut [f32]),
    I8(&'a mut [i8]),
}

pub type Tile = [[i32; NR]; MR];

/// B of an implicit GEMM over an INT8 convolution's input (no im2col matrix): `units` is the
/// input as a plane of depth units (see `unit_plane.rs`), and column `j` of depth unit `p` in
/// panel `pj` is the unit at `rows[p] + halves[pj][j / 8] + j % 8`: each panel's columns are two
/// runs of 8 consecutive plane positions. The same integers as im2col's packed B, so the same sums.
#[derive(Clone, Copy)]
pub struct Windows<'a> {
    units: &'a [i16],
    rows: &'a [usize],
    halves: &'a [[usize; 2]],
}

impl<'a> Windows<'a> {
    /// `None` when a window would read past the plane.
    pub fn new(units: &'a [i16], rows: &'a [usize], halves: &'a [[usize; 2]]) -> Option<Self> {
        let reach = rows.iter().max()? + halves.iter().flatten().max()? + 8;
        (2 * reach <= units.len()).then_some(Windows {
            units,
            rows,
            halves,
        })
    }

    pub fn depth_units(&self) -> usize {
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
/// them while they are still in registers and store whole 16-column rows, or pool them first.
pub enum TileOut<'s, 'd> {
    Sums(&'s mut Tile),
    Store(Sink<'s, 'd>),
    /// The 16 columns are the top and bottom rows of four 2x2 max pooling windows (8 + 8
    /// positions); per row, each window's largest sum goes through the epilogue and the four
    /// values are stored. The bits of pooling the epilogue's outputs, because the epilogue never
    /// decreases (`mul >= 0`, which the caller checked). The factors must be per row.
    Pooled(Sink<'s, 'd>),
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
    /// Whether every row (of `width` values) the sink names lies in `dst`: the vector stores'
    /// bounds check.
    fn in_bounds(&self, width: usize) -> bool {
        let need = self.at + (self.rows.max(1) - 1) * self.rs + width;
        let len = match &*self.dst {
            Dst::F32(v) => v.len(),
            Dst::I8(v) => v.len(),
        };
        self.rows <= MR && len >= need
    }
}

/// `C = epilogue(A·B)` with A packed by [`pack_a`] (`m x k`) and B by [`pack_b`] (`k x n`), both
/// in `fmt`.
#[allow(clippy::too_many_arguments)]
pub fn igemm(
    m: usize,
    n: usize,
    k: usize,
    fmt: Format,
    a: &[i16],
    b: &[i16],
    epi: &Epilogue,
    dst: &mut Dst,
    rs: usize,
) {
    let kp = fmt.units(k);
    if m == 1 {
        // A single row (a batch-1 fully connected layer): a tile would multiply five rows of
        // zeros, and the weights' trip through memory is the cost, so one row's sums per panel.
        let row = select_row(fmt, epi.unsigned_b());
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
        (kp, fmt),
        a,
        |pj| Panel::Packed(&b[pj * NR * kp * 2..][..NR * kp * 2]),
        epi,
        dst,
        rs,
    );
}

/// [`igemm`] with B read through `w`, over its `w.depth_units()` units of depth; the panels are
/// `w`'s first `n.div_ceil(NR)`.
#[allow(clippy::too_many_arguments)]
pub fn igemm_windows(
    m: usize,
    n: usize,
    fmt: Format,
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
        (w.depth_units(), fmt),
        a,
        |pj| Panel::Window(w, pj),
        epi,
        dst,
        rs,
    );
}

/// [`igemm_windows`] over the one panel of `w`, whose 16 columns are the two rows of four 2x2
/// max pooling windows: stores each output row's four pooled values at `dst[at + i · rs..]`
/// (see [`TileOut::Pooled`]; `epi` is per row, with `mul >= 0`).
#[allow(clippy::too_many_arguments)]
pub fn igemm_pooled(
    m: usize,
    fmt: Format,
    a: &[i16],
    w: &Windows,
    epi: &Epilogue,
    dst: &mut Dst,
    at: usize,
    rs: usize,
) {
    assert!(epi.per_row && w.halves.len() == 1);
    let tile = select(fmt, epi.unsigned_b());
    let kp = w.depth_units();
    for pi in 0..m.div_ceil(MR) {
        let ap = &a[pi * MR * kp * 2..][..MR * kp * 2];
        let (r0, rows) = (pi * MR, MR.min(m - pi * MR));
        let f = Factors::new(epi, r0, 0, rows, NR);
        let sink = Sink {
            f: &f,
            rows,
            dst: &mut *dst,
            at: at + r0 * rs,
            rs,
        };
        tile(kp, ap, Panel::Window(w, 0), TileOut::Pooled(sink));
    }
}

/// Every tile of `C = epilogue(A·B)` over `kp` units of `fmt`, B's panel `pj` being `b(pj)`.
#[allow(clippy::too_many_arguments)]
fn tiles<'b>(
    m: usize,
    n: usize,
    (kp, fmt): (usize, Format),
    a: &[i16],
    b: impl Fn(usize) -> Panel<'b>,
    epi: &Epilogue,
    dst: &mut Dst,
    rs: usize,
) {
    let tile = select(fmt, epi.unsigned_b());
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
static NO_ZERO_POINTS: [i32; NR] = [0; NR];

/// One tile's epilogue factors: `C[i][j] = (acc + row_zero[i] + col_zero[j]) · (row_mul[i] ·
/// col_mul[j]) + (row_add[i] + col_add[j])`, where one side is 0, 1 and 0, so each sum and product
/// is the exact `zero[c]`, `mul[c]` and `add[c]` of [`Epilogue`] and every store path gives the
/// same bits. Borrowed, not copied: a tile of a short reduction is only a few dozen cycles of
/// multiplies.
pub struct Factors<'a> {
    row_zero: &'a [i32],
    row_mul: &'a [f32],
    row_add: &'a [f32],
    col_zero: &'a [i32],
    col_mul: &'a [f32],
    col_add: &'a [f32],
    relu: bool,
}

impl<'a> Factors<'a> {
    fn new(epi: &Epilogue<'a>, r0: usize, c0: usize, rows: usize, cols: usize) -> Factors<'a> {
        let (c0, len) = if epi.per_row { (r0, rows) } else { (c0, cols) };
        let (mul, add) = (&epi.mul[c0..c0 + len], &epi.add[c0..c0 + len]);
        let zero = match epi.zero {
            [] => &NO_ZERO_POINTS[..len],
            z => &z[c0..c0 + len],
        };
        let relu = epi.relu;
        if epi.per_row {
            Factors {
                row_zero: zero,
                row_mul: mul,
                row_add: add,
                col_zero: &NO_ZERO_POINTS,
                col_mul: &ONES,
                col_add: &ZEROS,
                relu,
            }
        } else {
            Factors {
                row_zero: &NO_ZERO_POINTS,
                row_mul: &ONES,
                row_add: &ZEROS,
                col_zero: zero,
                col_mul: mul,
                col_add: add,
                relu,
            }
        }
    }
}

/// Row `i`, column `j` of a tile through the epilogue: `acc` (already with the zero point) to
/// a real value.
#[inline]
fn real(f: &Factors, i: usize, j: usize, acc: i32) -> f32 {
    let v = acc as f32 * (f.row_mul[i] * f.col_mul[j]) + (f.row_add[i] + f.col_add[j]);
    if f.relu { v.max(0.0) } else { v }
}

/// Writes the epilogue's `v` at `dst[at]`, rounded and clamped for INT8 (to `[0, 127]` under
/// ReLU, which is what clamping first and taking the ReLU of the INT8 value gives).
#[inline]
fn put(dst: &mut Dst, at: usize, v: f32, relu: bool) {
    match dst {
        Dst::F32(out) => out[at] = v,
        Dst::I8(out) => out[at] = round_i8(v.clamp(if relu { 0.0 } else { -127.0 }, 127.0)),
    }
}

/// Stores `rows x cols` of a tile at `dst[at..]`, row stride `rs`.
fn store(t: &Tile, f: &Factors, rows: usize, cols: usize, dst: &mut Dst, at: usize, rs: usize) {
    for (i, trow) in t.iter().enumerate().take(rows) {
        for (j, &acc) in trow.iter().enumerate().take(cols) {
            let acc = acc.wrapping_add(f.row_zero[i] + f.col_zero[j]);
            put(dst, at + i * rs + j, real(f, i, j, acc), f.relu);
        }
    }
}

/// [`TileOut::Pooled`] from a tile's sums.
fn store_pooled(t: &Tile, s: Sink) {
    let f = s.f;
    for (i, r) in t.iter().enumerate().take(s.rows) {
        let acc = |j: usize| r[j].wrapping_add(f.row_zero[i]);
        for w in 0..NR / 4 {
            let [x, y] = [2 * w, 2 * w + 1];
            let top = acc(x).max(acc(y));
            let v = top.max(acc(NR / 2 + x)).max(acc(NR / 2 + y));
            put(s.dst, s.at + i * s.rs + w, real(f, i, 0, v), f.relu);
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

/// What one unit's multiply-add is, as the kernels' const parameter: `i16` pairs, or quads
/// whose unsigned bytes are B's or A's.
const PAIRS: u8 = 0;
const QUADS_UB: u8 = 1;
const QUADS_UA: u8 = 2;

fn op(fmt: Format, unsigned_b: bool) -> u8 {
    match (fmt, unsigned_b) {
        (Format::Pairs, _) => PAIRS,
        (Format::Quads, true) => QUADS_UB,
        (Format::Quads, false) => QUADS_UA,
    }
}

/// The instance of the kernel `$f` for the run-time op `$op`.
macro_rules! for_op {
    ($f:ident, $op:expr) => {
        match $op {
            PAIRS => $f::<PAIRS>,
            QUADS_UB => $f::<QUADS_UB>,
            _ => $f::<QUADS_UA>,
        }
    };
}

fn select(fmt: Format, unsigned_b: bool) -> TileFn {
    // `Int8Isa::available` checked the features before the path could be chosen. Quads on
    // another path (the path was switched after the layer was built) run portably.
    #[cfg(target_arch = "x86_64")]
    match (int8_isa(), op(fmt, unsigned_b)) {
        (Int8Isa::Avx2, PAIRS) => return tile_avx2_entry,
        (Int8Isa::AvxVnni, PAIRS) => return tile_avxvnni_entry,
        (Int8Isa::Avx512Vnni, op) => return for_op!(tile_avx512_entry, op),
        _ => {}
    }
    for_op!(tile_portable, op(fmt, unsigned_b))
}

/// `out[j] = Σ_p A[0][p] · B[p][j]` over `kp` units: row 0 of an A panel against a B panel.
type RowFn = fn(usize, &[i16], &[i16], &mut [i32; NR]);

fn select_row(fmt: Format, unsigned_b: bool) -> RowFn {
    #[cfg(target_arch = "x86_64")]
    match (int8_isa(), op(fmt, unsigned_b)) {
        (Int8Isa::Portable, _) => {}
        // Every SIMD path's CPU has AVX2; `vpmaddwd` gives the same integers as VNNI.
        (_, PAIRS) => return row_avx2_entry,
        (Int8Isa::Avx512Vnni, op) => return for_op!(row_avx512_entry, op),
        _ => {}
    }
    for_op!(row_portable, op(fmt, unsigned_b))
}

/// Unit `at` (4 bytes) of packed storage.
#[inline]
fn unit(v: &[u8], at: usize) -> [u8; 4] {
    v[4 * at..4 * at + 4].try_into().expect("4 bytes")
}

/// One unit of A times one unit of B, summed: two `i16` products, or four byte products.
#[inline]
fn dot<const OP: u8>(x: [u8; 4], y: [u8; 4]) -> i32 {
    let quad = |u: [u8; 4], s: [u8; 4]| -> i32 {
        (0..4)
            .map(|h| i32::from(u[h]) * i32::from(s[h] as i8))
            .sum()
    };
    match OP {
        PAIRS => {
            let half =
                |v: [u8; 4], h: usize| i32::from(i16::from_ne_bytes([v[2 * h], v[2 * h + 1]]));
            half(x, 0) * half(y, 0) + half(x, 1) * half(y, 1)
        }
        QUADS_UB => quad(y, x),
        _ => quad(x, y),
    }
}

fn row_portable<const OP: u8>(kp: usize, a: &[i16], b: &[i16], out: &mut [i32; NR]) {
    let (a, b) = (bytes(a), bytes(b));
    *out = [0; NR];
    for p in 0..kp {
        let x = unit(a, p * MR);
        for (j, acc) in out.iter_mut().enumerate() {
            *acc = acc.wrapping_add(dot::<OP>(x, unit(b, p * NR + j)));
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

pub fn tile_portable<const OP: u8>(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    let a = bytes(a);
    let mut t = [[0i32; NR]; MR];
    for p in 0..kp {
        let y: [[u8; 4]; NR] = std::array::from_fn(|j| match b {
            Panel::Packed(b) => unit(bytes(b), p * NR + j),
            Panel::Window(w, pj) => unit(bytes(w.units), w.rows[p] + w.halves[pj][j / 8] + j % 8),
        });
        for (i, row) in t.iter_mut().enumerate() {
            let x = unit(a, p * MR + i);
            for (acc, &y) in row.iter_mut().zip(&y) {
                *acc = acc.wrapping_add(dot::<OP>(x, y));
            }
        }
    }
    match out {
        TileOut::Sums(sums) => *sums = t,
        TileOut::Store(s) => store(&t, s.f, s.rows, NR, s.dst, s.at, s.rs),
        TileOut::Pooled(s) => store_pooled(&t, s),
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
    match out {
        TileOut::Sums(_) => {}
        TileOut::Store(s) => assert!(s.in_bounds(NR)),
        TileOut::Pooled(s) => assert!(s.in_bounds(NR / 4)),
    }
}

/// Calls the SIMD tile body `$tile` with B's two vectors of pair `p` where `$b` (a [`Panel`]
/// that `check_tile` accepted) says: consecutive in a packed panel, or at the window's row offset
/// plus each half's start.
macro_rules! with_panel {
    ($tile:expr, $kp:expr, $a:expr, $b:expr, $out:expr) => {
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
                let ([h0, h1], pairs, rows) = (w.halves[pj], w.units.as_ptr(), w.rows);
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
            TileOut::Pooled(s) => {
                let mut t = [[0; NR]; MR];
                for (row, o) in acc.iter().zip(t.iter_mut()) {
                    _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, row[0]);
                    _mm256_storeu_si256(o.as_mut_ptr().add(8) as *mut __m256i, row[1]);
                }
                store_pooled(&t, s);
            }
            TileOut::Store(s) => {
                let f = s.f;
                let zero = _mm256_setzero_ps();
                let lo = _mm256_set1_ps(if f.relu { 0.0 } else { -127.0 });
                let hi = _mm256_set1_ps(127.0);
                let col_mul = [0, 8].map(|h| _mm256_loadu_ps(f.col_mul.as_ptr().add(h)));
                let col_add = [0, 8].map(|h| _mm256_loadu_ps(f.col_add.as_ptr().add(h)));
                let col_zero = [0, 8]
                    .map(|h| _mm256_loadu_si256(f.col_zero.as_ptr().add(h) as *const __m256i));
                for (i, row) in acc.iter().enumerate().take(s.rows) {
                    let (rm, ra) = (_mm256_set1_ps(f.row_mul[i]), _mm256_set1_ps(f.row_add[i]));
                    let rz = _mm256_set1_epi32(f.row_zero[i]);
                    let v = [0, 1].map(|h| {
                        let mul = _mm256_mul_ps(rm, col_mul[h]);
                        let add = _mm256_add_ps(ra, col_add[h]);
                        let acc = _mm256_add_epi32(row[h], _mm256_add_epi32(rz, col_zero[h]));
                        _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), mul), add)
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
fn tile_avx512_entry<const OP: u8>(kp: usize, a: &[i16], b: Panel, out: TileOut) {
    assert!(Int8Isa::Avx512Vnni.available());
    check_tile(kp, a, &b, &out);
    // SAFETY: AVX512F and AVX512-VNNI checked above; `check_tile` and `Windows::new` cover
    // every read and write.
    unsafe { with_panel!(tile_avx512::<OP>, kp, a, b, out) }
}

/// `acc` plus one unit of `x` (A) times `b`: `vpdpwssd` on pairs, `vpdpbusd` on quads with the
/// unsigned operand first.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
#[inline]
fn madd_zmm<const OP: u8>(
    acc: std::arch::x86_64::__m512i,
    x: std::arch::x86_64::__m512i,
    b: std::arch::x86_64::__m512i,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::*;
    match OP {
        PAIRS => _mm512_dpwssd_epi32(acc, x, b),
        QUADS_UB => _mm512_dpbusd_epi32(acc, b, x),
        _ => _mm512_dpbusd_epi32(acc, x, b),
    }
}

/// The 6x16 tile in 6 zmm accumulators, one per row: per unit one load of B (16 units, two
/// halves where they are apart), six broadcast units of A and six multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn tile_avx512<const OP: u8>(
    kp: usize,
    a: *const i16,
    b: impl Fn(usize) -> [*const i16; 2],
    out: TileOut,
) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the entry checked that `a` and every pointer `b` gives hold `kp`
    // units and that the sink's rows are in bounds.
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
                *row = madd_zmm::<OP>(*row, x, bv);
            }
            a = a.add(MR * 2);
        }
        // [`store`]'s epilogue on whole rows, as `emit_avx2!` does on halves. No closures here:
        // they would not inherit the target features, and would not be inlined.
        let s = match out {
            TileOut::Sums(t) => {
                for i in 0..MR {
                    _mm512_storeu_si512(t[i].as_mut_ptr() as *mut __m512i, acc[i]);
                }
                return;
            }
            TileOut::Store(s) => s,
            TileOut::Pooled(s) => {
                let f = s.f;
                // Lanes 0, 2, 4, 6 of the pairwise maxima, then the four values' epilogue as
                // `real` and `put` compute it.
                let evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
                let lo = _mm_set1_ps(if f.relu { 0.0 } else { -127.0 });
                let (hi, zero) = (_mm_set1_ps(127.0), _mm_setzero_ps());
                for (i, &row) in acc.iter().enumerate().take(s.rows) {
                    let v = _mm512_add_epi32(row, _mm512_set1_epi32(f.row_zero[i]));
                    let top = _mm512_castsi512_si256(v);
                    let m = _mm256_max_epi32(top, _mm512_extracti64x4_epi64::<1>(v));
                    let m = _mm256_max_epi32(m, _mm256_shuffle_epi32::<0b10_11_00_01>(m));
                    let m = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m, evens));
                    let mul = _mm_set1_ps(f.row_mul[i] * f.col_mul[0]);
                    let add = _mm_set1_ps(f.row_add[i] + f.col_add[0]);
                    let v = _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(m), mul), add);
                    let base = s.at + i * s.rs;
                    match s.dst {
                        Dst::F32(out) => {
                            let v = if f.relu { _mm_max_ps(v, zero) } else { v };
                            _mm_storeu_ps(out.as_mut_ptr().add(base), v);
                        }
                        Dst::I8(out) => {
                            let q = _mm_cvtps_epi32(_mm_min_ps(_mm_max_ps(v, lo), hi));
                            let w = _mm_packs_epi32(q, q);
                            let b = _mm_packs_epi16(w, w);
                            let four = _mm_cvtsi128_si32(b);
                            (out.as_mut_ptr().add(base) as *mut i32).write_unaligned(four);
                        }
                    }
                }
                return;
            }
        };
        let f = s.f;
        let lo = _mm512_set1_ps(if f.relu { 0.0 } else { -127.0 });
        let (hi, zero) = (_mm512_set1_ps(127.0), _mm512_setzero_ps());
        let col_mul = _mm512_loadu_ps(f.col_mul.as_ptr());
        let col_add = _mm512_loadu_ps(f.col_add.as_ptr());
        let col_zero = _mm512_loadu_si512(f.col_zero.as_ptr() as *const __m512i);
        for (i, &row) in acc.iter().enumerate().take(s.rows) {
            let z = _mm512_add_epi32(_mm512_set1_epi32(f.row_zero[i]), col_zero);
            let mul = _mm512_mul_ps(_mm512_set1_ps(f.row_mul[i]), col_mul);
            let add = _mm512_add_ps(_mm512_set1_ps(f.row_add[i]), col_add);
            let real = _mm512_cvtepi32_ps(_mm512_add_epi32(row, z));
            let v = _mm512_add_ps(_mm512_mul_ps(real, mul), add);
            let base = s.at + i * s.rs;
            match s.dst {
                Dst::F32(out) => {
                    let v = if f.relu { _mm512_max_ps(v, zero) } else { v };
                    _mm512_storeu_ps(out.as_mut_ptr().add(base), v);
                }
                Dst::I8(out) => {
                    let q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
                    let b = _mm512_cvtsepi32_epi8(q);
                    _mm_storeu_si128(out.as_mut_ptr().add(base) as *mut __m128i, b);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn row_avx512_entry<const OP: u8>(kp: usize, a: &[i16], b: &[i16], out: &mut [i32; NR]) {
    assert!(Int8Isa::Avx512Vnni.available());
    assert!(a.len() >= kp * MR * 2 && b.len() >= kp * NR * 2);
    // SAFETY: AVX512F and AVX512-VNNI checked above; the assert covers every read.
    unsafe { row_avx512::<OP>(kp, a.as_ptr(), b.as_ptr(), out) }
}

/// Per unit: row 0's unit of A broadcast against the panel's 16 units, in four accumulators
/// taken in turn (one would wait on its own latency); their wrapping sum is the same integer.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn row_avx512<const OP: u8>(kp: usize, a: *const i16, b: *const i16, out: &mut [i32; NR]) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the entry checked that `a` and `b` hold `kp` units of their panels.
    unsafe {
        let mut acc = [_mm512_setzero_si512(); 4];
        for p in 0..kp {
            let x = _mm512_set1_epi32((a.add(p * MR * 2) as *const i32).read_unaligned());
            let bv = _mm512_loadu_si512(b.add(p * NR * 2) as *const __m512i);
            acc[p % 4] = madd_zmm::<OP>(acc[p % 4], x, bv);
        }
        let sum = _mm512_add_epi32(
            _mm512_add_epi32(acc[0], acc[1]),
            _mm512_add_epi32(acc[2], acc[3]),
        );
        _mm512_storeu_si512(out.as_mut_ptr() as *mut __m512i, sum);
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

    /// The packings under test: pairs, and quads with the activations in B (a convolution's,
    /// `true`) or in A (a fully connected layer's).
    const LAYOUTS: [(Format, bool); 3] = [
        (Format::Pairs, true),
        (Format::Quads, true),
        (Format::Quads, false),
    ];

    /// (A's role, B's role).
    fn roles(unsigned_b: bool) -> (Role, Role) {
        if unsigned_b {
            (Role::Weights, Role::Activations)
        } else {
            (Role::Activations, Role::Weights)
        }
    }

    /// A (`m x k`) and B (`k x n`) packed in `layout`.
    fn packed(
        (m, n, k): (usize, usize, usize),
        a: &[i16],
        b: &[i16],
        (fmt, unsigned_b): (Format, bool),
    ) -> (Vec<i16>, Vec<i16>) {
        let (ra, rb) = roles(unsigned_b);
        let mut pa = vec![0; packed_a_len(m, k, fmt)];
        pack_a(&mut pa, m, k, fmt, ra, |i, p| a[i * k + p]);
        let mut pb = vec![0; packed_b_len(k, n, fmt)];
        pack_b(&mut pb, k, n, fmt, rb, |p, j| b[p * n + j]);
        (pa, pb)
    }

    /// The zero points of `layout`: per row of A (the weights when B is unsigned), else per
    /// column of B; none for pairs.
    fn zeros(
        (m, n, k): (usize, usize, usize),
        a: &[i16],
        b: &[i16],
        (fmt, unsigned_b): (Format, bool),
    ) -> Vec<i32> {
        let w: Vec<i8> = if unsigned_b {
            a.iter().map(|&v| v as i8).collect()
        } else {
            (0..n * k).map(|i| b[i % k * n + i / k] as i8).collect()
        };
        match fmt {
            Format::Pairs => Vec::new(),
            Format::Quads => zero_points(&w, if unsigned_b { m } else { n }),
        }
    }

    /// The tile kernels of `layout`: the portable one, then each SIMD one this CPU can run.
    fn kernels((fmt, unsigned_b): (Format, bool)) -> Vec<TileFn> {
        let op = op(fmt, unsigned_b);
        let mut kernels: Vec<TileFn> = vec![for_op!(tile_portable, op)];
        #[cfg(target_arch = "x86_64")]
        {
            let mut simd: Vec<(Int8Isa, TileFn)> = Vec::new();
            if op == PAIRS {
                simd.push((Int8Isa::Avx2, tile_avx2_entry));
                simd.push((Int8Isa::AvxVnni, tile_avxvnni_entry));
            }
            simd.push((Int8Isa::Avx512Vnni, for_op!(tile_avx512_entry, op)));
            kernels.extend(simd.into_iter().filter(|s| s.0.available()).map(|s| s.1));
        }
        kernels
    }

    /// The row kernels of `layout`, portable first.
    fn row_kernels((fmt, unsigned_b): (Format, bool)) -> Vec<RowFn> {
        let op = op(fmt, unsigned_b);
        let mut rows: Vec<RowFn> = vec![for_op!(row_portable, op)];
        #[cfg(target_arch = "x86_64")]
        match op {
            PAIRS if Int8Isa::Avx2.available() => rows.push(row_avx2_entry),
            QUADS_UB | QUADS_UA if Int8Isa::Avx512Vnni.available() => {
                rows.push(for_op!(row_avx512_entry, op))
            }
            _ => {}
        }
        rows
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

    /// A kernel's raw sum at `(r, c)` with its zero point: the exact product.
    fn exact(v: i32, zero: &[i32], unsigned_b: bool, (r, c): (usize, usize)) -> i64 {
        let z = zero
            .get(if unsigned_b { r } else { c })
            .copied()
            .unwrap_or(0);
        v.wrapping_add(z) as i64
    }

    /// A single row takes the row kernels: each equals the exact reference, and `igemm` gives
    /// that row the bits the tiles give it inside a taller matrix, real and INT8 outputs, with
    /// and without ReLU, in every layout.
    #[test]
    fn single_row_matches_reference_and_tiles() {
        let m = 3;
        for layout in LAYOUTS {
            let (fmt, ub) = layout;
            for &(n, k) in &[(10, 801), (500, 800), (16, 1), (33, 25)] {
                let (a, b) = (values(m * k, 3), values(k * n, 4));
                let want = reference(1, n, k, &a, &b);
                let (pa1, pb) = packed((1, n, k), &a[..k], &b, layout);
                let zero = zeros((1, n, k), &a[..k], &b, layout);
                let kp = fmt.units(k);
                for row in row_kernels(layout) {
                    for pj in 0..n.div_ceil(NR) {
                        let mut out = [0; NR];
                        row(kp, &pa1, &pb[pj * NR * kp * 2..], &mut out);
                        for (j, &v) in out.iter().enumerate().take(NR.min(n - pj * NR)) {
                            let c = pj * NR + j;
                            assert_eq!(
                                exact(v, &zero, ub, (0, c)),
                                want[c],
                                "{layout:?} n {n} k {k}"
                            );
                        }
                    }
                }
                // The epilogue per column (the weights in B) needs A unsigned.
                if ub && fmt == Format::Quads {
                    continue;
                }
                let (pa3, _) = packed((m, n, k), &a, &b, layout);
                let mul: Vec<f32> = (0..n).map(|j| 2e-4 + j as f32 * 1e-6).collect();
                let add: Vec<f32> = (0..n).map(|j| j as f32 * 0.25 - 3.0).collect();
                for relu in [false, true] {
                    let epi = Epilogue {
                        per_row: false,
                        mul: &mul,
                        add: &add,
                        relu,
                        zero: &zero,
                    };
                    let (mut one, mut three) = (vec![0.0f32; n], vec![0.0f32; m * n]);
                    igemm(1, n, k, fmt, &pa1, &pb, &epi, &mut Dst::F32(&mut one), n);
                    igemm(m, n, k, fmt, &pa3, &pb, &epi, &mut Dst::F32(&mut three), n);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&one), bits(&three[..n]), "n {n} k {k}");
                    let (mut one, mut three) = (vec![0i8; n], vec![0i8; m * n]);
                    igemm(1, n, k, fmt, &pa1, &pb, &epi, &mut Dst::I8(&mut one), n);
                    igemm(m, n, k, fmt, &pa3, &pb, &epi, &mut Dst::I8(&mut three), n);
                    assert_eq!(one, three[..n], "n {n} k {k}");
                }
            }
        }
    }

    /// Accumulations are exact: every tile kernel of every layout, with its zero points, equals
    /// the i64 reference, odd depths and ragged edges included, with products at the ±127
    /// extremes.
    #[test]
    fn tiles_match_exact_reference() {
        for layout in LAYOUTS {
            let (fmt, ub) = layout;
            for &(m, n, k) in &[
                (6, 16, 1),
                (7, 17, 25),
                (50, 64, 500),
                (1, 10, 801),
                (13, 33, 4096),
            ] {
                let (a, b) = (values(m * k, 1), values(k * n, 2));
                let want = reference(m, n, k, &a, &b);
                let (pa, pb) = packed((m, n, k), &a, &b, layout);
                let zero = zeros((m, n, k), &a, &b, layout);
                let kp = fmt.units(k);
                for tile in kernels(layout) {
                    for pi in 0..m.div_ceil(MR) {
                        for pj in 0..n.div_ceil(NR) {
                            let mut t = [[0; NR]; MR];
                            let (ap, bp) = (&pa[pi * MR * kp * 2..], &pb[pj * NR * kp * 2..]);
                            tile(kp, ap, Panel::Packed(bp), TileOut::Sums(&mut t));
                            for (i, trow) in t.iter().enumerate().take(MR.min(m - pi * MR)) {
                                for (j, &v) in trow.iter().enumerate().take(NR.min(n - pj * NR)) {
                                    let (r, c) = (pi * MR + i, pj * NR + j);
                                    let got = exact(v, &zero, ub, (r, c));
                                    assert_eq!(got, want[r * n + c], "{layout:?} ({r}, {c}) k={k}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Windows of a plane of units give every tile kernel the sums of the same B packed by
    /// [`pack_b`], for halves anywhere in the plane (overlapping, unaligned, apart), pairs and
    /// quads.
    #[test]
    fn windows_equal_packed_panels() {
        let (m, kp) = (7, 13);
        let rows: Vec<usize> = (0..kp).map(|p| p * 37 % 500).collect();
        let halves = [[3, 180], [50, 51], [0, 8]];
        let n = halves.len() * NR;
        for layout in [LAYOUTS[0], LAYOUTS[1]] {
            let (fmt, per) = (layout.0, layout.0.per_unit());
            let v = values(per * 700, 7);
            let mut plane = vec![0i16; 2 * 700];
            match fmt {
                Format::Pairs => plane.copy_from_slice(&v),
                Format::Quads => {
                    for (o, &x) in bytes_mut(&mut plane).iter_mut().zip(&v) {
                        *o = quad_byte(x, Role::Activations);
                    }
                }
            }
            let w = Windows::new(&plane, &rows, &halves).expect("in the plane");
            // The last unit read: row 444 + half 180 + 7.
            assert!(Windows::new(&plane[..2 * 632], &rows, &halves).is_some());
            assert!(Windows::new(&plane[..2 * 631], &rows, &halves).is_none());
            let (k, a) = (per * kp, values(m * per * kp, 8));
            let b: Vec<i16> = (0..k * n)
                .map(|e| {
                    let (q, j) = (e / n, e % n);
                    let unit = rows[q / per] + halves[j / NR][j % NR / 8] + j % 8;
                    v[per * unit + q % per]
                })
                .collect();
            let (pa, pb) = packed((m, n, k), &a, &b, layout);
            for tile in kernels(layout) {
                for pj in 0..halves.len() {
                    for pi in 0..m.div_ceil(MR) {
                        let ap = &pa[pi * MR * kp * 2..];
                        let (mut want, mut got) = ([[0; NR]; MR], [[0; NR]; MR]);
                        let bp = Panel::Packed(&pb[pj * NR * kp * 2..]);
                        kernels(layout)[0](kp, ap, bp, TileOut::Sums(&mut want));
                        tile(kp, ap, Panel::Window(&w, pj), TileOut::Sums(&mut got));
                        assert_eq!(want, got, "{layout:?} panel {pj}, rows {pi}");
                    }
                }
            }
        }
    }

    /// The epilogue's real values are within float rounding of the f64 reference
    /// (`acc · mul + add`, relative 1e-6), and INT8 outputs equal the f64 value rounded half to
    /// even and clamped, except where the f32 product lands within 1e-4 of a rounding tie; in
    /// every layout, per row and per column as the layout's weights lie.
    #[test]
    fn epilogue_matches_f64_reference() {
        let (m, n, k) = (11, 21, 75);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let want = reference(m, n, k, &a, &b);
        let cases = [
            (LAYOUTS[0], true, false),
            (LAYOUTS[0], false, false),
            (LAYOUTS[0], true, true),
            (LAYOUTS[0], false, true),
            (LAYOUTS[1], true, false),
            (LAYOUTS[1], true, true),
            (LAYOUTS[2], false, false),
            (LAYOUTS[2], false, true),
        ];
        for (layout, per_row, relu) in cases {
            let fmt = layout.0;
            let (pa, pb) = packed((m, n, k), &a, &b, layout);
            let zero = zeros((m, n, k), &a, &b, layout);
            let len = if per_row { m } else { n };
            let mul: Vec<f32> = (0..len).map(|c| 1e-4 * (c as f32 + 1.0)).collect();
            let add: Vec<f32> = (0..len).map(|c| c as f32 * 0.37 - 2.0).collect();
            let epi = Epilogue {
                per_row,
                mul: &mul,
                add: &add,
                relu,
                zero: &zero,
            };
            let mut real = vec![0f32; m * n];
            igemm(m, n, k, fmt, &pa, &pb, &epi, &mut Dst::F32(&mut real), n);
            let mut q = vec![0i8; m * n];
            igemm(m, n, k, fmt, &pa, &pb, &epi, &mut Dst::I8(&mut q), n);
            for i in 0..m {
                for j in 0..n {
                    let c = if per_row { i } else { j };
                    let exact = want[i * n + j] as f64 * mul[c] as f64 + add[c] as f64;
                    let exact = if relu { exact.max(0.0) } else { exact };
                    let got = real[i * n + j] as f64;
                    assert!(
                        (got - exact).abs() <= 1e-6 * exact.abs().max(1.0),
                        "{layout:?}: {got} vs {exact}"
                    );
                    let frac = exact - exact.floor();
                    if (frac - 0.5).abs() > 1e-4 {
                        let wq = exact.round_ties_even().clamp(-127.0, 127.0) as i8;
                        assert_eq!(q[i * n + j], wq, "{layout:?} ({i}, {j}) of {exact}");
                    }
                }
            }
        }
    }

    /// Runs every full-width tile of `C = A·B` (`m x 32`) through `tile` into `out`, stored as
    /// [`TileOut::Store`] or, when `pooled`, [`TileOut::Pooled`] (row stride 8).
    #[allow(clippy::too_many_arguments)]
    fn run_tiles(
        tile: TileFn,
        (m, k): (usize, usize),
        fmt: Format,
        (pa, pb): (&[i16], &[i16]),
        epi: &Epilogue,
        pooled: bool,
        dst: &mut Dst,
    ) {
        let (n, kp) = (2 * NR, fmt.units(k));
        for pi in 0..m.div_ceil(MR) {
            for pj in 0..n / NR {
                let (r0, c0) = (pi * MR, pj * NR);
                let rows = MR.min(m - r0);
                let f = Factors::new(epi, r0, c0, rows, NR);
                let (at, rs) = if pooled {
                    (r0 * 8 + pj * 4, 8)
                } else {
                    (r0 * n + c0, n)
                };
                let sink = Sink {
                    f: &f,
                    rows,
                    dst: &mut *dst,
                    at,
                    rs,
                };
                let (ap, bp) = (&pa[pi * MR * kp * 2..], &pb[pj * NR * kp * 2..]);
                let out = if pooled {
                    TileOut::Pooled(sink)
                } else {
                    TileOut::Store(sink)
                };
                tile(kp, ap, Panel::Packed(bp), out);
            }
        }
    }

    /// Every SIMD tile's epilogue from registers gives the portable store's bits, real and
    /// INT8, per row and per column, with and without ReLU, including values beyond ±127,
    /// exact halves and a ragged last row, in every layout.
    #[test]
    fn fused_stores_equal_portable() {
        let (m, n, k) = (11, 32, 9);
        let (a, b) = (values(m * k, 5), values(k * n, 6));
        let mul: Vec<f32> = (0..n).map(|c| [0.5, 1e-3, 2.5e-4, 1.0][c % 4]).collect();
        let add: Vec<f32> = (0..n).map(|c| c as f32 * 0.25 - 1.5).collect();
        for layout in LAYOUTS {
            let (fmt, ub) = layout;
            let (pa, pb) = packed((m, n, k), &a, &b, layout);
            let zero = zeros((m, n, k), &a, &b, layout);
            for per_row in [true, false] {
                if fmt == Format::Quads && per_row != ub {
                    continue;
                }
                for relu in [false, true] {
                    let epi = Epilogue {
                        per_row,
                        mul: &mul,
                        add: &add,
                        relu,
                        zero: &zero,
                    };
                    let run = |tile: TileFn, dst: &mut Dst| {
                        run_tiles(tile, (m, k), fmt, (&pa, &pb), &epi, false, dst)
                    };
                    let (mut real, mut q) = (vec![0f32; m * n], vec![0i8; m * n]);
                    let portable = kernels(layout)[0];
                    run(portable, &mut Dst::F32(&mut real));
                    run(portable, &mut Dst::I8(&mut q));
                    assert!(q.contains(&127) && q.contains(if relu { &0 } else { &-127 }));
                    for tile in kernels(layout) {
                        let (mut r2, mut q2) = (vec![0f32; m * n], vec![0i8; m * n]);
                        run(tile, &mut Dst::F32(&mut r2));
                        run(tile, &mut Dst::I8(&mut q2));
                        assert_eq!(real, r2, "{layout:?} per_row {per_row} relu {relu}");
                        assert_eq!(q, q2, "{layout:?} per_row {per_row} relu {relu}");
                    }
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

    /// Pooled tiles give the bits of storing the tile and then taking each 2x2 window's
    /// maximum (columns `2w`, `2w + 1`, `8 + 2w`, `9 + 2w`), real and INT8, with and without
    /// ReLU, for every kernel of the layouts a convolution uses.
    #[test]
    fn pooled_tiles_equal_pooling_the_stores() {
        let (m, n, k) = (11, 32, 29);
        let (a, b) = (values(m * k, 9), values(k * n, 10));
        let mul: Vec<f32> = (0..m).map(|c| [0.5, 1e-3, 2.5e-4, 0.0][c % 4]).collect();
        let add: Vec<f32> = (0..m).map(|c| c as f32 * 0.25 - 1.5).collect();
        for layout in [LAYOUTS[0], LAYOUTS[1]] {
            let fmt = layout.0;
            let (pa, pb) = packed((m, n, k), &a, &b, layout);
            let zero = zeros((m, n, k), &a, &b, layout);
            for relu in [false, true] {
                let epi = Epilogue {
                    per_row: true,
                    mul: &mul,
                    add: &add,
                    relu,
                    zero: &zero,
                };
                let (mut real, mut q) = (vec![0f32; m * n], vec![0i8; m * n]);
                let portable = kernels(layout)[0];
                let ops = (&pa[..], &pb[..]);
                run_tiles(
                    portable,
                    (m, k),
                    fmt,
                    ops,
                    &epi,
                    false,
                    &mut Dst::F32(&mut real),
                );
                run_tiles(
                    portable,
                    (m, k),
                    fmt,
                    ops,
                    &epi,
                    false,
                    &mut Dst::I8(&mut q),
                );
                let pool = |i: usize, w: usize, v: &dyn Fn(usize) -> f32| {
                    let c = w / 4 * NR + w % 4 * 2;
                    [c, c + 1, c + 8, c + 9]
                        .map(|j| v(i * n + j))
                        .into_iter()
                        .fold(f32::NEG_INFINITY, f32::max)
                };
                for tile in kernels(layout) {
                    let (mut r2, mut q2) = (vec![0f32; m * 8], vec![0i8; m * 8]);
                    run_tiles(tile, (m, k), fmt, ops, &epi, true, &mut Dst::F32(&mut r2));
                    run_tiles(tile, (m, k), fmt, ops, &epi, true, &mut Dst::I8(&mut q2));
                    for i in 0..m {
                        for w in 0..8 {
                            let want = pool(i, w, &|e| real[e]);
                            assert_eq!(r2[i * 8 + w].to_bits(), want.to_bits(), "{layout:?}");
                            let want = pool(i, w, &|e| f32::from(q[e]));
                            assert_eq!(f32::from(q2[i * 8 + w]), want, "{layout:?} ({i}, {w})");
                        }
                    }
                }
            }
        }
    }
}
