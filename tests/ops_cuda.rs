//! Operator suite for the CUDA backend against the CPU backend (the oracle), on seeded random data:
//! each case is a small network built in FP32, FP16 and INT8 and run by a CPU context and a CUDA
//! context of the same engine. Passes with "skipped: no CUDA device" where there is no GPU.
//!
//! Error measure: `max|cuda - cpu| / max|cpu|` per output, ≤ 1e-5 in FP32 and ≤ 1e-2 in FP16. In
//! INT8 the absolute error must stay within one quantization step of the output tensor.

#![cfg(feature = "cuda")]

mod caffe_support;
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::Rng;
use infer8::backend::Device;
use infer8::backend::cuda::{self, DeviceBuffer};
use infer8::builder::{BuilderConfig, build_engine, host_histograms};
use infer8::calib::{Algorithm, Histogram, NUM_BINS, compute_amax};
use infer8::engine::context::HostBinding;
use infer8::engine::{Engine, ExecutionContext, Tactic};
use infer8::logger::NullLogger;
use infer8::network::{ConvParams, LayerKind, Network, PoolParams, ShuffleParams, TensorId};
use infer8::types::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Fp32,
    Fp16,
    Int8,
}
const ALL: [Mode; 3] = [Mode::Fp32, Mode::Fp16, Mode::Int8];

static WORST: Mutex<[f64; 3]> = Mutex::new([0.0; 3]);

fn have_gpu() -> bool {
    if cuda::gpu().is_none() {
        eprintln!("skipped: no CUDA device ({})", cuda::unavailable_reason());
        return false;
    }
    true
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A binding's bytes: INT32 bindings (indices) hold their values as integers, Bool bindings
/// (conditions) as one byte each.
fn binding_bytes(dtype: DataType, v: &[f32]) -> Vec<u8> {
    match dtype {
        DataType::Int32 => v.iter().flat_map(|&x| (x as i32).to_ne_bytes()).collect(),
        DataType::Bool => v.iter().map(|&x| x as u8).collect(),
        _ => bytes(v),
    }
}

/// A binding's values from its bytes.
fn binding_values(dtype: DataType, b: &[u8]) -> Vec<f32> {
    match dtype {
        DataType::Int32 => b
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        _ => floats(b),
    }
}

/// The input bindings' bytes, `inputs` in binding order.
fn input_bytes(engine: &Engine, inputs: &[Vec<f32>]) -> Vec<Vec<u8>> {
    engine
        .bindings
        .iter()
        .filter(|b| b.is_input)
        .zip(inputs)
        .map(|(b, v)| binding_bytes(b.dtype, v))
        .collect()
}

/// Sets every tensor's dynamic range from a CPU FP32 run, so INT8 engines need no calibrator.
fn set_ranges(net: &mut Network, inputs: &[Vec<f32>], batch: usize) {
    let engine = Arc::new(
        build_engine(
            net,
            &BuilderConfig {
                max_batch_size: batch,
                ..Default::default()
            },
            None,
            &NullLogger,
        )
        .expect("fp32 engine"),
    );
    let mut amax = vec![0f32; engine.network.tensors.len()];
    let mut ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cpu).expect("context");
    let ins = input_bytes(&engine, inputs);
    let mut outs: Vec<Vec<u8>> = engine
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| vec![0u8; batch * volume(&b.shape) * 4])
        .collect();
    let mut views: Vec<HostBinding> = ins.iter().map(|b| HostBinding::Input(b)).collect();
    views.extend(outs.iter_mut().map(|b| HostBinding::Output(b)));
    for (&t, x) in engine.network.inputs.iter().zip(inputs) {
        amax[t] = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    }
    ctx.run(batch, &mut views, &mut |t, d| {
        amax[t] = amax[t].max(d.iter().fold(0f32, |m, v| m.max(v.abs())))
    })
    .expect("fp32 run");
    for (et, a) in engine.network.tensors.iter().zip(&amax) {
        if let Some(t) = net.tensors.iter_mut().find(|t| t.name == et.name) {
            let a = if *a > 0.0 { *a } else { 1.0 };
            t.dynamic_range = Some((-a, a));
        }
    }
}

fn engine(net: &Network, mode: Mode, batch: usize, inputs: &[Vec<f32>]) -> Arc<Engine> {
    let mut net = net.clone();
    if mode == Mode::Int8 {
        set_ranges(&mut net, inputs, batch);
    }
    let config = BuilderConfig {
        max_batch_size: batch,
        fp16: mode == Mode::Fp16,
        int8: mode == Mode::Int8,
        // What the samples give (`setMaxWorkspaceSize(1 << 30)`): room for every split reduction.
        max_workspace_size: 1 << 30,
        ..Default::default()
    };
    Arc::new(build_engine(&net, &config, None, &NullLogger).expect("build"))
}

/// Runs the engine on the CPU (host buffers) and on CUDA (device buffers); returns both outputs.
fn run_both(engine: &Arc<Engine>, inputs: &[Vec<f32>], batch: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    let outs: Vec<(usize, DataType)> = engine
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| (batch * volume(&b.shape), b.dtype))
        .collect();
    let ins = input_bytes(engine, inputs);
    let mut cpu_out: Vec<Vec<u8>> = outs.iter().map(|&(n, _)| vec![0u8; n * 4]).collect();
    let mut views: Vec<HostBinding> = ins.iter().map(|b| HostBinding::Input(b)).collect();
    views.extend(cpu_out.iter_mut().map(|b| HostBinding::Output(b)));
    ExecutionContext::with_device(Arc::clone(engine), Device::Cpu)
        .expect("cpu context")
        .execute(batch, &mut views)
        .expect("cpu run");

    let mut gpu =
        ExecutionContext::with_device(Arc::clone(engine), Device::Cuda).expect("cuda context");
    let dev_in: Vec<DeviceBuffer> = ins
        .iter()
        .map(|b| DeviceBuffer::from_slice(b).expect("upload"))
        .collect();
    // Poisoned outputs: an element the GPU never writes shows up as NaN.
    let dev_out: Vec<DeviceBuffer> = outs
        .iter()
        .map(|&(n, _)| DeviceBuffer::from_slice(&vec![f32::NAN; n]).expect("alloc"))
        .collect();
    let ptrs: Vec<u64> = dev_in
        .iter()
        .chain(&dev_out)
        .map(DeviceBuffer::ptr)
        .collect();
    // Twice: the first run captures the CUDA graph, the second replays it.
    for _ in 0..2 {
        // SAFETY: device buffers sized for `batch` items of each binding.
        unsafe { gpu.execute_device(batch, &ptrs) }.expect("cuda run");
    }
    dev_out
        .iter()
        .zip(&cpu_out)
        .zip(&outs)
        .map(|((d, c), &(_, dtype))| {
            let mut g = vec![0u8; c.len()];
            d.download(&mut g).expect("download");
            (binding_values(dtype, c), binding_values(dtype, &g))
        })
        .collect()
}

/// The network `inputs` → layer → output, in every mode given, on the GPU (the CUDA backend runs
/// the engine itself, not through the host).
fn check_net(what: &str, net: &Network, inputs: &[Vec<f32>], batch: usize, modes: &[Mode]) {
    for &mode in modes {
        let e = engine(net, mode, batch, inputs);
        let why = cuda::unsupported(&e);
        assert!(why.is_none(), "{what} {mode:?}: runs on the host: {why:?}");
        check_engine(what, &e, inputs, batch, mode);
    }
}

/// One engine built in `mode`, CUDA against the CPU.
fn check_engine(what: &str, e: &Arc<Engine>, inputs: &[Vec<f32>], batch: usize, mode: Mode) {
    let step = |t: TensorId| e.scales[t].unwrap_or(0.0) as f64;
    let out_steps: Vec<f64> = e
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| step(b.tensor))
        .collect();
    for (i, (cpu, gpu)) in run_both(e, inputs, batch).into_iter().enumerate() {
        let peak = cpu
            .iter()
            .fold(0f64, |m, v| m.max(v.abs() as f64))
            .max(1e-6);
        let mut err = 0f64;
        for (j, (&c, &g)) in cpu.iter().zip(&gpu).enumerate() {
            let same_special = (c.is_nan() && g.is_nan()) || (c.is_infinite() && c == g);
            assert!(
                same_special || g.is_finite(),
                "{what} {mode:?}: output {i}[{j}] is {g}, CPU {c}"
            );
            if !same_special {
                err = err.max((c as f64 - g as f64).abs());
            }
        }
        let rel = err / peak;
        let (ok, limit) = match mode {
            Mode::Fp32 => (rel <= 1e-5, "1e-5 relative".to_string()),
            Mode::Fp16 => (rel <= 1e-2, "1e-2 relative".to_string()),
            Mode::Int8 => {
                let q = out_steps[i].max(1e-5 * peak);
                (err <= q * 1.0001, format!("one quantization step {q:e}"))
            }
        };
        assert!(
            ok,
            "{what} {mode:?}: output {i} error {err:e} (relative {rel:e}) exceeds {limit}"
        );
        let mut worst = WORST.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut worst[mode as usize];
        if rel > *slot {
            *slot = rel;
            eprintln!("worst {mode:?} relative error so far: {rel:.3e} ({what})");
        }
    }
}

