//! `infer8 build`: Caffe model → engine file.

use std::path::{Path, PathBuf};

use infer8::engine::{Engine, serialize};
use infer8::error::{Error, Result};

use crate::model::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Where to write the engine
    #[arg(long)]
    save_engine: PathBuf,
}

pub fn save(engine: &Engine, path: &Path) -> Result<()> {
    let bytes = serialize::to_bytes(engine);
    std::fs::write(path, &bytes)
        .map_err(|e| Error::Io(format!("--save-engine {}: {e}", path.display())))?;
    println!(
        "wrote {} ({} bytes, {} layers, max batch {})",
        path.display(),
        bytes.len(),
        engine.nb_layers(),
        engine.max_batch_size
    );
    Ok(())
}

pub fn run(a: Args) -> Result<()> {
    if a.model.engine.is_some() {
        infer8::bail!(
            InvalidArgument,
            "build takes --deploy and --model, not --engine"
        );
    }
    let engine = a.model.engine(None)?;
    save(&engine, &a.save_engine)
}
