//! `infer8`: build, calibrate, run, time and inspect engines from the command line (trtexec for the
//! legacy API), and prepare data for the samples.

mod mnist_batches;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "infer8", version, about = "TensorRT legacy API engines from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write sampleINT8's `batches/batchN` files from MNIST IDX files (pixel / 255).
    MnistBatches(mnist_batches::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::MnistBatches(a) => mnist_batches::run(a),
    };
    if let Err(e) = result {
        eprintln!("infer8: {e}");
        std::process::exit(1);
    }
}