/// One layer on random inputs of the given shapes.
fn check_layer(
    what: &str,
    kind: LayerKind,
    shapes: &[&[usize]],
    batch: usize,
    modes: &[Mode],
    rng: &mut Rng,
) {
    let mut net = Network::new();
    let ids: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            net.add_input(&format!("in{i}"), DataType::Float, s)
                .expect("add_input")
        })
        .collect();
    let l = net.add_layer(kind, &ids).expect("add_layer");
    net.layers[l].name = what.to_string();
    let outs = net.layers[l].outputs.clone();
    for t in outs {
        net.mark_output(t).expect("mark_output");
    }
    let inputs: Vec<Vec<f32>> = shapes
        .iter()
        .map(|s| rng.vec(batch * s.iter().product::<usize>(), -1.0, 1.0))
        .collect();
    check_net(what, &net, &inputs, batch, modes);
}

fn w(rng: &mut Rng, n: usize) -> Weights {
    Weights::new(rng.vec(n, -1.0, 1.0))
}

fn conv(
    rng: &mut Rng,
    c: usize,
    k: usize,
    kernel: [usize; 2],
    groups: usize,
    bias: bool,
) -> ConvParams {
    let b = if bias {
        w(rng, k)
    } else {
        Weights::new(Vec::new())
    };
    let mut p = ConvParams::new(k, kernel, w(rng, k * c / groups * kernel[0] * kernel[1]), b);
    p.groups = groups;
    p
}

#[test]
fn convolution() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(1);
    let mut cases: Vec<(&str, ConvParams, [usize; 3])> = Vec::new();
    cases.push((
        "conv 5x5",
        conv(&mut rng, 3, 8, [5, 5], 1, true),
        [3, 12, 12],
    ));
    let mut p = conv(&mut rng, 4, 6, [3, 3], 2, true);
    p.stride = [2, 1];
    p.pre_padding = [1, 2];
    p.post_padding = [1, 2];
    p.dilation = [1, 2];
    cases.push(("conv strided padded dilated grouped", p, [4, 9, 11]));
    // Stride 1, padded, a channel count that is not a multiple of 4: conv.cu's shallow variant
    // when the shared family runs, with its window loads crossing the padding.
    let mut p = conv(&mut rng, 2, 7, [3, 3], 1, true);
    p.pre_padding = [1, 1];
    p.post_padding = [1, 1];
    cases.push(("conv 3x3 padded 7 maps", p, [2, 9, 10]));
    let mut p = conv(&mut rng, 3, 5, [3, 3], 1, false);
    p.padding_mode = PaddingMode::SameUpper;
    p.stride = [2, 2];
    cases.push(("conv same-upper no bias", p, [3, 8, 7]));
    for (what, p, s) in cases {
        check_layer(what, LayerKind::Convolution(p), &[&s], 3, &ALL, &mut rng);
    }
}

#[test]
fn fully_connected() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(2);
    for (what, n, s, batch) in [
        ("fc 10<-3x4x5", 10usize, vec![3usize, 4, 5], 7usize),
        ("fc 70<-33", 70, vec![33, 1, 1], 130),
        ("fc leading dims", 5, vec![2, 3, 2, 2], 3),
    ] {
        let k: usize = s[s.len().saturating_sub(3)..].iter().product();
        let kind = LayerKind::FullyConnected {
            nb_outputs: n,
            kernel: w(&mut rng, n * k),
            bias: w(&mut rng, n),
        };
        check_layer(what, kind, &[&s], batch, &ALL, &mut rng);
    }
}

/// fc_rows.cu takes runs of at most 8 rows of an engine built for more: LeNet's classifier
/// (800 inputs: whole 16-byte pieces; 500: INT8 element by element) with ReLU and a fused
/// softmax, at batches on both sides of 8, against the CPU.
#[test]
fn fc_few_rows() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(21);
    let mut net = Network::new();
    let mut t = net
        .add_input("x", DataType::Float, &[800, 1, 1])
        .expect("input");
    for kind in [
        LayerKind::FullyConnected {
            nb_outputs: 500,
            kernel: w(&mut rng, 500 * 800),
            bias: w(&mut rng, 500),
        },
        LayerKind::Activation {
            kind: ActivationType::Relu,
            alpha: 0.0,
            beta: 0.0,
        },
        LayerKind::FullyConnected {
            nb_outputs: 10,
            kernel: w(&mut rng, 10 * 500),
            bias: w(&mut rng, 10),
        },
        LayerKind::SoftMax { axes: 1 },
    ] {
        let l = net.add_layer(kind, &[t]).expect("layer");
        t = net.layers[l].outputs[0];
    }
    net.mark_output(t).expect("output");
    let most = 16;
    let inputs = vec![rng.vec(most * 800, -1.0, 1.0)];
    for mode in ALL {
        let e = engine(&net, mode, most, &inputs);
        for batch in [1, 3, 8, 9, 16] {
            let part = vec![inputs[0][..batch * 800].to_vec()];
            check_engine(&format!("classifier batch {batch}"), &e, &part, batch, mode);
        }
    }
}

/// fc_mma.cu: an FC layer over more rows than two of its tiles an SM (on an H100/H200, more than
/// 4224 items for 500 channels) reading an activation's output (INT8 on the layer's grid, or
/// half), with a ReLU; then one whose 500 INT8 inputs are not whole 16-byte words a row
/// (igemm.cu) and a softmax. Batches on both sides of the threshold, one with a last tile of
/// one row, against the CPU.
#[test]
fn fc_layers_over_many_rows() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(22);
    // Weights small enough that the logits stay a few units: FP32's 1e-5 is then a check of
    // the sums, not of how sharp the softmax is.
    let mut w = |n: usize| Weights::new(rng.vec(n, -0.05, 0.05));
    let mut net = Network::new();
    let mut t = net
        .add_input("x", DataType::Float, &[50, 4, 4])
        .expect("input");
    let relu = || LayerKind::Activation {
        kind: ActivationType::Relu,
        alpha: 0.0,
        beta: 0.0,
    };
    for kind in [
        relu(),
        LayerKind::FullyConnected {
            nb_outputs: 500,
            kernel: w(500 * 800),
            bias: w(500),
        },
        relu(),
        LayerKind::FullyConnected {
            nb_outputs: 10,
            kernel: w(10 * 500),
            bias: w(10),
        },
        LayerKind::SoftMax { axes: 1 },
    ] {
        let l = net.add_layer(kind, &[t]).expect("layer");
        t = net.layers[l].outputs[0];
    }
    net.mark_output(t).expect("output");
    let most = 4500;
    let inputs = vec![rng.vec(most * 800, -1.0, 1.0)];
    for mode in ALL {
        let e = engine(&net, mode, most, &inputs);
        for batch in [100, 4225, most] {
            let part = vec![inputs[0][..batch * 800].to_vec()];
            check_engine(
                &format!("FC 500<-800 batch {batch}"),
                &e,
                &part,
                batch,
                mode,
            );
        }
    }
}

/// INT8 calibration statistics collected on the GPU against the CPU's, on the same network
/// (convolution, ReLU, pooling, FC, softmax) and batches: each tensor's range equal to FP32
/// rounding (1e-5 relative), the same number of values, and every algorithm's range within one
/// histogram bin of the CPU's.
#[test]
fn calibration_statistics_match_the_cpu() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(31);
    let mut net = Network::new();
    let mut t = net
        .add_input("x", DataType::Float, &[3, 12, 12])
        .expect("input");
    for kind in [
        LayerKind::Convolution(conv(&mut rng, 3, 8, [3, 3], 1, true)),
        LayerKind::Activation {
            kind: ActivationType::Relu,
            alpha: 0.0,
            beta: 0.0,
        },
        LayerKind::Pooling(PoolParams::new(PoolingType::Max, [2, 2])),
        LayerKind::FullyConnected {
            nb_outputs: 30,
            kernel: w(&mut rng, 30 * 8 * 5 * 5),
            bias: w(&mut rng, 30),
        },
        LayerKind::SoftMax { axes: 1 },
    ] {
        let l = net.add_layer(kind, &[t]).expect("layer");
        t = net.layers[l].outputs[0];
    }
    net.mark_output(t).expect("output");
    let batch = 6;
    let batches: Vec<Vec<Vec<f32>>> = (0..5)
        .map(|_| vec![rng.vec(batch * 3 * 12 * 12, -2.0, 2.0)])
        .collect();
    calibration_matches(&net, batch, &batches);
}

