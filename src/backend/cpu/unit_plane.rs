//! An INT8 convolution's input as a plane of depth units (pairs of `i16` or quads of bytes, see
//! `igemm::Format`), so that the integer GEMM reads its B operand straight from the plane through
//! windows, as the FP32 GEMM does (see `gemm::Windows`), instead of from an im2col matrix.
//!
//! A unit holds the values that one depth unit of the reduction multiplies at one output
//! position, stored together at that position's offset. Two groupings do that:
//! - channels: input channels `u·n` to `u·n + n - 1` (past the last channel, zero weights);
//! - columns: kernel columns `kx` to `kx + n - 1` of one channel, the values at `x`,
//!   `x + dilation`, ... (past the last column, zero weights).
//!
//! The one with fewer units is taken: a one-channel first layer groups columns, deeper layers
//! channels. The weights are packed in the same order; integer sums do not depend on the order of
//! the reduction, so they are im2col's exactly.

use super::igemm::{Format, Role, bytes_mut, quad_byte};
use super::im2col::{CHUNK, Geometry, interleave, interleave_quads};
use crate::network::ConvParams;

enum Grouping {
    Channels,
    /// The distance in the plane between a unit's consecutive values.
    Columns(usize),
}

pub struct UnitPlane {
    fmt: Format,
    grouping: Grouping,
    /// Positions in one channel's plane.
    area: usize,
    /// Units in one group's unit plane.
    len: usize,
    /// Per depth unit, its offset in the unit plane (in units).
    rows: Vec<usize>,
    /// Per depth unit, the im2col rows `(c, ky, kx)` of its values; `None` multiplies zero.
    depth: Vec<[Option<usize>; 4]>,
}

impl UnitPlane {
    pub fn new(p: &ConvParams, geo: &Geometry, fmt: Format) -> UnitPlane {
        let per = fmt.per_unit();
        let cg = geo.c / geo.groups;
        let ([kh, kw], [dy, dx], pw) = (p.kernel, p.dilation, geo.plane[1]);
        let area = geo.plane[0] * pw;
        let index = |c: usize, ky: usize, kx: usize, h: usize| {
            (h < per && c < cg && kx < kw).then_some((c * kh + ky) * kw + kx)
        };
        let (mut rows, mut depth) = (Vec::new(), Vec::new());
        let by_channels = cg.div_ceil(per) * kw <= cg * kw.div_ceil(per);
        if by_channels {
            for c in (0..cg).step_by(per) {
                for ky in 0..kh {
                    for kx in 0..kw {
                        rows.push(c / per * area + ky * dy * pw + kx * dx);
                        depth.push(std::array::from_fn(|h| index(c + h, ky, kx, h)));
                    }
                }
            }
        } else {
            for c in 0..cg {
                for ky in 0..kh {
                    for kx in (0..kw).step_by(per) {
                        rows.push(c * area + ky * dy * pw + kx * dx);
                        depth.push(std::array::from_fn(|h| index(c, ky, kx + h, h)));
                    }
                }
            }
        }
        let (grouping, len) = if by_channels {
            (Grouping::Channels, cg.div_ceil(per) * area)
        } else {
            (Grouping::Columns(dx), cg * area)
        };
        UnitPlane {
            fmt,
            grouping,
            area,
            len,
            rows,
            depth,
        }
    }

    /// Per depth unit, its offset in the unit plane: the windows' rows.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// The packed reduction depth: the values of all units.
    pub fn depth(&self) -> usize {
        self.fmt.per_unit() * self.rows.len()
    }

    /// `i16` slots of one group's unit plane.
    pub fn values(&self) -> usize {
        2 * self.len
    }

    /// The weight at packed depth `q` of output channel `i`, from one group's weights `w`
    /// (`[kg][kdim]`, im2col order).
    pub fn weight(&self, w: &[i8], kdim: usize, i: usize, q: usize) -> i16 {
        let per = self.fmt.per_unit();
        self.depth[q / per][q % per].map_or(0, |k| w[i * kdim + k] as i16)
    }

    /// One group's unit plane from its plane `src` (as [`Geometry::fill_plane`] lays it out).
    pub fn fill(&self, src: &[i16], dst: &mut [i16]) {
        let dst = &mut dst[..self.values()];
        match (self.fmt, &self.grouping) {
            (Format::Pairs, Grouping::Channels) => {
                for (c, out) in dst.chunks_exact_mut(2 * self.area).enumerate() {
                    let first = &src[2 * c * self.area..][..self.area];
                    let second = src.get((2 * c + 1) * self.area..).unwrap_or_default();
                    zip_pairs(first, &second[..second.len().min(self.area)], out);
                }
            }
            (Format::Pairs, &Grouping::Columns(shift)) => {
                let src = &src[..self.len];
                zip_pairs(src, src.get(shift..).unwrap_or_default(), dst);
            }
            (Format::Quads, Grouping::Channels) => {
                let area = self.area;
                for (c, out) in bytes_mut(dst).chunks_exact_mut(4 * area).enumerate() {
                    let row = |h: usize| {
                        let from = src.get((4 * c + h) * area..).unwrap_or_default();
                        &from[..from.len().min(area)]
                    };
                    quads_of([row(0), row(1), row(2), row(3)], out);
                }
            }
            (Format::Quads, &Grouping::Columns(shift)) => {
                let src = &src[..self.len];
                let row = |h: usize| src.get(h * shift..).unwrap_or_default();
                quads_of([row(0), row(1), row(2), row(3)], bytes_mut(dst));
            }
        }
    }
}

/// Quad `i` of `out` from value `i` of each of the four rows, as activations; 128 (zero) past a
/// row's end. Whole vectors of `CHUNK` quads where every row reaches, then value by value.
fn quads_of(rows: [&[i16]; 4], out: &mut [u8]) {
    let whole = rows
        .iter()
        .map(|r| r.len())
        .min()
        .unwrap_or(0)
        .min(out.len() / 4)
        / CHUNK;
    for (i, o) in out.chunks_exact_mut(4 * CHUNK).take(whole).enumerate() {
        let chunk =
            |r: &[i16]| -> [i16; CHUNK] { r[i * CHUNK..][..CHUNK].try_into().expect("chunk") };
        let v = rows.map(chunk);
        interleave_quads([&v[0], &v[1], &v[2], &v[3]], o.try_into().expect("chunk"));
    }
    for (i, q) in out.chunks_exact_mut(4).enumerate().skip(whole * CHUNK) {
        for (b, r) in q.iter_mut().zip(rows) {
            *b = quad_byte(r.get(i).copied().unwrap_or(0), Role::Activations);
        }
    }
}

/// `out = [a0, b0, a1, b1, ...]` over `a`, where `b` may be shorter (zeros past its end).
fn zip_pairs(a: &[i16], b: &[i16], out: &mut [i16]) {
    let whole = b.len().min(a.len()) / CHUNK * CHUNK;
    for ((x, y), o) in a[..whole]
        .chunks_exact(CHUNK)
        .zip(b.chunks_exact(CHUNK))
        .zip(out.chunks_exact_mut(2 * CHUNK))
    {
        let (x, y, o) = (x.try_into(), y.try_into(), o.try_into());
        interleave(x.expect("chunk"), y.expect("chunk"), o.expect("chunk"));
    }
    for (i, o) in out[2 * whole..2 * a.len()].chunks_exact_mut(2).enumerate() {
        let at = whole + i;
        o[0] = a[at];
        o[1] = b.get(at).copied().unwrap_or(0);
    }
}
