//! The im2col geometry of a convolution, shared by the FP32 and INT8 kernels.
//!
//! im2col reads a padded copy of the input when the convolution pads, so that every window lies
//! inside the plane it reads; the output positions are then fixed offsets into that plane,
//! precomputed, and runs of `CHUNK` positions that are consecutive in the input (stride 1, same
//! output row) are copied as one vector. The matrix is written directly in the GEMM's packed-B
//! layout (panels of `NR` positions), one panel at a time so that the writes are sequential.

use super::igemm::bytes_mut;
#[cfg(not(target_arch = "x86_64"))]
use super::igemm::{Role, quad_byte};
use crate::error::Result;
use crate::network::ConvParams;
use crate::network::shape::conv_geometry;

/// Positions copied as one vector when they are consecutive in the input.
pub(super) const CHUNK: usize = 8;

pub struct Geometry {
    /// Input channels, all groups.
    pub c: usize,
    pub hw: [usize; 2],
    pub k: usize,
    pub out: [usize; 2],
    pub groups: usize,
    /// Rows of one group's im2col matrix: `C/groups · kh · kw`.
    pub kdim: usize,
    /// Padding before the first row and column.
    pre: [usize; 2],
    /// The plane im2col reads, `[h, w]`: the input's, or the padded copy's when `padded`.
    pub plane: [usize; 2],
    pub padded: bool,
    /// Offset in the plane of each output position's window origin, padded to whole panels of
    /// `nr` (with 0: those columns are computed but never stored).
    positions: Vec<usize>,
    /// Per `CHUNK` of positions: whether they are consecutive in the plane.
    contiguous: Vec<bool>,
    /// Offset of each im2col row `(c, ky, kx)` from its group's first channel in the plane.
    row_offsets: Vec<usize>,
}

impl Geometry {
    /// `nr` is the GEMM's panel width, a multiple of `CHUNK`.
    pub fn new(p: &ConvParams, c: usize, hw: [usize; 2], nr: usize) -> Result<Geometry> {
        let g = conv_geometry(p, hw, false).map_err(crate::error::Error::Network)?;
        let (k, groups) = (p.nb_output_maps, p.groups);
        if groups == 0 || !c.is_multiple_of(groups) || !k.is_multiple_of(groups) {
            crate::bail!(
                Network,
                "convolution: {c} channels and {k} maps do not split into {groups} groups"
            );
        }
        let kdim = c / groups * p.kernel[0] * p.kernel[1];
        if p.kernel_weights.len() != k * kdim {
            crate::bail!(
                Network,
                "convolution: {} weights, expected {}",
                p.kernel_weights.len(),
                k * kdim
            );
        }
        let (pre, out) = ([g[0].pre, g[1].pre], [g[0].out, g[1].out]);
        let end =
            |d: usize| (out[d].max(1) - 1) * p.stride[d] + (p.kernel[d] - 1) * p.dilation[d] + 1;
        let padded = pre != [0, 0] || (0..2).any(|d| end(d) > hw[d]);
        let plane = if padded { [end(0), end(1)] } else { hw };
        let mut positions = vec![0; (out[0] * out[1]).div_ceil(nr) * nr];
        for (i, o) in positions.iter_mut().take(out[0] * out[1]).enumerate() {
            let (oy, ox) = (i / out[1], i % out[1]);
            *o = oy * p.stride[0] * plane[1] + ox * p.stride[1];
        }
        let contiguous = positions
            .chunks_exact(CHUNK)
            .map(|c| c.iter().enumerate().all(|(t, &o)| o == c[0] + t))
            .collect();
        let mut row_offsets = Vec::with_capacity(kdim);
        for ci in 0..c / groups {
            for ky in 0..p.kernel[0] {
                for kx in 0..p.kernel[1] {
                    row_offsets.push(
                        ci * plane[0] * plane[1]
                            + ky * p.dilation[0] * plane[1]
                            + kx * p.dilation[1],
                    );
                }
            }
        }
        Ok(Geometry {
            c,
            hw,
            k,
            out,
            groups,
            kdim,
            pre,
            plane,
            padded,
            positions,
            contiguous,
            row_offsets,
        })
    }

    pub fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Values of the plane im2col reads (all groups).
    pub fn plane_len(&self) -> usize {
        self.c * self.plane[0] * self.plane[1]
    }