/// A plugin layer in the network: the GPU collects the statistics, the plugin running on device
/// memory.
#[test]
fn calibration_statistics_with_a_plugin_match_the_cpu() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(32);
    let (net, _, _) = plugin_network(&mut rng);
    let batch = 4;
    let batches: Vec<Vec<Vec<f32>>> = (0..3)
        .map(|_| vec![rng.vec(batch * 3 * 6 * 6, -2.0, 2.0)])
        .collect();
    calibration_matches(&net, batch, &batches);
}

/// Calibration statistics of `net` over `batches` on the GPU against the CPU's: the same ranges
/// (to FP32 rounding) and amax within a bin for every algorithm.
fn calibration_matches(net: &Network, batch: usize, batches: &[Vec<Vec<f32>>]) {
    let cpu = host_histograms(net, batch, batches, true).expect("CPU statistics");
    let gpu = cuda::calibration_histograms(net, batch, batches, true).expect("GPU statistics");
    assert_eq!(cpu.len(), gpu.len());
    let algorithms = [
        Algorithm::Entropy,
        Algorithm::Entropy2,
        Algorithm::MinMax,
        Algorithm::Percentile(99.9),
        Algorithm::Legacy {
            quantile: 0.999,
            regression_cutoff: 0.5,
        },
    ];
    for (t, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
        let name = &net.tensors[t].name;
        assert!(c.absmax > 0.0, "tensor '{name}' was not observed");
        assert!(
            (c.absmax - g.absmax).abs() <= 1e-5 * c.absmax,
            "tensor '{name}': range {} on the GPU, {} on the CPU",
            g.absmax,
            c.absmax
        );
        let total = |h: &Histogram| h.zeros + h.bins.iter().sum::<u64>();
        assert_eq!(total(c), total(g), "tensor '{name}': values counted");
        let moved: u64 = c
            .bins
            .iter()
            .zip(&g.bins)
            .map(|(a, b)| a.abs_diff(*b))
            .sum();
        eprintln!("tensor '{name}': {moved} counts differ between the CPU and GPU bins");
        for alg in &algorithms {
            let (a, b) = (compute_amax(alg, c), compute_amax(alg, g));
            let bin = c.absmax / NUM_BINS as f32;
            assert!(
                (a - b).abs() <= bin * 1.001,
                "tensor '{name}' {alg:?}: amax {b} on the GPU, {a} on the CPU (bin {bin})"
            );
        }
    }
}

/// `setMaxWorkspaceSize` bounds the split reduction: an FC layer of 9 column tiles and 25
/// reduction steps at batch 1 splits across the GPU with room, less within a small limit, not at
/// all with none, and gives the CPU's results each way.
#[test]
fn workspace_limit_bounds_the_split_reduction() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(12);
    let mut net = Network::new();
    let x = net
        .add_input("x", DataType::Float, &[800, 1, 1])
        .expect("input");
    let kind = LayerKind::FullyConnected {
        nb_outputs: 500,
        kernel: w(&mut rng, 500 * 800),
        bias: w(&mut rng, 500),
    };
    let l = net.add_layer(kind, &[x]).expect("fc");
    let y = net.layers[l].outputs[0];
    net.mark_output(y).expect("output");
    let inputs = vec![rng.vec(800, -1.0, 1.0)];
    // A partial tile is room for 128 x 64 accumulators (FP32's tile) and a counter: 32772 bytes.
    let small = 20 * 32772;
    let (mut sizes, mut wants) = (Vec::new(), Vec::new());
    for limit in [1usize << 30, small, 32772, 0] {
        let config = BuilderConfig {
            max_batch_size: 1,
            max_workspace_size: limit,
            ..Default::default()
        };
        let mut e = build_engine(&net, &config, None, &NullLogger).expect("build");
        assert_eq!(e.max_workspace_size, limit);
        assert!(
            e.workspace_size <= limit,
            "limit {limit}: the plan built with the timed tactic needs {} bytes",
            e.workspace_size
        );
        // Timing may prefer fc.cu's tiles, which never split: the limit is checked on igemm.cu.
        e.tactics = vec![Some(Tactic::Igemm)];
        let wanted;
        (e.workspace_size, wanted) = cuda::workspace_size(&e).expect("workspace of the igemm plan");
        assert!(
            wanted >= e.workspace_size,
            "limit {limit}: the plan uses {} bytes, more than the {wanted} it wants",
            e.workspace_size
        );
        assert!(
            e.workspace_size <= limit,
            "limit {limit}: the igemm plan needs {} bytes",
            e.workspace_size
        );
        let e = Arc::new(e);
        check_engine(
            &format!("fc 500<-800, workspace {limit}"),
            &e,
            &inputs,
            1,
            Mode::Fp32,
        );
        sizes.push(e.workspace_size);
        wants.push(wanted);
    }
    // The other kernel families (scripts/gpu-check.sh forces each) never split.
    if std::env::var("INFER8_CUDA_CONV").is_ok_and(|v| v == "shared" || v == "direct") {
        assert_eq!(sizes, [0; 4], "only igemm.cu splits reductions");
        return;
    }
    let (full, limited) = (sizes[0], sizes[1]);
    assert!(
        wants.iter().all(|&w| w == full),
        "the unlimited split wants {full} bytes at every limit: {wants:?}"
    );
    assert!(
        full > small && limited > 0 && limited <= small,
        "workspace with room {full}, within {small} bytes {limited} (expected a split in both, \
         fewer partial tiles in the second)"
    );
    assert_eq!(
        &sizes[2..],
        &[0, 0],
        "a limit below two partial tiles must not split"
    );
}

/// A logger that keeps every message.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl infer8::logger::Logger for Lines {
    fn log(&self, _: infer8::logger::Severity, msg: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(msg.to_string());
    }
}

/// Built on the GPU, each convolution and FC layer gets the kernel family timing found fastest
/// (min 2 measurements of 3 launches each), logged and kept through serialization, and the
/// engine still gives the CPU's results in every mode.
#[test]
fn tactics_are_timed_per_layer_and_recorded() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(13);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[3, 16, 16]).unwrap();
    let c1 = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 3, 8, [3, 3], 1, true)),
            &[x],
        )
        .unwrap();
    let t1 = net.layers[c1].outputs[0];
    let c2 = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 8, 6, [5, 5], 2, true)),
            &[t1],
        )
        .unwrap();
    let t2 = net.layers[c2].outputs[0];
    let fc = net
        .add_layer(
            LayerKind::FullyConnected {
                nb_outputs: 10,
                kernel: w(&mut rng, 10 * 6 * 10 * 10),
                bias: w(&mut rng, 10),
            },
            &[t2],
        )
        .unwrap();
    let y = net.layers[fc].outputs[0];
    net.mark_output(y).unwrap();
    let batch = 4;
    let inputs = vec![rng.vec(batch * 3 * 16 * 16, -1.0, 1.0)];
    // scripts/gpu-check.sh runs the suite once unforced ("timed") and once per forced family.
    let forced = std::env::var("INFER8_CUDA_CONV")
        .is_ok_and(|v| ["igemm", "shared", "direct"].contains(&v.as_str()));
    for mode in ALL {
        let mut net = net.clone();
        if mode == Mode::Int8 {
            set_ranges(&mut net, &inputs, batch);
        }
        let config = BuilderConfig {
            max_batch_size: batch,
            max_workspace_size: 1 << 30,
            fp16: mode == Mode::Fp16,
            int8: mode == Mode::Int8,
            min_find_iterations: 2,
            avg_find_iterations: 3,
            ..Default::default()
        };
        let log = Lines::default();
        let e = build_engine(&net, &config, None, &log).expect("build");
        let lines = log.0.into_inner().unwrap_or_else(|e| e.into_inner());
        for (l, layer) in e.network.layers.iter().enumerate() {
            let timed = matches!(
                layer.kind,
                LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
            );
            if forced || !timed {
                assert_eq!(
                    e.tactics[l], None,
                    "{mode:?}: layer '{}' has a tactic (INFER8_CUDA_CONV set: {forced})",
                    layer.name
                );
                continue;
            }
            let t = e.tactics[l].unwrap_or_else(|| {
                panic!(
                    "{mode:?}: no tactic recorded for layer '{}'; log:\n{}",
                    layer.name,
                    lines.join("\n")
                )
            });
            let chose = format!("Layer '{}': chose tactic {}", layer.name, t.name());
            assert!(
                lines
                    .iter()
                    .any(|m| m.starts_with(&chose) && m.contains("2 x 3 launches")),
                "{mode:?}: no '{chose} ... 2 x 3 launches' line; log:\n{}",
                lines.join("\n")
            );
            let timings = lines
                .iter()
                .filter(|m| m.starts_with(&format!("Layer '{}': tactic ", layer.name)))
                .count();
            assert_eq!(
                timings, 3,
                "{mode:?}: layer '{}' timed {timings} times",
                layer.name
            );
        }
        // The grouped convolution has no implicit GEMM: timing cannot have picked one.
        assert_ne!(
            e.tactics[c2],
            Some(Tactic::Igemm),
            "{mode:?}: grouped conv on igemm"
        );
        let back = infer8::engine::serialize::from_bytes(&infer8::engine::serialize::to_bytes(&e))
            .expect("round trip");
        assert_eq!(
            back.tactics, e.tactics,
            "{mode:?}: tactics lost in the engine file"
        );
        check_engine(
            &format!("timed tactics {:?}", e.tactics),
            &Arc::new(e),
            &inputs,
            batch,
            mode,
        );
    }
}

