//! `infer8 run`: outputs of an engine on input data, top-k, accuracy against labels, `.npy` files.

use std::path::PathBuf;

use infer8::error::Result;
use infer8::types::volume;

use crate::inputs::{InputArgs, write_npy};
use crate::model::ModelArgs;
use crate::session::Runner;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    input: InputArgs,
    /// Classes shown per item (first output)
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Items printed (the accuracy covers all)
    #[arg(long, default_value_t = 3)]
    show: usize,
    /// Folder to write each output as <name>.npy
    #[arg(long)]
    save_npy: Option<PathBuf>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Indices of the `k` largest values, best first (ties: lower index first).
fn top_k(p: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

pub fn run(a: Args) -> Result<()> {
    let mut runner = Runner::new(a.model.engine(None)?)?;
    let inputs = a.input.load(runner.input_volume())?;
    let outputs = runner.infer(&inputs.data, inputs.count, None)?;
    let engine = &runner.engine;
    let out_bindings: Vec<_> = engine.bindings.iter().filter(|b| !b.is_input).collect();
    let classes = volume(&out_bindings[0].shape);
    let first = &outputs[0];
    // sampleINT8's rule: a hit when fewer than k classes score at least the label's probability.
    let accuracy = inputs.labels.as_ref().map(|labels| {
        let hits = |k: usize| {
            first
                .chunks(classes)
                .zip(labels)
                .filter(|(p, l)| **l < classes && p.iter().filter(|&&v| v >= p[**l]).count() <= k)
                .count() as f64
                / labels.len() as f64
        };
        (hits(1), hits(5))
    });
    if let Some(dir) = &a.save_npy {
        std::fs::create_dir_all(dir)?;
        for (b, values) in out_bindings.iter().zip(&outputs) {
            let mut shape = vec![inputs.count];
            shape.extend(&b.shape);
            let file: String = b
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            write_npy(&dir.join(format!("{file}.npy")), &shape, values)?;
        }
    }
    let shown: Vec<(usize, Vec<usize>)> = (0..inputs.count.min(a.show))
        .map(|i| {
            (
                a.input.first + i,
                top_k(&first[i * classes..(i + 1) * classes], a.top_k),
            )
        })
        .collect();
    if a.json {
        let items: Vec<_> = shown
            .iter()
            .map(|(i, top)| serde_json::json!({"item": i, "top": top, "scores": top.iter().map(|&c| first[(i - a.input.first) * classes + c]).collect::<Vec<_>>()}))
            .collect();
        let mut doc = serde_json::json!({"items": inputs.count, "output": out_bindings[0].name, "top": items});
        if let Some((t1, t5)) = accuracy {
            doc["top1"] = t1.into();
            doc["top5"] = t5.into();
        }
        println!("{doc}");
        return Ok(());
    }
    for (i, top) in &shown {
        let scores: Vec<String> = top
            .iter()
            .map(|&c| format!("{c}:{:.4}", first[(i - a.input.first) * classes + c]))
            .collect();
        println!("item {i}: {}", scores.join(" "));
    }
    match accuracy {
        Some((t1, t5)) => println!("{} items: Top1 {t1:.4}, Top5 {t5:.4}", inputs.count),
        None => println!("{} items (no labels: no accuracy)", inputs.count),
    }
    Ok(())
}
