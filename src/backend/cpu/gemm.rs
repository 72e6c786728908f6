//! Single-precision GEMM on packed panels: `C = A·B (+ bias)`.
//!
//! A is packed in panels of `MR` rows and B in panels of `NR` columns, each panel k-major, so the
//! micro-kernel reads both operands contiguously and keeps an `MR x NR` tile of C in registers
//! (12 ymm accumulators with AVX2). Weights are packed once when a layer is prepared; activations
//! are packed (or written packed by im2col) into scratch at run time. Single-threaded: callers
//! split the work across threads, or call [`gemm_par`].

use rayon::prelude::*;

pub const MR: usize = 6;
pub const NR: usize = 16;
/// Depth of one pass over a B panel: `KC x NR` floats (16 KiB) stay in L1 while every A panel of
/// the pass streams past them.
const KC: usize = 256;

type Tile = [[f32; NR]; MR];

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
    let kernels = select();
    let (mp, np) = (m.div_ceil(MR), n.div_ceil(NR));
    let mut c = c;
    let mut tile: Tile = [[0.0; NR]; MR];
    if k == 0 {
        for pi in 0..mp {
            for pj in 0..np {
                store(&tile, pi, pj, m, n, &mut c, bias, true);
            }
        }
        return;
    }
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for pj in 0..np {
            let bp = &b[pj * NR * k + k0 * NR..][..kc * NR];
            for pi in 0..mp {
                let ap = &a[pi * MR * k + k0 * MR..][..kc * MR];
                // A single row (a batch-1 fully connected layer) would waste 5/6 of a tile.
                if m == 1 {
                    (kernels.row)(ap, bp, &mut tile[0]);
                } else {
                    (kernels.tile)(ap, bp, &mut tile);
                }
                store(&tile, pi, pj, m, n, &mut c, bias, k0 == 0);
            }
        }
    }
}

/// [`gemm`] with the row panels split across threads; C's rows must be contiguous (`cs == 1`).
pub fn gemm_par(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: COut, bias: Bias) {
    let panels = m.div_ceil(MR);
    let t = super::tasks_for(panels, m * n * k);
    if t == 1 || c.cs != 1 {
        return gemm(m, n, k, a, b, c, bias);
    }
    let rows_per = panels.div_ceil(t) * MR;
    let rs = c.rs;
    c.data[..(m - 1) * rs + n]
        .par_chunks_mut(rows_per * rs)
        .enumerate()
        .for_each(|(i, data)| {
            let r0 = i * rows_per;
            let rows = rows_per.min(m - r0);
            let bias = match bias {
                Bias::Row(v) => Bias::Row(&v[r0..]),
                other => other,
            };
            gemm(rows, n, k, &a[r0 * k..], b, COut { data, rs, cs: 1 }, bias);
        });
}

/// Adds (or on the first depth pass, writes) one tile into C, clipped to `m x n`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn store(
    t: &Tile,
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
    for (i, trow) in t.iter().enumerate().take(rows) {
        let r = r0 + i;
        if c.cs == 1 && cols == NR {
            let row = &mut c.data[r * c.rs + c0..][..NR];
            if first {
                let mut init = [0.0; NR];
                match bias {
                    Bias::None => {}
                    Bias::Row(b) => init = [b[r]; NR],
                    Bias::Col(b) => init.copy_from_slice(&b[c0..c0 + NR]),
                }
                for ((o, &v), &b) in row.iter_mut().zip(trow).zip(&init) {
                    *o = v + b;
                }
            } else {
                for (o, &v) in row.iter_mut().zip(trow) {
                    *o += v;
                }
            }
            continue;
        }
        for (j, &v) in trow.iter().enumerate().take(cols) {
            let o = &mut c.data[r * c.rs + (c0 + j) * c.cs];
            *o = if first {
                v + match bias {
                    Bias::None => 0.0,
                    Bias::Row(b) => b[r],
                    Bias::Col(b) => b[c0 + j],
                }
            } else {
                *o + v
            };
        }
    }
}

/// Micro-kernels for a full tile and for a single row of A.
struct Kernels {
    tile: fn(&[f32], &[f32], &mut Tile),
    row: fn(&[f32], &[f32], &mut [f32; NR]),
}

fn select() -> Kernels {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        return Kernels {
            tile: tile_fma_entry,
            row: row_fma_entry,
        };
    }
    Kernels {
        tile: tile_portable,
        row: row_portable,
    }
}

/// Row 0 of [`tile_portable`].
fn row_portable(a: &[f32], b: &[f32], t: &mut [f32; NR]) {
    let mut acc = [0.0; NR];
    for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (r, &y) in acc.iter_mut().zip(bk) {
            *r += ak[0] * y;
        }
    }
    *t = acc;
}

#[cfg(target_arch = "x86_64")]
fn row_fma_entry(a: &[f32], b: &[f32], t: &mut [f32; NR]) {
    // SAFETY: `select` returns this entry only after detecting AVX2 and FMA.
    unsafe { row_fma(a, b, t) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn row_fma(a: &[f32], b: &[f32], t: &mut [f32; NR]) {
    let mut acc = [0.0f32; NR];
    for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (r, &y) in acc.iter_mut().zip(bk) {
            *r = ak[0].mul_add(y, *r);
        }
    }
    *t = acc;
}

/// `t = Σ_p a[p] ⊗ b[p]` over the packed steps of one A panel and one B panel.
fn tile_portable(a: &[f32], b: &[f32], t: &mut Tile) {
    let mut acc: Tile = [[0.0; NR]; MR];
    for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &x) in acc.iter_mut().zip(ak) {
            for (r, &y) in row.iter_mut().zip(bk) {
                *r += x * y;
            }
        }
    }
    *t = acc;
}

#[cfg(target_arch = "x86_64")]
fn tile_fma_entry(a: &[f32], b: &[f32], t: &mut Tile) {
    // SAFETY: `select` returns this entry only after detecting AVX2 and FMA.
    unsafe { tile_fma(a, b, t) }
}

/// The portable loop compiled for AVX2 + FMA: LLVM keeps the tile in 12 ymm registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn tile_fma(a: &[f32], b: &[f32], t: &mut Tile) {
    let mut acc: Tile = [[0.0; NR]; MR];
    for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &x) in acc.iter_mut().zip(ak) {
            for (r, &y) in row.iter_mut().zip(bk) {
                *r = x.mul_add(y, *r);
            }
        }
    }
    *t = acc;
}
