//! Host side of kernels/igemm.cu: the reduction-offset table and the packed weights of a
//! convolution or FC layer run as an implicit GEMM.

use crate::engine::Precision;

/// Tile sizes of igemm.cu: rows, columns, reduction step.
pub const GM: usize = 64;
pub const GN: usize = 64;
pub const GK: usize = 32;

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

/// Kernel name prefix for a layer of this precision.
pub fn mode(p: Precision) -> &'static str {
    match p {
        Precision::Float => "f",
        Precision::Half => "h",
        Precision::Int8 => "q",
    }
}

/// Padded output channels.
pub fn npad(n: usize) -> usize {
    n.div_ceil(GN) * GN
}

/// FP32 weights `w[n][kdim]` as `[kpad][npad]`, zero padded (the FP32 kernel reads rows of k).
pub fn pack_f32(w: &[f32], n: usize, kdim: usize, kpad: usize) -> Vec<f32> {
    let np = npad(n);
    let mut out = vec![0.0; kpad * np];
    for (o, row) in w.chunks_exact(kdim).enumerate().take(n) {
        for (k, &v) in row.iter().enumerate() {
            out[k * np + o] = v;
        }
    }
    out
}

/// `w[n][kdim]` as `[npad][kpad]`, zero padded (the tensor-core kernels read rows of n).
pub fn pack_rows<T: Copy + Default>(w: &[T], n: usize, kdim: usize, kpad: usize) -> Vec<T> {
    let mut out = vec![T::default(); npad(n) * kpad];
    for (o, row) in w.chunks_exact(kdim).enumerate().take(n) {
        out[o * kpad..][..kdim].copy_from_slice(row);
    }
    out
}

/// `v` zero padded to the padded channel count.
pub fn pad_channels(v: &[f32], n: usize) -> Vec<f32> {
    let mut out = v.to_vec();
    out.resize(npad(n), 0.0);
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
    fn packing_transposes_and_pads() {
        let w: Vec<f32> = (0..6).map(|v| v as f32).collect(); // n = 2, kdim = 3
        let f = pack_f32(&w, 2, 3, 32);
        assert_eq!((f[0], f[1], f[64], f[2 * 64 + 1]), (0.0, 3.0, 1.0, 5.0));
        let r = pack_rows(&w, 2, 3, 32);
        assert_eq!((r[0], r[2], r[32], r[34], r[3]), (0.0, 2.0, 3.0, 5.0, 0.0));
        assert_eq!(r.len(), 64 * 32);
    }
}
