//! Operator suite for the CPU backend: every layer kind and option against a naive float64
//! reference (`common::reference`) on seeded random data.
//!
//! Error measure: for each output tensor, `max|got - ref| / max(max|ref|, 1e-6)` — the largest
//! absolute error relative to the tensor's largest reference magnitude. It must be ≤ 1e-5.

mod common;

use common::Rng;
use common::reference::{self as r, T};
use infer8::backend::cpu::{CpuLayer, In, Out};
use infer8::network::{ConvParams, LayerKind, Network, PoolParams};
use infer8::types::*;
use std::sync::Mutex;

const TOLERANCE: f64 = 1e-5;
/// The largest relative error seen by any test, printed with `--nocapture`.
static WORST: Mutex<f64> = Mutex::new(0.0);

/// One layer input: its non-batch shape, values for `batch` items, and its type in the network.
#[derive(Clone)]
struct Input {
    shape: Vec<usize>,
    data: Vec<f32>,
    batch: usize,
    dtype: DataType,
}

fn input(rng: &mut Rng, batch: usize, shape: &[usize]) -> Input {
    let n = batch * shape.iter().product::<usize>();
    Input {
        shape: shape.to_vec(),
        data: rng.vec(n, -1.0, 1.0),
        batch,
        dtype: DataType::Float,
    }
}

impl Input {
    /// The reference sees the full tensor, batch included.
    fn t(&self) -> T {
        let mut s = vec![self.batch];
        s.extend(&self.shape);
        T::new(&s, &self.data)
    }
}

/// Output of a layer: full shape (batch first) and values.
struct Output {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Adds the layer to a network (for its shapes), prepares it on the CPU and runs `batch` items.
/// Scratch and outputs start as NaN so that reading unwritten memory shows up.
fn run(kind: LayerKind, inputs: &[Input], batch: usize) -> Vec<Output> {
    let mut net = Network::new();
    let ids: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            net.add_input(&format!("in{i}"), x.dtype, &x.shape)
                .expect("add_input")
        })
        .collect();
    let l = net.add_layer(kind.clone(), &ids).expect("add_layer");
    let out_shapes: Vec<Vec<usize>> = net.layers[l]
        .outputs
        .iter()
        .map(|&t| net.tensors[t].shape.clone())
        .collect();
    let in_shapes: Vec<&[usize]> = inputs.iter().map(|x| x.shape.as_slice()).collect();
    let out_refs: Vec<&[usize]> = out_shapes.iter().map(|s| s.as_slice()).collect();
    let layer = CpuLayer::new(&kind, &in_shapes, &out_refs).expect("CpuLayer::new");
    let mut scratch = vec![f32::NAN; layer.scratch_len(batch)];
    let mut bufs: Vec<Vec<f32>> = out_shapes
        .iter()
        .map(|s| vec![f32::NAN; batch * volume(s)])
        .collect();
    let ins: Vec<In> = inputs
        .iter()
        .map(|x| In {
            data: &x.data,
            batch: x.batch,
            shape: &x.shape,
        })
        .collect();
    let mut outs: Vec<Out> = bufs
        .iter_mut()
        .zip(&out_shapes)
        .map(|(b, s)| Out { data: b, shape: s })
        .collect();
    layer
        .run(batch, &ins, &mut outs, &mut scratch)
        .expect("run");
    bufs.into_iter()
        .zip(out_shapes)
        .map(|(data, s)| {
            let mut shape = vec![batch];
            shape.extend(s);
            Output { shape, data }
        })
        .collect()
}

fn check(what: &str, got: &Output, want: &T) {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    let peak = want.data.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-6);
    let mut err = 0f64;
    for (i, (&g, &w)) in got.data.iter().zip(&want.data).enumerate() {
        let e = (g as f64 - w).abs();
        assert!(
            e.is_finite() || (g.is_infinite() && g as f64 == w),
            "{what}: element {i} is {g}, expected {w}"
        );
        if e.is_finite() {
            err = err.max(e);
        }
    }
    let rel = err / peak;
    assert!(
        rel <= TOLERANCE,
        "{what}: relative error {rel:e} (max abs {err:e}, peak {peak:e})"
    );
    let mut worst = WORST.lock().unwrap_or_else(|e| e.into_inner());
    if rel > *worst {
        *worst = rel;
        eprintln!("worst relative error so far: {rel:.3e} ({what})");
    }
}

fn weights(rng: &mut Rng, n: usize) -> Weights {
    Weights::new(rng.vec(n, -1.0, 1.0))
}

// ---------------------------------------------------------------- convolution

struct ConvCase {
    c: usize,
    hw: [usize; 2],
    k: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    mode: PaddingMode,
    bias: bool,
}

const CONV: ConvCase = ConvCase {
    c: 3,
    hw: [7, 9],
    k: 4,
    kernel: [3, 2],
    stride: [1, 1],
    pre: [0, 0],
    post: [0, 0],
    dilation: [1, 1],
    groups: 1,
    mode: PaddingMode::ExplicitRoundDown,
    bias: true,
};

