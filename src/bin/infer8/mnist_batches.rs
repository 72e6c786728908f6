use std::path::PathBuf;

use infer8::data::{batch_file, mnist};
use infer8::error::Result;

#[derive(clap::Args)]
pub struct Args {
    /// MNIST image file (IDX, optionally .gz)
    #[arg(long)]
    images: PathBuf,
    /// MNIST label file (IDX, optionally .gz)
    #[arg(long)]
    labels: PathBuf,
    /// Output folder; files are written as <out>/batches/batch0, batch1, ...
    #[arg(long)]
    out: PathBuf,
    /// Images per file
    #[arg(long, default_value_t = 100)]
    per_file: usize,
}

pub fn run(a: Args) -> Result<()> {
    let images = mnist::read_images(&a.images)?;
    let labels = mnist::read_labels(&a.labels)?;
    if labels.len() != images.count {
        infer8::bail!(
            InvalidArgument,
            "{} images but {} labels",
            images.count,
            labels.len()
        );
    }
    if a.per_file == 0 {
        infer8::bail!(InvalidArgument, "--per-file must be at least 1");
    }
    let dir = a.out.join("batches");
    std::fs::create_dir_all(&dir)?;
    let files = images.count / a.per_file;
    for f in 0..files {
        let first = f * a.per_file;
        let data = images.normalized(first, a.per_file);
        let l: Vec<f32> = labels[first..first + a.per_file]
            .iter()
            .map(|&v| v as f32)
            .collect();
        batch_file::write(
            &dir.join(format!("batch{f}")),
            [a.per_file, 1, images.rows, images.cols],
            &data,
            &l,
        )?;
    }
    println!(
        "wrote {files} batch files of {} images to {}",
        a.per_file,
        dir.display()
    );
    Ok(())
}
