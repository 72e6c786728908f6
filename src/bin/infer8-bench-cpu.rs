//! The CPU benchmark (issue 8): LeNet in FP32, FP16 and INT8 at batch 1 and 100 (top-1 on MNIST
//! test images 500-9999, INT8 calibrated with entropy v2 on images 0-499), CIFAR-10 full and
//! MTCNN det3 in FP32, FP16 and INT8 (calibrated on 100 images of the synthetic input pattern)
//! at batch 1 and 64, each timed in-process through
//! `ExecutionContext::execute` (median over `--iterations` after 20 warm-up runs), next to the
//! peers' rows that `scripts/bench_cpu_peers.py` wrote (`--peers FILE`). `scripts/bench-cpu.sh`
//! runs both. `--calibration-runs N` instead times issue 4's calibration benchmark: LeNet's INT8
//! build with entropy v2 on MNIST test images 0-499.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Parser;
use infer8::backend::Device;
use infer8::builder::{BuilderConfig, Calibrator, build_engine};
use infer8::data::mnist;
use infer8::engine::context::{HostBinding, Profiler, f32_bytes};
use infer8::engine::{Engine, ExecutionContext};
use infer8::logger::NullLogger;
use infer8::network::Network;
use infer8::parser::CaffeParser;
use infer8::types::{CalibrationAlgoType, DataType, volume};

type Res<T> = Result<T, String>;

const WARMUP: usize = 20;
const CAL_BATCH: usize = 50;
const CAL_IMAGES: usize = 500;
const SYNTHETIC_CAL_IMAGES: usize = 100;

/// The deterministic input of the models without a data set, `batch` items of `item` values;
/// the same formula as `synthetic` in `bench_cpu_peers.py`.
fn synthetic(batch: usize, item: usize) -> Vec<f32> {
    (0..batch * item)
        .map(|i| (i % 251) as f32 / 251.0)
        .collect()
}

#[derive(Parser)]
#[command(about = "infer8 on the CPU against ONNX Runtime and OpenCV (issue 8)")]
struct Args {
    /// CSV from scripts/bench_cpu_peers.py (model,engine,device,precision,batch,median_ms,top1)
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Timed runs per configuration (the median is reported)
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// The shared data folder (default: $INFER8_DATA_DIR, else ../shared/data)
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only time LeNet's calibration (500 images, entropy v2) this many times; print the median
    #[arg(long)]
    calibration_runs: Option<usize>,
    /// Only this model (lenet, cifar10_full, det3)
    #[arg(long)]
    model: Option<String>,
    /// Only this precision (FP32, FP16, INT8)
    #[arg(long)]
    precision: Option<String>,
    /// Also print each layer's median time (IProfiler) after every row
    #[arg(long)]
    layers: bool,
}

struct Model {
    name: &'static str,
    deploy: &'static str,
    weights: &'static str,
    outputs: &'static [&'static str],
    batches: [usize; 2],
    precisions: &'static [&'static str],
}

const MODELS: [Model; 3] = [
    Model {
        name: "lenet",
        deploy: "models/lenet/lenet.prototxt",
        weights: "models/lenet/lenet_iter_10000.caffemodel",
        outputs: &["prob"],
        batches: [1, 100],
        precisions: &["FP32", "FP16", "INT8"],
    },
    Model {
        name: "cifar10_full",
        deploy: "models/cifar10_full/cifar10_full.prototxt",
        weights: "models/cifar10_full/cifar10_full_iter_70000.caffemodel",
        outputs: &["prob"],
        batches: [1, 64],
        precisions: &["FP32", "FP16", "INT8"],
    },
    Model {
        name: "det3",
        deploy: "models/mtcnn/det3.prototxt",
        weights: "models/mtcnn/det3.caffemodel",
        outputs: &["prob1", "conv6-2", "conv6-3"],
        batches: [1, 64],
        precisions: &["FP32", "FP16", "INT8"],
    },
];

/// One table row.
struct Row {
    model: String,
    engine: String,
    precision: String,
    batch: usize,
    ms: f64,
    top1: Option<f64>,
}

