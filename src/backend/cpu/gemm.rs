//! Single-precision GEMM on packed panels: `C = A·B (+ bias)`.
//!
//! A is packed in panels of `MR` rows and B in panels of `NR` columns, each panel k-major, so the
//! micro-kernel reads both operands contiguously and keeps an `MR x NR` tile of C in registers
//! (12 ymm accumulators with AVX2). Weights are packed once when a layer is prepared; activations
//! are packed (or written packed by im2col) into scratch at run time. Single-threaded: callers
//! split the work across threads, or call [`gemm_par`].
//!
//! The micro-kernel starts its accumulators from the bias (first depth pass) or from C (later
//! passes) and writes C itself, so a tile makes one trip through memory; tiles clipped by the
//! matrix edge go through a small buffer instead.

use rayon::prelude::*;

pub const MR: usize = 6;
pub const NR: usize = 16;
/// Depth of one pass over a B panel. Between passes each tile of C is stored and reloaded; a B
/// panel of 1024 x NR floats (64 KiB) is read from L2 rather than L1, which the micro-kernel's
/// two loads per 12 FMAs absorb. LeNet's ip1 (depth 800, batch 100, 2-core EPYC) took 0.70-0.73
/// ms in one pass against 0.76-0.79 ms in passes of 256; CIFAR-10 and det3 were unchanged.
const KC: usize = 1024;

pub fn packed_a_len(m: usize, k: usize) -> usize {
    m.div_ceil(MR) * MR * k
}

pub fn packed_b_len(k: usize, n: usize) -> usize {
    n.div_ceil(NR) * NR * k
}

/// Packs the `m x k` matrix whose element `(i, p)` is `a[i * rs + p * cs]`; rows past `m` are zero.
pub fn pack_a(dst: &mut [f32], m: usize, k: usize, a: &[f32], rs: usize, cs: usize) {
    for (panel, out) in dst[..packed_a_len(m, k)]
        .chunks_exact_mut(MR * k)
        .enumerate()
    {
        let row0 = panel * MR;
        for (p, step) in out.chunks_exact_mut(MR).enumerate() {
            for (i, v) in step.iter_mut().enumerate() {
                let r = row0 + i;
                *v = if r < m { a[r * rs + p * cs] } else { 0.0 };
            }
        }
    }
}

/// Packs the `k x n` matrix whose element `(p, j)` is `b[p * rs + j * cs]`; columns past `n` are zero.
pub fn pack_b(dst: &mut [f32], k: usize, n: usize, b: &[f32], rs: usize, cs: usize) {
    for (panel, out) in dst[..packed_b_len(k, n)]
        .chunks_exact_mut(NR * k)
        .enumerate()
    {
        let col0 = panel * NR;
        for (p, step) in out.chunks_exact_mut(NR).enumerate() {
            for (j, v) in step.iter_mut().enumerate() {
                let c = col0 + j;
                *v = if c < n { b[p * rs + c * cs] } else { 0.0 };
            }
        }
    }
}

/// Where C's bias comes from: one value per row or per column.
#[derive(Clone, Copy)]
pub enum Bias<'a> {
    None,
    Row(&'a [f32]),
    Col(&'a [f32]),
}

/// Output of a GEMM: element `(i, j)` of the `m x n` result is `data[i * rs + j * cs]`.
pub struct COut<'a> {
    pub data: &'a mut [f32],
    pub rs: usize,
    pub cs: usize,
}

