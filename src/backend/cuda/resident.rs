//! Host side of kernels/resident.cu: which FP16 and INT8 convolutions it takes, the staged
//! geometry of an item, the weights in its reduction order (kernel row, kernel column, channel)
//! and each reduction word's offset in the staged item.

use super::args::GemmArgs;
use crate::engine::Precision;
use crate::types::ActivationType;

use super::igemm::Reduction;

/// Shared memory a block takes at most, within the device's limit: two blocks per SM (the
/// kernel's launch bound) on an H100/H200 (228 KiB an SM).
const SHARED_MAX: usize = 96 * 1024;
/// Items a job stages at most (LeNet conv2 INT8: 16 items are 1024 rows, four tile pairs a warp).
const ITEMS_MAX: usize = 16;

/// Whether resident.cu may take convolutions and fc_mma.cu FC layers: `INFER8_CUDA_RESIDENT=0`
/// leaves them all on igemm.cu (comparisons, and the operator suite's coverage of igemm.cu's
/// FP16 and INT8 paths).
pub fn enabled() -> bool {
    std::env::var("INFER8_CUDA_RESIDENT").as_deref() != Ok("0")
}

/// The staging of a convolution for resident.cu.
#[derive(Clone, Debug, PartialEq)]
pub struct Resident {
    /// Input channels as staged: a multiple of the values a 32-bit word holds.
    pub cp: usize,
    /// Staged rows and columns: the input with its padding, and as far as the windows reach.
    pub hs: usize,
    pub ws: usize,
    /// Bytes of one staged item, a multiple of 16.
    pub item_bytes: usize,
    /// Reduction words (a multiple of 8: one mma step each 8) and those that hold indices.
    pub kwords: usize,
    pub kvalid: usize,
    /// 8-channel tiles.
    pub nt: usize,
    /// Whether staged positions exist that the input does not cover (padding, padded channels).
    pub zero: bool,
    /// Rows of an item (output positions), each with an entry in the kernel's row table.
    rows: usize,
    /// Bytes of an item's output, which a job holds in shared memory until it is written out.
    out_bytes: usize,
    /// Bytes of a staged value.
    esize: usize,
    /// Bytes of shared memory a block may take.
    limit: usize,
}

impl Resident {
    /// The staging of a convolution of precision `p` with the reduction `red`, output geometry
    /// and padding in `g` (igemm.cu's rows), `n` output channels stored in `out_size` bytes each;
    /// None where resident.cu does not apply: FP32, more than 64 channels (one column tile),
    /// pooling windows that do not divide 16 rows, or an item and the weights beyond the
    /// `per_block` bytes of shared memory the device allows a block (96 KiB at most).
    pub fn of(
        p: Precision,
        red: &Reduction,
        g: &GemmArgs,
        n: usize,
        out_size: usize,
        per_block: usize,
    ) -> Option<Resident> {
        let esize = match p {
            Precision::Half => 2,
            Precision::Int8 => 1,
            Precision::Float => return None,
        };
        let np = (g.pool_h * g.pool_w) as usize;
        if n == 0 || n > 64 || !16usize.is_multiple_of(np) || g.dense != 0 {
            return None;
        }
        // The kernel pools the accumulators and runs the epilogue on each window's maximum:
        // right where the activation never decreases (the scale factors are positive).
        if np > 1 && !nondecreasing(g.act, g.alpha, g.beta) {
            return None;
        }
        let per_word = 4 / esize;
        let cp = red.c.div_ceil(per_word) * per_word;
        // The last window's far edge, in padded coordinates.
        let reach = |out: i32, pool: i32, pool_s: i32, s: i32, k: usize, d: usize| {
            let last = (out.max(1) as usize - 1) * pool_s as usize + pool as usize - 1;
            last * s as usize + (k - 1) * d + 1
        };
        let hs =
            (red.h + g.ph as usize).max(reach(g.poh, g.pool_h, g.pool_sh, g.sh, red.kh, red.dh));
        let ws =
            (red.w + g.pw as usize).max(reach(g.pow_, g.pool_w, g.pool_sw, g.sw, red.kw, red.dw));
        let item_bytes = (hs * ws * cp * esize).div_ceil(16) * 16;
        let kvalid = red.kh * red.kw * cp / per_word;
        let r = Resident {
            cp,
            hs,
            ws,
            item_bytes,
            kwords: kvalid.div_ceil(8) * 8,
            kvalid,
            nt: n.div_ceil(8),
            zero: g.ph > 0 || g.pw > 0 || cp > red.c || hs > red.h || ws > red.w,
            rows: (g.poh * g.pow_) as usize * np,
            out_bytes: n * (g.poh * g.pow_) as usize * out_size,
            esize,
            limit: per_block.min(SHARED_MAX),
        };
        (r.shared(1) <= r.limit).then_some(r)
    }

