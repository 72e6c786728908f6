//! The CPU's direct convolution kernel (backend/cpu/direct.rs), which shallow convolutions (one
//! to three input channels, 3x3 and 5x5 kernels) take instead of im2col + GEMM, in FP32 and INT8,
//! alone and with a fused ReLU and 2x2 max pooling, over output widths that are and are not
//! multiples of 8, with and without padding, at batch 1 and several items.
//!
//! Each case is checked two ways:
//! - against an independent reference: FP32 within `max|got - ref| <= 1e-5 · max(max|ref|, 1)`
//!   of the float64 convolution (`common::reference`); INT8 with integral inputs and unit scales
//!   equal to the exact integer convolution (the kernel sums in `f32`, exact below 2^24);
//! - bit for bit against the im2col + GEMM path (`CpuLayer::with_int8_im2col`), which the kernel
//!   must reproduce exactly: same accumulation order, same epilogue.

mod common;

use common::reference::{self as r, T};
use common::{Rng, int8_region};
use infer8::backend::cpu::{ConvKernel, CpuLayer, In, Int8Gemm, Int8Mode, Out};
use infer8::network::{ConvParams, LayerKind, Network, PoolParams};
use infer8::types::{DataType, PoolingType, Weights, volume};

const TOLERANCE: f64 = 1e-5;

/// A square-kernel, stride-1 convolution with equal padding on every side.
struct Case {
    c: usize,
    k: usize,
    hw: [usize; 2],
    kernel: usize,
    pad: usize,
}

const fn case(c: usize, k: usize, hw: [usize; 2], kernel: usize, pad: usize) -> Case {
    Case {
        c,
        k,
        hw,
        kernel,
        pad,
    }
}

/// Output widths 8 to 30; channel counts that fill and that do not fill a block of 4.
const CASES: [Case; 9] = [
    // LeNet's conv1: 24x24 outputs, three whole vectors a row.
    case(1, 20, [28, 28], 5, 0),
    case(1, 6, [12, 19], 5, 0),
    case(1, 5, [9, 9], 3, 1),
    case(2, 5, [10, 10], 3, 1),
    case(2, 3, [8, 8], 3, 1),
    case(3, 8, [9, 12], 3, 0),
    case(3, 7, [16, 30], 3, 1),
    case(2, 4, [13, 11], 5, 2),
    case(2, 9, [11, 17], 5, 0),
];

fn params(c: &Case, w: Vec<f32>, bias: Vec<f32>) -> ConvParams {
    let mut p = ConvParams::new(c.k, [c.kernel; 2], Weights::new(w), Weights::new(bias));
    p.pre_padding = [c.pad; 2];
    p.post_padding = [c.pad; 2];
    p
}

fn pool_params() -> PoolParams {
    PoolParams::new(PoolingType::Max, [2, 2])
}

/// The output shape of `kind` on an input of shape `x`, as the network infers it.
fn out_shape(kind: &LayerKind, x: &[usize]) -> Vec<usize> {
    let mut net = Network::new();
    let i = net.add_input("x", DataType::Float, x).unwrap();
    let l = net.add_layer(kind.clone(), &[i]).unwrap();
    net.tensors[net.layers[l].outputs[0]].shape.clone()
}

/// A convolution as the direct kernel runs it and as im2col + GEMM runs it, and the pooling layer
/// they may absorb.
struct Layers {
    direct: CpuLayer,
    gemm: CpuLayer,
    pool: CpuLayer,
    xs: Vec<usize>,
    ys: Vec<usize>,
    pooled: Vec<usize>,
}

fn layers(c: &Case, p: ConvParams, int8: Option<Int8Gemm>) -> Layers {
    let kind = LayerKind::Convolution(p);
    let xs = vec![c.c, c.hw[0], c.hw[1]];
    let ys = out_shape(&kind, &xs);
    let mode = int8.map(Int8Mode::Gemm);
    let direct = CpuLayer::with_int8(&kind, &[&xs], &[&ys], mode).unwrap();
    let gemm = CpuLayer::with_int8_im2col(&kind, &[&xs], &[&ys], mode).unwrap();
    assert_eq!(direct.conv_kernel(), Some(ConvKernel::Direct), "{xs:?}");
    assert_eq!(gemm.conv_kernel(), Some(ConvKernel::Im2colGemm));
    let pool_kind = LayerKind::Pooling(pool_params());
    let pooled = out_shape(&pool_kind, &ys);
    // An INT8 output is pooled as INT8 values.
    let pool_mode = int8
        .and_then(|m| m.output_scale)
        .map(|_| Int8Mode::Passthrough);
    let pool = CpuLayer::with_int8(&pool_kind, &[&ys], &[&pooled], pool_mode).unwrap();
    assert!(direct.fuses_pool(&pool));
    Layers {
        direct,
        gemm,
        pool,
        xs,
        ys,
        pooled,
    }
}