/// `C = A·B + bias` with A packed by [`pack_a`] (`m x k`) and B by [`pack_b`] (`k x n`).
pub fn gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: COut, bias: Bias) {
    let tile = select();
    let (mp, np) = (m.div_ceil(MR), n.div_ceil(NR));
    let mut c = c;
    if m == 1 {
        // A single row (a batch-1 fully connected layer) would waste 5/6 of a tile.
        return row(n, k, a, b, &mut c, bias);
    }
    let mut k0 = 0;
    loop {
        let kc = KC.min(k - k0);
        for pj in 0..np {
            let bp = &b[pj * NR * k + k0 * NR..][..kc * NR];
            for pi in 0..mp {
                let ap = &a[pi * MR * k + k0 * MR..][..kc * MR];
                let kernel =
                    |dst: &mut [f32], rs: usize, init: &Init| tile(kc, ap, bp, dst, rs, init);
                run_tile(kernel, pi, pj, m, n, &mut c, bias, k0 == 0);
            }
        }
        k0 += kc;
        if k0 >= k {
            break;
        }
    }
}

/// [`gemm`] with the row panels split across threads; C's rows must be contiguous (`cs == 1`).
pub fn gemm_par(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: COut, bias: Bias) {
    par_rows(m, n, k, c, bias, |rows, r0, c, bias| {
        gemm(rows, n, k, &a[r0 * k..], b, c, bias)
    });
}

/// `run(rows, first_row, c, bias)` over row panels split across threads, or over all rows where
/// one thread does or C's columns are strided.
fn par_rows(
    m: usize,
    n: usize,
    k: usize,
    c: COut,
    bias: Bias,
    run: impl Fn(usize, usize, COut, Bias) + Sync,
) {
    let panels = m.div_ceil(MR);
    let t = super::tasks_for(panels, m * n * k);
    if t == 1 || c.cs != 1 {
        return run(m, 0, c, bias);
    }
    let rows_per = panels.div_ceil(t) * MR;
    let rs = c.rs;
    c.data[..(m - 1) * rs + n]
        .par_chunks_mut(rows_per * rs)
        .enumerate()
        .for_each(|(i, data)| {
            let r0 = i * rows_per;
            let bias = match bias {
                Bias::Row(v) => Bias::Row(&v[r0..]),
                other => other,
            };
            run(rows_per.min(m - r0), r0, COut { data, rs, cs: 1 }, bias);
        });
}

/// B of an implicit GEMM over a convolution's input (no im2col matrix): element `(p, j)` is
/// `plane[rows[p] + halves[j / NR][j % NR / 8] + j % 8]`, each panel's columns being two runs of
/// 8 consecutive plane offsets (stride-1 output rows). The same values as im2col's packed B,
/// multiplied in the same order, so the same bits.
pub struct Windows<'a> {
    pub plane: &'a [f32],
    pub rows: &'a [usize],
    pub halves: &'a [[usize; 2]],
}

/// [`gemm`] with B read through `w` (AVX2 and FMA only: callers check [`fma_available`]).
pub fn gemm_windows(m: usize, n: usize, k: usize, a: &[f32], w: &Windows, c: COut, bias: Bias) {
    let (mp, np) = (m.div_ceil(MR), n.div_ceil(NR));
    // Every read lies inside the plane: the tiles index it unchecked.
    let reach = w.rows[..k].iter().max().copied().unwrap_or(0)
        + w.halves[..np].iter().flatten().max().copied().unwrap_or(0)
        + 8;
    assert!(fma_available() && reach <= w.plane.len());
    let mut c = c;
    let mut k0 = 0;
    while k0 < k {
        let kc = KC.min(k - k0);
        for pj in 0..np {
            let [h0, h1] = w.halves[pj];
            let rows = &w.rows[k0..k0 + kc];
            for pi in 0..mp {
                let ap = &a[pi * MR * k + k0 * MR..][..kc * MR];
                let kernel = |dst: &mut [f32], rs: usize, init: &Init| {
                    assert!(dst.len() > (MR - 1) * rs + NR - 1);
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: AVX2 and FMA detected; `reach` bounds every plane read, `ap` holds
                    // `kc` steps and `dst` the tile.
                    unsafe {
                        tile_fma_windows(
                            kc,
                            ap.as_ptr(),
                            w.plane.as_ptr(),
                            rows,
                            [h0, h1],
                            dst.as_mut_ptr(),
                            rs,
                            init,
                        )
                    }
                };
                run_tile(kernel, pi, pj, m, n, &mut c, bias, k0 == 0);
            }
        }
        k0 += kc;
    }
}

