//! The Caffe parser's layer mappings against Caffe's own definitions: each case is a small deploy
//! prototxt (and, where the layer has blobs, a caffemodel encoded here by hand), parsed, built and
//! run on the CPU (FP32, batch 1), and compared with a float64 reference written from Caffe's layer
//! source. Inputs come from a fixed-seed generator. Tolerance: the largest absolute difference may
//! be at most 1e-5 of the largest reference magnitude.

mod common;

use common::Rng;
use infer8::builder::{BuilderConfig, build_shared};
use infer8::engine::ExecutionContext;
use infer8::engine::context::HostBinding;
use infer8::logger::NullLogger;
use infer8::network::Network;
use infer8::parser::CaffeParser;
use infer8::types::DataType;

const TOLERANCE: f64 = 1e-5;

// ---- A minimal protobuf writer for the caffemodel (NetParameter) ----

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (wire type 2).
fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// `BlobProto { shape (7): BlobShape { dim (1): packed int64 }, data (5): packed float }`.
fn blob(dims: &[i64], data: &[f32]) -> Vec<u8> {
    assert_eq!(dims.iter().product::<i64>() as usize, data.len());
    let mut dim_bytes = Vec::new();
    for &d in dims {
        varint(&mut dim_bytes, d as u64);
    }
    let mut shape = Vec::new();
    field(&mut shape, 1, &dim_bytes);
    let mut out = Vec::new();
    field(&mut out, 7, &shape);
    let floats: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    field(&mut out, 5, &floats);
    out
}

/// A blob for the model: its dimensions and values.
type Blob = (Vec<i64>, Vec<f32>);

/// `NetParameter { layer (100): LayerParameter { name (1), blobs (7) } }`, one entry per layer.
fn model(layers: &[(&str, Vec<Blob>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, blobs) in layers {
        let mut layer = Vec::new();
        field(&mut layer, 1, name.as_bytes());
        for (dims, data) in blobs {
            field(&mut layer, 7, &blob(dims, data));
        }
        field(&mut out, 100, &layer);
    }
    out
}

// ---- Parse, build and run ----

/// A declared input: its name, its Caffe shape (batch 1 first) and its values.
#[derive(Clone, Copy)]
struct In<'a> {
    name: &'a str,
    shape: &'a [usize],
    data: &'a [f32],
}

/// The deploy text: `input`/`input_shape` for each input, then `layers`.
fn deploy(inputs: &[In], layers: &str) -> String {
    let mut s = String::from("name: \"t\"\n");
    for x in inputs {
        s += &format!("input: \"{}\"\n", x.name);
        s += "input_shape {";
        for d in x.shape {
            s += &format!(" dim: {d}");
        }
        s += " }\n";
    }
    s + layers
}

/// Parses, marks `outputs`, builds an FP32 engine and runs batch 1; returns each output's shape
/// (without the batch) and values.
fn run(
    inputs: &[In],
    layers: &str,
    model: Option<&[u8]>,
    outputs: &[&str],
) -> Vec<(Vec<usize>, Vec<f32>)> {
    let text = deploy(inputs, layers);
    let mut net = Network::new();
    let blobs = CaffeParser::new()
        .parse_buffers(text.as_bytes(), model, &mut net, DataType::Float)
        .unwrap_or_else(|e| panic!("parse: {e}\n{text}"));
    let ids: Vec<_> = outputs
        .iter()
        .map(|o| blobs.find(o).unwrap_or_else(|| panic!("no blob {o}")))
        .collect();
    for &t in &ids {
        net.mark_output(t).unwrap();
    }
    let shapes: Vec<Vec<usize>> = ids.iter().map(|&t| net.tensors[t].shape.clone()).collect();
    let engine = build_shared(&net, &BuilderConfig::default(), &NullLogger).unwrap();
    let bindings_meta: Vec<_> = engine
        .bindings
        .iter()
        .map(|b| {
            (
                b.name.clone(),
                b.tensor,
                b.is_input,
                b.shape.clone(),
                b.dtype,
            )
        })
        .collect();
    let mut cx = ExecutionContext::new(engine).unwrap();
    let in_bytes: Vec<Vec<u8>> = bindings_meta
        .iter()
        .filter(|b| b.2)
        .map(|b| {
            let x = inputs
                .iter()
                .find(|x| x.name == b.0)
                .unwrap_or_else(|| panic!("no input {}", b.0));
            x.data.iter().flat_map(|v| v.to_ne_bytes()).collect()
        })
        .collect();
    let mut out_bytes: Vec<Vec<u8>> = bindings_meta
        .iter()
        .filter(|b| !b.2)
        .map(|b| vec![0u8; b.3.iter().product::<usize>() * 4])
        .collect();
    let out_tensors: Vec<_> = bindings_meta
        .iter()
        .filter(|b| !b.2)
        .map(|b| (b.1, b.4))
        .collect();
    {
        let mut ins = in_bytes.iter();
        let mut outs = out_bytes.iter_mut();
        let mut bindings: Vec<HostBinding> = bindings_meta
            .iter()
            .map(|b| {
                if b.2 {
                    HostBinding::Input(ins.next().unwrap())
                } else {
                    HostBinding::Output(outs.next().unwrap())
                }
            })
            .collect();
        cx.execute(1, &mut bindings).unwrap();
    }
    ids.iter()
        .zip(shapes)
        .map(|(t, shape)| {
            let k = out_tensors.iter().position(|o| o.0 == *t).unwrap();
            // Int32 outputs (ArgMax indices) are compared as numbers.
            let int = out_tensors[k].1 == DataType::Int32;
            let values = out_bytes[k]
                .chunks_exact(4)
                .map(|c| {
                    let b = [c[0], c[1], c[2], c[3]];
                    if int {
                        i32::from_ne_bytes(b) as f32
                    } else {
                        f32::from_ne_bytes(b)
                    }
                })
                .collect();
            (shape, values)
        })
        .collect()
}