fn network(data: &Path, m: &Model, weights: DataType) -> Res<Network> {
    let mut net = Network::new();
    let blobs = CaffeParser::new()
        .parse(
            &data.join(m.deploy),
            Some(&data.join(m.weights)),
            &mut net,
            weights,
        )
        .map_err(|e| format!("{}: {e}", m.name))?;
    for name in m.outputs {
        let t = blobs
            .find(name)
            .ok_or(format!("{}: no blob '{name}'", m.name))?;
        net.mark_output(t).map_err(|e| e.to_string())?;
    }
    Ok(net)
}

/// Calibration images in batches of 50: MNIST images 0-499 for LeNet (sampleINT8's calibration
/// set); for CIFAR-10 and det3, which have no data set here, [`SYNTHETIC_CAL_IMAGES`] images of
/// the deterministic pattern (`synthetic`), as `bench_cpu_peers.py` calibrates ONNX Runtime.
struct Cal<'a> {
    images: &'a [f32],
    next: usize,
}

impl Calibrator for Cal<'_> {
    fn batch_size(&mut self) -> usize {
        CAL_BATCH
    }
    fn get_batch(&mut self, _: &[&str], buffers: &mut [&mut [f32]]) -> bool {
        let n = buffers[0].len();
        let Some(batch) = self.images.get(self.next * n..(self.next + 1) * n) else {
            return false;
        };
        buffers[0].copy_from_slice(batch);
        self.next += 1;
        true
    }
    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        None
    }
    fn write_calibration_cache(&mut self, _: &[u8]) {}
    fn algorithm(&mut self) -> CalibrationAlgoType {
        CalibrationAlgoType::Entropy2
    }
}

fn build(data: &Path, m: &Model, precision: &str, images: &[f32]) -> Res<Arc<Engine>> {
    let net = network(
        data,
        m,
        if precision == "FP16" {
            DataType::Half
        } else {
            DataType::Float
        },
    )?;
    build_network(&net, m, precision, images)
}

fn build_network(net: &Network, m: &Model, precision: &str, images: &[f32]) -> Res<Arc<Engine>> {
    let fp16 = precision == "FP16";
    let int8 = precision == "INT8";
    let config = BuilderConfig {
        max_batch_size: m.batches[1],
        fp16,
        int8,
        ..Default::default()
    };
    let mut cal = Cal { images, next: 0 };
    let cal: Option<&mut dyn Calibrator> = if int8 { Some(&mut cal) } else { None };
    build_engine(net, &config, cal, &NullLogger)
        .map(Arc::new)
        .map_err(|e| format!("{} {precision}: {e}", m.name))
}

/// Runs `batch` items of `input`, writing the outputs into `outs`.
fn run(ctx: &mut ExecutionContext, batch: usize, input: &[f32], outs: &mut [Vec<u8>]) -> Res<()> {
    let engine = Arc::clone(ctx.engine());
    let mut outs = outs.iter_mut();
    let mut bindings: Vec<HostBinding> = engine
        .bindings
        .iter()
        .filter_map(|b| {
            if b.is_input {
                Some(HostBinding::Input(f32_bytes(input)))
            } else {
                outs.next().map(|o| HostBinding::Output(o))
            }
        })
        .collect();
    ctx.execute(batch, &mut bindings).map_err(|e| e.to_string())
}

fn output_buffers(engine: &Engine, batch: usize) -> Vec<Vec<u8>> {
    engine
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| vec![0u8; batch * volume(&b.shape) * 4])
        .collect()
}