/// Convolution or FC followed by an activation: the activation is fused into the epilogue.
#[test]
fn fused_activation_and_int8_chain() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(3);
    for act in [
        ActivationType::Relu,
        ActivationType::LeakyRelu,
        ActivationType::Sigmoid,
    ] {
        let mut net = Network::new();
        let x = net.add_input("x", DataType::Float, &[2, 10, 10]).unwrap();
        let c1 = net
            .add_layer(
                LayerKind::Convolution(conv(&mut rng, 2, 6, [3, 3], 1, true)),
                &[x],
            )
            .unwrap();
        let t = net.layers[c1].outputs[0];
        let a = net
            .add_layer(
                LayerKind::Activation {
                    kind: act,
                    alpha: 0.1,
                    beta: 0.0,
                },
                &[t],
            )
            .unwrap();
        let t = net.layers[a].outputs[0];
        let p = net
            .add_layer(
                LayerKind::Pooling(PoolParams::new(PoolingType::Max, [2, 2])),
                &[t],
            )
            .unwrap();
        let t = net.layers[p].outputs[0];
        let c2 = net
            .add_layer(
                LayerKind::Convolution(conv(&mut rng, 6, 4, [3, 3], 1, true)),
                &[t],
            )
            .unwrap();
        let t = net.layers[c2].outputs[0];
        let f = net
            .add_layer(
                LayerKind::FullyConnected {
                    nb_outputs: 20,
                    kernel: w(&mut rng, 20 * 16),
                    bias: w(&mut rng, 20),
                },
                &[t],
            )
            .unwrap();
        let t = net.layers[f].outputs[0];
        let r = net
            .add_layer(
                LayerKind::Activation {
                    kind: ActivationType::Relu,
                    alpha: 0.0,
                    beta: 0.0,
                },
                &[t],
            )
            .unwrap();
        let t = net.layers[r].outputs[0];
        let f2 = net
            .add_layer(
                LayerKind::FullyConnected {
                    nb_outputs: 10,
                    kernel: w(&mut rng, 200),
                    bias: w(&mut rng, 10),
                },
                &[t],
            )
            .unwrap();
        let t = net.layers[f2].outputs[0];
        net.mark_output(t).unwrap();
        let batch = 5;
        let inputs = vec![rng.vec(batch * 200, -1.0, 1.0)];
        check_net(
            &format!("conv+{act:?}+pool+conv+fc+relu+fc"),
            &net,
            &inputs,
            batch,
            &ALL,
        );
    }
}

/// An INT8 chain of convolutions and two FC layers runs small batches as chain.cu's two launches:
/// a padded strided convolution of 3 channels (staged as 4) under 2x2 max pooling (pooled in
/// registers, into the next layer's padded staging), one of 12 channels under 3x3 max pooling of
/// stride 2 (a pass of its own), FC layers of 108 inputs (rows not 16-byte multiples) and 36
/// outputs (two groups of 32), softmax. Against the CPU within one quantization step, and bit for
/// bit against the layer-by-layer launches of the same engine at a batch beyond the chain's.
#[test]
fn int8_chain_of_convolutions_and_two_fc_layers() {
    if !have_gpu() {
        return;
    }
    // Three input channels, and one (whose first layer plan/chain.rs stages in rows).
    for c in [3, 1] {
        int8_chain(c);
    }
}

fn int8_chain(c: usize) {
    let mut rng = Rng::new(31);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[c, 32, 32]).unwrap();
    let relu = LayerKind::Activation {
        kind: ActivationType::Relu,
        alpha: 0.0,
        beta: 0.0,
    };
    let mut p = conv(&mut rng, c, 12, [3, 3], 1, true);
    p.stride = [2, 2];
    p.pre_padding = [1, 1];
    p.post_padding = [1, 1];
    let mut t = x;
    let mut pool = PoolParams::new(PoolingType::Max, [3, 3]);
    pool.stride = [2, 2];
    let fc = |rng: &mut Rng, n: usize, k: usize| LayerKind::FullyConnected {
        nb_outputs: n,
        kernel: w(rng, n * k),
        bias: w(rng, n),
    };
    let mut p2 = conv(&mut rng, 12, 12, [3, 3], 1, true);
    p2.pre_padding = [1, 1];
    p2.post_padding = [1, 1];
    let layers = [
        LayerKind::Convolution(p),
        relu.clone(),
        LayerKind::Pooling(PoolParams::new(PoolingType::Max, [2, 2])),
        LayerKind::Convolution(p2),
        relu.clone(),
        LayerKind::Pooling(pool),
        // 300 outputs: 10 blocks of 32 for 16 items, so that runs of a few hundred items have
        // more blocks than the GPU has SMs (plan/chain.rs keeps blocks apart below that).
        fc(&mut rng, 300, 12 * 3 * 3),
        relu,
        fc(&mut rng, 10, 300),
        LayerKind::SoftMax { axes: 1 },
    ];
    for kind in layers {
        let l = net.add_layer(kind, &[t]).unwrap();
        t = net.layers[l].outputs[0];
    }
    net.mark_output(t).unwrap();
    // Beyond the most items the chain takes (plan/chain.rs MOST_ITEMS); within it, FC blocks one
    // an SM and packed.
    let (large, small, mid) = (1100, 37, 600);
    let item = c * 1024;
    let inputs = vec![rng.vec(large * item, -1.0, 1.0)];
    let e = engine(&net, Mode::Int8, large, &inputs);
    let ex = cuda::Executor::new(&e, &None).expect("executor");
    // scripts/gpu-check.sh forces kernel families on some runs, which (like INFER8_CUDA_CHAIN=0)
    // keeps every batch layer by layer.
    let chained = std::env::var_os("INFER8_CUDA_CONV").is_none()
        && std::env::var("INFER8_CUDA_CHAIN").map_or(true, |v| v != "0");
    assert_eq!(
        ex.nb_launches(small) == 2,
        chained,
        "the chain's launches at batch {small}"
    );
    assert!(ex.nb_launches(large) > 2, "layer by layer at batch {large}");
    check_engine("int8 chain, layer by layer", &e, &inputs, large, Mode::Int8);
    let layered = &run_both(&e, &inputs, large)[0].1;
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for batch in [small, mid] {
        let first = vec![inputs[0][..batch * item].to_vec()];
        check_engine("int8 chain", &e, &first, batch, Mode::Int8);
        let few = &run_both(&e, &first, batch)[0].1;
        assert_eq!(
            bits(few),
            bits(&layered[..few.len()]),
            "{c} channels, batch {batch}"
        );
    }
}

#[test]
fn pooling() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(4);
    for kind in [
        PoolingType::Max,
        PoolingType::Average,
        PoolingType::MaxAverageBlend,
    ] {
        for (mode, pre, exclude) in [
            (PaddingMode::ExplicitRoundDown, [0, 0], true),
            (PaddingMode::CaffeRoundUp, [1, 1], false),
            (PaddingMode::SameUpper, [0, 0], true),
        ] {
            let mut p = PoolParams::new(kind, [3, 2]);
            p.stride = [2, 2];
            p.pre_padding = pre;
            p.post_padding = pre;
            p.padding_mode = mode;
            p.blend_factor = 0.3;
            p.average_count_excludes_padding = exclude;
            check_layer(
                &format!("pool {kind:?} {mode:?}"),
                LayerKind::Pooling(p),
                &[&[3, 9, 8]],
                4,
                &[Mode::Fp32, Mode::Fp16],
                &mut rng,
            );
        }
    }
}

#[test]
fn activation() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(5);
    for &kind in ActivationType::ALL {
        let layer = LayerKind::Activation {
            kind,
            alpha: 0.4,
            beta: 0.7,
        };
        check_layer(
            &format!("activation {kind:?}"),
            layer,
            &[&[3, 5, 4]],
            3,
            &[Mode::Fp32, Mode::Fp16],
            &mut rng,
        );
    }
}