/// Shape (without the batch) and values against the reference, within [`TOLERANCE`].
fn check(what: &str, got: &(Vec<usize>, Vec<f32>), shape: &[usize], want: &[f64]) {
    assert_eq!(got.0, shape, "{what}: shape");
    assert_eq!(got.1.len(), want.len(), "{what}: size");
    let peak = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-12);
    let mut err = 0f64;
    for (i, (&g, &w)) in got.1.iter().zip(want).enumerate() {
        let e = (g as f64 - w).abs();
        assert!(e.is_finite(), "{what}: element {i} is {g}, expected {w}");
        err = err.max(e);
    }
    let rel = err / peak;
    assert!(
        rel <= TOLERANCE,
        "{what}: relative error {rel:e} (max abs {err:e}, peak {peak:e}); got {:?} want {:?}",
        &got.1[..got.1.len().min(8)],
        &want[..want.len().min(8)]
    );
}

const C: usize = 3;
const H: usize = 4;
const W: usize = 5;
const N: usize = C * H * W;

fn data(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    Rng::new(seed).vec(n, lo, hi)
}

/// A one-input, one-layer net on `x` ([1, C, H, W]) with output `y`.
fn unary(x: &[f32], layer: &str, model: Option<&[u8]>) -> (Vec<usize>, Vec<f32>) {
    let inputs = [In {
        name: "x",
        shape: &[1, C, H, W],
        data: x,
    }];
    run(&inputs, layer, model, &["y"]).remove(0)
}

fn layer(name: &str, ty: &str, params: &str) -> String {
    format!("layer {{ name: \"{name}\" type: \"{ty}\" bottom: \"x\" top: \"y\" {params} }}\n")
}

fn map(x: &[f32], f: impl Fn(f64) -> f64) -> Vec<f64> {
    x.iter().map(|&v| f(v as f64)).collect()
}

/// Channel of element `i` of a [C, H, W] tensor.
fn ch(i: usize) -> usize {
    i / (H * W)
}

// ---- Activations (activation.rs) ----

#[test]
fn elu() {
    // Caffe ELU: y = x > 0 ? x : alpha * (exp(x) - 1).
    let x = data(1, N, -3.0, 3.0);
    let got = unary(&x, &layer("y", "ELU", "elu_param { alpha: 0.7 }"), None);
    let want = map(&x, |v| if v > 0.0 { v } else { 0.7 * (v.exp() - 1.0) });
    check("ELU", &got, &[C, H, W], &want);
}

#[test]
fn absval() {
    let x = data(2, N, -3.0, 3.0);
    let got = unary(&x, &layer("y", "AbsVal", ""), None);
    check("AbsVal", &got, &[C, H, W], &map(&x, f64::abs));
}

#[test]
fn power() {
    // Caffe Power: y = (shift + scale * x) ^ power.
    let x = data(3, N, -2.0, 2.0);
    let p = "power_param { power: 2 scale: 0.5 shift: 1.5 }";
    let got = unary(&x, &layer("y", "Power", p), None);
    check(
        "Power 2",
        &got,
        &[C, H, W],
        &map(&x, |v| (1.5 + 0.5 * v).powi(2)),
    );
    let x = data(4, N, 0.1, 2.0);
    let p = "power_param { power: -0.5 scale: 2 shift: 0.25 }";
    let got = unary(&x, &layer("y", "Power", p), None);
    check(
        "Power -0.5",
        &got,
        &[C, H, W],
        &map(&x, |v| (0.25 + 2.0 * v).powf(-0.5)),
    );
    let p = "power_param { scale: -3 shift: 0.5 }";
    let got = unary(&x, &layer("y", "Power", p), None);
    check("Power 1", &got, &[C, H, W], &map(&x, |v| 0.5 - 3.0 * v));
}

#[test]
fn exp() {
    // Caffe Exp: y = base ^ (shift + scale * x), base -1 meaning e.
    let x = data(5, N, -2.0, 2.0);
    let got = unary(&x, &layer("y", "Exp", ""), None);
    check("Exp", &got, &[C, H, W], &map(&x, f64::exp));
    let p = "exp_param { base: 2 scale: 0.5 shift: 1 }";
    let got = unary(&x, &layer("y", "Exp", p), None);
    check(
        "Exp base 2",
        &got,
        &[C, H, W],
        &map(&x, |v| 2f64.powf(1.0 + 0.5 * v)),
    );
}