    /// Shared memory of a block staging `items` items: weights (rows padded by 4 words), word
    /// offsets, two factors for each of 64 channels, two words per row of an item (rows padded
    /// to an even count), items, their output.
    pub fn shared(&self, items: usize) -> usize {
        let table = self.rows.div_ceil(2) * 4;
        (self.nt * 8 * (self.kwords + 4) + self.kwords + 2 * 64 + table) * 4
            + items * (self.item_bytes + self.out_bytes)
    }

    /// The most items a job stages.
    pub fn most_items(&self) -> usize {
        ((self.limit - self.shared(0)) / (self.item_bytes + self.out_bytes)).clamp(1, ITEMS_MAX)
    }

    /// Weights `w[n][c][kh][kw]` (already in the layer's type) as `[8 nt][kwords words]`, each
    /// row in the order (kernel row, kernel column, staged channel), zero padded.
    pub fn pack<T: Copy + Default>(&self, w: &[T], red: &Reduction, n: usize) -> Vec<T> {
        let row = self.kwords * 4 / self.esize;
        let mut out = vec![T::default(); self.nt * 8 * row];
        let taps = red.kh * red.kw;
        for (o, wo) in w.chunks_exact(red.kdim()).take(n).enumerate() {
            for (k, &v) in wo.iter().enumerate() {
                let (ci, tap) = (k / taps, k % taps);
                out[o * row + tap * self.cp + ci] = v;
            }
        }
        out
    }

    /// Per reduction word: its first value's byte offset from a row's window origin in the
    /// staged item (0 for the padding words, which the kernel does not read).
    pub fn offsets(&self, red: &Reduction) -> Vec<i32> {
        let per_word = 4 / self.esize;
        (0..self.kwords)
            .map(|wd| {
                if wd >= self.kvalid {
                    return 0;
                }
                let k = wd * per_word;
                let (tap, ci) = (k / self.cp, k % self.cp);
                let (ky, kx) = (tap / red.kw, tap % red.kw);
                (((ky * red.dh * self.ws + kx * red.dw) * self.cp + ci) * self.esize) as i32
            })
            .collect()
    }

    /// `g` with the staging's fields.
    pub fn args(&self, g: GemmArgs) -> GemmArgs {
        GemmArgs {
            cp: self.cp as i32,
            wsx: self.ws as i32,
            item_bytes: self.item_bytes as i32,
            kwords: self.kwords as i32,
            kvalid: self.kvalid as i32,
            nt: self.nt as i32,
            zero: self.zero as i32,
            ..g
        }
    }
}