/// The tiles of the first `panels` B panels of [`gemm_windows`] (bias per row), each over the
/// whole depth in one pass (the same operations as the passes of `KC`: C is stored and reloaded
/// exactly between them) into a buffer handed to `each(first_row, panel, tile, rows)`.
pub fn windows_tiles(
    m: usize,
    panels: usize,
    k: usize,
    a: &[f32],
    w: &Windows,
    bias: &[f32],
    mut each: impl FnMut(usize, usize, &mut [f32; MR * NR], usize),
) {
    let reach = w.rows[..k].iter().max().copied().unwrap_or(0)
        + w.halves[..panels]
            .iter()
            .flatten()
            .max()
            .copied()
            .unwrap_or(0)
        + 8;
    assert!(fma_available() && reach <= w.plane.len() && bias.len() >= m);
    for (pj, &halves) in w.halves[..panels].iter().enumerate() {
        for pi in 0..m.div_ceil(MR) {
            let (r0, rows) = (pi * MR, MR.min(m - pi * MR));
            let mut rb = [0.0; MR];
            rb[..rows].copy_from_slice(&bias[r0..r0 + rows]);
            let init = Init {
                row: &rb,
                col: &[0.0; NR],
                accumulate: false,
            };
            let ap = &a[pi * MR * k..][..k * MR];
            let mut tile = [0.0f32; MR * NR];
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and FMA detected; `reach` bounds every plane read, `ap` holds `k`
            // steps and `tile` is a whole tile of row stride NR.
            unsafe {
                tile_fma_windows(
                    k,
                    ap.as_ptr(),
                    w.plane.as_ptr(),
                    &w.rows[..k],
                    halves,
                    tile.as_mut_ptr(),
                    NR,
                    &init,
                )
            };
            each(r0, pj, &mut tile, rows);
        }
    }
}

/// [`gemm_windows`] with the row panels split across threads, as [`gemm_par`].
pub fn gemm_windows_par(m: usize, n: usize, k: usize, a: &[f32], w: &Windows, c: COut, bias: Bias) {
    par_rows(m, n, k, c, bias, |rows, r0, c, bias| {
        gemm_windows(rows, n, k, &a[r0 * k..], w, c, bias)
    });
}

/// Row panels a single-row product handles at once: 8 accumulators hide the FMA latency.
const ROW_PANELS: usize = 4;

/// `C = A·B + bias` for one row of A, over the whole depth, `ROW_PANELS` B panels at a time.
fn row(n: usize, k: usize, a: &[f32], b: &[f32], c: &mut COut, bias: Bias) {
    let np = n.div_ceil(NR);
    let fma = fma_available();
    let mut buf = [0.0f32; ROW_PANELS * NR];
    for p0 in (0..np).step_by(ROW_PANELS) {
        let panels = ROW_PANELS.min(np - p0);
        let c0 = p0 * NR;
        let cols = (panels * NR).min(n - c0);
        buf.fill(0.0);
        match bias {
            Bias::None => {}
            Bias::Row(v) => buf.fill(v[0]),
            Bias::Col(v) => buf[..cols].copy_from_slice(&v[c0..c0 + cols]),
        }
        let bp = &b[p0 * NR * k..][..panels * NR * k];
        let a = &a[..k * MR];
        if fma && panels == ROW_PANELS {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and FMA detected; `a` and `bp` hold `k` steps of their panels.
            unsafe {
                row_fma(k, a.as_ptr(), bp.as_ptr(), &mut buf)
            };
        } else {
            for (p, out) in buf.chunks_exact_mut(NR).take(panels).enumerate() {
                let panel = &bp[p * NR * k..][..NR * k];
                for (ak, bk) in a.chunks_exact(MR).zip(panel.chunks_exact(NR)) {
                    for (o, &y) in out.iter_mut().zip(bk) {
                        *o += ak[0] * y;
                    }
                }
            }
        }
        for (j, &v) in buf[..cols].iter().enumerate() {
            c.data[(c0 + j) * c.cs] = v;
        }
    }
}

