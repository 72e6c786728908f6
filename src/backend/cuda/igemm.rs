//! Host side of kernels/igemm.cu: the reduction-offset table and the packed weights of a
//! convolution or FC layer run as an implicit GEMM.

use super::args::GemmArgs;
use crate::engine::Precision;

/// Tile sizes of igemm.cu's FP16 and INT8 kernels: rows, columns, reduction step (FP32's too).
pub const GM: usize = 64;
pub const GN: usize = 64;
pub const GK: usize = 32;
/// FP32 tiles: rows, and the packed weights' column slots per column tile (igemm.cu `FM`,
/// `FSLOTS`); a tile uses 56 or 64 of its slots (see [`Tiling`]).
pub const FM: usize = 128;
pub const FSLOTS: usize = 64;
/// Accumulators of one partial tile of a split reduction, the largest tile's (`PART_WORDS`).
pub const PART_WORDS: usize = FM * FSLOTS;

/// A table entry's offsets are 16-bit; padded reduction indices point this far down, which no
/// input row reaches, so they read zeros.
const PAD_DY: i32 = 0x7fff;

/// The input and kernel geometry the reduction walks: `c` channels of `h x w`, a `kh x kw`
/// kernel with dilation `dh x dw`. An FC layer is `c = kdim`, everything else 1.
pub struct Reduction {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub dh: usize,
    pub dw: usize,
}

impl Reduction {
    pub fn kdim(&self) -> usize {
        self.c * self.kh * self.kw
    }

    pub fn kpad(&self) -> usize {
        self.kdim().div_ceil(GK) * GK
    }

    /// Whether the table's 16-bit offsets can hold this geometry.
    pub fn fits(&self) -> bool {
        let lim = (PAD_DY / 2) as usize;
        self.h < lim && self.w < lim && self.kh * self.dh < lim && self.kw * self.dw < lim
    }

    /// Whether every window of the rows `g` describes (its output geometry, fused pooling
    /// included) lies inside the input: no padding, and the last row's window ends inside. The
    /// FP32 kernel then skips the bounds checks, except at the reduction's padded end.
    pub fn inside(&self, g: &GemmArgs) -> bool {
        let last = |out: i32, pool: i32, pool_s: i32, s: i32, k: usize, d: usize| {
            let oy = (out.max(1) as i64 - 1) * pool_s as i64 + pool as i64 - 1;
            oy * s as i64 + ((k - 1) * d) as i64
        };
        g.ph == 0
            && g.pw == 0
            && last(g.poh, g.pool_h, g.pool_sh, g.sh, self.kh, self.dh) < self.h as i64
            && last(g.pow_, g.pool_w, g.pool_sw, g.sw, self.kw, self.dw) < self.w as i64
    }

    /// Per reduction index `(ci, ky, kx)`: the input offset from the row's window origin, and
    /// `dy << 16 | dx` for the bounds check.
    pub fn table(&self) -> Vec<[i32; 2]> {
        let (h, w, kk) = (self.h as i32, self.w as i32, self.kh * self.kw);
        (0..self.kpad())
            .map(|k| {
                if k >= self.kdim() {
                    return [0, PAD_DY << 16];
                }
                let (ci, r) = ((k / kk) as i32, k % kk);
                let dy = ((r / self.kw) * self.dh) as i32;
                let dx = ((r % self.kw) * self.dw) as i32;
                [ci * h * w + dy * w + dx, (dy << 16) | dx]
            })
            .collect()
    }
}

/// The tiles of a layer's launch: rows and output channels per tile, and how many column tiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiling {
    pub rows: usize,
    pub cols: usize,
    pub col_tiles: usize,
}

