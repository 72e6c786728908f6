//! Where an engine comes from: a saved engine file, or a Caffe model built on the spot.

use std::path::PathBuf;
use std::sync::Arc;

use infer8::builder::{BuilderConfig, Calibrator, build_engine};
use infer8::engine::{Engine, serialize};
use infer8::error::{Error, Result};
use infer8::logger::{Logger, Severity, StderrLogger};
use infer8::network::Network;
use infer8::parser::CaffeParser;
use infer8::types::DataType;

#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// A saved engine (from `infer8 build --save-engine`)
    #[arg(long, conflicts_with_all = ["deploy", "model"])]
    pub engine: Option<PathBuf>,
    /// Caffe deploy prototxt
    #[arg(long, requires = "model")]
    pub deploy: Option<PathBuf>,
    /// Caffe weights (.caffemodel)
    #[arg(long, requires = "deploy")]
    pub model: Option<PathBuf>,
    /// Output blob(s) to mark (repeatable); default: blobs no layer consumes
    #[arg(long = "output")]
    pub outputs: Vec<String>,
    /// Build with FP16 layers
    #[arg(long)]
    pub fp16: bool,
    /// Build with INT8 layers (needs --calib-cache, or calibration data with `calibrate`)
    #[arg(long)]
    pub int8: bool,
    /// Maximum batch size of the engine
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Builder workspace size in MiB
    #[arg(long, default_value_t = 1024)]
    pub workspace: usize,
    /// A calibration cache (TensorRT text format) to read INT8 scales from
    #[arg(long)]
    pub calib_cache: Option<PathBuf>,
    /// Backend for execution: cpu or cuda (default: cuda when a GPU is usable, else cpu)
    #[arg(long, value_parser = ["cpu", "cuda"])]
    pub device: Option<String>,
    /// Log level: 0 errors .. 4 verbose
    #[arg(long, default_value_t = 2)]
    pub verbosity: i32,
}

impl ModelArgs {
    pub fn logger(&self) -> StderrLogger {
        let max_severity = match self.verbosity {
            ..=1 => Severity::Error,
            2 => Severity::Warning,
            3 => Severity::Info,
            _ => Severity::Verbose,
        };
        StderrLogger { max_severity }
    }

    /// The network of `--deploy/--model` with its outputs marked.
    pub fn network(&self, weight_type: DataType) -> Result<Network> {
        let (Some(deploy), Some(model)) = (&self.deploy, &self.model) else {
            infer8::bail!(
                InvalidArgument,
                "give --engine FILE or --deploy X.prototxt --model X.caffemodel"
            );
        };
        let mut net = Network::new();
        let blobs = CaffeParser::new().parse(deploy, Some(model), &mut net, weight_type)?;
        if self.outputs.is_empty() {
            let consumed: Vec<usize> = net.layers.iter().flat_map(|l| l.inputs.clone()).collect();
            for (_, t) in blobs.blobs() {
                if !consumed.contains(&t) && !net.is_input(t) {
                    net.mark_output(t)?;
                }
            }
        }
        for name in &self.outputs {
            let t = blobs.find(name).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "--output {name}: no such blob in {}",
                    deploy.display()
                ))
            })?;
            net.mark_output(t)?;
        }
        Ok(net)
    }

    pub fn config(&self) -> BuilderConfig {
        BuilderConfig {
            max_batch_size: self.batch,
            max_workspace_size: self.workspace << 20,
            fp16: self.fp16,
            int8: self.int8,
            ..Default::default()
        }
    }

    /// Loads `--engine`, or builds from the Caffe model (INT8 scales from `calibrator` or the cache).
    pub fn engine(&self, calibrator: Option<&mut dyn Calibrator>) -> Result<Arc<Engine>> {
        if let Some(device) = &self.device {
            // SAFETY: set before any context exists, from the command line's only thread; the
            // library reads it once, when it first picks a device.
            unsafe { std::env::set_var("INFER8_DEVICE", device) };
        }
        let logger = self.logger();
        if let Some(path) = &self.engine {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::Io(format!("--engine {}: {e}", path.display())))?;
            let engine = serialize::from_bytes(&bytes)
                .map_err(|e| Error::Format(format!("--engine {}: {e}", path.display())))?;
            return Ok(Arc::new(engine));
        }
        let weight_type = if self.fp16 && !self.int8 {
            DataType::Half
        } else {
            DataType::Float
        };
        let net = self.network(weight_type)?;
        let config = self.config();
        let engine = match (calibrator, &self.calib_cache) {
            (Some(c), _) => build_engine(&net, &config, Some(c), &logger)?,
            (None, Some(path)) => {
                let mut cache = crate::calibrate::CacheOnly::read(path)?;
                build_engine(&net, &config, Some(&mut cache), &logger)?
            }
            (None, None) => {
                if self.int8 {
                    logger.log(
                        Severity::Warning,
                        "--int8 without --calib-cache: layers without dynamic ranges stay FP32",
                    );
                }
                build_engine(&net, &config, None, &logger)?
            }
        };
        Ok(Arc::new(engine))
    }
}