/// Convolution (`[K, C/g, kh, kw]`) and deconvolution (`[C, K/g, kh, kw]`) weights have the same count.
fn conv_params(rng: &mut Rng, c: &ConvCase) -> ConvParams {
    let per = c.k * c.c / c.groups;
    let w = weights(rng, per * c.kernel[0] * c.kernel[1]);
    let b = if c.bias {
        weights(rng, c.k)
    } else {
        Weights::empty()
    };
    let mut p = ConvParams::new(c.k, c.kernel, w, b);
    p.stride = c.stride;
    p.pre_padding = c.pre;
    p.post_padding = c.post;
    p.dilation = c.dilation;
    p.groups = c.groups;
    p.padding_mode = c.mode;
    p
}

fn conv_cases() -> Vec<(&'static str, ConvCase)> {
    vec![
        ("basic", CONV),
        (
            "no bias",
            ConvCase {
                bias: false,
                ..CONV
            },
        ),
        (
            "stride > kernel, padding",
            ConvCase {
                kernel: [2, 3],
                stride: [3, 4],
                pre: [1, 2],
                post: [1, 2],
                ..CONV
            },
        ),
        (
            "asymmetric padding",
            ConvCase {
                pre: [2, 0],
                post: [0, 1],
                ..CONV
            },
        ),
        (
            "groups + dilation",
            ConvCase {
                c: 4,
                k: 6,
                groups: 2,
                dilation: [2, 3],
                pre: [1, 1],
                post: [1, 1],
                ..CONV
            },
        ),
        (
            "depthwise",
            ConvCase {
                c: 5,
                k: 5,
                groups: 5,
                kernel: [3, 3],
                pre: [1, 1],
                post: [1, 1],
                ..CONV
            },
        ),
        (
            "round up",
            ConvCase {
                stride: [2, 3],
                pre: [1, 0],
                post: [0, 1],
                mode: PaddingMode::ExplicitRoundUp,
                ..CONV
            },
        ),
        (
            "same upper",
            ConvCase {
                kernel: [3, 4],
                stride: [2, 2],
                mode: PaddingMode::SameUpper,
                ..CONV
            },
        ),
        (
            "same lower",
            ConvCase {
                kernel: [3, 4],
                stride: [2, 3],
                mode: PaddingMode::SameLower,
                ..CONV
            },
        ),
        (
            "caffe down",
            ConvCase {
                kernel: [3, 3],
                stride: [2, 2],
                pre: [1, 2],
                mode: PaddingMode::CaffeRoundDown,
                ..CONV
            },
        ),
        (
            "caffe up",
            ConvCase {
                kernel: [3, 3],
                stride: [2, 2],
                pre: [1, 2],
                mode: PaddingMode::CaffeRoundUp,
                ..CONV
            },
        ),
        (
            "deep (k blocking)",
            ConvCase {
                c: 31,
                hw: [6, 5],
                k: 13,
                kernel: [3, 3],
                pre: [1, 1],
                post: [1, 1],
                ..CONV
            },
        ),
        (
            "lenet conv1",
            ConvCase {
                c: 1,
                hw: [28, 28],
                k: 20,
                kernel: [5, 5],
                ..CONV
            },
        ),
        (
            "lenet conv2",
            ConvCase {
                c: 20,
                hw: [12, 12],
                k: 50,
                kernel: [5, 5],
                ..CONV
            },
        ),
        (
            "1x1",
            ConvCase {
                c: 7,
                k: 9,
                kernel: [1, 1],
                ..CONV
            },
        ),
    ]
}

#[test]
fn convolution() {
    let mut rng = Rng::new(1);
    for (name, c) in conv_cases() {
        let p = conv_params(&mut rng, &c);
        let x = input(&mut rng, 3, &[c.c, c.hw[0], c.hw[1]]);
        let got = run(
            LayerKind::Convolution(p.clone()),
            std::slice::from_ref(&x),
            3,
        );
        check(
            &format!("convolution {name}"),
            &got[0],
            &r::conv(&x.t(), &p),
        );
    }
}

#[test]
fn convolution_leading_dims_and_batch_broadcast() {
    let mut rng = Rng::new(2);
    let p = conv_params(
        &mut rng,
        &ConvCase {
            pre: [1, 1],
            post: [1, 1],
            ..CONV
        },
    );
    let x = input(&mut rng, 2, &[2, 3, 5, 6]);
    let got = run(
        LayerKind::Convolution(p.clone()),
        std::slice::from_ref(&x),
        2,
    );
    check("convolution 4-d", &got[0], &r::conv(&x.t(), &p));
    // A batch-invariant input serves every batch item.
    let x = input(&mut rng, 1, &[3, 5, 6]);
    let got = run(
        LayerKind::Convolution(p.clone()),
        std::slice::from_ref(&x),
        3,
    );
    let want = r::conv(&x.t(), &p);
    let mut rep = T::zeros(&got[0].shape);
    for b in 0..3 {
        rep.data[b * want.data.len()..][..want.data.len()].copy_from_slice(&want.data);
    }
    check("convolution broadcast", &got[0], &rep);
}

// ---------------------------------------------------------------- pooling

fn pool_params(
    kind: PoolingType,
    window: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    mode: PaddingMode,
) -> PoolParams {
    let mut p = PoolParams::new(kind, window);
    p.stride = stride;
    p.pre_padding = pre;
    p.post_padding = post;
    p.padding_mode = mode;
    p
}