#[test]
fn softmax_scale_lrn_padding_identity() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(6);
    for axes in [1u32, 2, 4] {
        check_layer(
            &format!("softmax axes {axes}"),
            LayerKind::SoftMax { axes },
            &[&[4, 3, 5]],
            3,
            &[Mode::Fp32, Mode::Fp16],
            &mut rng,
        );
    }
    for (mode, n) in [
        (ScaleMode::Uniform, 1),
        (ScaleMode::Channel, 3),
        (ScaleMode::Elementwise, 36),
    ] {
        let power = Weights::new(vec![2.0; n]);
        let kind = LayerKind::Scale {
            mode,
            shift: Weights::new(rng.vec(n, 1.0, 2.0)),
            scale: w(&mut rng, n),
            power,
        };
        check_layer(
            &format!("scale {mode:?}"),
            kind,
            &[&[3, 3, 4]],
            2,
            &[Mode::Fp32, Mode::Fp16],
            &mut rng,
        );
    }
    let lrn = LayerKind::Lrn {
        window: 3,
        alpha: 1e-2,
        beta: 0.75,
        k: 2.0,
    };
    check_layer(
        "lrn",
        lrn,
        &[&[5, 3, 3]],
        2,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
    let pad = LayerKind::Padding {
        pre: [1, -1],
        post: [2, 1],
    };
    check_layer(
        "padding",
        pad,
        &[&[2, 4, 5]],
        3,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
    check_layer(
        "identity",
        LayerKind::Identity,
        &[&[2, 4, 5]],
        3,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
}

#[test]
fn unary() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(7);
    for &op in UnaryOperation::ALL {
        // Inputs in (-1, 1); the domains of log, sqrt and acosh need a shift, done by a Scale.
        let mut net = Network::new();
        let x = net.add_input("x", DataType::Float, &[2, 3, 4]).unwrap();
        let shift = if matches!(
            op,
            UnaryOperation::Log | UnaryOperation::Sqrt | UnaryOperation::Acosh
        ) {
            2.0
        } else {
            0.0
        };
        let s = net
            .add_layer(
                LayerKind::Scale {
                    mode: ScaleMode::Uniform,
                    shift: Weights::new(vec![shift]),
                    scale: Weights::new(vec![0.9]),
                    power: Weights::new(vec![1.0]),
                },
                &[x],
            )
            .unwrap();
        let t = net.layers[s].outputs[0];
        let u = net.add_layer(LayerKind::Unary { op }, &[t]).unwrap();
        let t = net.layers[u].outputs[0];
        net.mark_output(t).unwrap();
        let inputs = vec![rng.vec(3 * 24, -1.0, 1.0)];
        check_net(
            &format!("unary {op:?}"),
            &net,
            &inputs,
            3,
            &[Mode::Fp32, Mode::Fp16],
        );
    }
}

#[test]
fn elementwise_prelu_concat_constant() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(8);
    for &op in ElementWiseOperation::ALL {
        check_layer(
            &format!("elementwise {op:?}"),
            LayerKind::ElementWise { op },
            &[&[3, 4, 5], &[3, 1, 5]],
            3,
            &[Mode::Fp32, Mode::Fp16],
            &mut rng,
        );
    }
    check_layer(
        "prelu",
        LayerKind::ParametricRelu,
        &[&[3, 4, 5], &[3, 1, 1]],
        2,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
    check_layer(
        "concat",
        LayerKind::Concatenation { axis: 0 },
        &[&[2, 3, 4], &[3, 3, 4]],
        3,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
    check_layer(
        "concat axis 2",
        LayerKind::Concatenation { axis: 2 },
        &[&[2, 3, 4], &[2, 3, 1]],
        3,
        &[Mode::Fp32, Mode::Fp16],
        &mut rng,
    );
    // A batch-invariant constant broadcast against the batch.
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[2, 3, 4]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Constant {
                dims: vec![2, 3, 4],
                weights: w(&mut rng, 24),
            },
            &[],
        )
        .unwrap();
    let ct = net.layers[c].outputs[0];
    let s = net
        .add_layer(
            LayerKind::ElementWise {
                op: ElementWiseOperation::Sum,
            },
            &[x, ct],
        )
        .unwrap();
    let t = net.layers[s].outputs[0];
    net.mark_output(t).unwrap();
    let inputs = vec![rng.vec(4 * 24, -1.0, 1.0)];
    check_net(
        "constant + input",
        &net,
        &inputs,
        4,
        &[Mode::Fp32, Mode::Fp16],
    );
}

/// Convolutions with a fused max pooling at batches whose jobs stage several items
/// (resident.cu in FP16 and INT8, igemm.cu in FP32): 64 channels (eight channel tiles) pooled
/// 4x4 (windows of 16 rows) and 2x1 (2 rows) from 3 input channels (padded to a word) with
/// padding, and 9 channels of stride 2 pooled 2x2 and not pooled.
#[test]
fn pooled_convolutions_in_jobs_of_items() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(12);
    let mut wide = conv(&mut rng, 3, 64, [3, 3], 1, true);
    wide.pre_padding = [1, 1];
    wide.post_padding = [1, 1];
    let mut strided = conv(&mut rng, 5, 9, [5, 5], 1, true);
    strided.stride = [2, 2];
    // Shapes of shallow.cu's tensor-core variant (FP16 and INT8 under the shared family): LeNet's
    // conv1; odd output sizes with asymmetric padding (2x2 blocks past the last row and column);
    // two input channels, a 3x3 kernel and channels that fill no n8 tile.
    let lenet1 = conv(&mut rng, 1, 20, [5, 5], 1, true);
    let mut odd = conv(&mut rng, 1, 11, [5, 5], 1, true);
    odd.pre_padding = [2, 2];
    odd.post_padding = [1, 1];
    let two = conv(&mut rng, 2, 7, [3, 3], 1, false);
    for (what, p, s, window, batch) in [
        (
            "conv 1->20 5x5 + pool 2x2",
            &lenet1,
            [1, 28, 28],
            [2, 2],
            700,
        ),
        ("conv 1->11 5x5 padded 2/1", &odd, [1, 16, 14], [1, 1], 300),
        ("conv 2->7 3x3 + pool 2x2", &two, [2, 13, 12], [2, 2], 500),
        (
            "conv 3->64 padded + pool 4x4",
            &wide,
            [3, 16, 16],
            [4, 4],
            600,
        ),
        (
            "conv 3->64 padded + pool 2x1",
            &wide,
            [3, 16, 16],
            [2, 1],
            600,
        ),
        (
            "conv 5->9 stride 2 + pool 2x2",
            &strided,
            [5, 21, 21],
            [2, 2],
            1100,
        ),
        ("conv 5->9 stride 2", &strided, [5, 21, 21], [1, 1], 1100),
    ] {
        let mut net = Network::new();
        let x = net.add_input("x", DataType::Float, &s).unwrap();
        let c = net
            .add_layer(LayerKind::Convolution(p.clone()), &[x])
            .unwrap();
        let mut t = net.layers[c].outputs[0];
        if window != [1, 1] {
            let pool = net
                .add_layer(
                    LayerKind::Pooling(PoolParams::new(PoolingType::Max, window)),
                    &[t],
                )
                .unwrap();
            t = net.layers[pool].outputs[0];
        }
        net.mark_output(t).unwrap();
        let inputs = vec![rng.vec(batch * s.iter().product::<usize>(), -1.0, 1.0)];
        check_net(what, &net, &inputs, batch, &ALL);
    }
}

/// Grid sizes: a batch of 65536 through convolution, pooling, FC and softmax.
#[test]
fn batch_65536() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(9);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[1, 6, 6]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 1, 4, [3, 3], 1, true)),
            &[x],
        )
        .unwrap();
    let t = net.layers[c].outputs[0];
    let p = net
        .add_layer(
            LayerKind::Pooling(PoolParams::new(PoolingType::Max, [2, 2])),
            &[t],
        )
        .unwrap();
    let t = net.layers[p].outputs[0];
    let f = net
        .add_layer(
            LayerKind::FullyConnected {
                nb_outputs: 10,
                kernel: w(&mut rng, 160),
                bias: w(&mut rng, 10),
            },
            &[t],
        )
        .unwrap();
    let t = net.layers[f].outputs[0];
    let s = net.add_layer(LayerKind::SoftMax { axes: 1 }, &[t]).unwrap();
    let t = net.layers[s].outputs[0];
    net.mark_output(t).unwrap();
    let batch = 65536;
    let inputs = vec![rng.vec(batch * 36, -1.0, 1.0)];
    check_net("batch 65536", &net, &inputs, batch, &ALL);
}