#[test]
fn log() {
    // Caffe Log: y = log_base(shift + scale * x), base -1 meaning e.
    let x = data(6, N, 0.1, 4.0);
    let got = unary(&x, &layer("y", "Log", ""), None);
    check("Log", &got, &[C, H, W], &map(&x, f64::ln));
    let p = "log_param { base: 10 scale: 2 shift: 0.5 }";
    let got = unary(&x, &layer("y", "Log", p), None);
    check(
        "Log base 10",
        &got,
        &[C, H, W],
        &map(&x, |v| (0.5 + 2.0 * v).log10()),
    );
}

#[test]
fn bnll() {
    // Caffe BNLL: y = log(1 + exp(x)).
    let x = data(7, N, -5.0, 5.0);
    let got = unary(&x, &layer("y", "BNLL", ""), None);
    check("BNLL", &got, &[C, H, W], &map(&x, |v| v.exp().ln_1p()));
}

#[test]
fn threshold() {
    // Caffe Threshold: y = x > threshold ? 1 : 0.
    let x = data(8, N, -1.0, 1.0);
    let p = "threshold_param { threshold: 0.2 }";
    let got = unary(&x, &layer("y", "Threshold", p), None);
    check(
        "Threshold",
        &got,
        &[C, H, W],
        &map(&x, |v| if v > 0.2 { 1.0 } else { 0.0 }),
    );
}

#[test]
fn clip() {
    // Caffe Clip: y = min(max(x, min), max).
    let x = data(9, N, -2.0, 2.0);
    let p = "clip_param { min: -0.5 max: 1.25 }";
    let got = unary(&x, &layer("y", "Clip", p), None);
    check("Clip", &got, &[C, H, W], &map(&x, |v| v.clamp(-0.5, 1.25)));
}

#[test]
fn relu_negative_slope() {
    // Caffe ReLU: y = max(x, 0) + negative_slope * min(x, 0).
    let x = data(10, N, -2.0, 2.0);
    let got = unary(&x, &layer("y", "ReLU", ""), None);
    check("ReLU", &got, &[C, H, W], &map(&x, |v| v.max(0.0)));
    let p = "relu_param { negative_slope: 0.1 }";
    let got = unary(&x, &layer("y", "ReLU", p), None);
    check(
        "ReLU slope",
        &got,
        &[C, H, W],
        &map(&x, |v| v.max(0.0) + 0.1 * v.min(0.0)),
    );
}

#[test]
fn prelu() {
    // Caffe PReLU: y = max(x, 0) + a[c] * min(x, 0); channel_shared: one a.
    let x = data(11, N, -2.0, 2.0);
    let a = data(12, C, 0.05, 0.5);
    let m = model(&[("y", vec![(vec![C as i64], a.clone())])]);
    let got = unary(&x, &layer("y", "PReLU", ""), Some(&m));
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let v = v as f64;
            v.max(0.0) + a[ch(i)] as f64 * v.min(0.0)
        })
        .collect();
    check("PReLU", &got, &[C, H, W], &want);
    let m = model(&[("y", vec![(vec![1], vec![0.3])])]);
    let p = "prelu_param { channel_shared: true }";
    let got = unary(&x, &layer("y", "PReLU", p), Some(&m));
    check(
        "PReLU shared",
        &got,
        &[C, H, W],
        &map(&x, |v| v.max(0.0) + 0.3f32 as f64 * v.min(0.0)),
    );
}

// ---- Normalisations (norm.rs) ----

/// Caffe BatchNorm (global stats): s = blob2[0] == 0 ? 0 : 1 / blob2[0];
/// y = (x - mean * s) / sqrt(var * s + eps).
fn batch_norm_ref(x: &[f32], mean: &[f32], var: &[f32], factor: f32, eps: f64) -> Vec<f64> {
    let s = if factor == 0.0 {
        0.0
    } else {
        1.0 / factor as f64
    };
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = ch(i);
            (v as f64 - mean[c] as f64 * s) / (var[c] as f64 * s + eps).sqrt()
        })
        .collect()
}

#[test]
fn batch_norm() {
    let x = data(20, N, -2.0, 2.0);
    let mean = data(21, C, -5.0, 5.0);
    let var = data(22, C, 1.0, 8.0);
    for (factor, eps, p) in [
        (2.5f32, 1e-5, ""),
        (
            1.0,
            1e-3,
            "batch_norm_param { use_global_stats: true eps: 0.001 }",
        ),
        (0.0, 0.01, "batch_norm_param { eps: 0.01 }"),
    ] {
        let m = model(&[(
            "y",
            vec![
                (vec![C as i64], mean.clone()),
                (vec![C as i64], var.clone()),
                (vec![1], vec![factor]),
            ],
        )]);
        let got = unary(&x, &layer("y", "BatchNorm", p), Some(&m));
        let want = batch_norm_ref(&x, &mean, &var, factor, eps as f32 as f64);
        check(
            &format!("BatchNorm factor {factor}"),
            &got,
            &[C, H, W],
            &want,
        );
    }
}