#[test]
fn pooling() {
    use PaddingMode::*;
    use PoolingType::*;
    let mut rng = Rng::new(3);
    let cases = [
        (
            "lenet max",
            pool_params(Max, [2, 2], [2, 2], [0, 0], [0, 0], ExplicitRoundDown),
            [20, 24, 24],
        ),
        (
            "max 3x2 padded",
            pool_params(Max, [3, 2], [2, 1], [1, 1], [2, 0], ExplicitRoundDown),
            [3, 7, 8],
        ),
        (
            "max stride > window",
            pool_params(Max, [2, 3], [3, 4], [0, 1], [1, 0], ExplicitRoundDown),
            [2, 11, 13],
        ),
        (
            "avg round up",
            pool_params(Average, [3, 3], [2, 2], [1, 1], [1, 1], ExplicitRoundUp),
            [3, 8, 9],
        ),
        (
            "same upper",
            pool_params(Max, [3, 2], [2, 2], [0, 0], [0, 0], SameUpper),
            [2, 7, 6],
        ),
        (
            "same lower",
            pool_params(Average, [3, 4], [2, 3], [0, 0], [0, 0], SameLower),
            [2, 7, 10],
        ),
        (
            "caffe ceil avg",
            pool_params(Average, [3, 3], [2, 2], [1, 1], [0, 0], CaffeRoundUp),
            [3, 6, 7],
        ),
        (
            "caffe ceil max",
            pool_params(Max, [3, 2], [2, 2], [0, 1], [0, 0], CaffeRoundUp),
            [3, 7, 6],
        ),
        (
            "caffe floor",
            pool_params(Average, [2, 3], [2, 2], [1, 1], [0, 0], CaffeRoundDown),
            [2, 7, 8],
        ),
        (
            "blend",
            pool_params(
                MaxAverageBlend,
                [2, 3],
                [1, 2],
                [1, 1],
                [1, 1],
                ExplicitRoundDown,
            ),
            [3, 5, 7],
        ),
    ];
    for (name, p, shape) in cases {
        for exclude in [true, false] {
            let mut p = p.clone();
            p.average_count_excludes_padding = exclude;
            p.blend_factor = 0.3;
            let x = input(&mut rng, 3, &shape);
            let got = run(LayerKind::Pooling(p.clone()), std::slice::from_ref(&x), 3);
            check(
                &format!("pooling {name} exclude={exclude}"),
                &got[0],
                &r::pool(&x.t(), &p),
            );
        }
    }
}

// ---------------------------------------------------------------- fully connected

#[test]
fn fully_connected() {
    let mut rng = Rng::new(4);
    for (shape, nout, batch, bias) in [
        (vec![5, 3, 4], 7, 3, true),
        (vec![50, 4, 4], 500, 3, true),
        (vec![2, 3, 2, 2], 5, 3, false),
        (vec![17], 9, 20, true),
        (vec![300, 1, 1], 33, 20, true),
    ] {
        let k: usize = shape[shape.len().saturating_sub(3)..].iter().product();
        let w = weights(&mut rng, nout * k);
        let b = if bias {
            weights(&mut rng, nout)
        } else {
            Weights::empty()
        };
        let x = input(&mut rng, batch, &shape);
        let kind = LayerKind::FullyConnected {
            nb_outputs: nout,
            kernel: w.clone(),
            bias: b.clone(),
        };
        let got = run(kind, std::slice::from_ref(&x), batch);
        check(
            &format!("fully connected {shape:?} -> {nout}"),
            &got[0],
            &r::fully_connected(&x.t(), nout, &w.values, &b.values),
        );
    }
}

// ---------------------------------------------------------------- activation, softmax

#[test]
fn activation() {
    let mut rng = Rng::new(5);
    for &kind in ActivationType::ALL {
        for (alpha, beta) in [(0.2, 0.7), (-0.4, 1.6)] {
            let mut x = input(&mut rng, 3, &[3, 5, 7]);
            x.data.iter_mut().for_each(|v| *v *= 4.0);
            let got = run(
                LayerKind::Activation { kind, alpha, beta },
                std::slice::from_ref(&x),
                3,
            );
            check(
                &format!("activation {kind:?} {alpha} {beta}"),
                &got[0],
                &r::activation(&x.t(), kind, alpha, beta),
            );
        }
    }
}

#[test]
fn softmax() {
    let mut rng = Rng::new(6);
    for (shape, axis) in [
        (vec![3, 4, 5], 0),
        (vec![3, 4, 5], 1),
        (vec![3, 4, 5], 2),
        (vec![10, 1, 1], 0),
        (vec![7], 0),
    ] {
        let mut x = input(&mut rng, 3, &shape);
        x.data.iter_mut().for_each(|v| *v *= 20.0);
        let got = run(
            LayerKind::SoftMax { axes: 1 << axis },
            std::slice::from_ref(&x),
            3,
        );
        check(
            &format!("softmax {shape:?} axis {axis}"),
            &got[0],
            &r::softmax(&x.t(), axis + 1),
        );
    }
}

