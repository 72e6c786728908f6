//! `infer8 calibrate`: INT8 calibration from data files, writing a TensorRT-format cache.

use std::io::Write;
use std::path::{Path, PathBuf};

use infer8::builder::Calibrator;
use infer8::error::{Error, Result};
use infer8::types::{CalibrationAlgoType, volume};

use crate::inputs::InputArgs;
use crate::model::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    input: InputArgs,
    /// entropy2, entropy, minmax, legacy or percentile
    #[arg(long, default_value = "entropy2")]
    algorithm: String,
    /// Percentile (for --algorithm percentile)
    #[arg(long, default_value_t = 99.99)]
    percentile: f64,
    /// Legacy calibrator quantile and regression cutoff
    #[arg(long, default_value_t = 0.999999)]
    quantile: f64,
    #[arg(long, default_value_t = 1.0)]
    cutoff: f64,
    /// Images per calibration batch
    #[arg(long, default_value_t = 50)]
    calib_batch: usize,
    /// Where to write the calibration cache
    #[arg(long)]
    cache: PathBuf,
    /// Also save the INT8 engine
    #[arg(long)]
    save_engine: Option<PathBuf>,
}

/// Feeds batches from memory, with a progress bar; keeps the cache the builder writes.
pub struct DataCalibrator {
    data: Vec<f32>,
    item: usize,
    batch: usize,
    next: usize,
    algorithm: CalibrationAlgoType,
    legacy: (f64, f64),
    percentile: Option<f64>,
    cache: Option<Vec<u8>>,
}

impl Calibrator for DataCalibrator {
    fn batch_size(&mut self) -> usize {
        self.batch
    }
    fn get_batch(&mut self, _names: &[&str], buffers: &mut [&mut [f32]]) -> bool {
        let total = self.data.len() / (self.item * self.batch);
        if self.next >= total || buffers.len() != 1 {
            eprintln!();
            return false;
        }
        let len = self.item * self.batch;
        buffers[0].copy_from_slice(&self.data[self.next * len..(self.next + 1) * len]);
        self.next += 1;
        let done = 40 * self.next / total;
        eprint!(
            "\rcalibrating [{}{}] {}/{total} batches",
            "#".repeat(done),
            " ".repeat(40 - done),
            self.next
        );
        let _ = std::io::stderr().flush();
        true
    }
    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        None
    }
    fn write_calibration_cache(&mut self, cache: &[u8]) {
        self.cache = Some(cache.to_vec());
    }
    fn algorithm(&mut self) -> CalibrationAlgoType {
        self.algorithm
    }
    fn legacy_parameters(&mut self) -> Option<(f64, f64)> {
        Some(self.legacy)
    }
    fn percentile(&mut self) -> Option<f64> {
        self.percentile
    }
}

/// Hands the builder a cache file and no batches (`--calib-cache`).
pub struct CacheOnly {
    bytes: Vec<u8>,
    algorithm: CalibrationAlgoType,
    percentile: Option<f64>,
}

impl CacheOnly {
    pub fn read(path: &Path) -> Result<CacheOnly> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Io(format!("--calib-cache {}: {e}", path.display())))?;
        let header = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let algorithm = match header.rsplit('-').next() {
            Some("EntropyCalibration") => CalibrationAlgoType::Entropy,
            Some("MinMaxCalibration") => CalibrationAlgoType::MinMax,
            Some("LegacyCalibration") => CalibrationAlgoType::Legacy,
            _ if header == "1" => CalibrationAlgoType::Entropy,
            _ if header.starts_with('0') => CalibrationAlgoType::Legacy,
            _ => CalibrationAlgoType::Entropy2,
        };
        // The percentile is not in the header; any value reads the cache back.
        let percentile = header.ends_with("-PercentileCalibration").then_some(100.0);
        Ok(CacheOnly {
            bytes,
            algorithm,
            percentile,
        })
    }
}

impl Calibrator for CacheOnly {
    fn batch_size(&mut self) -> usize {
        1
    }
    fn get_batch(&mut self, _: &[&str], _: &mut [&mut [f32]]) -> bool {
        false
    }
    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        Some(self.bytes.clone())
    }
    fn write_calibration_cache(&mut self, _: &[u8]) {}
    fn algorithm(&mut self) -> CalibrationAlgoType {
        self.algorithm
    }
    fn percentile(&mut self) -> Option<f64> {
        self.percentile
    }
}

pub fn run(mut a: Args) -> Result<()> {
    let (algorithm, legacy) = match a.algorithm.as_str() {
        "entropy2" => (CalibrationAlgoType::Entropy2, (1.0, 1.0)),
        "entropy" => (CalibrationAlgoType::Entropy, (1.0, 1.0)),
        "minmax" => (CalibrationAlgoType::MinMax, (1.0, 1.0)),
        "legacy" => (CalibrationAlgoType::Legacy, (a.quantile, a.cutoff)),
        "percentile" => (CalibrationAlgoType::Entropy2, (1.0, 1.0)),
        other => infer8::bail!(
            InvalidArgument,
            "--algorithm {other}: expected entropy2, entropy, minmax, legacy or percentile"
        ),
    };
    a.model.int8 = true;
    let item = input_volume(&a.model)?;
    let inputs = a.input.load(item)?;
    if inputs.count < a.calib_batch || a.calib_batch == 0 {
        infer8::bail!(
            InvalidArgument,
            "--calib-batch {} needs at least that many items ({} given)",
            a.calib_batch,
            inputs.count
        );
    }
    let percentile = (a.algorithm == "percentile").then_some(a.percentile);
    let mut cal = DataCalibrator {
        data: inputs.data,
        item,
        batch: a.calib_batch,
        next: 0,
        algorithm,
        legacy,
        percentile,
        cache: None,
    };
    let engine = a.model.engine(Some(&mut cal))?;
    let cache = cal
        .cache
        .ok_or_else(|| Error::Runtime("the builder wrote no calibration cache".into()))?;
    std::fs::write(&a.cache, &cache)
        .map_err(|e| Error::Io(format!("--cache {}: {e}", a.cache.display())))?;
    println!(
        "wrote {} ({} tensors)",
        a.cache.display(),
        String::from_utf8_lossy(&cache).lines().count() - 1
    );
    if let Some(p) = &a.save_engine {
        crate::build::save(&engine, p)?;
    }
    Ok(())
}

fn input_volume(model: &ModelArgs) -> Result<usize> {
    let net = model.network(infer8::types::DataType::Float)?;
    match net.inputs[..] {
        [t] => Ok(volume(&net.tensors[t].shape)),
        _ => infer8::bail!(
            Unsupported,
            "calibration from files needs a network with one input"
        ),
    }
}