#[test]
fn scale_one_bottom() {
    // Caffe Scale (axis 1, num_axes 1): y = x * s[c] (+ b[c] with bias_term).
    let x = data(30, N, -2.0, 2.0);
    let s = data(31, C, -2.0, 2.0);
    let b = data(32, C, -1.0, 1.0);
    let m = model(&[(
        "y",
        vec![(vec![C as i64], s.clone()), (vec![C as i64], b.clone())],
    )]);
    let got = unary(
        &x,
        &layer("y", "Scale", "scale_param { bias_term: true }"),
        Some(&m),
    );
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f64 * s[ch(i)] as f64 + b[ch(i)] as f64)
        .collect();
    check("Scale bias", &got, &[C, H, W], &want);
    let m = model(&[("y", vec![(vec![C as i64], s.clone())])]);
    let got = unary(&x, &layer("y", "Scale", ""), Some(&m));
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f64 * s[ch(i)] as f64)
        .collect();
    check("Scale", &got, &[C, H, W], &want);
    // num_axes 0: one scalar.
    let m = model(&[("y", vec![(vec![], vec![1.75])])]);
    let got = unary(
        &x,
        &layer("y", "Scale", "scale_param { num_axes: 0 }"),
        Some(&m),
    );
    check("Scale scalar", &got, &[C, H, W], &map(&x, |v| v * 1.75));
}

#[test]
fn scale_two_bottoms() {
    // Caffe Scale, two bottoms, axis 0: bottom 1 ([1, C]) matches bottom 0's first axes;
    // y[n, c, h, w] = x[n, c, h, w] * s[n, c].
    let x = data(33, N, -2.0, 2.0);
    let s = data(34, C, -2.0, 2.0);
    let inputs = [
        In {
            name: "x",
            shape: &[1, C, H, W],
            data: &x,
        },
        In {
            name: "s",
            shape: &[1, C],
            data: &s,
        },
    ];
    let l = "layer { name: \"y\" type: \"Scale\" bottom: \"x\" bottom: \"s\" top: \"y\" \
             scale_param { axis: 0 } }";
    let got = run(&inputs, l, None, &["y"]).remove(0);
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f64 * s[ch(i)] as f64)
        .collect();
    check("Scale two bottoms", &got, &[C, H, W], &want);
}

#[test]
fn bias() {
    // Caffe Bias (axis 1, num_axes 1): y = x + b[c].
    let x = data(35, N, -2.0, 2.0);
    let b = data(36, C, -1.0, 1.0);
    let m = model(&[("y", vec![(vec![C as i64], b.clone())])]);
    let got = unary(&x, &layer("y", "Bias", ""), Some(&m));
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f64 + b[ch(i)] as f64)
        .collect();
    check("Bias", &got, &[C, H, W], &want);
}

#[test]
fn normalize() {
    // SSD Normalize: across_spatial: norm = sqrt(sum_{c,h,w} x^2 + eps), else per position
    // norm[h, w] = sqrt(sum_c x^2 + eps); y = x / norm * scale (scale[c], or one if channel_shared).
    let x = data(40, N, -2.0, 2.0);
    let sc = data(41, C, 0.5, 20.0);
    let eps = 1e-10f32 as f64;
    let m = model(&[("y", vec![(vec![C as i64], sc.clone())])]);
    let p = "norm_param { across_spatial: false channel_shared: false }";
    let got = unary(&x, &layer("y", "Normalize", p), Some(&m));
    let want: Vec<f64> = (0..N)
        .map(|i| {
            let hw = i % (H * W);
            let sum: f64 = (0..C).map(|c| (x[c * H * W + hw] as f64).powi(2)).sum();
            x[i] as f64 / (sum + eps).sqrt() * sc[ch(i)] as f64
        })
        .collect();
    check("Normalize per position", &got, &[C, H, W], &want);
    let m = model(&[("y", vec![(vec![1], vec![7.5])])]);
    let p = "norm_param { across_spatial: true channel_shared: true eps: 0.001 }";
    let got = unary(&x, &layer("y", "Normalize", p), Some(&m));
    let sum: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
    let norm = (sum + 0.001f32 as f64).sqrt();
    check(
        "Normalize across spatial",
        &got,
        &[C, H, W],
        &map(&x, |v| v / norm * 7.5),
    );
}

#[test]
fn softmax_axis() {
    // Caffe Softmax over `axis` (default 1, the channels).
    let x = data(42, N, -3.0, 3.0);
    for (axis, p) in [
        (1usize, ""),
        (2, "softmax_param { axis: 2 }"),
        (3, "softmax_param { axis: -1 }"),
    ] {
        let got = unary(&x, &layer("y", "Softmax", p), None);
        let dims = [C, H, W];
        let inner: usize = dims[axis..].iter().product();
        let n = dims[axis - 1];
        let want: Vec<f64> = (0..N)
            .map(|i| {
                let base = i - (i / inner % n) * inner;
                let xs: Vec<f64> = (0..n).map(|k| x[base + k * inner] as f64).collect();
                let m = xs.iter().cloned().fold(f64::MIN, f64::max);
                let s: f64 = xs.iter().map(|v| (v - m).exp()).sum();
                (x[i] as f64 - m).exp() / s
            })
            .collect();
        check(&format!("Softmax axis {axis}"), &got, &[C, H, W], &want);
    }
}