    /// One group's slice of the plane.
    pub fn group_plane<'a, T>(&self, plane: &'a [T], g: usize) -> &'a [T] {
        let len = self.plane_len() / self.groups;
        &plane[g * len..(g + 1) * len]
    }

    /// Writes `x` (one item's input, converted by `f`) into `dst` laid out as the plane, zero
    /// in the padding.
    pub fn fill_plane<S: Copy, T: Copy + Default>(
        &self,
        x: &[S],
        dst: &mut [T],
        f: impl Fn(S) -> T,
    ) {
        let [h, w] = self.hw;
        let [ph, pw] = self.plane;
        let [top, left] = if self.padded { self.pre } else { [0, 0] };
        let dst = &mut dst[..self.plane_len()];
        if self.padded {
            dst.fill(T::default());
        }
        let rows = h.min(ph.saturating_sub(top));
        let cols = w.min(pw.saturating_sub(left));
        for (ci, plane) in dst.chunks_exact_mut(ph * pw).enumerate() {
            for y in 0..rows {
                let src = &x[(ci * h + y) * w..][..cols];
                let out = &mut plane[(top + y) * pw + left..][..cols];
                for (o, &v) in out.iter_mut().zip(src) {
                    *o = f(v);
                }
            }
        }
    }

    /// Offset of each im2col row `(c, ky, kx)` from its group's first channel in the plane.
    pub fn row_offsets(&self) -> &[usize] {
        &self.row_offsets
    }

    /// Per panel of `nr = 2 * CHUNK` positions, where its two halves start in the plane, when
    /// every half is `CHUNK` consecutive plane offsets (stride-1 output rows of a multiple of
    /// `CHUNK`) and every read stays inside the plane: B of [`super::gemm::Windows`]. Halves past
    /// the last position (computed, never stored) start at 0.
    pub fn windows(&self, nr: usize) -> Option<Vec<[usize; 2]>> {
        if nr != 2 * CHUNK {
            return None;
        }
        let n = self.positions();
        let halves: Vec<usize> = (0..self.positions.len() / CHUNK)
            .map(|h| {
                let pos = &self.positions[h * CHUNK..][..CHUNK];
                let valid = n.saturating_sub(h * CHUNK).min(CHUNK);
                match valid {
                    0 => Some(0),
                    _ if pos[..valid]
                        .iter()
                        .enumerate()
                        .all(|(t, &o)| o == pos[0] + t) =>
                    {
                        Some(pos[0])
                    }
                    _ => None,
                }
            })
            .collect::<Option<_>>()?;
        let reach = self.row_offsets.iter().max()? + halves.iter().max()? + CHUNK;
        (reach <= self.plane_len() / self.groups)
            .then(|| halves.chunks_exact(2).map(|h| [h[0], h[1]]).collect())
    }

    /// [`Geometry::windows`] in the order of 2x2 max pooling windows, for `rows` pooled rows:
    /// panel `r · runs + i` (`runs = out[1] / CHUNK`) is output rows `2r` and `2r + 1` at columns
    /// `CHUNK · i..CHUNK · (i + 1)`, whose pooled values are pooled row `r`, columns
    /// `CHUNK / 2 · i..CHUNK / 2 · (i + 1)`: output `CHUNK / 2 · panel` of the pooled plane.
    pub fn pooled_windows(&self, rows: usize) -> Option<Vec<[usize; 2]>> {
        let w = self.out[1];
        if !w.is_multiple_of(CHUNK) || 2 * rows > self.out[0] {
            return None;
        }
        // Each run of CHUNK is then one output row's, and `windows` checked them all.
        self.windows(2 * CHUNK)?;
        let at = |y: usize, x: usize| self.positions[y * w + x];
        Some(
            (0..rows)
                .flat_map(|r| {
                    (0..w)
                        .step_by(CHUNK)
                        .map(move |x| [at(2 * r, x), at(2 * r + 1, x)])
                })
                .collect(),
        )
    }

    /// One group's im2col matrix (`kdim x P`) in the FP32 GEMM's packed-B layout: panels `[k][nr]`.
    pub fn im2col<T: Copy>(&self, plane: &[T], col: &mut [T], nr: usize) {
        let len = self.positions.len() * self.kdim;
        for ((panel, pos), contiguous) in col[..len]
            .chunks_exact_mut(nr * self.kdim)
            .zip(self.positions.chunks_exact(nr))
            .zip(self.contiguous.chunks_exact(nr / CHUNK))
        {
            for (row, &r) in panel.chunks_exact_mut(nr).zip(&self.row_offsets) {
                gather(&plane[r..], row, pos, contiguous);
            }
        }
    }

    /// One group's im2col matrix in the integer GEMM's packed-B layout of quads: panels
    /// `[k/4][nr][4]` of activation bytes, the last rows completed with zeros (128).
    pub fn im2col_quads(&self, plane: &[i16], col: &mut [i16], nr: usize) {
        let units = self.kdim.div_ceil(4);
        let len = self.positions.len() * units * 2;
        for ((panel, pos), contiguous) in bytes_mut(&mut col[..len])
            .chunks_exact_mut(nr * units * 4)
            .zip(self.positions.chunks_exact(nr))
            .zip(self.contiguous.chunks_exact(nr / CHUNK))
        {
            for (step, rows) in panel
                .chunks_exact_mut(nr * 4)
                .zip(self.row_offsets.chunks(4))
            {
                let row = |h: usize| rows.get(h).map(|&r| &plane[r..]);
                let r = [row(0), row(1), row(2), row(3)];
                for ((out, pos), &contiguous) in step
                    .chunks_exact_mut(CHUNK * 4)
                    .zip(pos.chunks_exact(CHUNK))
                    .zip(contiguous)
                {
                    let out: &mut [u8; 4 * CHUNK] = out.try_into().expect("chunk");
                    // Plain loops: `array::from_fn` here was a call per row.
                    let mut v = [[0i16; CHUNK]; 4];
                    for (vh, rh) in v.iter_mut().zip(r) {
                        let Some(rh) = rh else { continue };
                        if contiguous {
                            vh.copy_from_slice(&rh[pos[0]..][..CHUNK]);
                        } else {
                            for (x, &p) in vh.iter_mut().zip(pos) {
                                *x = rh[p];
                            }
                        }
                    }
                    interleave_quads([&v[0], &v[1], &v[2], &v[3]], out);
                }
            }
        }
    }

    /// One group's im2col matrix in the integer GEMM's packed-B layout: panels `[k/2][nr][2]`,
    /// rows paired, an odd last row paired with zeros.
    pub fn im2col_pairs(&self, plane: &[i16], col: &mut [i16], nr: usize) {
        let pairs = self.kdim.div_ceil(2);
        let len = self.positions.len() * pairs * 2;
        let zeros = [0i16; CHUNK];
        for ((panel, pos), contiguous) in col[..len]
            .chunks_exact_mut(nr * pairs * 2)
            .zip(self.positions.chunks_exact(nr))
            .zip(self.contiguous.chunks_exact(nr / CHUNK))
        {
            for (step, rows) in panel
                .chunks_exact_mut(nr * 2)
                .zip(self.row_offsets.chunks(2))
            {
                let (r0, r1) = (&plane[rows[0]..], rows.get(1).map(|&r| &plane[r..]));
                for ((out, pos), &contiguous) in step
                    .chunks_exact_mut(CHUNK * 2)
                    .zip(pos.chunks_exact(CHUNK))
                    .zip(contiguous)
                {
                    let out: &mut [i16; 2 * CHUNK] = out.try_into().expect("chunk");
                    if contiguous {
                        let a: &[i16; CHUNK] = r0[pos[0]..][..CHUNK].try_into().expect("chunk");
                        let b: &[i16; CHUNK] = match r1 {
                            Some(r) => r[pos[0]..][..CHUNK].try_into().expect("chunk"),
                            None => &zeros,
                        };
                        interleave(a, b, out);
                    } else {
                        let a = std::array::from_fn(|t| r0[pos[t]]);
                        let b = std::array::from_fn(|t| r1.map_or(0, |r| r[pos[t]]));
                        interleave(&a, &b, out);
                    }
                }
            }
        }
    }
}

