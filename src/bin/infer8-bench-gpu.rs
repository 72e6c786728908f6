//! LeNet on the GPU: median enqueue time (CUDA events around `enqueue`, as sampleINT8 reports it)
//! and images/s in FP32, FP16 and INT8 at batch 1, 100 and 65536 on MNIST test images, with
//! top-1 against the CPU backend, next to PyTorch's numbers from `scripts/bench_pytorch.py`.
//!
//! `infer8-bench-gpu --export-weights FILE` writes the LeNet weights for the PyTorch script
//! (conv1.w, conv1.b, conv2.w, conv2.b, ip1.w, ip1.b, ip2.w, ip2.b as little-endian f32, in Caffe
//! layout) and exits. `--pytorch FILE` reads that script's CSV (variant,precision,batch,us).

#[cfg(feature = "cuda")]
mod bench {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use cudarc::driver::sys;
    use infer8::backend::Device;
    use infer8::backend::cuda::{self, DeviceBuffer};
    use infer8::builder::{BuilderConfig, Calibrator, build_engine};
    use infer8::data::mnist;
    use infer8::engine::context::{HostBinding, Profiler};
    use infer8::engine::{Engine, ExecutionContext};
    use infer8::logger::NullLogger;
    use infer8::network::{LayerKind, Network};
    use infer8::parser::CaffeParser;
    use infer8::types::{CalibrationAlgoType, DataType};

    type Res<T> = Result<T, String>;

    const BATCHES: [usize; 3] = [1, 100, 65536];
    const CAL_BATCH: usize = 50;