// ---------------------------------------------------------------- deconvolution

#[test]
fn deconvolution() {
    let mut rng = Rng::new(7);
    let cases = [
        ("basic", CONV),
        (
            "stride 2, padding",
            ConvCase {
                kernel: [3, 4],
                stride: [2, 2],
                pre: [1, 1],
                post: [0, 2],
                ..CONV
            },
        ),
        (
            "stride > kernel",
            ConvCase {
                kernel: [2, 2],
                stride: [3, 4],
                ..CONV
            },
        ),
        (
            "groups + dilation",
            ConvCase {
                c: 4,
                k: 6,
                groups: 2,
                dilation: [2, 2],
                stride: [2, 1],
                ..CONV
            },
        ),
        (
            "same upper",
            ConvCase {
                kernel: [4, 3],
                stride: [2, 2],
                mode: PaddingMode::SameUpper,
                bias: false,
                ..CONV
            },
        ),
        (
            "same lower",
            ConvCase {
                kernel: [4, 3],
                stride: [2, 3],
                mode: PaddingMode::SameLower,
                ..CONV
            },
        ),
        (
            "caffe",
            ConvCase {
                kernel: [4, 4],
                stride: [2, 2],
                pre: [1, 1],
                mode: PaddingMode::CaffeRoundDown,
                ..CONV
            },
        ),
    ];
    for (name, c) in cases {
        let p = conv_params(&mut rng, &c);
        let x = input(&mut rng, 3, &[c.c, c.hw[0], c.hw[1]]);
        let got = run(
            LayerKind::Deconvolution(p.clone()),
            std::slice::from_ref(&x),
            3,
        );
        check(
            &format!("deconvolution {name}"),
            &got[0],
            &r::deconv(&x.t(), &p),
        );
    }
}

// ---------------------------------------------------------------- point-wise and broadcast

#[test]
fn parametric_relu() {
    let mut rng = Rng::new(8);
    let x = input(&mut rng, 3, &[4, 5, 6]);
    for slopes in [vec![4, 1, 1], vec![4, 5, 6], vec![1, 5, 1]] {
        let s = input(&mut rng, 1, &slopes);
        let got = run(LayerKind::ParametricRelu, &[x.clone(), s.clone()], 3);
        let want = r::binary(&x.t(), &s.t(), |v, a| if v >= 0.0 { v } else { a * v });
        check(&format!("prelu slopes {slopes:?}"), &got[0], &want);
    }
}

#[test]
fn lrn() {
    let mut rng = Rng::new(9);
    for (window, shape) in [
        (5, vec![7, 3, 4]),
        (3, vec![2, 4, 3, 5]),
        (1, vec![3, 2, 2]),
        (15, vec![6, 2, 3]),
    ] {
        let x = input(&mut rng, 3, &shape);
        let (alpha, beta, k) = (1.3, 0.75, 2.0);
        let got = run(
            LayerKind::Lrn {
                window,
                alpha,
                beta,
                k,
            },
            std::slice::from_ref(&x),
            3,
        );
        check(
            &format!("lrn window {window} {shape:?}"),
            &got[0],
            &r::lrn(&x.t(), window, alpha, beta, k),
        );
    }
}

#[test]
fn scale() {
    let mut rng = Rng::new(10);
    let shape = [4, 3, 5];
    for mode in [
        ScaleMode::Uniform,
        ScaleMode::Channel,
        ScaleMode::Elementwise,
    ] {
        let n = match mode {
            ScaleMode::Uniform => 1,
            ScaleMode::Channel => 4,
            ScaleMode::Elementwise => 60,
        };
        for (with_shift, with_scale, with_power) in [
            (true, true, true),
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (false, false, false),
        ] {
            // Positive bases so that fractional powers stay real.
            let mut x = input(&mut rng, 3, &shape);
            x.data.iter_mut().for_each(|v| *v = v.abs() + 0.5);
            let w = |on: bool, rng: &mut Rng, lo, hi| {
                if on {
                    Weights::new(rng.vec(n, lo, hi))
                } else {
                    Weights::empty()
                }
            };
            let shift = w(with_shift, &mut rng, 0.0, 1.0);
            let sc = w(with_scale, &mut rng, 0.5, 2.0);
            let power = w(with_power, &mut rng, 0.5, 2.5);
            let kind = LayerKind::Scale {
                mode,
                shift: shift.clone(),
                scale: sc.clone(),
                power: power.clone(),
            };
            let got = run(kind, std::slice::from_ref(&x), 3);
            let want = r::scale(&x.t(), mode, &shift.values, &sc.values, &power.values);
            check(
                &format!("scale {mode:?} shift={with_shift} scale={with_scale} power={with_power}"),
                &got[0],
                &want,
            );
        }
    }
}

#[test]
fn concatenation() {
    let mut rng = Rng::new(11);
    for axis in 0..3 {
        let mut shapes = vec![vec![2, 3, 4]; 3];
        for (i, s) in shapes.iter_mut().enumerate() {
            s[axis] = i + 1;
        }
        let xs: Vec<Input> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| input(&mut rng, if i == 1 { 1 } else { 3 }, s))
            .collect();
        let got = run(LayerKind::Concatenation { axis }, &xs, 3);
        let ts: Vec<T> = xs.iter().map(|x| x.t()).collect();
        check(
            &format!("concatenation axis {axis}"),
            &got[0],
            &r::concat(&ts, axis + 1, 3),
        );
    }
}