/// `out = [a0, b0, c0, d0, a1, ...]`: four im2col rows (INT8 values) into one row of depth
/// quads of activation bytes (`igemm::quad_byte`: `v + 128`).
#[inline]
pub(super) fn interleave_quads(rows: [&[i16; CHUNK]; 4], out: &mut [u8; 4 * CHUNK]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64; the arrays are exactly 16 and 32 bytes. Values are in
        // [-127, 127], so `v + 128` packs to bytes unsaturated.
        unsafe {
            let bias = _mm_set1_epi16(128);
            let [a, b, c, d] = rows.map(|r| {
                let v = _mm_add_epi16(_mm_loadu_si128(r.as_ptr() as *const __m128i), bias);
                _mm_packus_epi16(v, v)
            });
            let (ab, cd) = (_mm_unpacklo_epi8(a, b), _mm_unpacklo_epi8(c, d));
            _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, _mm_unpacklo_epi16(ab, cd));
            _mm_storeu_si128(
                out.as_mut_ptr().add(16) as *mut __m128i,
                _mm_unpackhi_epi16(ab, cd),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (t, q) in out.chunks_exact_mut(4).enumerate() {
        for (h, r) in rows.iter().enumerate() {
            q[h] = quad_byte(r[t], Role::Activations);
        }
    }
}

/// `out = [a0, b0, a1, b1, ...]`: two im2col rows into one row of depth pairs.
#[inline]
pub(super) fn interleave(a: &[i16; CHUNK], b: &[i16; CHUNK], out: &mut [i16; 2 * CHUNK]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64; the arrays are exactly 16 and 32 bytes.
        unsafe {
            let x = _mm_loadu_si128(a.as_ptr() as *const __m128i);
            let y = _mm_loadu_si128(b.as_ptr() as *const __m128i);
            _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, _mm_unpacklo_epi16(x, y));
            _mm_storeu_si128(
                out.as_mut_ptr().add(8) as *mut __m128i,
                _mm_unpackhi_epi16(x, y),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (o, (&x, &y)) in out.chunks_exact_mut(2).zip(a.iter().zip(b)) {
        o[0] = x;
        o[1] = y;
    }
}

/// `out[j] = src[pos[j]]`, a `CHUNK` at a time, copied as a block where it is contiguous.
#[inline]
fn gather<T: Copy>(src: &[T], out: &mut [T], pos: &[usize], contiguous: &[bool]) {
    for ((out, pos), &contiguous) in out
        .chunks_exact_mut(CHUNK)
        .zip(pos.chunks_exact(CHUNK))
        .zip(contiguous)
    {
        if contiguous {
            out.copy_from_slice(&src[pos[0]..pos[0] + CHUNK]);
        } else {
            for (o, &p) in out.iter_mut().zip(pos) {
                *o = src[p];
            }
        }
    }
}