/// New binding pointers for a batch size already captured: the graph is captured again.
#[test]
fn new_bindings_recapture() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(11);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[4]).unwrap();
    let a = net
        .add_layer(
            LayerKind::Activation {
                kind: ActivationType::Relu,
                alpha: 0.0,
                beta: 0.0,
            },
            &[x],
        )
        .unwrap();
    let t = net.layers[a].outputs[0];
    net.mark_output(t).unwrap();
    let e = engine(&net, Mode::Fp32, 2, &[]);
    let mut ctx = ExecutionContext::with_device(e, Device::Cuda).unwrap();
    for _ in 0..3 {
        let v = rng.vec(8, -1.0, 1.0);
        let (i, o) = (
            DeviceBuffer::from_slice(&v).unwrap(),
            DeviceBuffer::alloc(32).unwrap(),
        );
        // SAFETY: buffers of 2 items of 4 floats.
        unsafe { ctx.execute_device(2, &[i.ptr(), o.ptr()]) }.unwrap();
        let mut got = vec![0f32; 8];
        o.download(&mut got).unwrap();
        assert_eq!(got, v.iter().map(|x| x.max(0.0)).collect::<Vec<_>>());
    }
}

/// LeNet on MNIST-sized random digits: the CUDA engine agrees with the CPU engine in every mode.
#[test]
fn lenet_matches_cpu() {
    if !have_gpu() {
        return;
    }
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let models = data.join("models/lenet");
    let mut rng = Rng::new(12);
    for mode in ALL {
        let mut net = Network::new();
        let weights = if mode == Mode::Fp16 {
            DataType::Half
        } else {
            DataType::Float
        };
        let blobs = infer8::parser::CaffeParser::new()
            .parse(
                &models.join("lenet.prototxt"),
                Some(&models.join("lenet_iter_10000.caffemodel")),
                &mut net,
                weights,
            )
            .expect("parse lenet");
        net.mark_output(blobs.find("prob").expect("prob")).unwrap();
        let batch = 100;
        let inputs = vec![rng.vec(batch * 784, 0.0, 1.0)];
        check_net("lenet", &net, &inputs, batch, &[mode]);
    }
}

/// Four contexts of one engine, each on its own thread and CUDA stream, enqueueing 20 times
/// concurrently: every output is bit-identical to one context's.
#[test]
fn contexts_on_streams_match_one_context() {
    use cudarc::driver::sys;
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(21);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[2, 12, 12]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 2, 8, [5, 5], 1, true)),
            &[x],
        )
        .unwrap();
    let t = net.layers[c].outputs[0];
    let f = net
        .add_layer(
            LayerKind::FullyConnected {
                nb_outputs: 10,
                kernel: w(&mut rng, 10 * 8 * 8 * 8),
                bias: w(&mut rng, 10),
            },
            &[t],
        )
        .unwrap();
    let t = net.layers[f].outputs[0];
    net.mark_output(t).unwrap();
    let batch = 64;
    let input = rng.vec(batch * 2 * 12 * 12, -1.0, 1.0);
    for mode in ALL {
        let e = engine(&net, mode, batch, std::slice::from_ref(&input));
        let run = |stream: sys::CUstream, iters: usize| -> Vec<f32> {
            let mut ctx = ExecutionContext::with_device(Arc::clone(&e), Device::Cuda).unwrap();
            let dev_in = DeviceBuffer::from_slice(&input).unwrap();
            let dev_out = DeviceBuffer::from_slice(&vec![f32::NAN; batch * 10]).unwrap();
            let ptrs = [dev_in.ptr(), dev_out.ptr()];
            for _ in 0..iters {
                // SAFETY: device buffers of `batch` items; the stream is this thread's own.
                unsafe { ctx.enqueue_device(batch, &ptrs, stream as u64, None) }.unwrap();
            }
            // SAFETY: the stream the work went to.
            unsafe { cuda::synchronize(stream as u64) }.unwrap();
            let mut out = vec![0f32; batch * 10];
            dev_out.download(&mut out).unwrap();
            out
        };
        let reference = run(std::ptr::null_mut(), 1);
        let outs: Vec<Vec<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        // The context is current on this thread once the default stream is
                        // synchronized (the backend binds the primary context first).
                        // SAFETY: the default stream.
                        unsafe { cuda::synchronize(0) }.unwrap();
                        let mut stream: sys::CUstream = std::ptr::null_mut();
                        // SAFETY: an out-parameter; flag 1 is CU_STREAM_NON_BLOCKING.
                        let r = unsafe { sys::cuStreamCreate(&mut stream, 1) };
                        assert_eq!(r, sys::CUresult::CUDA_SUCCESS);
                        let out = run(stream, 20);
                        // SAFETY: our stream, idle after the synchronization in `run`.
                        unsafe { sys::cuStreamDestroy_v2(stream) };
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, out) in outs.iter().enumerate() {
            let same = out
                .iter()
                .zip(&reference)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{mode:?}: context {i} on its own stream differs");
        }
    }
}

/// An application allocator (TensorRT's `IGpuAllocator`) serves every device buffer of a context:
/// the outputs are bit-identical to a context on the driver's memory, and everything it gave is
/// given back when the context is dropped.
#[test]
fn application_allocator_serves_device_memory() {
    use infer8::backend::DeviceAllocator;
    use std::collections::HashMap;
    if !have_gpu() {
        return;
    }
    #[derive(Default)]
    struct Counting {
        live: Mutex<HashMap<u64, DeviceBuffer>>,
        calls: Mutex<(usize, usize)>,
    }
    impl DeviceAllocator for Counting {
        fn allocate(&self, bytes: usize, alignment: usize) -> Option<u64> {
            assert_eq!(alignment, 256);
            let b = DeviceBuffer::alloc(bytes).ok()?;
            let p = b.ptr();
            self.live.lock().unwrap().insert(p, b);
            self.calls.lock().unwrap().0 += 1;
            Some(p)
        }
        fn free(&self, ptr: u64) {
            assert!(
                self.live.lock().unwrap().remove(&ptr).is_some(),
                "{ptr:#x} not ours"
            );
            self.calls.lock().unwrap().1 += 1;
        }
    }

    let mut rng = Rng::new(31);
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[3, 10, 10]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 3, 16, [3, 3], 1, true)),
            &[x],
        )
        .unwrap();
    let t = net.layers[c].outputs[0];
    net.mark_output(t).unwrap();
    let batch = 4;
    let input = rng.vec(batch * 300, -1.0, 1.0);
    let out_len = batch * 16 * 8 * 8;
    for mode in ALL {
        let e = engine(&net, mode, batch, std::slice::from_ref(&input));
        let run = |ctx: &mut ExecutionContext| {
            let mut out = vec![0u8; out_len * 4];
            ctx.execute(
                batch,
                &mut [
                    HostBinding::Input(&bytes(&input)),
                    HostBinding::Output(&mut out),
                ],
            )
            .unwrap();
            floats(&out)
        };
        let want = run(&mut ExecutionContext::with_device(Arc::clone(&e), Device::Cuda).unwrap());
        let counting = Arc::new(Counting::default());
        let mut ctx = ExecutionContext::with_device(e, Device::Cuda).unwrap();
        ctx.set_device_allocator(Some(Arc::clone(&counting) as Arc<dyn DeviceAllocator>));
        let got = run(&mut ctx);
        assert_eq!(got, want, "{mode:?}");
        let (made, freed) = *counting.calls.lock().unwrap();
        // Weights, bias, offset table, activations, staged bindings at least.
        assert!(
            made >= 4 && freed == 0,
            "{mode:?}: {made} allocations, {freed} freed"
        );
        drop(ctx);
        assert_eq!(*counting.calls.lock().unwrap(), (made, made), "{mode:?}");
        assert!(counting.live.lock().unwrap().is_empty());
    }
}

fn shuffle(first: &[usize], reshape: Option<&[i64]>, second: &[usize]) -> LayerKind {
    LayerKind::Shuffle(ShuffleParams {
        first_transpose: first.to_vec(),
        reshape: reshape.map(<[i64]>::to_vec),
        second_transpose: second.to_vec(),
    })
}