#[test]
fn lrn() {
    let x = data(43, N, -2.0, 2.0);
    let (n, alpha, beta, k) = (3usize, 0.3f64, 0.75f64, 1.5f64);
    let at = |c: usize, h: usize, w: usize| x[(c * H + h) * W + w] as f64;
    // ACROSS_CHANNELS: y = x / (k + alpha / n * sum_{window over c} x^2) ^ beta.
    let p = format!("lrn_param {{ local_size: {n} alpha: {alpha} beta: {beta} k: {k} }}");
    let got = unary(&x, &layer("y", "LRN", &p), None);
    let mut want = vec![0f64; N];
    for c in 0..C {
        for h in 0..H {
            for w in 0..W {
                let lo = c.saturating_sub(n / 2);
                let hi = (c + n / 2).min(C - 1);
                let s: f64 = (lo..=hi).map(|cc| at(cc, h, w).powi(2)).sum();
                want[(c * H + h) * W + w] = at(c, h, w) / (k + alpha / n as f64 * s).powf(beta);
            }
        }
    }
    check("LRN across channels", &got, &[C, H, W], &want);
    // WITHIN_CHANNEL: an AVE pooling of x^2 (kernel n, pad (n-1)/2, stride 1, dividing by the
    // window clipped to the padded extent, i.e. n*n inside), then y = x / (1 + alpha * avg)^beta.
    for n in [3usize, 5] {
        let p = format!(
            "lrn_param {{ local_size: {n} alpha: {alpha} beta: {beta} norm_region: WITHIN_CHANNEL }}"
        );
        let got = unary(&x, &layer("y", "LRN", &p), None);
        let pad = (n - 1) / 2;
        let mut want = vec![0f64; N];
        for c in 0..C {
            for h in 0..H {
                for w in 0..W {
                    let (hs, ws) = (h as i64 - pad as i64, w as i64 - pad as i64);
                    let he = (hs + n as i64).min((H + pad) as i64);
                    let we = (ws + n as i64).min((W + pad) as i64);
                    let size = ((he - hs) * (we - ws)) as f64;
                    let mut s = 0f64;
                    for hh in hs.max(0)..he.min(H as i64) {
                        for ww in ws.max(0)..we.min(W as i64) {
                            s += at(c, hh as usize, ww as usize).powi(2);
                        }
                    }
                    want[(c * H + h) * W + w] = at(c, h, w) / (1.0 + alpha * s / size).powf(beta);
                }
            }
        }
        check(&format!("LRN within channel {n}"), &got, &[C, H, W], &want);
    }
}

// ---- Tensor layers (tensor.rs) ----

fn two_inputs<'a>(a: &'a [f32], b: &'a [f32]) -> [In<'a>; 2] {
    [
        In {
            name: "a",
            shape: &[1, C, H, W],
            data: a,
        },
        In {
            name: "b",
            shape: &[1, C, H, W],
            data: b,
        },
    ]
}

#[test]
fn eltwise() {
    // Caffe Eltwise: SUM (sum_i coeff_i * x_i), PROD, MAX.
    let a = data(50, N, -2.0, 2.0);
    let b = data(51, N, -2.0, 2.0);
    let c = data(52, N, -2.0, 2.0);
    type Case = (&'static str, &'static str, fn(f64, f64) -> f64);
    let cases: [Case; 4] = [
        ("SUM", "", |a, b| a + b),
        ("SUM coeff", "coeff: 0.5 coeff: -2", |a, b| {
            0.5 * a - 2.0 * b
        }),
        ("PROD", "operation: PROD", |a, b| a * b),
        ("MAX", "operation: MAX", |a, b| a.max(b)),
    ];
    for (what, p, f) in cases {
        let l = format!(
            "layer {{ name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" top: \"y\" \
             eltwise_param {{ {p} }} }}"
        );
        let got = run(&two_inputs(&a, &b), &l, None, &["y"]).remove(0);
        let want: Vec<f64> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| f(x as f64, y as f64))
            .collect();
        check(&format!("Eltwise {what}"), &got, &[C, H, W], &want);
    }
    // Three bottoms with coefficients.
    let mut inputs = two_inputs(&a, &b).to_vec();
    inputs.push(In {
        name: "c",
        shape: &[1, C, H, W],
        data: &c,
    });
    let l = "layer { name: \"y\" type: \"Eltwise\" bottom: \"a\" bottom: \"b\" bottom: \"c\" \
             top: \"y\" eltwise_param { coeff: 1 coeff: 3 coeff: -0.25 } }";
    let got = run(&inputs, l, None, &["y"]).remove(0);
    let want: Vec<f64> = (0..N)
        .map(|i| a[i] as f64 + 3.0 * b[i] as f64 - 0.25 * c[i] as f64)
        .collect();
    check("Eltwise SUM 3 coeff", &got, &[C, H, W], &want);
}

