//! `infer8 decode-cache`: a TensorRT calibration cache, decoded (tensor, scale, dynamic range).

use std::path::PathBuf;

use infer8::error::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    /// The calibration cache
    cache: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let text = std::fs::read_to_string(&a.cache)
        .map_err(|e| Error::Io(format!("{}: {e}", a.cache.display())))?;
    let mut lines = text.lines();
    println!("header: {}", lines.next().unwrap_or(""));
    println!("{:<48} {:>14} {:>14}", "tensor", "scale", "dynamic range");
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (name, hex) = line.rsplit_once(": ").ok_or_else(|| {
            Error::Format(format!(
                "{} line {}: no ': ' separator",
                a.cache.display(),
                n + 2
            ))
        })?;
        let bits = u32::from_str_radix(hex.trim(), 16).map_err(|_| {
            Error::Format(format!(
                "{} line {}: '{hex}' is not 8 hex digits",
                a.cache.display(),
                n + 2
            ))
        })?;
        let scale = f32::from_bits(bits);
        println!("{name:<48} {scale:>14.6e} {:>14.6}", scale * 127.0);
    }
    Ok(())
}