#[test]
fn elementwise() {
    use ElementWiseOperation::*;
    let mut rng = Rng::new(12);
    let pairs: [(&[usize], usize, &[usize], usize); 5] = [
        (&[3, 4, 5], 3, &[3, 4, 5], 3),
        (&[3, 4, 5], 3, &[3, 1, 5], 3),
        (&[1, 4, 1], 3, &[3, 1, 5], 3),
        (&[3, 4, 5], 3, &[3, 4, 5], 1),
        (&[2, 1, 3, 1], 1, &[1, 4, 1, 5], 3),
    ];
    for &op in ElementWiseOperation::ALL {
        for (sa, ba, sb, bb) in pairs {
            let mut a = input(&mut rng, ba, sa);
            let mut b = input(&mut rng, bb, sb);
            match op {
                // Positive bases for real powers; divisors away from 0.
                Pow => a.data.iter_mut().for_each(|v| *v = v.abs() + 0.1),
                Div | FloorDiv => {
                    a.data.iter_mut().for_each(|v| *v *= 10.0);
                    b.data
                        .iter_mut()
                        .for_each(|v| *v = v.signum() * (v.abs() + 0.5));
                }
                _ => {}
            }
            let got = run(LayerKind::ElementWise { op }, &[a.clone(), b.clone()], 3);
            let f = move |x: f64, y: f64| match op {
                Sum => x + y,
                Prod => x * y,
                Max => x.max(y),
                Min => x.min(y),
                Sub => x - y,
                Div => x / y,
                Pow => x.powf(y),
                FloorDiv => (x / y).floor(),
            };
            let want = r::binary(&r::repeat_batch(&a.t(), 3), &r::repeat_batch(&b.t(), 3), f);
            check(
                &format!("elementwise {op:?} {sa:?}x{ba} {sb:?}x{bb}"),
                &got[0],
                &want,
            );
        }
    }
}

#[test]
fn unary() {
    use UnaryOperation::*;
    let mut rng = Rng::new(13);
    for &op in UnaryOperation::ALL {
        let (lo, hi) = match op {
            Log | Sqrt => (0.05, 4.0),
            Recip => (0.2, 3.0),
            Asin | Acos | Atanh => (-0.95, 0.95),
            Acosh => (1.0, 5.0),
            Tan => (-1.4, 1.4),
            Exp | Sinh | Cosh => (-5.0, 5.0),
            Erf => (-4.5, 4.5),
            _ => (-3.0, 3.0),
        };
        let mut x = input(&mut rng, 3, &[3, 2, 7]);
        x.data = rng.vec(x.data.len(), lo, hi);
        let got = run(LayerKind::Unary { op }, std::slice::from_ref(&x), 3);
        check(&format!("unary {op:?}"), &got[0], &r::unary(&x.t(), op));
    }
}

#[test]
fn identity_and_batch_broadcast() {
    let mut rng = Rng::new(14);
    let x = input(&mut rng, 3, &[2, 3, 4]);
    let got = run(LayerKind::Identity, std::slice::from_ref(&x), 3);
    check("identity", &got[0], &x.t());
    let x = input(&mut rng, 1, &[2, 3, 4]);
    let got = run(
        LayerKind::Activation {
            kind: ActivationType::Relu,
            alpha: 0.0,
            beta: 0.0,
        },
        std::slice::from_ref(&x),
        3,
    );
    check(
        "relu of a batch-invariant input",
        &got[0],
        &r::repeat_batch(&r::activation(&x.t(), ActivationType::Relu, 0.0, 0.0), 3),
    );
}

// ---------------------------------------------------------------- data movement

#[test]
fn padding() {
    let mut rng = Rng::new(15);
    for (pre, post) in [
        ([1, 2], [3, 0]),
        ([0, 0], [0, 0]),
        ([-1, 2], [1, -2]),
        ([-2, -1], [-1, -3]),
    ] {
        for shape in [vec![3, 6, 7], vec![2, 2, 5, 6]] {
            let x = input(&mut rng, 3, &shape);
            let got = run(
                LayerKind::Padding { pre, post },
                std::slice::from_ref(&x),
                3,
            );
            check(
                &format!("padding {pre:?} {post:?} {shape:?}"),
                &got[0],
                &r::padding(&x.t(), pre, post),
            );
        }
    }
}

/// First transpose, reshape, second transpose.
type ShuffleCase = (Vec<usize>, Option<Vec<i64>>, Vec<usize>);