#[test]
fn concat_and_flatten() {
    let a = data(53, N, -2.0, 2.0);
    let b = data(54, N, -2.0, 2.0);
    // Caffe Concat (axis 1): channels of a, then of b.
    let l = "layer { name: \"y\" type: \"Concat\" bottom: \"a\" bottom: \"b\" top: \"y\" }";
    let got = run(&two_inputs(&a, &b), l, None, &["y"]).remove(0);
    let want: Vec<f64> = a.iter().chain(&b).map(|&v| v as f64).collect();
    check("Concat", &got, &[2 * C, H, W], &want);
    // Concat axis 3 (width).
    let l = "layer { name: \"y\" type: \"Concat\" bottom: \"a\" bottom: \"b\" top: \"y\" \
             concat_param { axis: 3 } }";
    let got = run(&two_inputs(&a, &b), l, None, &["y"]).remove(0);
    let mut want = Vec::new();
    for r in 0..C * H {
        want.extend(a[r * W..(r + 1) * W].iter().map(|&v| v as f64));
        want.extend(b[r * W..(r + 1) * W].iter().map(|&v| v as f64));
    }
    check("Concat axis 3", &got, &[C, H, 2 * W], &want);
    // Caffe Flatten (axis 1 to the end): [1, C*H*W], same order.
    let got = unary(&a, &layer("y", "Flatten", ""), None);
    check("Flatten", &got, &[N], &map(&a, |v| v));
}

#[test]
fn slice() {
    // Caffe Slice: axis 1, slice_point 1 and 3 on 5 channels give 1, 2 and 2 channels.
    let x = data(55, 5 * H * W, -2.0, 2.0);
    let inputs = [In {
        name: "x",
        shape: &[1, 5, H, W],
        data: &x,
    }];
    let l = "layer { name: \"s\" type: \"Slice\" bottom: \"x\" top: \"p\" top: \"q\" top: \"r\" \
             slice_param { axis: 1 slice_point: 1 slice_point: 3 } }";
    let got = run(&inputs, l, None, &["p", "q", "r"]);
    let hw = H * W;
    let part = |lo: usize, hi: usize| -> Vec<f64> {
        x[lo * hw..hi * hw].iter().map(|&v| v as f64).collect()
    };
    check("Slice p", &got[0], &[1, H, W], &part(0, 1));
    check("Slice q", &got[1], &[2, H, W], &part(1, 3));
    check("Slice r", &got[2], &[2, H, W], &part(3, 5));
    // Axis 2 without slice points: equal parts (H = 4 into 2).
    let inputs = [In {
        name: "x",
        shape: &[1, C, H, W],
        data: &x[..N],
    }];
    let l = "layer { name: \"s\" type: \"Slice\" bottom: \"x\" top: \"p\" top: \"q\" \
             slice_param { axis: 2 } }";
    let got = run(&inputs, l, None, &["p", "q"]);
    for (k, name) in ["p", "q"].iter().enumerate() {
        let want: Vec<f64> = (0..C)
            .flat_map(|c| {
                let start = (c * H + k * 2) * W;
                x[start..start + 2 * W].iter().map(|&v| v as f64)
            })
            .collect();
        check(&format!("Slice axis 2 {name}"), &got[k], &[C, 2, W], &want);
    }
}

#[test]
fn reshape() {
    // Caffe Reshape: dim 0 copies the bottom's, -1 is inferred; the order is unchanged.
    let x = data(56, N, -2.0, 2.0);
    let p = "reshape_param { shape { dim: 0 dim: -1 dim: 10 } }";
    let got = unary(&x, &layer("y", "Reshape", p), None);
    check("Reshape", &got, &[N / 10, 10], &map(&x, |v| v));
}

#[test]
fn permute() {
    // SSD Permute: top dimension i is bottom dimension order[i]; order 0 2 3 1 gives [N, H, W, C].
    let x = data(57, N, -2.0, 2.0);
    let p = "permute_param { order: 0 order: 2 order: 3 order: 1 }";
    let got = unary(&x, &layer("y", "Permute", p), None);
    let mut want = Vec::new();
    for h in 0..H {
        for w in 0..W {
            for c in 0..C {
                want.push(x[(c * H + h) * W + w] as f64);
            }
        }
    }
    check("Permute 0231", &got, &[H, W, C], &want);
    let p = "permute_param { order: 0 order: 3 order: 1 order: 2 }";
    let got = unary(&x, &layer("y", "Permute", p), None);
    let mut want = Vec::new();
    for w in 0..W {
        for c in 0..C {
            for h in 0..H {
                want.push(x[(c * H + h) * W + w] as f64);
            }
        }
    }
    check("Permute 0312", &got, &[W, C, H], &want);
}

