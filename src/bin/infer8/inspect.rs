//! `infer8 inspect`: per layer its type, shapes, precision, kernel, time share and INT8 scales; with
//! `--compare`, each layer's error against an FP32 build on the same input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use infer8::engine::context::Profiler;
use infer8::error::Result;

use crate::inputs::InputArgs;
use crate::model::ModelArgs;
use crate::session::Runner;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    input: InputArgs,
    /// Compare every layer's output with an FP32 build of the same model (needs --deploy/--model)
    #[arg(long)]
    compare: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Sums `reportLayerTime` over runs. A fused step ("conv1 + relu1") counts for its first layer.
struct Times(Arc<Mutex<HashMap<String, f64>>>);

impl Profiler for Times {
    fn report_layer_time(&mut self, layer: &str, ms: f32) {
        let first = layer.split(" + ").next().unwrap_or(layer);
        if let Ok(mut t) = self.0.lock() {
            *t.entry(first.to_string()).or_default() += ms as f64;
        }
    }
}

/// Every tensor of a run, by name (first `count` items).
fn tensors(runner: &mut Runner, data: &[f32], count: usize) -> Result<HashMap<String, Vec<f32>>> {
    let mut seen: HashMap<String, Vec<f32>> = HashMap::new();
    let names: Vec<String> = runner
        .engine
        .network
        .tensors
        .iter()
        .map(|t| t.name.clone())
        .collect();
    runner.infer(
        data,
        count,
        Some(&mut |_, t, v| {
            seen.entry(names[t].clone())
                .or_default()
                .extend_from_slice(v)
        }),
    )?;
    Ok(seen)
}

pub fn run(a: Args) -> Result<()> {
    let engine = a.model.engine(None)?;
    let mut runner = Runner::new(Arc::clone(&engine))?;
    let item = runner.input_volume();
    let mut input = a.input.clone();
    if !input.given() {
        input.count = None;
    }
    let data = if a.input.given() {
        input.count = Some(
            input
                .count
                .unwrap_or(engine.max_batch_size)
                .min(engine.max_batch_size),
        );
        input.load(item)?
    } else {
        crate::inputs::Inputs {
            data: (0..item).map(|i| (i % 251) as f32 / 251.0).collect(),
            count: 1,
            labels: None,
        }
    };
    let times = Arc::new(Mutex::new(HashMap::new()));
    runner
        .ctx
        .set_profiler(Some(Box::new(Times(Arc::clone(&times)))));
    let observed = tensors(&mut runner, &data.data, data.count)?;

    let errors: HashMap<String, f64> = if a.compare {
        let mut fp32 = a.model.clone();
        (fp32.fp16, fp32.int8, fp32.calib_cache) = (false, false, None);
        let mut reference = Runner::new(fp32.engine(None)?)?;
        let expected = tensors(&mut reference, &data.data, data.count)?;
        observed
            .iter()
            .filter_map(|(name, got)| {
                let want = expected.get(name)?;
                let scale = want
                    .iter()
                    .fold(0f64, |m, v| m.max(v.abs() as f64))
                    .max(1e-12);
                let err = got
                    .iter()
                    .zip(want)
                    .fold(0f64, |m, (g, w)| m.max((g - w).abs() as f64));
                Some((name.clone(), err / scale))
            })
            .collect()
    } else {
        HashMap::new()
    };

    let times = times.lock().map(|t| t.clone()).unwrap_or_default();
    let total: f64 = times.values().sum::<f64>().max(1e-12);
    let net = &engine.network;
    let shape = |t: usize| format!("{:?}", net.tensors[t].shape);
    // Max pooling and ReLU between INT8 layers run on the INT8 values on the CPU.
    let int8 = infer8::engine::int8::plan(&engine);
    let mut rows = Vec::new();
    for &l in &engine.order {
        let layer = &net.layers[l];
        let out = layer.outputs[0];
        rows.push(serde_json::json!({
            "layer": layer.name,
            "type": layer.kind.type_name(),
            "inputs": layer.inputs.iter().map(|&t| shape(t)).collect::<Vec<_>>(),
            "outputs": layer.outputs.iter().map(|&t| shape(t)).collect::<Vec<_>>(),
            "precision": if int8.modes[l].is_some() {
                "Int8".to_string()
            } else {
                format!("{:?}", engine.precisions[l])
            },
            "kernel": format!("{:?}:{}", runner.ctx.device(), layer.kind.type_name()),
            "time_share": times.get(&layer.name).copied().unwrap_or(0.0) / total,
            "output_scale": engine.scales[out],
            "error_vs_fp32": errors.get(&net.tensors[out].name),
        }));
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({"max_batch": engine.max_batch_size, "layers": rows})
        );
        return Ok(());
    }
    println!(
        "{:<28} {:<16} {:<9} {:>6} {:>12} {:>12}  output shape",
        "layer", "type", "precision", "time%", "INT8 scale", "err vs FP32"
    );
    for r in &rows {
        let opt =
            |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.3e}"));
        println!(
            "{:<28} {:<16} {:<9} {:>5.1}% {:>12} {:>12}  {}",
            r["layer"].as_str().unwrap_or(""),
            r["type"].as_str().unwrap_or(""),
            r["precision"].as_str().unwrap_or(""),
            100.0 * r["time_share"].as_f64().unwrap_or(0.0),
            opt(&r["output_scale"]),
            opt(&r["error_vs_fp32"]),
            r["outputs"][0].as_str().unwrap_or(""),
        );
    }
    if a.compare {
        println!(
            "error vs FP32 = max |x - x_fp32| / max |x_fp32| over the tensor, {} item(s)",
            data.count
        );
    }
    Ok(())
}
