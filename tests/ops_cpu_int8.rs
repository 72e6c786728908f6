//! The CPU backend's INT8 kernels (convolution, fully connected, max pooling on INT8 values)
//! against a naive reference that accumulates the quantized values in `i64` and scales in `f64`.
//!
//! - Accumulations are exact: with unit scales, integral weights reaching ±127 in every output
//!   channel and no bias, the FP32 output of a layer is its integer accumulation, and must equal
//!   the `i64` reference exactly.
//! - Real outputs: `|got - ref| <= 1e-6 · max(|ref|, 1)` (the epilogue's two f32 roundings).
//! - INT8 outputs equal the reference rounded half to even and clamped to ±127, except where the
//!   reference lies within 1e-3 of a rounding tie (there f32 and f64 may round apart).

use infer8::backend::cpu::{
    CpuLayer, In, Int8Gemm, Int8Isa, Int8Mode, Out, int8_isa, set_int8_isa,
};
use infer8::network::{ConvParams, LayerKind, PoolParams};
use infer8::types::{PoolingType, Weights};

mod common;

use common::int8_region;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    /// Integers in [-127, 127].
    fn int(&mut self) -> f32 {
        (self.next() * 127.0).round()
    }
}

/// How the test quantizes a real input: what the kernel must do too.
fn quantize(x: f32, scale: f32) -> i64 {
    (x / scale).clamp(-127.0, 127.0).round_ties_even() as i64
}

/// Per-channel weights as the builder stores them: `q · amax / 127`, with `q` the rounded value.
fn weight_ints(w: &[f32], channels: usize) -> (Vec<i64>, Vec<f64>) {
    let per = w.len() / channels;
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(channels);
    for chunk in w.chunks(per) {
        let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = amax / 127.0;
        scales.push(s as f64);
        q.extend(chunk.iter().map(|&v| (v / s).round() as i64));
    }
    (q, scales)
}

fn int8_of(region: &[f32], n: usize) -> Vec<i8> {
    region
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .take(n)
        .map(|b| b as i8)
        .collect()
}

fn run(layer: &CpuLayer, batch: usize, x: &[f32], xs: &[usize], ys: &[usize]) -> Vec<f32> {
    let mut y = vec![0f32; batch * ys.iter().product::<usize>()];
    let mut scratch = vec![0f32; layer.scratch_len(batch)];
    let input = In {
        data: x,
        batch,
        shape: xs,
    };
    let mut out = [Out {
        data: &mut y,
        shape: ys,
    }];
    layer.run(batch, &[input], &mut out, &mut scratch).unwrap();
    y
}