#[test]
fn crop() {
    // Caffe Crop: dimensions from `axis` on take bottom 1's size, starting at `offset` (one value
    // for all of them, or one each); earlier dimensions are kept.
    let (h, w) = (8usize, 9usize);
    let x = data(58, C * h * w, -2.0, 2.0);
    let r = vec![0f32; 2 * 4 * 5];
    let inputs = [
        In {
            name: "x",
            shape: &[1, C, h, w],
            data: &x,
        },
        In {
            name: "r",
            shape: &[1, 2, 4, 5],
            data: &r,
        },
    ];
    // (The parser rejects crops of the channel axis, axis 1: TensorRT crops only H and W.)
    let cases: [(&str, [usize; 2]); 3] = [
        ("crop_param { axis: 2 offset: 1 offset: 3 }", [1, 3]),
        ("crop_param { axis: 2 offset: 2 }", [2, 2]),
        ("crop_param { axis: -2 offset: 4 offset: 0 }", [4, 0]),
    ];
    let (oc, c0) = (C, 0);
    for (p, [h0, w0]) in cases {
        let l = format!(
            "layer {{ name: \"y\" type: \"Crop\" bottom: \"x\" bottom: \"r\" top: \"y\" {p} }}"
        );
        let got = run(&inputs, &l, None, &["y"]).remove(0);
        let mut want = Vec::new();
        for c in 0..oc {
            for i in 0..4 {
                for j in 0..5 {
                    want.push(x[((c0 + c) * h + h0 + i) * w + w0 + j] as f64);
                }
            }
        }
        check(&format!("Crop {p}"), &got, &[oc, 4, 5], &want);
    }
}

#[test]
fn reduction() {
    // Caffe Reduction: all axes from `axis` to the end are reduced (SUM, ASUM = sum |x|,
    // SUMSQ = sum x^2, MEAN = SUM / count), then multiplied by coeff; the top keeps the axes before.
    let x = data(59, N, -2.0, 2.0);
    type Op = (&'static str, fn(&[f64]) -> f64);
    let ops: [Op; 4] = [
        ("SUM", |v| v.iter().sum()),
        ("ASUM", |v| v.iter().map(|x| x.abs()).sum()),
        ("SUMSQ", |v| v.iter().map(|x| x * x).sum()),
        ("MEAN", |v| v.iter().sum::<f64>() / v.len() as f64),
    ];
    for (op, f) in ops {
        for (axis, coeff) in [(1usize, 1.0f64), (2, -0.5), (3, 2.0)] {
            let p = format!("reduction_param {{ operation: {op} axis: {axis} coeff: {coeff} }}");
            let got = unary(&x, &layer("y", "Reduction", &p), None);
            let dims = [C, H, W];
            let inner: usize = dims[axis - 1..].iter().product();
            let want: Vec<f64> = x
                .chunks(inner)
                .map(|ch| {
                    let v: Vec<f64> = ch.iter().map(|&v| v as f64).collect();
                    coeff * f(&v)
                })
                .collect();
            // Caffe's top is dims[..axis]; the mapping keeps the reduced axes as 1s (same values and
            // order): see `reduction_top_shape`.
            let mut shape = dims[..axis - 1].to_vec();
            shape.resize(3, 1);
            check(
                &format!("Reduction {op} axis {axis} coeff {coeff}"),
                &got,
                &shape,
                &want,
            );
        }
    }
}

/// Where TensorRT's Caffe parser departs from Caffe, infer8 follows TensorRT (issue 3: models load
/// as TensorRT loaded them): Reduction keeps the reduced axes as 1s (`parseReduction` adds a reduce
/// layer with keepDimensions; Caffe's top has only the axes before `axis`), and ArgMax indices are
/// an INT32 tensor (a TopK layer's index output; Caffe stores them as floats).
#[test]
fn reduction_and_argmax_follow_tensorrt() {
    let x = data(59, N, -2.0, 2.0);
    for (axis, shape) in [
        (1usize, vec![1, 1, 1]),
        (2, vec![C, 1, 1]),
        (3, vec![C, H, 1]),
    ] {
        let p = format!("reduction_param {{ axis: {axis} }}");
        let got = unary(&x, &layer("y", "Reduction", &p), None);
        assert_eq!(got.0, shape, "Reduction axis {axis}");
    }
    let text = deploy(
        &[In {
            name: "x",
            shape: &[1, C, H, W],
            data: &[],
        }],
        &layer("y", "ArgMax", "argmax_param { axis: 1 }"),
    );
    let mut net = Network::new();
    let blobs = CaffeParser::new()
        .parse_buffers(text.as_bytes(), None, &mut net, DataType::Float)
        .unwrap();
    let y = blobs.find("y").unwrap();
    assert_eq!(net.tensors[y].dtype, DataType::Int32);
}

#[test]
fn argmax() {
    // Caffe ArgMax with `axis`: along it, the top_k largest, in descending order, as indices or,
    // with out_max_val, as the values themselves.
    let x = data(60, N, -2.0, 2.0);
    let at = |c: usize, h: usize, w: usize| x[(c * H + h) * W + w];
    let sorted = |h: usize, w: usize| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..C).collect();
        idx.sort_by(|&a, &b| at(b, h, w).partial_cmp(&at(a, h, w)).unwrap());
        idx
    };
    for (k, max_val) in [(1usize, false), (2, false), (2, true)] {
        let p = format!("argmax_param {{ axis: 1 top_k: {k} out_max_val: {max_val} }}");
        let got = unary(&x, &layer("y", "ArgMax", &p), None);
        let mut want = vec![0f64; k * H * W];
        for h in 0..H {
            for w in 0..W {
                let s = sorted(h, w);
                for j in 0..k {
                    want[(j * H + h) * W + w] = if max_val {
                        at(s[j], h, w) as f64
                    } else {
                        s[j] as f64
                    };
                }
            }
        }
        check(
            &format!("ArgMax top_k {k} out_max_val {max_val}"),
            &got,
            &[k, H, W],
            &want,
        );
    }
}

