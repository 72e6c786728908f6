//! `infer8 time`: latency and throughput of an engine at one batch size.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use infer8::engine::context::{HostBinding, Profiler, f32_bytes};
use infer8::error::Result;
use infer8::types::volume;

use crate::model::ModelArgs;
use crate::session::Runner;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Batch size to time (default: the engine's maximum)
    #[arg(long = "run-batch")]
    run_batch: Option<usize>,
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Adds up one run's layer times.
struct RunTotal(Arc<Mutex<f64>>);

impl Profiler for RunTotal {
    fn report_layer_time(&mut self, _: &str, ms: f32) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += ms as f64;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(a: Args) -> Result<()> {
    let mut runner = Runner::new(a.model.engine(None)?)?;
    let engine = runner.engine.clone();
    let batch = a.run_batch.unwrap_or(engine.max_batch_size);
    if a.iterations == 0 {
        infer8::bail!(InvalidArgument, "--iterations must be at least 1");
    }
    // Deterministic input in [0, 1): timing does not depend on the values.
    let input: Vec<f32> = (0..batch * runner.input_volume())
        .map(|i| (i % 251) as f32 / 251.0)
        .collect();
    let mut outputs: Vec<Vec<u8>> = engine
        .bindings
        .iter()
        .filter(|b| !b.is_input)
        .map(|b| vec![0u8; batch * volume(&b.shape) * 4])
        .collect();
    let mut compute = Vec::with_capacity(a.iterations);
    let mut total = Vec::with_capacity(a.iterations);
    for i in 0..a.warmup + a.iterations {
        let t0 = Instant::now();
        // Host time includes staging the input, as a copy to the device would.
        let staged = input.clone();
        let mut outs = outputs.iter_mut();
        let mut bindings: Vec<HostBinding> = engine
            .bindings
            .iter()
            .filter_map(|b| {
                if b.is_input {
                    Some(HostBinding::Input(f32_bytes(&staged)))
                } else {
                    outs.next().map(|o| HostBinding::Output(o))
                }
            })
            .collect();
        let t1 = Instant::now();
        runner.ctx.execute(batch, &mut bindings)?;
        let t2 = Instant::now();
        if i >= a.warmup {
            compute.push((t2 - t1).as_secs_f64() * 1e3);
            total.push((t2 - t0).as_secs_f64() * 1e3);
        }
    }
    // Device time: what the layers themselves take, as IProfiler reports it (on CUDA each
    // kernel between events, launched one by one; on the CPU each layer's wall time).
    let sum = Arc::new(Mutex::new(0f64));
    runner
        .ctx
        .set_profiler(Some(Box::new(RunTotal(Arc::clone(&sum)))));
    let profiled = a.iterations.min(50);
    let mut device = Vec::with_capacity(profiled);
    for _ in 0..profiled {
        *sum.lock().unwrap_or_else(|e| e.into_inner()) = 0.0;
        let mut outs = outputs.iter_mut();
        let mut bindings: Vec<HostBinding> = engine
            .bindings
            .iter()
            .filter_map(|b| {
                if b.is_input {
                    Some(HostBinding::Input(f32_bytes(&input)))
                } else {
                    outs.next().map(|o| HostBinding::Output(o))
                }
            })
            .collect();
        runner.ctx.execute(batch, &mut bindings)?;
        device.push(*sum.lock().unwrap_or_else(|e| e.into_inner()));
    }
    runner.ctx.set_profiler(None);
    compute.sort_by(f64::total_cmp);
    total.sort_by(f64::total_cmp);
    device.sort_by(f64::total_cmp);
    let device_median = percentile(&device, 0.5);
    let median = percentile(&compute, 0.5);
    let device = format!("{:?}", runner.ctx.device());
    if a.json {
        let doc = serde_json::json!({
            "device": device, "batch": batch, "iterations": a.iterations,
            "median_ms": median, "p90_ms": percentile(&compute, 0.9), "p99_ms": percentile(&compute, 0.99),
            "host_median_ms": percentile(&total, 0.5), "images_per_s": batch as f64 / median * 1e3,
            "device_median_ms": device_median, "device_runs": profiled,
        });
        println!("{doc}");
    } else {
        println!(
            "device {device}, batch {batch}, {} iterations after {} warm-up",
            a.iterations, a.warmup
        );
        println!(
            "execute  median {:.4} ms  p90 {:.4} ms  p99 {:.4} ms",
            median,
            percentile(&compute, 0.9),
            percentile(&compute, 0.99)
        );
        println!(
            "host     median {:.4} ms (input staging + execute)",
            percentile(&total, 0.5)
        );
        println!(
            "device   median {device_median:.4} ms (the layers' own times reported to IProfiler, \
             {profiled} profiled runs; on CUDA the kernels launched one by one)"
        );
        println!("throughput {:.0} images/s", batch as f64 / median * 1e3);
    }
    Ok(())
}