#[test]
fn shuffle_layer() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(40);
    let cases: [(&str, LayerKind, &[usize]); 5] = [
        (
            "shuffle transpose, reshape, transpose",
            shuffle(&[2, 0, 1], Some(&[0, -1]), &[1, 0]),
            &[3, 4, 5],
        ),
        (
            "shuffle reshape",
            shuffle(&[], Some(&[-1, 6]), &[]),
            &[3, 4, 5],
        ),
        (
            "shuffle first transpose",
            shuffle(&[1, 2, 0], None, &[]),
            &[3, 4, 5],
        ),
        (
            "shuffle reshape, transpose",
            shuffle(&[], Some(&[4, 15]), &[1, 0]),
            &[3, 4, 5],
        ),
        (
            "shuffle 4D transpose, reshape, transpose",
            shuffle(&[3, 1, 0, 2], Some(&[15, 8]), &[1, 0]),
            &[2, 3, 4, 5],
        ),
    ];
    for (what, kind, s) in cases {
        check_layer(what, kind, &[s], 3, &ALL, &mut rng);
    }
    // Into an INT8 convolution: the shuffle stores its output on the convolution's INT8 grid.
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[4, 6, 6]).unwrap();
    let sh = net.add_layer(shuffle(&[0, 2, 1], None, &[]), &[x]).unwrap();
    let t = net.layers[sh].outputs[0];
    let c = net
        .add_layer(
            LayerKind::Convolution(conv(&mut rng, 4, 5, [3, 3], 1, true)),
            &[t],
        )
        .unwrap();
    let t = net.layers[c].outputs[0];
    net.mark_output(t).unwrap();
    let inputs = vec![rng.vec(3 * 144, -1.0, 1.0)];
    check_net("shuffle into conv", &net, &inputs, 3, &ALL);
}

#[test]
fn slice_layer() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(41);
    for (what, start, size, stride) in [
        (
            "slice strides 1, 2, 3",
            [0i64, 1, 1],
            [2usize, 3, 3],
            [1i64, 2, 3],
        ),
        ("slice reversed", [2, 6, 7], [3, 4, 3], [-1, -2, -3]),
    ] {
        let kind = LayerKind::Slice {
            start: start.to_vec(),
            size: size.to_vec(),
            stride: stride.to_vec(),
        };
        check_layer(what, kind, &[&[3, 7, 8]], 3, &ALL, &mut rng);
    }
}

#[test]
fn deconvolution() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(42);
    let mut cases: Vec<(&str, ConvParams, [usize; 3])> = Vec::new();
    let mut p = conv(&mut rng, 4, 6, [3, 3], 2, true);
    p.stride = [2, 2];
    p.pre_padding = [1, 1];
    p.post_padding = [1, 1];
    cases.push(("deconv stride 2 padded grouped", p, [4, 5, 5]));
    let mut p = conv(&mut rng, 3, 2, [2, 3], 1, false);
    p.stride = [1, 2];
    p.dilation = [2, 1];
    p.pre_padding = [0, 1];
    p.post_padding = [1, 0];
    cases.push(("deconv dilated no bias", p, [3, 4, 6]));
    let mut p = conv(&mut rng, 2, 3, [3, 3], 1, true);
    p.padding_mode = PaddingMode::SameUpper;
    p.stride = [2, 2];
    cases.push(("deconv same-upper", p, [2, 5, 4]));
    for (what, p, s) in cases {
        check_layer(what, LayerKind::Deconvolution(p), &[&s], 3, &ALL, &mut rng);
    }
}

#[test]
fn matrix_multiply() {
    if !have_gpu() {
        return;
    }
    use MatrixOperation::{None as N, Transpose as T, Vector as V};
    let mut rng = Rng::new(43);
    let cases = [
        ("matmul", N, N, vec![2, 3, 4], vec![2, 4, 5]),
        (
            "matmul transposes, broadcast lead",
            T,
            T,
            vec![1, 4, 3],
            vec![2, 5, 4],
        ),
        ("matmul 2D right operand", N, T, vec![2, 3, 4], vec![5, 4]),
        ("matmul vector left", V, N, vec![2, 4], vec![2, 4, 5]),
        ("matmul vector right", T, V, vec![3, 4, 3], vec![3, 4]),
    ];
    for (what, op0, op1, a, b) in cases {
        let kind = LayerKind::MatrixMultiply { op0, op1 };
        check_layer(what, kind, &[&a, &b], 3, &ALL, &mut rng);
    }
    // A batch-invariant right operand.
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[2, 3, 4]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Constant {
                dims: vec![4, 5],
                weights: w(&mut rng, 20),
            },
            &[],
        )
        .unwrap();
    let ct = net.layers[c].outputs[0];
    let m = net
        .add_layer(LayerKind::MatrixMultiply { op0: N, op1: N }, &[x, ct])
        .unwrap();
    let t = net.layers[m].outputs[0];
    net.mark_output(t).unwrap();
    let inputs = vec![rng.vec(3 * 24, -1.0, 1.0)];
    check_net("matmul by a constant", &net, &inputs, 3, &ALL);
}

#[test]
fn reduce() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(44);
    for &op in ReduceOperation::ALL {
        for (axes, keep_dims) in [(0b101, true), (0b101, false), (0b010, false), (0b111, true)] {
            check_layer(
                &format!("reduce {op:?} axes {axes:#b} keep {keep_dims}"),
                LayerKind::Reduce {
                    op,
                    axes,
                    keep_dims,
                },
                &[&[3, 4, 5]],
                3,
                &ALL,
                &mut rng,
            );
        }
    }
}

#[test]
fn gather() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(45);
    for (axis, idx) in [(1usize, vec![2usize, 3]), (2, vec![4]), (0, vec![2])] {
        let data = [3usize, 5, 4];
        let mut net = Network::new();
        let x = net.add_input("x", DataType::Float, &data).unwrap();
        let i = net.add_input("i", DataType::Int32, &idx).unwrap();
        let g = net.add_layer(LayerKind::Gather { axis }, &[x, i]).unwrap();
        let t = net.layers[g].outputs[0];
        net.mark_output(t).unwrap();
        let batch = 3;
        let n: usize = idx.iter().product();
        let indices = (0..batch * n)
            .map(|_| rng.below(data[axis]) as f32)
            .collect();
        let inputs = vec![rng.vec(batch * 60, -1.0, 1.0), indices];
        check_net(
            &format!("gather axis {axis} indices {idx:?}"),
            &net,
            &inputs,
            batch,
            &[Mode::Fp32, Mode::Fp16],
        );
    }
}

#[test]
fn top_k() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(46);
    let cases: [(TopKOperation, usize, u32, &[usize]); 4] = [
        (TopKOperation::Max, 3, 0b10, &[4, 6, 5]),
        (TopKOperation::Min, 2, 0b1, &[5, 3]),
        (TopKOperation::Max, 7, 0b100, &[2, 3, 7]),
        (TopKOperation::Min, 1, 0b100, &[2, 3, 7]),
    ];
    for (op, k, axes, s) in cases {
        check_layer(
            &format!("top-k {op:?} k {k} axes {axes:#b} of {s:?}"),
            LayerKind::TopK { op, k, axes },
            &[s],
            3,
            &[Mode::Fp32, Mode::Fp16],
            &mut rng,
        );
    }
}

#[test]
fn select() {
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(47);
    for cond_type in [DataType::Float, DataType::Bool] {
        let shapes: [&[usize]; 3] = [&[3, 1, 5], &[3, 4, 5], &[1, 4, 1]];
        let mut net = Network::new();
        let ids: Vec<_> = ["cond", "then", "else"]
            .iter()
            .zip(shapes)
            .map(|(name, s)| {
                let dtype = if *name == "cond" {
                    cond_type
                } else {
                    DataType::Float
                };
                net.add_input(name, dtype, s).unwrap()
            })
            .collect();
        let l = net.add_layer(LayerKind::Select, &ids).unwrap();
        let t = net.layers[l].outputs[0];
        net.mark_output(t).unwrap();
        let batch = 3;
        let cond = (0..batch * 15).map(|_| rng.below(2) as f32).collect();
        let inputs = vec![
            cond,
            rng.vec(batch * 60, -1.0, 1.0),
            rng.vec(batch * 4, -1.0, 1.0),
        ];
        check_net(
            &format!("select, {cond_type:?} condition"),
            &net,
            &inputs,
            batch,
            &[Mode::Fp32, Mode::Fp16],
        );
    }
}

/// A plugin that computes on the host from whatever memory the backend gives it, as an
/// application's plugin without device code would: `y0 = x·|x|`, `y1 = -x`. It stages its input
/// through its workspace, then to the host, on the stream `enqueue` gets (copies by unified
/// address: device memory on CUDA, host memory on the CPU), and records each call's stream.
struct SignedSquare {
    volume: usize,
    max_batch: AtomicUsize,
    streams: Arc<Mutex<Vec<u64>>>,
    fail: Arc<AtomicBool>,
}

impl SignedSquare {
    fn new(volume: usize) -> SignedSquare {
        SignedSquare {
            volume,
            max_batch: AtomicUsize::new(0),
            streams: Arc::default(),
            fail: Arc::default(),
        }
    }
}