pub(super) fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        return true;
    }
    false
}

/// `out += Σ_p a[p * MR] · B[p]` over `ROW_PANELS` consecutive panels of depth `k`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_fma(k: usize, a: *const f32, b: *const f32, out: &mut [f32; ROW_PANELS * NR]) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the caller guarantees `k` packed steps of A and of each B panel.
    unsafe {
        let mut acc = [_mm256_setzero_ps(); 2 * ROW_PANELS];
        for (i, v) in acc.iter_mut().enumerate() {
            *v = _mm256_loadu_ps(out.as_ptr().add(i * 8));
        }
        for p in 0..k {
            let x = _mm256_broadcast_ss(&*a.add(p * MR));
            for (q, v) in acc.iter_mut().enumerate() {
                let panel = b.add((q / 2) * NR * k + p * NR + (q % 2) * 8);
                *v = _mm256_fmadd_ps(x, _mm256_loadu_ps(panel), *v);
            }
        }
        for (i, v) in acc.iter().enumerate() {
            _mm256_storeu_ps(out.as_mut_ptr().add(i * 8), *v);
        }
    }
}

/// One `MR x NR` tile of C over depth `kc`: written in place when whole and contiguous, else
/// through a buffer clipped to `m x n`.
/// `kernel(dst, rs, init)` computes the tile into `dst` (row stride `rs`).
#[allow(clippy::too_many_arguments)]
#[inline]
fn run_tile(
    kernel: impl Fn(&mut [f32], usize, &Init),
    pi: usize,
    pj: usize,
    m: usize,
    n: usize,
    c: &mut COut,
    bias: Bias,
    first: bool,
) {
    let (r0, c0) = (pi * MR, pj * NR);
    let (rows, cols) = (MR.min(m - r0), NR.min(n - c0));
    let (mut rb, mut cb) = ([0.0; MR], [0.0; NR]);
    match bias {
        Bias::None => {}
        Bias::Row(v) => rb[..rows].copy_from_slice(&v[r0..r0 + rows]),
        Bias::Col(v) => cb[..cols].copy_from_slice(&v[c0..c0 + cols]),
    }
    let init = Init {
        row: &rb,
        col: &cb,
        accumulate: !first,
    };
    if rows == MR && cols == NR && c.cs == 1 {
        let start = r0 * c.rs + c0;
        let dst = &mut c.data[start..start + (MR - 1) * c.rs + NR];
        kernel(dst, c.rs, &init);
        return;
    }
    let mut buf = [0.0f32; MR * NR];
    if !first {
        for i in 0..rows {
            for j in 0..cols {
                buf[i * NR + j] = c.data[(r0 + i) * c.rs + (c0 + j) * c.cs];
            }
        }
    }
    kernel(&mut buf, NR, &init);
    for i in 0..rows {
        for j in 0..cols {
            c.data[(r0 + i) * c.rs + (c0 + j) * c.cs] = buf[i * NR + j];
        }
    }
}

/// Where a tile's accumulators start: `row[i] + col[j]`, or C's current values.
struct Init<'a> {
    row: &'a [f32; MR],
    col: &'a [f32; NR],
    accumulate: bool,
}

/// `c[i * rs + j] = init(i, j) + Σ_p a[p * MR + i] · b[p * NR + j]` for a whole tile; `c` holds
/// at least `(MR - 1) * rs + NR` values.
type TileFn = fn(usize, &[f32], &[f32], &mut [f32], usize, &Init);

fn select() -> TileFn {
    #[cfg(target_arch = "x86_64")]
    if fma_available() {
        return tile_fma_entry;
    }
    tile_portable
}