    fn data_dir() -> PathBuf {
        std::env::var_os("INFER8_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
    }

    fn lenet(data: &Path, weights: DataType) -> Res<Network> {
        let m = data.join("models/lenet");
        let mut net = Network::new();
        let blobs = CaffeParser::new()
            .parse(
                &m.join("lenet.prototxt"),
                Some(&m.join("lenet_iter_10000.caffemodel")),
                &mut net,
                weights,
            )
            .map_err(|e| e.to_string())?;
        let prob = blobs.find("prob").ok_or("no blob 'prob'")?;
        net.mark_output(prob).map_err(|e| e.to_string())?;
        Ok(net)
    }

    fn export(data: &Path, path: &Path) -> Res<()> {
        let net = lenet(data, DataType::Float)?;
        let mut out = Vec::new();
        for name in ["conv1", "conv2", "ip1", "ip2"] {
            let layer = net
                .layers
                .iter()
                .find(|l| l.name == name)
                .ok_or(format!("no layer {name}"))?;
            let (w, b) = match &layer.kind {
                LayerKind::Convolution(p) => (&p.kernel_weights.values, &p.bias.values),
                LayerKind::FullyConnected { kernel, bias, .. } => (&kernel.values, &bias.values),
                _ => return Err(format!("layer {name} is not conv/FC")),
            };
            out.extend(w.iter().chain(b).flat_map(|v| v.to_le_bytes()));
        }
        std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
    }

    struct Cal {
        images: Vec<f32>,
        next: usize,
    }

    impl Calibrator for Cal {
        fn batch_size(&mut self) -> usize {
            CAL_BATCH
        }
        fn get_batch(&mut self, _: &[&str], buffers: &mut [&mut [f32]]) -> bool {
            let n = CAL_BATCH * 784;
            if self.next >= 10 {
                return false;
            }
            buffers[0].copy_from_slice(&self.images[self.next * n..(self.next + 1) * n]);
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

    fn build(data: &Path, precision: &str, images: &[f32]) -> Res<Arc<Engine>> {
        let fp16 = precision == "FP16";
        let int8 = precision == "INT8";
        let net = lenet(
            data,
            if fp16 {
                DataType::Half
            } else {
                DataType::Float
            },
        )?;
        let config = BuilderConfig {
            max_batch_size: 65536,
            max_workspace_size: 1 << 30,
            fp16,
            int8,
            ..Default::default()
        };
        let mut cal = Cal {
            images: images.to_vec(),
            next: 0,
        };
        let cal: Option<&mut dyn Calibrator> = if int8 { Some(&mut cal) } else { None };
        build_engine(&net, &config, cal, &NullLogger)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    fn top1(probs: &[f32], labels: &[u8]) -> f64 {
        let hits = probs
            .chunks(10)
            .zip(labels)
            .filter(|(p, l)| p.iter().filter(|&&v| v >= p[**l as usize]).count() <= 1)
            .count();
        100.0 * hits as f64 / labels.len() as f64
    }

    fn floats(b: &[u8]) -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    fn check(r: sys::CUresult, what: &str) -> Res<()> {
        if r == sys::CUresult::CUDA_SUCCESS {
            Ok(())
        } else {
            Err(format!("{what}: {r:?}"))
        }
    }

    /// Median microseconds of `iters` enqueues, each between two events on a fresh stream, and
    /// the mean of `iters` enqueues back to back.
    fn time(
        ctx: &mut ExecutionContext,
        batch: usize,
        ptrs: &[u64],
        iters: usize,
    ) -> Res<(f64, f64)> {
        let mut stream: sys::CUstream = std::ptr::null_mut();
        let (mut start, mut end): (sys::CUevent, sys::CUevent) =
            (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: out-parameters; the context is current (the executor bound it).
        unsafe {
            check(sys::cuStreamCreate(&mut stream, 1), "cuStreamCreate")?;
            check(sys::cuEventCreate(&mut start, 0), "cuEventCreate")?;
            check(sys::cuEventCreate(&mut end, 0), "cuEventCreate")?;
        }
        // The GPU lowers its clocks when idle: 0.3 s of work first (bench_pytorch.py does too).
        let warm = std::time::Instant::now();
        while warm.elapsed().as_secs_f64() < 0.3 {
            // SAFETY: as below.
            unsafe { ctx.enqueue_device(batch, ptrs, stream as u64, None) }
                .map_err(|e| e.to_string())?;
            // SAFETY: our stream.
            unsafe { check(sys::cuStreamSynchronize(stream), "cuStreamSynchronize")? };
        }
        let mut times = Vec::with_capacity(iters);
        for i in 0..iters + 20 {
            // SAFETY: device buffers sized for the batch; our stream and events.
            unsafe {
                check(sys::cuEventRecord(start, stream), "cuEventRecord")?;
                ctx.enqueue_device(batch, ptrs, stream as u64, None)
                    .map_err(|e| e.to_string())?;
                check(sys::cuEventRecord(end, stream), "cuEventRecord")?;
                check(sys::cuEventSynchronize(end), "cuEventSynchronize")?;
            }
            let mut ms = 0f32;
            // SAFETY: two completed events.
            unsafe {
                check(
                    sys::cuEventElapsedTime_v2(&mut ms, start, end),
                    "cuEventElapsedTime",
                )?
            };
            if i >= 20 {
                times.push(ms as f64 * 1e3);
            }
        }
        // Back to back: `iters` enqueues between one pair of events, so each launch's host
        // overhead overlaps the previous one's GPU work.
        // SAFETY: as above.
        unsafe {
            check(sys::cuEventRecord(start, stream), "cuEventRecord")?;
            for _ in 0..iters {
                ctx.enqueue_device(batch, ptrs, stream as u64, None)
                    .map_err(|e| e.to_string())?;
            }
            check(sys::cuEventRecord(end, stream), "cuEventRecord")?;
            check(sys::cuEventSynchronize(end), "cuEventSynchronize")?;
        }
        let mut total = 0f32;
        // SAFETY: two completed events.
        unsafe {
            check(
                sys::cuEventElapsedTime_v2(&mut total, start, end),
                "cuEventElapsedTime",
            )?
        };
        // SAFETY: our handles, idle now.
        unsafe {
            sys::cuEventDestroy_v2(start);
            sys::cuEventDestroy_v2(end);
            sys::cuStreamDestroy_v2(stream);
        }
        times.sort_by(f64::total_cmp);
        Ok((times[times.len() / 2], total as f64 * 1e3 / iters as f64))
    }

    /// Collects the per-launch times of the last run (the IProfiler path).
    struct Collect(Arc<std::sync::Mutex<Vec<(String, f32)>>>);

    impl Profiler for Collect {
        fn report_layer_time(&mut self, layer: &str, ms: f32) {
            if let Ok(mut v) = self.0.lock() {
                v.push((layer.to_string(), ms));
            }
        }
    }

    /// Each launch's microseconds in one profiled run (after two warm-up runs), through the
    /// context's IProfiler path.
    fn profile(ctx: &mut ExecutionContext, batch: usize, ptrs: &[u64]) -> Res<Vec<(String, f32)>> {
        let times = Arc::new(std::sync::Mutex::new(Vec::new()));
        ctx.set_profiler(Some(Box::new(Collect(Arc::clone(&times)))));
        for _ in 0..3 {
            times.lock().map_err(|e| e.to_string())?.clear();
            // SAFETY: buffers of 65536 items; the profiled run waits for its work.
            unsafe { ctx.enqueue_device(batch, ptrs, 0, None) }.map_err(|e| e.to_string())?;
        }
        ctx.set_profiler(None);
        let v = times.lock().map_err(|e| e.to_string())?.clone();
        Ok(v.into_iter().map(|(l, ms)| (l, ms * 1e3)).collect())
    }

    /// PyTorch's fastest variant per batch size: (label, microseconds).
    fn pytorch(path: Option<&Path>) -> Res<HashMap<usize, (String, f64)>> {
        let mut best: HashMap<usize, (String, f64)> = HashMap::new();
        let Some(path) = path else { return Ok(best) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for line in text.lines().filter(|l| !l.starts_with("variant")) {
            let f: Vec<&str> = line.split(',').collect();
            if let [variant, precision, batch, us] = f[..] {
                let (Ok(batch), Ok(us)) = (batch.parse::<usize>(), us.parse::<f64>()) else {
                    continue;
                };
                let e = best
                    .entry(batch)
                    .or_insert((format!("{variant} {precision}"), us));
                if us < e.1 {
                    *e = (format!("{variant} {precision}"), us);
                }
            }
        }
        Ok(best)
    }

    pub fn main() -> Res<()> {
        let args: Vec<String> = std::env::args().collect();
        let data = data_dir();
        let arg = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from)
        };
        if let Some(path) = arg("--export-weights") {
            return export(&data, &path);
        }
        let torch = pytorch(arg("--pytorch").as_deref())?;
        let gpu =
            cuda::gpu().ok_or_else(|| format!("no CUDA device: {}", cuda::unavailable_reason()))?;
        let iters: usize = std::env::var("INFER8_BENCH_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);

        let m = data.join("mnist");
        let imgs =
            mnist::read_images(&m.join("t10k-images-idx3-ubyte.gz")).map_err(|e| e.to_string())?;
        let labels =
            mnist::read_labels(&m.join("t10k-labels-idx1-ubyte.gz")).map_err(|e| e.to_string())?;
        let images = imgs.normalized(0, imgs.count);
        // 65536 inputs: the 10000 test images repeated.
        let big: Vec<f32> = images.iter().copied().cycle().take(65536 * 784).collect();
        let input = DeviceBuffer::from_slice(&big).map_err(|e| e.to_string())?;
        let output = DeviceBuffer::alloc(65536 * 10 * 4).map_err(|e| e.to_string())?;
        let ptrs = [input.ptr(), output.ptr()];

        println!(
            "device: {} (sm_{}{}, {} SMs)",
            gpu.name, gpu.arch.0, gpu.arch.1, gpu.multiprocessors
        );
        let mut rows = Vec::new();
        let mut breakdown = Vec::new();
        // INFER8_BENCH_ONLY=FP16:65536 (say) runs one case, for profilers; any batch up to 65536.
        let only = std::env::var("INFER8_BENCH_ONLY").ok();
        let only = match only.as_deref().map(|o| o.split_once(':')) {
            None => None,
            Some(Some((p, b))) => match b.parse::<usize>() {
                Ok(b) if (1..=65536).contains(&b) => Some((p.to_string(), b)),
                _ => return Err(format!("INFER8_BENCH_ONLY: bad batch in {p}:{b}")),
            },
            Some(None) => return Err("INFER8_BENCH_ONLY: expected PRECISION:BATCH".into()),
        };
        let batches: Vec<usize> = only.as_ref().map_or(BATCHES.to_vec(), |o| vec![o.1]);
        for precision in ["FP32", "FP16", "INT8"] {
            if only.as_ref().is_some_and(|o| o.0 != precision) {
                continue;
            }
            let engine = build(&data, precision, &images)?;
            // Accuracy on the 10000 test images, CUDA and CPU.
            let n = labels.len();
            let mut gpu_ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cuda)
                .map_err(|e| e.to_string())?;
            // SAFETY: buffers of 65536 items.
            unsafe { gpu_ctx.execute_device(n, &ptrs) }.map_err(|e| e.to_string())?;
            let mut probs = vec![0f32; n * 10];
            output.download(&mut probs).map_err(|e| e.to_string())?;
            let mut cpu_ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cpu)
                .map_err(|e| e.to_string())?;
            let inb: Vec<u8> = images.iter().flat_map(|v| v.to_ne_bytes()).collect();
            let mut outb = vec![0u8; n * 40];
            cpu_ctx
                .execute(
                    n,
                    &mut [HostBinding::Input(&inb), HostBinding::Output(&mut outb)],
                )
                .map_err(|e| e.to_string())?;
            let cpu_probs = floats(&outb);
            let agree = probs
                .chunks(10)
                .zip(cpu_probs.chunks(10))
                .filter(|(a, b)| argmax(a) == argmax(b))
                .count();
            println!(
                "{precision}: top-1 CUDA {:.2}%  CPU {:.2}%  same top-1 on {agree}/{n} images",
                top1(&probs, &labels),
                top1(&cpu_probs, &labels)
            );
            for &batch in &batches {
                let mut ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cuda)
                    .map_err(|e| e.to_string())?;
                let iters = if batch >= 65536 {
                    iters.min(200)
                } else {
                    iters
                };
                let (us, b2b) = time(&mut ctx, batch, &ptrs, iters)?;
                rows.push((precision, batch, us, b2b));
                let steps = profile(&mut ctx, batch, &ptrs)?;
                let list: Vec<String> =
                    steps.iter().map(|(l, us)| format!("{l} {us:.1}")).collect();
                breakdown.push(format!("{precision:<6} {batch:>6}  {}", list.join(" | ")));
            }
        }
        println!();
        println!(
            "LeNet on {}: median enqueue time (CUDA events, {iters} iterations after 20 warm-up)",
            gpu.name
        );
        println!(
            "{:<6} {:>6} {:>12} {:>14} {:>28} {:>10} {:>14}",
            "prec",
            "batch",
            "median us",
            "images/s",
            "PyTorch best (any variant)",
            "speed-up",
            "back-to-back us"
        );
        for (precision, batch, us, b2b) in rows {
            let ips = batch as f64 / (us * 1e-6);
            let (label, ratio) = match torch.get(&batch) {
                Some((v, t)) => (format!("{v} {t:.1} us"), format!("{:.2}x", t / us)),
                None => ("-".into(), "-".into()),
            };
            println!(
                "{precision:<6} {batch:>6} {us:>12.1} {ips:>14.3e} {label:>28} {ratio:>10} {b2b:>14.1}"
            );
        }
        println!();
        println!("Per launch, µs (one run launched step by step with events between, IProfiler):");
        for line in breakdown {
            println!("{line}");
        }
        Ok(())
    }

    fn argmax(v: &[f32]) -> usize {
        v.iter()
            .enumerate()
            .fold(0, |b, (i, &x)| if x > v[b] { i } else { b })
    }
}

#[cfg(feature = "cuda")]
fn main() {
    if let Err(e) = bench::main() {
        eprintln!("infer8-bench-gpu: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(feature = "cuda"))]
fn main() {
    eprintln!("infer8-bench-gpu: built without the `cuda` feature");
    std::process::exit(1);
}