struct ConvCase {
    c: usize,
    k: usize,
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

const CASES: [ConvCase; 4] = [
    // LeNet's conv2 shape.
    ConvCase {
        c: 20,
        k: 50,
        hw: [12, 12],
        kernel: [5, 5],
        stride: [1, 1],
        pre: [0, 0],
        post: [0, 0],
        dilation: [1, 1],
        groups: 1,
    },
    // Padding, an odd depth (27) and ragged panels.
    ConvCase {
        c: 3,
        k: 7,
        hw: [9, 11],
        kernel: [3, 3],
        stride: [1, 1],
        pre: [1, 1],
        post: [1, 1],
        dilation: [1, 1],
        groups: 1,
    },
    // Stride, asymmetric padding and dilation: positions are gathered one by one.
    ConvCase {
        c: 4,
        k: 6,
        hw: [10, 9],
        kernel: [2, 3],
        stride: [2, 1],
        pre: [1, 0],
        post: [0, 2],
        dilation: [2, 1],
        groups: 1,
    },
    ConvCase {
        c: 6,
        k: 4,
        hw: [7, 7],
        kernel: [3, 3],
        stride: [1, 1],
        pre: [0, 0],
        post: [0, 0],
        dilation: [1, 1],
        groups: 2,
    },
];

/// Output size of one spatial dimension.
fn out_dim(c: &ConvCase, d: usize) -> usize {
    (c.hw[d] + c.pre[d] + c.post[d] - (c.kernel[d] - 1) * c.dilation[d] - 1) / c.stride[d] + 1
}

/// `i64` accumulations of the quantized input and weights, `[batch, k, oh, ow]`.
fn conv_reference(c: &ConvCase, batch: usize, qx: &[i64], qw: &[i64]) -> Vec<i64> {
    let [h, w] = c.hw;
    let (oh, ow) = (out_dim(c, 0), out_dim(c, 1));
    let (cg, kg) = (c.c / c.groups, c.k / c.groups);
    let mut y = vec![0i64; batch * c.k * oh * ow];
    for b in 0..batch {
        for k in 0..c.k {
            let g = k / kg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0i64;
                    for ci in 0..cg {
                        for ky in 0..c.kernel[0] {
                            for kx in 0..c.kernel[1] {
                                let iy = (oy * c.stride[0] + ky * c.dilation[0]) as i64
                                    - c.pre[0] as i64;
                                let ix = (ox * c.stride[1] + kx * c.dilation[1]) as i64
                                    - c.pre[1] as i64;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                    continue;
                                }
                                let x = qx
                                    [((b * c.c + g * cg + ci) * h + iy as usize) * w + ix as usize];
                                let wv = qw[((k * cg + ci) * c.kernel[0] + ky) * c.kernel[1] + kx];
                                acc += x * wv;
                            }
                        }
                    }
                    y[((b * c.k + k) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    y
}

fn conv_params(c: &ConvCase, w: Vec<f32>, bias: Vec<f32>) -> ConvParams {
    let mut p = ConvParams::new(c.k, c.kernel, Weights::new(w), Weights::new(bias));
    p.stride = c.stride;
    p.pre_padding = c.pre;
    p.post_padding = c.post;
    p.dilation = c.dilation;
    p.groups = c.groups;
    p
}

/// Integral weights with ±127 in every output channel: per-channel scale exactly 1.
fn unit_scale_weights(rng: &mut Rng, channels: usize, per: usize) -> Vec<f32> {
    let mut w: Vec<f32> = (0..channels * per).map(|_| rng.int()).collect();
    for (i, chunk) in w.chunks_mut(per).enumerate() {
        chunk[i % per] = if i % 2 == 0 { 127.0 } else { -127.0 };
    }
    w
}

#[test]
fn convolution_accumulations_are_exact() {
    let mut rng = Rng(1);
    for c in &CASES {
        let batch = 3;
        let per = c.c / c.groups * c.kernel[0] * c.kernel[1];
        let w = unit_scale_weights(&mut rng, c.k, per);
        let p = conv_params(c, w.clone(), vec![0.0; c.k]);
        let xs = [c.c, c.hw[0], c.hw[1]];
        let ys = [c.k, out_dim(c, 0), out_dim(c, 1)];
        let qx: Vec<i64> = (0..batch * xs.iter().product::<usize>())
            .map(|_| rng.int() as i64)
            .collect();
        let want = conv_reference(
            c,
            batch,
            &qx,
            &w.iter().map(|&v| v as i64).collect::<Vec<_>>(),
        );
        for input_int8 in [false, true] {
            let mode = Int8Mode::Gemm(Int8Gemm {
                input_scale: 1.0,
                input_int8,
                output_scale: None,
            });
            let kind = LayerKind::Convolution(p.clone());
            let layer = CpuLayer::with_int8(&kind, &[&xs], &[&ys], Some(mode)).unwrap();
            let x: Vec<f32> = if input_int8 {
                int8_region(qx.iter().map(|&v| v as i8))
            } else {
                qx.iter().map(|&v| v as f32).collect()
            };
            let got = run(&layer, batch, &x, &xs, &ys);
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g as i64, w, "element {i}, input INT8: {input_int8}");
                assert_eq!(g, w as f32);
            }
        }
    }
}

#[test]
fn convolution_real_and_int8_outputs() {
    let mut rng = Rng(2);
    for c in &CASES {
        let batch = 2;
        let per = c.c / c.groups * c.kernel[0] * c.kernel[1];
        let w: Vec<f32> = (0..c.k * per).map(|_| rng.next() * 0.3).collect();
        let (qw, sw) = weight_ints(&w, c.k);
        // The engine hands INT8 layers their weights already on the INT8 grid.
        let wq: Vec<f32> = qw
            .iter()
            .enumerate()
            .map(|(i, &q)| (q as f64 * sw[i / per]) as f32)
            .collect();
        let bias: Vec<f32> = (0..c.k).map(|_| rng.next()).collect();
        let xs = [c.c, c.hw[0], c.hw[1]];
        let ys = [c.k, out_dim(c, 0), out_dim(c, 1)];
        let x: Vec<f32> = (0..batch * xs.iter().product::<usize>())
            .map(|_| rng.next() * 1.2)
            .collect();
        let s_in = 1.0 / 127.0;
        let qx: Vec<i64> = x.iter().map(|&v| quantize(v, s_in)).collect();
        let acc = conv_reference(c, batch, &qx, &qw);
        let oplane = ys[1] * ys[2];
        let real: Vec<f64> = acc
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let k = i / oplane % c.k;
                a as f64 * (s_in as f64 * sw[k]) + bias[k] as f64
            })
            .collect();
        let kind = LayerKind::Convolution(conv_params(c, wq, bias.clone()));
        let mode = |output_scale| {
            Some(Int8Mode::Gemm(Int8Gemm {
                input_scale: s_in,
                input_int8: false,
                output_scale,
            }))
        };
        let layer = CpuLayer::with_int8(&kind, &[&xs], &[&ys], mode(None)).unwrap();
        let got = run(&layer, batch, &x, &xs, &ys);
        for (&g, &r) in got.iter().zip(&real) {
            assert!(
                (g as f64 - r).abs() <= 1e-6 * r.abs().max(1.0),
                "{g} vs {r}"
            );
        }
        let s_out = 0.02f32;
        let layer = CpuLayer::with_int8(&kind, &[&xs], &[&ys], mode(Some(s_out))).unwrap();
        let got = int8_of(&run(&layer, batch, &x, &xs, &ys), real.len());
        let mut clamped = 0;
        for (&g, &r) in got.iter().zip(&real) {
            let v = r / s_out as f64;
            if (v - v.floor() - 0.5).abs() < 1e-3 {
                continue;
            }
            let want = v.round_ties_even().clamp(-127.0, 127.0) as i8;
            clamped += usize::from(want.abs() == 127);
            assert_eq!(g, want, "{v}");
        }
        assert!(
            clamped < got.len(),
            "the output scale must leave values unclamped"
        );
    }
}