#[test]
fn shuffle() {
    let mut rng = Rng::new(16);
    let cases: Vec<ShuffleCase> = vec![
        (vec![], None, vec![]),
        (vec![2, 0, 1], None, vec![]),
        (vec![], Some(vec![6, -1]), vec![]),
        (vec![], Some(vec![0, 0, 5]), vec![2, 0, 1]),
        (vec![1, 2, 0], Some(vec![-1, 3]), vec![1, 0]),
        (vec![0, 2, 1], Some(vec![3, 5, 4]), vec![2, 1, 0]),
        (vec![], Some(vec![60]), vec![0]),
    ];
    for (first, reshape, second) in cases {
        let p = infer8::network::ShuffleParams {
            first_transpose: first,
            reshape,
            second_transpose: second,
        };
        let x = input(&mut rng, 3, &[3, 4, 5]);
        let got = run(LayerKind::Shuffle(p.clone()), std::slice::from_ref(&x), 3);
        check(&format!("shuffle {p:?}"), &got[0], &r::shuffle(&x.t(), &p));
    }
}

#[test]
fn constant() {
    let mut rng = Rng::new(17);
    let w = weights(&mut rng, 24);
    let got = run(
        LayerKind::Constant {
            dims: vec![2, 3, 4],
            weights: w.clone(),
        },
        &[],
        1,
    );
    check("constant", &got[0], &T::new(&[1, 2, 3, 4], &w.values));
}

#[test]
fn slice() {
    let mut rng = Rng::new(18);
    let cases: [(Vec<i64>, Vec<usize>, Vec<i64>); 5] = [
        (vec![0, 0, 0], vec![4, 5, 6], vec![1, 1, 1]),
        (vec![1, 2, 0], vec![2, 2, 3], vec![2, 1, 2]),
        (vec![3, 4, 5], vec![2, 3, 3], vec![-1, -2, -2]),
        (vec![0, 4, 1], vec![4, 5, 2], vec![1, -1, 3]),
        (vec![2, 0, 5], vec![1, 1, 6], vec![1, 1, -1]),
    ];
    for (start, size, stride) in cases {
        let x = input(&mut rng, 3, &[4, 5, 6]);
        let kind = LayerKind::Slice {
            start: start.clone(),
            size: size.clone(),
            stride: stride.clone(),
        };
        let got = run(kind, std::slice::from_ref(&x), 3);
        check(
            &format!("slice {start:?} {size:?} {stride:?}"),
            &got[0],
            &r::slice(&x.t(), &start, &size, &stride),
        );
    }
}

#[test]
fn reduce() {
    let mut rng = Rng::new(19);
    for &op in ReduceOperation::ALL {
        for axes in [0b001, 0b010, 0b100, 0b101, 0b111, 0b110] {
            for keep_dims in [true, false] {
                let mut x = input(&mut rng, 3, &[3, 4, 5]);
                if op == ReduceOperation::Prod {
                    x.data.iter_mut().for_each(|v| *v = 1.0 + *v * 0.3);
                }
                let got = run(
                    LayerKind::Reduce {
                        op,
                        axes,
                        keep_dims,
                    },
                    std::slice::from_ref(&x),
                    3,
                );
                check(
                    &format!("reduce {op:?} {axes:#b} keep={keep_dims}"),
                    &got[0],
                    &r::reduce(&x.t(), op, axes, keep_dims),
                );
            }
        }
    }
}

#[test]
fn top_k() {
    let mut rng = Rng::new(20);
    for &op in TopKOperation::ALL {
        for (axis, k) in [(0, 2), (1, 4), (2, 1), (2, 6), (1, 9)] {
            // Few distinct values, so ties are common.
            let mut x = input(&mut rng, 3, &[3, 9, 6]);
            x.data.iter_mut().for_each(|v| *v = (*v * 3.0).round());
            let got = run(
                LayerKind::TopK {
                    op,
                    k,
                    axes: 1 << axis,
                },
                std::slice::from_ref(&x),
                3,
            );
            let (v, i) = r::topk(&x.t(), op == TopKOperation::Max, k, axis + 1);
            check(
                &format!("top-k {op:?} axis {axis} k {k} values"),
                &got[0],
                &v,
            );
            assert_eq!(
                got[1].data,
                i.data.iter().map(|&v| v as f32).collect::<Vec<_>>(),
                "top-k {op:?} axis {axis} k {k} indices"
            );
        }
    }
}

/// Shape, batch and operation of each operand.
type MatCase = (
    &'static [usize],
    usize,
    MatrixOperation,
    &'static [usize],
    usize,
    MatrixOperation,
);

#[test]
fn matrix_multiply() {
    use MatrixOperation::*;
    let mut rng = Rng::new(21);
    let cases: [MatCase; 8] = [
        (&[5, 7], 3, None, &[7, 9], 3, None),
        (&[7, 5], 3, Transpose, &[7, 9], 1, None),
        (&[5, 7], 3, None, &[9, 7], 3, Transpose),
        (&[7, 5], 1, Transpose, &[9, 7], 3, Transpose),
        (&[7], 3, Vector, &[7, 9], 3, None),
        (&[5, 7], 3, None, &[7], 3, Vector),
        (&[2, 1, 5, 7], 3, None, &[1, 3, 7, 4], 1, None),
        (&[4, 13, 300], 3, None, &[300, 17], 1, None),
    ];
    for (sa, ba, op0, sb, bb, op1) in cases {
        let a = input(&mut rng, ba, sa);
        let b = input(&mut rng, bb, sb);
        let got = run(
            LayerKind::MatrixMultiply { op0, op1 },
            &[a.clone(), b.clone()],
            3,
        );
        let want = r::matmul(
            &r::repeat_batch(&a.t(), 3),
            &r::repeat_batch(&b.t(), 3),
            op0,
            op1,
        );
        check(
            &format!("matrix multiply {sa:?} {op0:?} x {sb:?} {op1:?}"),
            &got[0],
            &want,
        );
    }
}

