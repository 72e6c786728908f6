//! `infer8`: build, calibrate, run, time and inspect engines from the command line (trtexec for the
//! legacy API), and prepare data for the samples.

mod build;
mod cache;
mod calibrate;
mod inputs;
mod inspect;
mod mnist_batches;
mod model;
mod run;
mod session;
mod time;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "infer8",
    version,
    about = "TensorRT legacy API engines from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an engine from a Caffe model and save it
    Build(build::Args),
    /// Calibrate for INT8 and write a TensorRT-format calibration cache
    Calibrate(calibrate::Args),
    /// Run an engine on input data: top-k, accuracy, outputs as .npy
    Run(run::Args),
    /// Time an engine: median/p90/p99 latency and throughput
    Time(time::Args),
    /// Per-layer types, shapes, precisions, time shares, INT8 scales and errors against FP32
    Inspect(inspect::Args),
    /// Print a calibration cache decoded
    DecodeCache(cache::Args),
    /// Write sampleINT8's `batches/batchN` files from MNIST IDX files (pixel / 255)
    MnistBatches(mnist_batches::Args),
}

fn main() {
    let result = match Cli::parse().command {
        Command::Build(a) => build::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Run(a) => run::run(a),
        Command::Time(a) => time::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::DecodeCache(a) => cache::run(a),
        Command::MnistBatches(a) => mnist_batches::run(a),
    };
    if let Err(e) = result {
        eprintln!("infer8: {e}");
        std::process::exit(1);
    }
}