/// Whether activation `act` (its code; -1: none) with parameters `a` and `b` (kernels/common.cu
/// `activate`) never decreases, and so commutes with a maximum: max(f(u), f(v)) = f(max(u, v)).
pub(super) fn nondecreasing(act: i32, a: f32, b: f32) -> bool {
    use ActivationType as A;
    match ActivationType::from_i32(act) {
        None | Some(A::Relu | A::Sigmoid | A::Tanh | A::Softsign | A::Clip) => true,
        // f(v) = v or a v (v < 0), a * expm1(v), thresholded at a.
        Some(A::LeakyRelu | A::Elu | A::HardSigmoid | A::ThresholdedRelu) => a >= 0.0,
        // b v above 0, a b expm1(v) below.
        Some(A::Selu) => a >= 0.0 && b >= 0.0,
        Some(A::Softplus | A::ScaledTanh) => a * b >= 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An H200's shared memory per block (opt-in).
    const H200: usize = 227 * 1024;

    fn lenet_conv2() -> (Reduction, GemmArgs) {
        let red = Reduction {
            c: 20,
            h: 12,
            w: 12,
            kh: 5,
            kw: 5,
            dh: 1,
            dw: 1,
        };
        let g = GemmArgs {
            sh: 1,
            sw: 1,
            poh: 4,
            pow_: 4,
            pool_h: 2,
            pool_w: 2,
            pool_sh: 2,
            pool_sw: 2,
            ..Default::default()
        };
        (red, g)
    }

    #[test]
    fn lenet_conv2_stages_its_input_unpadded() {
        let (red, g) = lenet_conv2();
        let r = Resident::of(Precision::Int8, &red, &g, 50, 1, H200).expect("conv2 fits");
        assert_eq!((r.cp, r.hs, r.ws, r.item_bytes), (20, 12, 12, 2880));
        assert_eq!((r.kvalid, r.kwords, r.nt, r.zero), (125, 128, 7, false));
        // 50 channels of 4x4 pooled positions out.
        assert_eq!(
            r.shared(1),
            (56 * 132 + 128 + 128 + 2 * 64) * 4 + 2880 + 800
        );
        assert_eq!(r.most_items(), 16);
        // A Turing-sized limit stages fewer items; FP16's weights alone exceed 48 KiB.
        let t = Resident::of(Precision::Int8, &red, &g, 50, 1, 64 * 1024).expect("fits");
        assert_eq!(t.most_items(), (64 * 1024 - r.shared(0)) / (2880 + 800));
        assert_eq!(
            Resident::of(Precision::Half, &red, &g, 50, 2, 48 * 1024),
            None
        );
        let h = Resident::of(Precision::Half, &red, &g, 50, 2, H200).expect("conv2 fits");
        assert_eq!((h.kvalid, h.kwords, h.item_bytes), (250, 256, 5760));
        assert_eq!(Resident::of(Precision::Float, &red, &g, 50, 4, H200), None);
        assert_eq!(Resident::of(Precision::Int8, &red, &g, 65, 1, H200), None);
    }

    #[test]
    fn pooled_layers_need_an_activation_that_commutes_with_the_maximum() {
        let (red, g) = lenet_conv2();
        let with = |act: ActivationType, alpha: f32| GemmArgs {
            act: act as i32,
            alpha,
            ..g
        };
        let of = |g: &GemmArgs| Resident::of(Precision::Int8, &red, g, 50, 1, H200).is_some();
        assert!(of(&with(ActivationType::Relu, 0.0)));
        assert!(of(&with(ActivationType::LeakyRelu, 0.1)));
        assert!(!of(&with(ActivationType::LeakyRelu, -0.5)));
        // f(v) = v above -1, else 0: max(f(-0.5), f(-2)) = 0, but f(max(-0.5, -2)) = -0.5.
        assert!(!of(&with(ActivationType::ThresholdedRelu, -1.0)));
        // Without pooling every activation goes.
        let unpooled = GemmArgs {
            pool_h: 1,
            pool_w: 1,
            pool_sh: 1,
            pool_sw: 1,
            poh: 8,
            pow_: 8,
            ..with(ActivationType::LeakyRelu, -0.5)
        };
        assert!(of(&unpooled));
    }

    #[test]
    fn offsets_and_packing_walk_taps_then_channels() {
        // One channel, padded to 4 (INT8) with zeros; padding 1 on each side of a 6x7 input.
        let red = Reduction {
            c: 1,
            h: 6,
            w: 7,
            kh: 3,
            kw: 3,
            dh: 2,
            dw: 1,
        };
        let g = GemmArgs {
            sh: 1,
            sw: 1,
            ph: 1,
            pw: 1,
            poh: 4,
            pow_: 7,
            pool_h: 1,
            pool_w: 1,
            pool_sh: 1,
            pool_sw: 1,
            ..Default::default()
        };
        let r = Resident::of(Precision::Int8, &red, &g, 3, 1, H200).expect("fits");
        // Rows reach 3 + 2 * 2 + 1 = 8 (> 6 + 1); columns 6 + 2 + 1 = 9 (= 7 + 1 + 1).
        assert_eq!((r.cp, r.hs, r.ws, r.zero), (4, 8, 9, true));
        assert_eq!((r.kvalid, r.kwords, r.nt), (9, 16, 1));
        let off = r.offsets(&red);
        // Word 4 is tap 4: kernel row 1 (2 rows down, dilation 2), column 1.
        assert_eq!(off[4], (2 * 9 + 1) * 4);
        assert_eq!(off[9], 0);
        let w: Vec<i8> = (1..=27).collect(); // 3 channels out x 9 taps
        let p = r.pack(&w, &red, 3);
        assert_eq!(p.len(), 8 * 64);
        assert_eq!((p[0], p[4], p[1], p[64 + 8]), (1, 2, 0, 12));
    }
}