#[test]
fn gather() {
    let mut rng = Rng::new(22);
    for (axis, idx_shape, ib) in [
        (0, vec![2], 1),
        (1, vec![2, 3], 1),
        (2, vec![4], 3),
        (1, vec![1], 3),
    ] {
        let shape = [3, 4, 5];
        let x = input(&mut rng, 3, &shape);
        let n = idx_shape.iter().product::<usize>() * ib;
        let data = (0..n).map(|_| rng.below(shape[axis]) as f32).collect();
        let idx = Input {
            shape: idx_shape.clone(),
            data,
            batch: ib,
            dtype: DataType::Int32,
        };
        let got = run(LayerKind::Gather { axis }, &[x.clone(), idx.clone()], 3);
        check(
            &format!("gather axis {axis} indices {idx_shape:?}x{ib}"),
            &got[0],
            &r::gather(&x.t(), &idx.t(), axis),
        );
    }
}

#[test]
fn gather_rejects_out_of_range_indices() {
    let shape = [3usize, 4];
    let layer =
        CpuLayer::new(&LayerKind::Gather { axis: 1 }, &[&shape, &[2]], &[&[3, 2]]).expect("new");
    let x = vec![0.0; 12];
    for bad in [4.0, -1.0, 1.5] {
        let idx = [0.0, bad];
        let mut y = vec![0.0; 6];
        let ins = [
            In {
                data: &x,
                batch: 1,
                shape: &shape,
            },
            In {
                data: &idx,
                batch: 1,
                shape: &[2],
            },
        ];
        let err = layer
            .run(
                1,
                &ins,
                &mut [Out {
                    data: &mut y,
                    shape: &[3, 2],
                }],
                &mut [],
            )
            .expect_err("accepted");
        assert!(err.to_string().contains(&format!("{bad}")), "{err}");
    }
}

#[test]
fn bad_buffers_are_errors() {
    let mut rng = Rng::new(23);
    let p = conv_params(&mut rng, &CONV);
    let layer =
        CpuLayer::new(&LayerKind::Convolution(p), &[&[3, 7, 9]], &[&[4, 5, 8]]).expect("new");
    let x = vec![0.0; 2 * 189];
    let mut y = vec![0.0; 3 * 160];
    let mut scratch = vec![0.0; layer.scratch_len(3)];
    let ins = [In {
        data: &x,
        batch: 3,
        shape: &[3, 7, 9],
    }];
    assert!(
        layer
            .run(
                3,
                &ins,
                &mut [Out {
                    data: &mut y,
                    shape: &[4, 5, 8]
                }],
                &mut scratch
            )
            .is_err()
    );
    let ins = [In {
        data: &x,
        batch: 2,
        shape: &[3, 7, 9],
    }];
    assert!(
        layer
            .run(
                2,
                &ins,
                &mut [Out {
                    data: &mut y,
                    shape: &[4, 5, 8]
                }],
                &mut []
            )
            .is_err()
    );
    assert!(CpuLayer::new(&LayerKind::Identity, &[&[3, 7, 9]], &[&[4, 5, 8]]).is_err());
}

// ---------------------------------------------------------------- shape errors

/// Adding the layer must fail, and the message must say why.
fn rejected(kind: LayerKind, inputs: &[(&[usize], DataType)], needle: &str) {
    let mut net = Network::new();
    let ids: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, (s, t))| net.add_input(&format!("in{i}"), *t, s).expect("add_input"))
        .collect();
    match net.add_layer(kind.clone(), &ids) {
        Ok(_) => panic!("{} on {inputs:?} was accepted", kind.type_name()),
        Err(e) => assert!(
            e.to_string().contains(needle),
            "message '{e}' does not mention '{needle}'"
        ),
    }
    assert!(net.layers.is_empty());
}