fn tile_portable(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], rs: usize, init: &Init) {
    let mut acc = [[0.0f32; NR]; MR];
    for (i, row) in acc.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = if init.accumulate {
                c[i * rs + j]
            } else {
                init.row[i] + init.col[j]
            };
        }
    }
    for (ak, bk) in a[..kc * MR].chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &x) in acc.iter_mut().zip(ak) {
            for (r, &y) in row.iter_mut().zip(bk) {
                *r += x * y;
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        c[i * rs..i * rs + NR].copy_from_slice(row);
    }
}

#[cfg(target_arch = "x86_64")]
fn tile_fma_entry(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], rs: usize, init: &Init) {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR && c.len() > (MR - 1) * rs + NR - 1);
    // SAFETY: `select` returns this entry only after detecting AVX2 and FMA; the bounds above
    // cover every access of the kernel.
    unsafe { tile_fma(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), rs, init) }
}

/// The 6x16 tile in 12 ymm accumulators: per depth step two loads of B (where `b(p)` says),
/// six broadcasts of A and twelve FMAs. Generic over where B lies, so that packed panels and
/// windows of the input plane share one kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_with(
    kc: usize,
    a: *const f32,
    b: impl Fn(usize) -> [*const f32; 2],
    c: *mut f32,
    rs: usize,
    init: &Init,
) {
    use std::arch::x86_64::*;
    // SAFETY (whole body): the caller checked that `a`, `c` and every pointer `b` gives cover
    // every index used.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        for (i, row) in acc.iter_mut().enumerate() {
            if init.accumulate {
                row[0] = _mm256_loadu_ps(c.add(i * rs));
                row[1] = _mm256_loadu_ps(c.add(i * rs + 8));
            } else {
                let r = _mm256_set1_ps(init.row[i]);
                row[0] = _mm256_add_ps(r, _mm256_loadu_ps(init.col.as_ptr()));
                row[1] = _mm256_add_ps(r, _mm256_loadu_ps(init.col.as_ptr().add(8)));
            }
        }
        let mut a = a;
        for p in 0..kc {
            let [p0, p1] = b(p);
            let (b0, b1) = (_mm256_loadu_ps(p0), _mm256_loadu_ps(p1));
            for (i, row) in acc.iter_mut().enumerate() {
                let x = _mm256_broadcast_ss(&*a.add(i));
                row[0] = _mm256_fmadd_ps(x, b0, row[0]);
                row[1] = _mm256_fmadd_ps(x, b1, row[1]);
            }
            a = a.add(MR);
        }
        for (i, row) in acc.iter().enumerate() {
            _mm256_storeu_ps(c.add(i * rs), row[0]);
            _mm256_storeu_ps(c.add(i * rs + 8), row[1]);
        }
    }
}

/// [`tile_with`] on a packed B panel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_fma(kc: usize, a: *const f32, b: *const f32, c: *mut f32, rs: usize, init: &Init) {
    // SAFETY: the caller's bounds cover `kc` steps of the panel.
    unsafe { tile_with(kc, a, |p| [b.add(p * NR), b.add(p * NR + 8)], c, rs, init) }
}

/// [`tile_with`] with B's two vectors of step `p` at `plane + rows[p] + halves`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_fma_windows(
    kc: usize,
    a: *const f32,
    plane: *const f32,
    rows: &[usize],
    [h0, h1]: [usize; 2],
    c: *mut f32,
    rs: usize,
    init: &Init,
) {
    assert!(rows.len() >= kc);
    // SAFETY: `p < kc` indexes `rows`; the caller checked every plane offset, `a` and `c`.
    unsafe {
        tile_with(
            kc,
            a,
            |p| {
                let r = *rows.get_unchecked(p);
                [plane.add(r + h0), plane.add(r + h1)]
            },
            c,
            rs,
            init,
        )
    }
}
