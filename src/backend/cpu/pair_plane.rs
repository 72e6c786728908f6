//! An INT8 convolution's input as a plane of depth pairs, so that the integer GEMM reads its B
//! operand (pairs of 16-bit values, one `vpmaddwd` lane each) straight from the plane through
//! windows, as the FP32 GEMM does (see `gemm::Windows`), instead of from an im2col matrix.
//!
//! A pair holds the two values that one depth pair of the reduction multiplies at one output
//! position, stored together at that position's offset. Two pairings do that:
//! - channels: input channels `2c` and `2c + 1` (an odd last channel pairs with zero);
//! - columns: kernel columns `kx` and `kx + 1` of one channel, the values at `x` and
//!   `x + dilation` (an odd last column pairs with a zero weight).
//!
//! The one with fewer pairs is taken: a one-channel first layer pairs columns, deeper layers
//! channels. The weights are packed in the same order; integer sums do not depend on the order of
//! the reduction, so they are im2col's exactly.

use super::im2col::{CHUNK, Geometry, interleave};
use crate::network::ConvParams;

enum Pairing {
    Channels,
    /// The distance in the plane between a pair's two values.
    Columns(usize),
}

pub struct PairPlane {
    pairing: Pairing,
    /// Positions in one channel's plane.
    area: usize,
    /// Pairs in one group's pair plane.
    len: usize,
    /// Per depth pair, its offset in the pair plane (in pairs).
    rows: Vec<usize>,
    /// Per depth pair, the im2col rows `(c, ky, kx)` of its two values; `None` multiplies zero.
    depth: Vec<[Option<usize>; 2]>,
}

impl PairPlane {
    pub fn new(p: &ConvParams, geo: &Geometry) -> PairPlane {
        let cg = geo.c / geo.groups;
        let ([kh, kw], [dy, dx], pw) = (p.kernel, p.dilation, geo.plane[1]);
        let area = geo.plane[0] * pw;
        let index =
            |c: usize, ky: usize, kx: usize| (c < cg && kx < kw).then_some((c * kh + ky) * kw + kx);
        let (mut rows, mut depth) = (Vec::new(), Vec::new());
        let by_channels = cg.div_ceil(2) * kw <= cg * kw.div_ceil(2);
        if by_channels {
            for c in (0..cg).step_by(2) {
                for ky in 0..kh {
                    for kx in 0..kw {
                        rows.push(c / 2 * area + ky * dy * pw + kx * dx);
                        depth.push([index(c, ky, kx), index(c + 1, ky, kx)]);
                    }
                }
            }
        } else {
            for c in 0..cg {
                for ky in 0..kh {
                    for kx in (0..kw).step_by(2) {
                        rows.push(c * area + ky * dy * pw + kx * dx);
                        depth.push([index(c, ky, kx), index(c, ky, kx + 1)]);
                    }
                }
            }
        }
        let (pairing, len) = if by_channels {
            (Pairing::Channels, cg.div_ceil(2) * area)
        } else {
            (Pairing::Columns(dx), cg * area)
        };
        PairPlane {
            pairing,
            area,
            len,
            rows,
            depth,
        }
    }

    /// Per depth pair, its offset in the pair plane: the windows' rows.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// The packed reduction depth: twice the pairs.
    pub fn depth(&self) -> usize {
        2 * self.rows.len()
    }

    /// `i16` values of one group's pair plane.
    pub fn values(&self) -> usize {
        2 * self.len
    }

    /// The weight at packed depth `q` of output channel `i`, from one group's weights `w`
    /// (`[kg][kdim]`, im2col order).
    pub fn weight(&self, w: &[i8], kdim: usize, i: usize, q: usize) -> i16 {
        self.depth[q / 2][q % 2].map_or(0, |k| w[i * kdim + k] as i16)
    }

    /// One group's pair plane from its plane `src` (as [`Geometry::fill_plane`] lays it out).
    pub fn fill(&self, src: &[i16], dst: &mut [i16]) {
        let dst = &mut dst[..self.values()];
        match self.pairing {
            Pairing::Channels => {
                for (c, out) in dst.chunks_exact_mut(2 * self.area).enumerate() {
                    let first = &src[2 * c * self.area..][..self.area];
                    let second = src.get((2 * c + 1) * self.area..).unwrap_or_default();
                    zip_pairs(first, &second[..second.len().min(self.area)], out);
                }
            }
            Pairing::Columns(shift) => {
                let src = &src[..self.len];
                zip_pairs(src, src.get(shift..).unwrap_or_default(), dst);
            }
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