#[test]
fn impossible_shapes_are_rejected() {
    let f = DataType::Float;
    let conv = |k: usize, kernel: [usize; 2], groups: usize, c: usize| {
        let mut p = ConvParams::new(
            k,
            kernel,
            Weights::new(vec![0.0; k * c / groups.max(1) * kernel[0] * kernel[1]]),
            Weights::empty(),
        );
        p.groups = groups;
        LayerKind::Convolution(p)
    };
    rejected(conv(2, [5, 3], 1, 3), &[(&[3, 4, 8], f)], "larger than");
    rejected(conv(3, [1, 1], 2, 4), &[(&[4, 4, 8], f)], "groups");
    rejected(conv(2, [1, 1], 1, 4), &[(&[4, 8], f)], "3 dimensions");
    rejected(
        LayerKind::Pooling(PoolParams::new(PoolingType::Max, [4, 9])),
        &[(&[3, 4, 8], f)],
        "larger than",
    );
    rejected(
        LayerKind::ElementWise {
            op: ElementWiseOperation::Sum,
        },
        &[(&[3, 4, 5], f), (&[3, 2, 5], f)],
        "broadcast",
    );
    rejected(
        LayerKind::ElementWise {
            op: ElementWiseOperation::Sum,
        },
        &[(&[3, 4, 5], f), (&[4, 5], f)],
        "numbers of dimensions",
    );
    let shuffle = |first: Vec<usize>, reshape: Option<Vec<i64>>| {
        LayerKind::Shuffle(infer8::network::ShuffleParams {
            first_transpose: first,
            reshape,
            second_transpose: vec![],
        })
    };
    rejected(
        shuffle(vec![], Some(vec![7, -1])),
        &[(&[3, 4, 5], f)],
        "infer",
    );
    rejected(
        shuffle(vec![], Some(vec![3, 4, 6])),
        &[(&[3, 4, 5], f)],
        "volume",
    );
    rejected(
        shuffle(vec![0, 0, 1], None),
        &[(&[3, 4, 5], f)],
        "permutation",
    );
    rejected(shuffle(vec![0, 1], None), &[(&[3, 4, 5], f)], "permutation");
    let slice = |start: Vec<i64>, size: Vec<usize>, stride: Vec<i64>| LayerKind::Slice {
        start,
        size,
        stride,
    };
    rejected(
        slice(vec![0, 2], vec![2, 3], vec![1, 1]),
        &[(&[3, 4], f)],
        "outside",
    );
    rejected(
        slice(vec![1, 0], vec![2, 1], vec![-2, 1]),
        &[(&[3, 4], f)],
        "outside",
    );
    rejected(
        slice(vec![0], vec![1], vec![1]),
        &[(&[3, 4], f)],
        "dimensions",
    );
    rejected(
        LayerKind::Reduce {
            op: ReduceOperation::Sum,
            axes: 0b1000,
            keep_dims: true,
        },
        &[(&[3, 4, 5], f)],
        "axes",
    );
    rejected(
        LayerKind::Reduce {
            op: ReduceOperation::Sum,
            axes: 0,
            keep_dims: false,
        },
        &[(&[3, 4, 5], f)],
        "axes",
    );
    rejected(
        LayerKind::SoftMax { axes: 0b11 },
        &[(&[3, 4, 5], f)],
        "exactly one",
    );
    rejected(
        LayerKind::TopK {
            op: TopKOperation::Max,
            k: 5,
            axes: 0b10,
        },
        &[(&[3, 4, 5], f)],
        "k = 5",
    );
    rejected(
        LayerKind::Concatenation { axis: 1 },
        &[(&[3, 4, 5], f), (&[2, 4, 5], f)],
        "incompatible",
    );
    rejected(
        LayerKind::MatrixMultiply {
            op0: MatrixOperation::None,
            op1: MatrixOperation::None,
        },
        &[(&[3, 4], f), (&[5, 2], f)],
        "inner dimensions",
    );
    rejected(
        LayerKind::Gather { axis: 3 },
        &[(&[3, 4, 5], f), (&[2], DataType::Int32)],
        "out of range",
    );
    rejected(
        LayerKind::Padding {
            pre: [-3, 0],
            post: [-2, 0],
        },
        &[(&[3, 4, 5], f)],
        "leaves",
    );
    rejected(
        LayerKind::Lrn {
            window: 4,
            alpha: 1.0,
            beta: 0.75,
            k: 1.0,
        },
        &[(&[3, 4, 5], f)],
        "odd",
    );
}

/// Ad-hoc timing of LeNet's heavy layers at batch 100 (prints; no assertion). Run with
/// `cargo test --release --test ops_cpu -- --ignored --nocapture lenet_timing`.
#[test]
#[ignore]
fn lenet_timing() {
    let mut rng = Rng::new(99);
    let batch = 100;
    let conv = |c, k| {
        let p = conv_params(
            &mut Rng::new(1),
            &ConvCase {
                c,
                k,
                kernel: [5, 5],
                ..CONV
            },
        );
        LayerKind::Convolution(p)
    };
    let fc = LayerKind::FullyConnected {
        nb_outputs: 500,
        kernel: weights(&mut rng, 500 * 800),
        bias: weights(&mut rng, 500),
    };
    for (name, kind, shape, out) in [
        ("conv1", conv(1, 20), vec![1, 28, 28], vec![20, 24, 24]),
        ("conv2", conv(20, 50), vec![20, 12, 12], vec![50, 8, 8]),
        ("ip1", fc, vec![50, 4, 4], vec![500, 1, 1]),
    ] {
        let layer = CpuLayer::new(&kind, &[&shape], &[&out]).expect("new");
        let x = rng.vec(batch * volume(&shape), -1.0, 1.0);
        let mut y = vec![0.0; batch * volume(&out)];
        let mut scratch = vec![0.0; layer.scratch_len(batch)];
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = std::time::Instant::now();
            let ins = [In {
                data: &x,
                batch,
                shape: &shape,
            }];
            layer
                .run(
                    batch,
                    &ins,
                    &mut [Out {
                        data: &mut y,
                        shape: &out,
                    }],
                    &mut scratch,
                )
                .expect("run");
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "{name}: median {:.3} ms, min {:.3} ms",
            times[100], times[0]
        );
    }
}