fn median_ms(ctx: &mut ExecutionContext, batch: usize, input: &[f32], iters: usize) -> Res<f64> {
    let mut outs = output_buffers(ctx.engine(), batch);
    let mut times = Vec::with_capacity(iters);
    for i in 0..WARMUP + iters {
        let t0 = Instant::now();
        run(ctx, batch, input, &mut outs)?;
        if i >= WARMUP {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// One profiler label's times, one per run.
type Samples = (String, Vec<f64>);

/// Collects every run's time per profiler label, in the order the layers run.
#[derive(Clone, Default)]
struct LayerTimes(Arc<Mutex<Vec<Samples>>>);

impl Profiler for LayerTimes {
    fn report_layer_time(&mut self, layer: &str, ms: f32) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match all.iter_mut().find(|(name, _)| name == layer) {
            Some((_, times)) => times.push(ms as f64),
            None => all.push((layer.to_string(), vec![ms as f64])),
        }
    }
}

/// Prints each layer's median over `iters` profiled runs (to stderr, next to the row's time).
fn layer_medians(ctx: &mut ExecutionContext, batch: usize, input: &[f32], iters: usize) -> Res<()> {
    let times = LayerTimes::default();
    ctx.set_profiler(Some(Box::new(times.clone())));
    let mut outs = output_buffers(ctx.engine(), batch);
    for _ in 0..iters {
        run(ctx, batch, input, &mut outs)?;
    }
    ctx.set_profiler(None);
    let mut all = times.0.lock().unwrap_or_else(|e| e.into_inner());
    for (layer, t) in all.iter_mut() {
        t.sort_by(f64::total_cmp);
        eprintln!("    {layer:<24} {:.4} ms", t[t.len() / 2]);
    }
    Ok(())
}

/// Top-1 on MNIST test images 500-9999, in batches of 100 (or the engine's maximum).
fn top1(ctx: &mut ExecutionContext, images: &mnist::Images, labels: &[u8]) -> Res<f64> {
    let batch = ctx.engine().max_batch_size.min(100);
    let mut outs = output_buffers(ctx.engine(), batch);
    let (mut hits, mut seen) = (0, 0);
    let mut first = 500;
    while first < 10000 {
        let n = batch.min(10000 - first);
        run(ctx, n, &images.normalized(first, n), &mut outs)?;
        for (i, probs) in outs[0].chunks_exact(40).take(n).enumerate() {
            let p: Vec<f32> = probs
                .chunks_exact(4)
                .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let label = labels[first + i] as usize;
            hits += usize::from(p.iter().all(|&v| v <= p[label]));
            seen += 1;
        }
        first += n;
    }
    Ok(hits as f64 / seen as f64)
}

fn peers(path: &Path) -> Res<Vec<Row>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [model, engine, _device, precision, batch, ms, top1] = f[..] else {
            return Err(format!("{}:{}: expected 7 fields", path.display(), n + 1));
        };
        let bad = |what: &str| format!("{}:{}: bad {what}", path.display(), n + 1);
        rows.push(Row {
            model: model.into(),
            engine: engine.into(),
            precision: precision.into(),
            batch: batch.parse().map_err(|_| bad("batch"))?,
            ms: ms.parse().map_err(|_| bad("median_ms"))?,
            top1: if top1.is_empty() {
                None
            } else {
                Some(top1.parse().map_err(|_| bad("top1"))?)
            },
        });
    }
    Ok(rows)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn print_table(rows: &[Row]) {
    println!(
        "| model | engine | device | precision | batch | median ms/batch | images/s | top-1 (500-9999) | speed vs best peer | vs ORT same precision |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let is_peer = |r: &Row| r.engine != "infer8";
    for r in rows {
        let same = |p: &Row| p.model == r.model && p.batch == r.batch && is_peer(p);
        let best = rows
            .iter()
            .filter(|p| same(p))
            .map(|p| p.ms)
            .min_by(f64::total_cmp);
        let ort_precision = if r.precision.starts_with("INT8") {
            "INT8 QDQ"
        } else {
            "FP32"
        };
        let ort = rows
            .iter()
            .find(|p| same(p) && p.engine == "ONNX Runtime" && p.precision == ort_precision);
        let ratio = |base: Option<f64>| base.map_or("-".into(), |b| format!("{:.2}x", b / r.ms));
        println!(
            "| {} | {} | CPU | {} | {} | {:.4} | {:.0} | {} | {} | {} |",
            r.model,
            r.engine,
            r.precision,
            r.batch,
            r.ms,
            r.batch as f64 / r.ms * 1e3,
            r.top1.map_or("-".into(), |t| format!("{t:.6}")),
            ratio(best),
            if r.engine == "infer8" {
                ratio(ort.map(|p| p.ms))
            } else {
                "-".into()
            },
        );
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = bench(&args) {
        eprintln!("infer8-bench-cpu: {e}");
        std::process::exit(1);
    }
}

fn bench(args: &Args) -> Res<()> {
    if args.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    let data = args
        .data
        .clone()
        .or_else(|| std::env::var_os("INFER8_DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let mnist_dir = data.join("mnist");
    let images = mnist::read_images(&mnist_dir.join("t10k-images-idx3-ubyte.gz"))
        .map_err(|e| e.to_string())?;
    let labels = mnist::read_labels(&mnist_dir.join("t10k-labels-idx1-ubyte.gz"))
        .map_err(|e| e.to_string())?;
    let calibration = images.normalized(0, CAL_IMAGES);
    if let Some(runs) = args.calibration_runs {
        return calibration_bench(&data, &calibration, runs);
    }
    let mut rows = Vec::new();
    let wanted = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    for m in MODELS.iter().filter(|m| wanted(&args.model, m.name)) {
        let synthetic_cal;
        let cal_images = if m.name == "lenet" {
            &calibration
        } else {
            let net = network(&data, m, DataType::Float)?;
            let item = volume(&net.tensors[net.inputs[0]].shape);
            synthetic_cal = synthetic(SYNTHETIC_CAL_IMAGES, item);
            &synthetic_cal
        };
        for &precision in m.precisions.iter().filter(|p| wanted(&args.precision, p)) {
            let engine = build(&data, m, precision, cal_images)?;
            let mut ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cpu)
                .map_err(|e| e.to_string())?;
            let acc = if m.name == "lenet" {
                Some(top1(&mut ctx, &images, &labels)?)
            } else {
                None
            };
            let item = volume(&engine.bindings[0].shape);
            for &batch in &m.batches {
                // MNIST images for LeNet; for the others the deterministic pattern the peers use.
                let input: Vec<f32> = if m.name == "lenet" {
                    images.normalized(0, batch)
                } else {
                    synthetic(batch, item)
                };
                let ms = median_ms(&mut ctx, batch, &input, args.iterations)?;
                eprintln!("{} infer8 {precision} batch {batch}: {ms:.4} ms", m.name);
                if args.layers {
                    layer_medians(&mut ctx, batch, &input, args.iterations)?;
                }
                rows.push(Row {
                    model: m.name.into(),
                    engine: "infer8".into(),
                    precision: precision.into(),
                    batch,
                    ms,
                    top1: acc,
                });
            }
        }
    }
    if let Some(p) = &args.peers {
        rows.extend(peers(p)?);
    }
    rows.sort_by(|a, b| (&a.model, a.batch).cmp(&(&b.model, b.batch)));
    println!(
        "{}, {} threads (rayon), {} timed runs per row after {WARMUP} warm-up",
        cpu_name(),
        rayon::current_num_threads(),
        args.iterations
    );
    print_table(&rows);
    Ok(())
}

/// Issue 4's calibration benchmark: LeNet (parsed once) built in INT8 with entropy v2 on images
/// 0-499, so each run is the calibration (two passes over 10 batches of 50 in the FP32 engine, the
/// KL search) plus weight quantization; an FP32 build of the same network is timed beside it to
/// show what is not calibration.
fn calibration_bench(data: &Path, calibration: &[f32], runs: usize) -> Res<()> {
    if runs == 0 {
        return Err("--calibration-runs must be at least 1".into());
    }
    let lenet = &MODELS[0];
    let net = network(data, lenet, DataType::Float)?;
    let median = |precision: &str| -> Res<f64> {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t0 = Instant::now();
            build_network(&net, lenet, precision, calibration)?;
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    };
    let int8 = median("INT8")?;
    let fp32 = median("FP32")?;
    println!(
        "{}, {} threads (rayon), median of {runs} runs: LeNet INT8 build with entropy v2 \
         calibration on {CAL_IMAGES} MNIST images {int8:.4} s (FP32 build {fp32:.4} s)",
        cpu_name(),
        rayon::current_num_threads(),
    );
    Ok(())
}