impl Tiling {
    /// FP32 tiles are 128 rows by 56 or 64 channels, whichever pads `n` less (50 channels: one
    /// 56-wide tile does 12.5% less arithmetic than a 64-wide one; 500: 504 rather than 512);
    /// FP16 and INT8 tiles are 64 x 64. A softmax of up to 64 channels still gets one tile.
    pub fn of(p: Precision, n: usize) -> Tiling {
        let (rows, cols) = match p {
            Precision::Float if n.div_ceil(56) * 56 < n.div_ceil(64) * 64 => (FM, 56),
            Precision::Float => (FM, 64),
            _ => (GM, GN),
        };
        Tiling {
            rows,
            cols,
            col_tiles: n.div_ceil(cols).max(1),
        }
    }

    /// Padded channels: the packed weights' row length (FP32: FSLOTS per tile) or row count
    /// (FP16, INT8: GN per tile, the same number), and the length of the per-channel arrays.
    pub fn npad(&self) -> usize {
        const _: () = assert!(FSLOTS == GN);
        self.col_tiles * GN
    }

    /// FP32's 64x64 tiles (4x4 outputs per thread) for the `n` channels of a run whose 128-row
    /// tiles would not fill the GPU: twice the blocks or more, each a quarter of the work or
    /// less (LeNet FP32 batch 100: 86.6 µs on 128-row tiles alone, 79.2 with 64-row tiles of
    /// 2x7 outputs per thread, 68.0 on these). None for FP16 and INT8 (64 rows already).
    pub fn small(&self, n: usize) -> Option<Tiling> {
        (self.rows == FM).then(|| Tiling {
            rows: GM,
            cols: GN,
            col_tiles: n.div_ceil(GN).max(1),
        })
    }

    /// The largest batch of `rows_per_item` rows each that makes fewer than `blocks` tiles.
    pub fn batches_below(&self, rows_per_item: usize, blocks: u64) -> u64 {
        let row_tiles = blocks.saturating_sub(1) / self.col_tiles as u64;
        (row_tiles * self.rows as u64)
            .checked_div(rows_per_item as u64)
            .unwrap_or(u64::MAX)
    }

    /// The kernel's name for these tiles, a layer of precision `p`, input and output storage.
    pub fn kernel(&self, p: Precision, ti: &str, to: &str) -> String {
        match p {
            Precision::Float => format!("igemm_f{}x{}_{ti}_{to}", self.rows, self.cols),
            Precision::Half => format!("igemm_h_{ti}_{to}"),
            Precision::Int8 => format!("igemm_q_{ti}_{to}"),
        }
    }

    /// FP32 weights `w[n][kdim]` as `[kpad][npad]`, zero padded. Column tile t's channel
    /// `t * cols + cols / 8 * tx + j` (thread tx's j-th of cols / 8) sits in slot
    /// `t * FSLOTS + 4 * tx + j` for j < 4, else `32 + 4 * tx + j - 4`: igemm.cu reads a
    /// thread's weights of a step as two float4 whose warp-wide reads are contiguous.
    pub fn pack_f32(&self, w: &[f32], n: usize, kdim: usize, kpad: usize) -> Vec<f32> {
        let np = self.npad();
        let cw = self.cols / 8;
        let mut out = vec![0.0; kpad * np];
        for (o, row) in w.chunks_exact(kdim).enumerate().take(n) {
            let (t, l) = (o / self.cols, o % self.cols);
            let (tx, j) = (l / cw, l % cw);
            let slot = t * FSLOTS
                + if j < 4 {
                    4 * tx + j
                } else {
                    32 + 4 * tx + j - 4
                };
            for (k, &v) in row.iter().enumerate() {
                out[k * np + slot] = v;
            }
        }
        out
    }

    /// `v` zero padded to [`Tiling::npad`].
    pub fn pad_channels(&self, v: &[f32]) -> Vec<f32> {
        let mut out = v.to_vec();
        out.resize(self.npad(), 0.0);
        out
    }
}