#[test]
fn fully_connected_int8() {
    let mut rng = Rng(3);
    for &(batch, k, n) in &[(1, 800, 500), (7, 31, 10), (100, 500, 10)] {
        let xs = [k, 1, 1];
        let ys = [n, 1, 1];
        let w = unit_scale_weights(&mut rng, n, k);
        let qx: Vec<i64> = (0..batch * k).map(|_| rng.int() as i64).collect();
        let want: Vec<i64> = (0..batch * n)
            .map(|i| {
                let (b, j) = (i / n, i % n);
                (0..k).map(|p| qx[b * k + p] * w[j * k + p] as i64).sum()
            })
            .collect();
        let kind = LayerKind::FullyConnected {
            nb_outputs: n,
            kernel: Weights::new(w),
            bias: Weights::new(vec![0.0; n]),
        };
        for input_int8 in [false, true] {
            let mode = Int8Mode::Gemm(Int8Gemm {
                input_scale: 1.0,
                input_int8,
                output_scale: None,
            });
            let layer = CpuLayer::with_int8(&kind, &[&xs], &[&ys], Some(mode)).unwrap();
            let x: Vec<f32> = if input_int8 {
                int8_region(qx.iter().map(|&v| v as i8))
            } else {
                qx.iter().map(|&v| v as f32).collect()
            };
            let got = run(&layer, batch, &x, &xs, &ys);
            for (&g, &w) in got.iter().zip(&want) {
                assert_eq!(g as i64, w);
            }
            // Requantized on scale 1000: the accumulation divided by 1000, rounded half to even.
            let mode = Int8Mode::Gemm(Int8Gemm {
                input_scale: 1.0,
                input_int8,
                output_scale: Some(1000.0),
            });
            let layer = CpuLayer::with_int8(&kind, &[&xs], &[&ys], Some(mode)).unwrap();
            let got = int8_of(&run(&layer, batch, &x, &xs, &ys), want.len());
            for (&g, &w) in got.iter().zip(&want) {
                let v = w as f64 / 1000.0;
                if (v - v.floor() - 0.5).abs() >= 1e-3 {
                    assert_eq!(g, v.round_ties_even().clamp(-127.0, 127.0) as i8);
                }
            }
        }
    }
}