/// Copies `bytes` from `src` to `dst` (any memory the driver knows) on `stream`, waited for.
///
/// # Safety
/// Both ranges valid for `bytes`; `stream` a stream of the primary context, or 0.
unsafe fn copy_on(stream: u64, dst: u64, src: u64, bytes: usize) -> infer8::error::Result<()> {
    use cudarc::driver::sys;
    // SAFETY: the caller's ranges and stream.
    let r = unsafe { sys::cuMemcpyAsync(dst, src, bytes, stream as sys::CUstream) };
    if r != sys::CUresult::CUDA_SUCCESS {
        return Err(infer8::error::Error::Runtime(format!(
            "cuMemcpyAsync: {r:?}"
        )));
    }
    // SAFETY: as above.
    unsafe { cuda::synchronize(stream) }
}

impl infer8::network::plugin::Plugin for SignedSquare {
    fn nb_outputs(&self) -> infer8::error::Result<usize> {
        Ok(2)
    }
    fn origin(&self) -> infer8::error::Result<infer8::network::plugin::PluginOrigin> {
        Ok(infer8::network::plugin::PluginOrigin::Factory)
    }
    fn output_shapes(&self, inputs: &[Shape]) -> infer8::error::Result<Vec<Shape>> {
        Ok(vec![inputs[0].clone(), inputs[0].clone()])
    }
    fn for_engine(&self) -> infer8::error::Result<Arc<dyn infer8::network::plugin::Plugin>> {
        Ok(Arc::new(SignedSquare {
            volume: self.volume,
            max_batch: AtomicUsize::new(0),
            streams: Arc::clone(&self.streams),
            fail: Arc::clone(&self.fail),
        }))
    }
    fn configure(&self, inputs: &[Shape], _: &[Shape], _: usize) -> infer8::error::Result<()> {
        assert_eq!(volume(&inputs[0]), self.volume);
        Ok(())
    }
    fn initialize(&self, max_batch: usize) -> infer8::error::Result<()> {
        self.max_batch.store(max_batch, Ordering::SeqCst);
        Ok(())
    }
    fn workspace_size(&self) -> usize {
        self.max_batch.load(Ordering::SeqCst) * self.volume * 4
    }
    unsafe fn enqueue(
        &self,
        batch: usize,
        inputs: &[*const f32],
        outputs: &[*mut f32],
        workspace: *mut u8,
        stream: u64,
    ) -> infer8::error::Result<()> {
        self.streams.lock().unwrap().push(stream);
        if self.fail.load(Ordering::SeqCst) {
            return Err(infer8::error::Error::Runtime("enqueue() returned 1".into()));
        }
        let n = batch * self.volume;
        let mut x = vec![0f32; n];
        // SAFETY: the engine passes `batch` items of the input, room for as many outputs and the
        // workspace asked for, all in memory the driver knows; the stream is the caller's. The
        // first call binds the primary context to this thread (the CPU backend runs here too).
        unsafe {
            cuda::synchronize(stream)?;
            copy_on(stream, workspace as u64, inputs[0] as u64, n * 4)?;
            copy_on(stream, x.as_mut_ptr() as u64, workspace as u64, n * 4)?;
        }
        let y0: Vec<f32> = x.iter().map(|v| v * v.abs()).collect();
        let y1: Vec<f32> = x.iter().map(|v| -v).collect();
        // SAFETY: as above.
        unsafe {
            copy_on(stream, outputs[0] as u64, y0.as_ptr() as u64, n * 4)?;
            copy_on(stream, outputs[1] as u64, y1.as_ptr() as u64, n * 4)?;
        }
        Ok(())
    }
    fn serialize(&self) -> infer8::error::Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// conv → plugin (two outputs) → conv, and the plugin's second output an engine output: the plan
/// converts half and INT8 neighbours to the plugin's FP32 and back.
fn plugin_network(rng: &mut Rng) -> (Network, Arc<Mutex<Vec<u64>>>, Arc<AtomicBool>) {
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[3, 6, 6]).unwrap();
    let c = net
        .add_layer(
            LayerKind::Convolution(conv(rng, 3, 4, [3, 3], 1, true)),
            &[x],
        )
        .unwrap();
    let t = net.layers[c].outputs[0];
    let plugin = SignedSquare::new(4 * 4 * 4);
    let (streams, fail) = (Arc::clone(&plugin.streams), Arc::clone(&plugin.fail));
    let layer = infer8::network::plugin::PluginLayer::new(Arc::new(plugin)).expect("plugin");
    let p = net.add_layer(LayerKind::Plugin(layer), &[t]).unwrap();
    net.layers[p].name = "signed_square".into();
    let (y0, y1) = (net.layers[p].outputs[0], net.layers[p].outputs[1]);
    let c2 = net
        .add_layer(
            LayerKind::Convolution(conv(rng, 4, 5, [3, 3], 1, true)),
            &[y0],
        )
        .unwrap();
    let t = net.layers[c2].outputs[0];
    net.mark_output(t).unwrap();
    net.mark_output(y1).unwrap();
    (net, streams, fail)
}

/// Plugin layers run on the GPU in FP32, FP16 and INT8 engines: enqueue gets device pointers and
/// the caller's stream at every enqueue (no graph replay), its errors name the layer.
#[test]
fn plugin_layer_runs_on_the_gpu() {
    use cudarc::driver::sys;
    if !have_gpu() {
        return;
    }
    let mut rng = Rng::new(31);
    let (net, streams, fail) = plugin_network(&mut rng);
    let batch = 3;
    let inputs = vec![rng.vec(batch * 3 * 6 * 6, -1.0, 1.0)];
    check_net("conv + plugin + conv", &net, &inputs, batch, &ALL);

    // Every enqueue calls the plugin, on the stream of that enqueue.
    let e = engine(&net, Mode::Fp32, batch, &inputs);
    let mut ctx = ExecutionContext::with_device(Arc::clone(&e), Device::Cuda).unwrap();
    let dev_in = DeviceBuffer::from_slice(&inputs[0]).unwrap();
    let outs: Vec<DeviceBuffer> = e.bindings[1..]
        .iter()
        .map(|b| DeviceBuffer::alloc(batch * volume(&b.shape) * 4).unwrap())
        .collect();
    let mut ptrs = vec![dev_in.ptr()];
    ptrs.extend(outs.iter().map(DeviceBuffer::ptr));
    // SAFETY: binds the context to this thread.
    unsafe { cuda::synchronize(0) }.unwrap();
    let mut stream: sys::CUstream = std::ptr::null_mut();
    // SAFETY: an out-parameter; flag 1 is CU_STREAM_NON_BLOCKING.
    assert_eq!(
        unsafe { sys::cuStreamCreate(&mut stream, 1) },
        sys::CUresult::CUDA_SUCCESS
    );
    streams.lock().unwrap().clear();
    for _ in 0..3 {
        // SAFETY: device buffers of `batch` items of each binding; our stream.
        unsafe { ctx.enqueue_device(batch, &ptrs, stream as u64, None) }.unwrap();
    }
    // SAFETY: our stream.
    unsafe { cuda::synchronize(stream as u64) }.unwrap();
    assert_eq!(*streams.lock().unwrap(), vec![stream as u64; 3]);
    // The outputs against a CPU context of the same engine (bindings: the input, then outputs).
    let x_bytes = bytes(&inputs[0]);
    let mut host: Vec<Vec<u8>> = outs.iter().map(|b| vec![0u8; b.bytes()]).collect();
    let mut views = vec![HostBinding::Input(&x_bytes)];
    views.extend(host.iter_mut().map(|b| HostBinding::Output(b)));
    ExecutionContext::with_device(Arc::clone(&e), Device::Cpu)
        .unwrap()
        .execute(batch, &mut views)
        .unwrap();
    drop(views);
    for (d, h) in outs.iter().zip(&host) {
        let (want, mut got) = (floats(h), vec![0f32; h.len() / 4]);
        d.download(&mut got).unwrap();
        let peak = want.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        let err = got
            .iter()
            .zip(&want)
            .fold(0f32, |m, (g, c)| m.max((g - c).abs()));
        assert!(err <= 1e-5 * peak, "on a stream: error {err:e} of {peak}");
    }

    // A failing enqueue: an error naming the layer, and the next enqueue works again.
    fail.store(true, Ordering::SeqCst);
    // SAFETY: as above.
    let r = unsafe { ctx.enqueue_device(batch, &ptrs, stream as u64, None) };
    let msg = r
        .expect_err("a failing plugin fails the enqueue")
        .to_string();
    assert!(msg.contains("signed_square"), "{msg}");
    fail.store(false, Ordering::SeqCst);
    // SAFETY: as above.
    unsafe { ctx.enqueue_device(batch, &ptrs, stream as u64, None) }.unwrap();
    // SAFETY: our stream, idle once synchronized.
    unsafe {
        cuda::synchronize(stream as u64).unwrap();
        sys::cuStreamDestroy_v2(stream);
    }
}