/// `w[n][kdim]` as `[npad][kpad]`, zero padded (the tensor-core kernels read rows of n).
pub fn pack_rows<T: Copy + Default>(w: &[T], t: &Tiling, kdim: usize, kpad: usize) -> Vec<T> {
    let mut out = vec![T::default(); t.npad() * kpad];
    for (o, row) in w.chunks_exact(kdim).enumerate() {
        out[o * kpad..][..kdim].copy_from_slice(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_walks_channels_rows_and_columns() {
        let r = Reduction {
            c: 2,
            h: 5,
            w: 7,
            kh: 2,
            kw: 3,
            dh: 2,
            dw: 1,
        };
        let t = r.table();
        assert_eq!(t.len(), 32);
        // k = 1 * 6 + 1 * 3 + 2: channel 1, kernel row 1 (dy 2), column 2 (dx 2).
        assert_eq!(t[11], [35 + 2 * 7 + 2, (2 << 16) | 2]);
        assert_eq!(t[12], [0, PAD_DY << 16]);
    }

    #[test]
    fn fp32_tiles_pad_channels_least() {
        let t = |n| Tiling::of(Precision::Float, n);
        assert_eq!((t(50).cols, t(50).col_tiles, t(50).npad()), (56, 1, 64));
        assert_eq!((t(500).cols, t(500).col_tiles, t(500).npad()), (56, 9, 576));
        assert_eq!((t(64).cols, t(64).col_tiles), (64, 1));
        assert_eq!((t(60).cols, t(60).col_tiles), (64, 1));
        assert_eq!(
            t(50).kernel(Precision::Float, "f32", "f16"),
            "igemm_f128x56_f32_f16"
        );
        let small = t(500).small(500).expect("FP32 has 64-row tiles");
        assert_eq!((small.cols, small.col_tiles, small.npad()), (64, 8, 512));
        assert_eq!(
            small.kernel(Precision::Float, "f32", "f32"),
            "igemm_f64x64_f32_f32"
        );
        // LeNet's conv2: 64 rows an item, one column tile; 395 tiles of 128 rows at most.
        assert_eq!(t(50).batches_below(64, 396), 790);
        assert_eq!(t(500).batches_below(0, 396), u64::MAX);
        let h = Tiling::of(Precision::Half, 50);
        assert_eq!((h.rows, h.cols, h.col_tiles, h.npad()), (GM, GN, 1, 64));
        assert_eq!(h.kernel(Precision::Int8, "i8", "f32"), "igemm_q_i8_f32");
        assert_eq!(h.small(50), None);
    }

    #[test]
    fn packing_transposes_and_pads() {
        let w: Vec<f32> = (0..6).map(|v| v as f32).collect(); // n = 2, kdim = 3
        let f = Tiling::of(Precision::Float, 64).pack_f32(&w, 2, 3, 32);
        assert_eq!((f[0], f[1], f[64], f[2 * 64 + 1]), (0.0, 3.0, 1.0, 5.0));
        let h = Tiling::of(Precision::Half, 2);
        let r = pack_rows(&w, &h, 3, 32);
        assert_eq!((r[0], r[2], r[32], r[34], r[3]), (0.0, 2.0, 3.0, 5.0, 0.0));
        assert_eq!(r.len(), 64 * 32);
    }

    #[test]
    fn fp32_slots_follow_the_threads() {
        // 56-wide tiles: 7 channels per thread, 4 in the first half of the slots, 3 in the
        // second; channel 56 starts the second column tile.
        let n = 60;
        let w: Vec<f32> = (0..n).map(|v| v as f32 + 1.0).collect(); // kdim = 1
        let t = Tiling {
            rows: FM,
            cols: 56,
            col_tiles: 2,
        };
        let f = t.pack_f32(&w, n, 1, 32);
        assert_eq!(f.len(), 32 * 128);
        assert_eq!(&f[0..5], &[1.0, 2.0, 3.0, 4.0, 8.0]);
        assert_eq!(&f[32..36], &[5.0, 6.0, 7.0, 0.0]);
        assert_eq!(&f[36..39], &[12.0, 13.0, 14.0]);
        assert_eq!(&f[64..68], &[57.0, 58.0, 59.0, 60.0]);
        assert_eq!(f.iter().filter(|&&v| v != 0.0).count(), n);
    }
}