#[test]
fn max_pooling_on_int8_values() {
    let mut rng = Rng(4);
    for (window, stride) in [([2, 2], [2, 2]), ([3, 3], [2, 2])] {
        let (c, h, w, batch) = (5, 9, 8, 2);
        let mut p = PoolParams::new(PoolingType::Max, window);
        p.stride = stride;
        let xs = [c, h, w];
        let (oh, ow) = (
            (h - window[0]) / stride[0] + 1,
            (w - window[1]) / stride[1] + 1,
        );
        let ys = [c, oh, ow];
        let q: Vec<i64> = (0..batch * c * h * w).map(|_| rng.int() as i64).collect();
        let kind = LayerKind::Pooling(p);
        let layer =
            CpuLayer::with_int8(&kind, &[&xs], &[&ys], Some(Int8Mode::Passthrough)).unwrap();
        let got = int8_of(
            &run(
                &layer,
                batch,
                &int8_region(q.iter().map(|&v| v as i8)),
                &xs,
                &ys,
            ),
            batch * c * oh * ow,
        );
        for (i, &g) in got.iter().enumerate() {
            let (plane, oy, ox) = (i / (oh * ow), i / ow % oh, i % ow);
            let want = (0..window[0])
                .flat_map(|ky| (0..window[1]).map(move |kx| (ky, kx)))
                .map(|(ky, kx)| q[(plane * h + oy * stride[0] + ky) * w + ox * stride[1] + kx])
                .max()
                .unwrap();
            assert_eq!(g as i64, want);
        }
    }
}

#[test]
fn int8_modes_are_checked() {
    let kind = LayerKind::Pooling(PoolParams::new(PoolingType::Average, [2, 2]));
    let err = CpuLayer::with_int8(
        &kind,
        &[&[1, 4, 4]],
        &[&[1, 2, 2]],
        Some(Int8Mode::Passthrough),
    );
    assert!(err.is_err());
}

/// Every INT8 GEMM path this CPU has (portable, AVX2, AVX-VNNI, AVX512-VNNI) gives the same bits,
/// real and requantized, on every convolution case and a fully connected layer. Paths the CPU
/// lacks are named as skipped; run this on a VNNI machine to compare the VNNI kernels.
/// Other tests of this binary may run while the path is switched: all paths agree, so they see
/// the same values whichever they get.
#[test]
fn every_int8_isa_gives_the_same_bits() {
    let mut rng = Rng(5);
    let mut layers = Vec::new();
    for c in &CASES {
        let per = c.c / c.groups * c.kernel[0] * c.kernel[1];
        let w: Vec<f32> = (0..c.k * per).map(|_| rng.next() * 0.3).collect();
        let bias: Vec<f32> = (0..c.k).map(|_| rng.next()).collect();
        let xs = vec![c.c, c.hw[0], c.hw[1]];
        let ys = vec![c.k, out_dim(c, 0), out_dim(c, 1)];
        layers.push((
            LayerKind::Convolution(conv_params(c, w, bias)),
            xs,
            ys,
            1.0 / 127.0,
        ));
    }
    let (k, n) = (800, 500);
    layers.push((
        LayerKind::FullyConnected {
            nb_outputs: n,
            kernel: Weights::new((0..n * k).map(|_| rng.next() * 0.05).collect()),
            bias: Weights::new((0..n).map(|_| rng.next()).collect()),
        },
        vec![k, 1, 1],
        vec![n, 1, 1],
        1.0 / 127.0,
    ));
    let batch = 5;
    let outputs = || -> Vec<Vec<u32>> {
        let mut all = Vec::new();
        let mut rng = Rng(6);
        for (kind, xs, ys, s_in) in &layers {
            let x: Vec<f32> = (0..batch * xs.iter().product::<usize>())
                .map(|_| rng.next() * 1.2)
                .collect();
            for output_scale in [None, Some(0.02)] {
                let mode = Int8Mode::Gemm(Int8Gemm {
                    input_scale: *s_in,
                    input_int8: false,
                    output_scale,
                });
                let layer = CpuLayer::with_int8(kind, &[xs], &[ys], Some(mode)).unwrap();
                let y = run(&layer, batch, &x, xs, ys);
                all.push(y.iter().map(|v| v.to_bits()).collect());
            }
        }
        all
    };
    let (mut compared, mut skipped) = (Vec::new(), Vec::new());
    let mut reference: Option<(Int8Isa, Vec<Vec<u32>>)> = None;
    for isa in Int8Isa::ALL {
        // A path the CPU cannot run is refused, never run (it would fault).
        if set_int8_isa(Some(isa)).is_err() {
            assert!(!isa.available());
            skipped.push(isa.env_name());
            continue;
        }
        assert_eq!(int8_isa(), isa);
        let got = outputs();
        match &reference {
            None => reference = Some((isa, got)),
            Some((first, want)) => {
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(g == w, "{isa:?} differs from {first:?} in output {i}");
                }
            }
        }
        compared.push(isa.env_name());
    }
    set_int8_isa(None).unwrap();
    assert!(int8_isa().available());
    println!(
        "INT8 GEMM paths compared bit for bit: {}; skipped (this CPU lacks them): {}",
        compared.join(", "),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    );
    assert_eq!(compared.first(), Some(&"portable"));
}