/// Runs `layer` on `batch` items of `x`, with the ReLU and the pooling layer fused as asked; the
/// output buffer and scratch start as NaN so that unwritten values show.
fn run(layer: &CpuLayer, l: &Layers, batch: usize, x: &[f32], relu: bool, pool: bool) -> Vec<f32> {
    let ys = if pool { &l.pooled } else { &l.ys };
    let mut y = vec![f32::NAN; batch * volume(ys)];
    let mut scratch = vec![f32::NAN; layer.scratch_len(batch)];
    let input = In {
        data: x,
        batch,
        shape: &l.xs,
    };
    let mut out = [Out {
        data: &mut y,
        shape: ys,
    }];
    let pool = pool.then_some(&l.pool);
    layer
        .run_fused(batch, &[input], &mut out, &mut scratch, relu, pool)
        .unwrap();
    y
}

/// The float64 reference of the convolution, then the ReLU and the pooling as asked.
fn reference(x: &T, p: &ConvParams, relu: bool, pool: bool) -> T {
    let mut y = r::conv(x, p);
    if relu {
        y.data.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    if pool { r::pool(&y, &pool_params()) } else { y }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

/// Every combination of batch size and fused layers.
fn variants() -> impl Iterator<Item = (usize, bool, bool)> {
    [1, 5].into_iter().flat_map(|b| {
        [(false, false), (true, false), (false, true), (true, true)].map(|(r, p)| (b, r, p))
    })
}

#[test]
fn fp32_matches_reference_and_gemm_bits() {
    let mut rng = Rng::new(11);
    let mut worst = 0f64;
    for c in &CASES {
        let kdim = c.c * c.kernel * c.kernel;
        let mut w = rng.vec(c.k * kdim, -0.5, 0.5);
        let mut bias = rng.vec(c.k, -0.3, 0.3);
        // A -0 bias and negative weights: on a zero window every product is -0, and the output
        // is +0 only because the GEMM's accumulators start at `bias + 0`.
        bias[0] = -0.0;
        w[..kdim].iter_mut().for_each(|v| *v = -v.abs());
        let p = params(c, w, bias);
        let l = layers(c, p.clone(), None);
        for (batch, relu, pool) in variants() {
            let mut x = rng.vec(batch * volume(&l.xs), -1.0, 1.0);
            if batch > 1 {
                // Zero windows: channel 0's outputs there are +0, not its -0 bias.
                x[..volume(&l.xs)].fill(0.0);
            }
            let got = run(&l.direct, &l, batch, &x, relu, pool);
            let gemm = run(&l.gemm, &l, batch, &x, relu, pool);
            let what = format!("{:?} batch {batch} relu {relu} pool {pool}", l.xs);
            assert!(
                bits(&got) == bits(&gemm),
                "{what}: differs from im2col + GEMM"
            );
            let mut shape = vec![batch];
            shape.extend(&l.xs);
            let want = reference(&T::new(&shape, &x), &p, relu, pool);
            assert_eq!(got.len(), want.data.len(), "{what}");
            let peak = want.data.iter().fold(1f64, |m, v| m.max(v.abs()));
            for (i, (&g, &w)) in got.iter().zip(&want.data).enumerate() {
                let e = (g as f64 - w).abs() / peak;
                assert!(e <= TOLERANCE, "{what}: element {i} is {g}, expected {w}");
                worst = worst.max(e);
            }
        }
    }
    println!("largest relative error: {worst:e}");
}

/// A batch-1 convolution large enough that the threads share its channel blocks (28M
/// multiply-adds, above the backend's 2^24 threshold).
#[test]
fn fp32_threads_share_a_large_item() {
    let mut rng = Rng::new(12);
    let c = case(3, 64, [130, 130], 3, 0);
    let p = params(&c, rng.vec(64 * 27, -0.5, 0.5), rng.vec(64, -0.3, 0.3));
    let l = layers(&c, p.clone(), None);
    let x = rng.vec(volume(&l.xs), -1.0, 1.0);
    for relu in [false, true] {
        let got = run(&l.direct, &l, 1, &x, relu, false);
        assert!(bits(&got) == bits(&run(&l.gemm, &l, 1, &x, relu, false)));
        let want = reference(&T::new(&[1, 3, 130, 130], &x), &p, relu, false);
        let peak = want.data.iter().fold(1f64, |m, v| m.max(v.abs()));
        for (&g, &w) in got.iter().zip(&want.data) {
            assert!((g as f64 - w).abs() <= TOLERANCE * peak, "{g} vs {w}");
        }
    }
}

/// Deeper reductions (CIFAR-10's conv1: 3 channels, 5x5), strides, groups and rows narrower
/// than a vector stay on im2col + GEMM.
#[test]
fn other_convolutions_take_the_gemm() {
    let base = |c: usize, kernel: usize| {
        let n = 8 * c * kernel * kernel;
        ConvParams::new(
            8,
            [kernel; 2],
            Weights::new(vec![0.1; n]),
            Weights::new(vec![0.0; 8]),
        )
    };
    let mut strided = base(2, 3);
    strided.stride = [2, 2];
    let mut grouped = base(1, 3);
    grouped.groups = 2;
    let mut dilated = base(2, 3);
    dilated.dilation = [2, 2];
    for (p, c, hw) in [
        (base(3, 5), 3, [36, 36]),
        (strided, 2, [20, 20]),
        (grouped, 2, [20, 20]),
        (dilated, 2, [20, 20]),
        (base(2, 3), 2, [20, 9]),
    ] {
        let kind = LayerKind::Convolution(p);
        let xs = [c, hw[0], hw[1]];
        let ys = out_shape(&kind, &xs);
        let layer = CpuLayer::new(&kind, &[&xs], &[&ys]).unwrap();
        assert_eq!(layer.conv_kernel(), Some(ConvKernel::Im2colGemm), "{ys:?}");
    }
}

/// Integers in [-127, 127].
fn ints(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform(-127.0, 127.0).round()).collect()
}

/// With integral inputs and weights reaching ±127 in every output channel (unit scales) and no
/// bias, the real output is the integer convolution itself, exactly, through ReLU and pooling.
#[test]
fn int8_sums_are_exact() {
    let mut rng = Rng::new(13);
    for c in &CASES {
        let kdim = c.c * c.kernel * c.kernel;
        let mut w = ints(&mut rng, c.k * kdim);
        for (o, chunk) in w.chunks_mut(kdim).enumerate() {
            chunk[o % kdim] = if o % 2 == 0 { 127.0 } else { -127.0 };
        }
        let p = params(c, w, vec![0.0; c.k]);
        for input_int8 in [false, true] {
            let mode = Int8Gemm {
                input_scale: 1.0,
                input_int8,
                output_scale: None,
            };
            let l = layers(c, p.clone(), Some(mode));
            for (batch, relu, pool) in variants() {
                let q = ints(&mut rng, batch * volume(&l.xs));
                let x = if input_int8 {
                    int8_region(q.iter().map(|&v| v as i8))
                } else {
                    q.clone()
                };
                let got = run(&l.direct, &l, batch, &x, relu, pool);
                let mut shape = vec![batch];
                shape.extend(&l.xs);
                let want = reference(&T::new(&shape, &q), &p, relu, pool);
                let what = format!("{:?} batch {batch} relu {relu} pool {pool}", l.xs);
                assert_eq!(got.len(), want.data.len(), "{what}");
                for (i, (&g, &w)) in got.iter().zip(&want.data).enumerate() {
                    assert_eq!(g as f64, w, "{what}: element {i}");
                }
            }
        }
    }
}

/// Real-valued inputs, weights and bias on INT8 scales, real and INT8 outputs: the bits of the
/// integer GEMM path, through the same epilogue, ReLU and pooling.
#[test]
fn int8_matches_gemm_bits() {
    let mut rng = Rng::new(14);
    for c in &CASES {
        let kdim = c.c * c.kernel * c.kernel;
        let p = params(c, rng.vec(c.k * kdim, -1.0, 1.0), rng.vec(c.k, -1.0, 1.0));
        for (input_int8, output_scale) in [(false, None), (false, Some(0.05)), (true, Some(0.01))] {
            let mode = Int8Gemm {
                input_scale: 1.0 / 127.0,
                input_int8,
                output_scale,
            };
            let l = layers(c, p.clone(), Some(mode));
            let mut seen = [false; 2];
            for (batch, relu, pool) in variants() {
                let x = if input_int8 {
                    int8_region(
                        ints(&mut rng, batch * volume(&l.xs))
                            .into_iter()
                            .map(|v| v as i8),
                    )
                } else {
                    rng.vec(batch * volume(&l.xs), -1.2, 1.2)
                };
                let got = run(&l.direct, &l, batch, &x, relu, pool);
                let gemm = run(&l.gemm, &l, batch, &x, relu, pool);
                let what = format!("{:?} {mode:?} batch {batch} relu {relu} pool {pool}", l.xs);
                assert!(
                    bits(&got) == bits(&gemm),
                    "{what}: differs from the integer GEMM"
                );
                if output_scale.is_some() {
                    // Both clamps and both signs occur: the epilogue is exercised.
                    let n = batch * volume(if pool { &l.pooled } else { &l.ys });
                    let q = &infer8::backend::cpu::i8_values(&got)[..n];
                    seen[0] |= q.contains(&127);
                    seen[1] |= q.iter().any(|&v| v < 0);
                }
            }
            if output_scale == Some(0.01) {
                assert_eq!(seen, [true, true], "{:?}", l.xs);
            }
        }
    }
}