#[test]
fn argmax_without_axis() {
    // Caffe ArgMax without `axis`: over each image's C*H*W values; top [N, 1, top_k] of indices.
    let x = data(61, N, -2.0, 2.0);
    let got = unary(&x, &layer("y", "ArgMax", "argmax_param { top_k: 3 }"), None);
    let mut idx: Vec<usize> = (0..N).collect();
    idx.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap());
    let want: Vec<f64> = idx[..3].iter().map(|&i| i as f64).collect();
    check("ArgMax flat top_k 3", &got, &[1, 3], &want);
}

/// Caffe forms the mapping rejects (TensorRT's implicit batch cannot express them): an error that
/// names the layer, not a wrong network.
#[test]
fn unsupported_forms_are_errors() {
    let x = In {
        name: "x",
        shape: &[1, C, H, W],
        data: &[],
    };
    let cases = [
        (
            // Two-bottom Scale with bias_term: Caffe's bias has bottom 1's shape, batch included.
            vec![
                x,
                In {
                    name: "s",
                    shape: &[1, C],
                    data: &[],
                },
            ],
            "layer { name: \"y\" type: \"Scale\" bottom: \"x\" bottom: \"s\" top: \"y\" \
             scale_param { axis: 0 bias_term: true } }",
        ),
        (
            vec![
                x,
                In {
                    name: "r",
                    shape: &[1, 2, 2, 2],
                    data: &[],
                },
            ],
            "layer { name: \"y\" type: \"Crop\" bottom: \"x\" bottom: \"r\" top: \"y\" \
             crop_param { axis: 1 } }",
        ),
        (
            vec![x],
            "layer { name: \"y\" type: \"ArgMax\" bottom: \"x\" top: \"y\" \
             argmax_param { out_max_val: true } }",
        ),
        (
            vec![x],
            "layer { name: \"y\" type: \"Reduction\" bottom: \"x\" top: \"y\" }",
        ),
    ];
    for (inputs, l) in cases {
        let text = deploy(&inputs, l);
        let mut net = Network::new();
        let err = CaffeParser::new()
            .parse_buffers(text.as_bytes(), None, &mut net, DataType::Float)
            .expect_err(l)
            .to_string();
        assert!(err.contains("'y'"), "{l}: {err}");
    }
}

#[test]
fn scale_and_bias_elementwise() {
    // Caffe Scale/Bias with num_axes -1 from axis 1: one parameter per C*H*W element.
    let x = data(70, N, -2.0, 2.0);
    let s = data(71, N, -2.0, 2.0);
    let b = data(72, N, -1.0, 1.0);
    let dims = vec![C as i64, H as i64, W as i64];
    let m = model(&[(
        "y",
        vec![(dims.clone(), s.clone()), (dims.clone(), b.clone())],
    )]);
    let p = "scale_param { num_axes: -1 bias_term: true }";
    let got = unary(&x, &layer("y", "Scale", p), Some(&m));
    let want: Vec<f64> = (0..N)
        .map(|i| x[i] as f64 * s[i] as f64 + b[i] as f64)
        .collect();
    check("Scale elementwise", &got, &[C, H, W], &want);
    let m = model(&[("y", vec![(dims, b.clone())])]);
    let got = unary(
        &x,
        &layer("y", "Bias", "bias_param { num_axes: -1 }"),
        Some(&m),
    );
    let want: Vec<f64> = (0..N).map(|i| x[i] as f64 + b[i] as f64).collect();
    check("Bias elementwise", &got, &[C, H, W], &want);
}

#[test]
fn bias_two_bottoms() {
    // Caffe Bias, two bottoms, axis 0: y[n, c, h, w] = x[n, c, h, w] + b[n, c, h].
    let x = data(73, N, -2.0, 2.0);
    let b = data(74, C * H, -2.0, 2.0);
    let inputs = [
        In {
            name: "x",
            shape: &[1, C, H, W],
            data: &x,
        },
        In {
            name: "b",
            shape: &[1, C, H],
            data: &b,
        },
    ];
    let l = "layer { name: \"y\" type: \"Bias\" bottom: \"x\" bottom: \"b\" top: \"y\" \
             bias_param { axis: 0 } }";
    let got = run(&inputs, l, None, &["y"]).remove(0);
    let want: Vec<f64> = (0..N).map(|i| x[i] as f64 + b[i / W] as f64).collect();
    check("Bias two bottoms", &got, &[C, H, W], &want);
}

#[test]
fn normalize_defaults() {
    // Normalize's defaults: across_spatial true, channel_shared true, eps 1e-10.
    let x = data(75, N, -2.0, 2.0);
    let m = model(&[("y", vec![(vec![1], vec![3.0])])]);
    let got = unary(&x, &layer("y", "Normalize", ""), Some(&m));
    let sum: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
    let norm = (sum + 1e-10f32 as f64).sqrt();
    check(
        "Normalize defaults",
        &got,
        &[C, H, W],
        &map(&x, |v| v / norm * 3.0),
    );
}
