//! INT8 calibration as TensorRT's builder drives `IInt8Calibrator`: read the cache first; otherwise
//! `getBatchSize` once, `getBatch` until false, and `writeCalibrationCache` at the end. The batches
//! are kept so that two passes (absolute maximum, then histograms over that fixed range) see the
//! same data: the result depends neither on batch order nor on the backend (DESIGN.md decision 6).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::Calibrator;
use crate::calib::{self, Algorithm, RangeCollector};
use crate::engine::context::{HostBinding, f32_bytes};
use crate::engine::{Engine, ExecutionContext, Precision};
use crate::error::{Error, Result};
use crate::logger::{Logger, Severity};
use crate::network::Network;
use crate::types::{CalibrationAlgoType, volume};

/// The header version we write (`TRT-5105-...`): the TensorRT generation whose API we present.
pub const CACHE_VERSION: i32 = 5105;

fn algorithm(c: &mut dyn Calibrator) -> Result<Algorithm> {
    let alg = match c.percentile() {
        Some(p) => Algorithm::Percentile(p),
        None => algorithm_of(c),
    };
    alg.validate().map_err(Error::InvalidArgument)?;
    Ok(alg)
}

fn algorithm_of(c: &mut dyn Calibrator) -> Algorithm {
    match c.algorithm() {
        CalibrationAlgoType::Legacy => {
            let (quantile, regression_cutoff) = c.legacy_parameters().unwrap_or((1.0, 1.0));
            Algorithm::Legacy {
                quantile,
                regression_cutoff,
            }
        }
        CalibrationAlgoType::Entropy => Algorithm::Entropy,
        CalibrationAlgoType::Entropy2 => Algorithm::Entropy2,
        CalibrationAlgoType::MinMax => Algorithm::MinMax,
    }
}

/// The FP32 engine that calibration runs: the same network, every layer in FP32. On the CPU it
/// has no output bindings (the observer sees every tensor as it is computed); on the GPU
/// (`every_output`) every tensor a layer computes is an output, so that none is fused away or
/// shares memory. Its plugin layers are objects of its own, released with it.
pub(crate) fn fp32_engine(net: &Network, batch: usize, every_output: bool) -> Result<Engine> {
    let mut net = net.clone();
    net.outputs = if every_output {
        (0..net.tensors.len())
            .filter(|&t| net.tensors[t].producer.is_some())
            .collect()
    } else {
        Vec::new()
    };
    crate::engine::plugin::instantiate(&mut net)?;
    let layers = net.layers.len();
    let tensors = net.tensors.len();
    let engine = Engine::assemble(
        net,
        batch,
        vec![Precision::Float; layers],
        vec![None; tensors],
    )?;
    crate::engine::plugin::start(&engine, true)?;
    Ok(engine)
}

/// Returns each tensor's `amax` (None where a cache lacks the tensor).
pub fn calibrate(
    net: &Network,
    calibrator: &mut dyn Calibrator,
    logger: &dyn Logger,
) -> Result<Vec<Option<f32>>> {
    let alg = algorithm(calibrator)?;
    if let Some(bytes) = calibrator
        .read_calibration_cache()
        .filter(|b| !b.is_empty())
    {
        match calib::read_cache(&bytes, &alg) {
            Ok(cache) => {
                let by_name: HashMap<&str, f32> =
                    cache.scales.iter().map(|(n, s)| (n.as_str(), *s)).collect();
                let amax: Vec<Option<f32>> = net
                    .tensors
                    .iter()
                    .map(|t| {
                        by_name
                            .get(t.name.as_str())
                            .map(|&s| calib::amax_from_scale(s))
                    })
                    .collect();
                let missing = amax.iter().filter(|a| a.is_none()).count();
                logger.log(
                    Severity::Info,
                    &format!(
                        "Using the calibration cache ({} tensors, {missing} without a scale).",
                        cache.scales.len()
                    ),
                );
                return Ok(amax);
            }
            Err(e) => logger.log(
                Severity::Warning,
                &format!("calibration cache ignored: {e}; calibrating again"),
            ),
        }
    }

    let start = Instant::now();
    let legacy = matches!(alg, Algorithm::Legacy { .. });
    let cached = if legacy {
        histograms_from_cache(net, calibrator, logger)
    } else {
        None
    };
    let hists = match cached {
        Some(h) => h,
        None => {
            let h = collect_histograms(net, calibrator, &alg, logger)?;
            if legacy {
                let entries: Vec<(String, calib::Histogram)> = net
                    .tensors
                    .iter()
                    .map(|t| t.name.clone())
                    .zip(h.iter().cloned())
                    .collect();
                calibrator.write_histogram_cache(&calib::write_histogram_cache(&entries));
            }
            h
        }
    };
    let post = Instant::now();
    let amax: Vec<f32> = hists.iter().map(|h| calib::compute_amax(&alg, h)).collect();
    logger.log(
        Severity::Info,
        &format!(
            "  Post Processing Calibration data in {} seconds.",
            post.elapsed().as_secs_f64()
        ),
    );

    let entries: Vec<(String, f32)> = net
        .tensors
        .iter()
        .zip(&amax)
        .filter(|(_, a)| **a > 0.0)
        .map(|(t, &a)| (t.name.clone(), calib::scale_from_amax(a)))
        .collect();
    logger.log(
        Severity::Info,
        &format!(
            "Calibration completed in {} seconds.",
            start.elapsed().as_secs_f64()
        ),
    );
    logger.log(
        Severity::Info,
        &format!(
            "Writing Calibration Cache for calibrator: TRT-{CACHE_VERSION}-{}",
            alg.trt_name()
        ),
    );
    calibrator.write_calibration_cache(&calib::write_cache(CACHE_VERSION, &alg, &entries));
    // Round-trip through the cached f32 scale, so an engine built from the cache is bit-identical.
    Ok(amax
        .into_iter()
        .map(|a| (a > 0.0).then(|| calib::amax_from_scale(calib::scale_from_amax(a))))
        .collect())
}

/// `IInt8LegacyCalibrator::readHistogramCache`, asked after a calibration cache miss: a cache that
/// holds a histogram for every tensor of the network replaces running the batches.
fn histograms_from_cache(
    net: &Network,
    calibrator: &mut dyn Calibrator,
    logger: &dyn Logger,
) -> Option<Vec<calib::Histogram>> {
    let bytes = calibrator
        .read_histogram_cache()
        .filter(|b| !b.is_empty())?;
    let ignored = |why: String| {
        logger.log(
            Severity::Warning,
            &format!("histogram cache ignored: {why}; calibrating again"),
        );
    };
    let entries = match calib::read_histogram_cache(&bytes) {
        Ok(e) => e,
        Err(e) => {
            ignored(e);
            return None;
        }
    };
    let mut by_name: HashMap<String, calib::Histogram> = entries.into_iter().collect();
    let mut hists = Vec::with_capacity(net.tensors.len());
    for t in &net.tensors {
        match by_name.remove(&t.name) {
            Some(h) => hists.push(h),
            None => {
                ignored(format!("it has no histogram for tensor '{}'", t.name));
                return None;
            }
        }
    }
    logger.log(
        Severity::Info,
        &format!(
            "Using the histogram cache ({} tensors): no calibration batches run.",
            hists.len()
        ),
    );
    Some(hists)
}

/// Runs the calibrator's batches through the FP32 engine: absolute maxima, then (unless the
/// algorithm needs none) histograms over those frozen ranges, one per network tensor.
fn collect_histograms(
    net: &Network,
    calibrator: &mut dyn Calibrator,
    alg: &Algorithm,
    logger: &dyn Logger,
) -> Result<Vec<calib::Histogram>> {
    let mut batch = calibrator.batch_size();
    if net.explicit_batch && batch != 1 {
        // The inputs' shapes hold the batch: every getBatch fills whole input tensors.
        logger.log(
            Severity::Warning,
            &format!(
                "explicit-batch network: calibration batches are whole input tensors, getBatchSize() = {batch} is read as 1"
            ),
        );
        batch = 1;
    }
    if batch == 0 {
        crate::bail!(InvalidArgument, "calibrator getBatchSize() returned 0");
    }
    logger.log(
        Severity::Info,
        &format!("Starting Calibration with batch size {batch}."),
    );
    let names: Vec<&str> = net
        .inputs
        .iter()
        .map(|&t| net.tensors[t].name.as_str())
        .collect();
    // The batch size is the calibrator's word: a huge one must fail here, not abort in the allocator.
    let sizes: Vec<usize> = net
        .inputs
        .iter()
        .map(|&t| {
            let n = volume(&net.tensors[t].shape).checked_mul(batch);
            crate::limits::check(
                n,
                std::mem::size_of::<f32>(),
                &format_args!(
                    "calibration batch of {batch} items for input '{}'",
                    net.tensors[t].name
                ),
            )?;
            Ok(n.unwrap_or_default())
        })
        .collect::<Result<_>>()?;
    let mut batches: Vec<Vec<Vec<f32>>> = Vec::new();
    loop {
        let mut bufs: Vec<Vec<f32>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
        let mut views: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let t0 = Instant::now();
        if !calibrator.get_batch(&names, &mut views) {
            break;
        }
        logger.log(
            Severity::Info,
            &format!(
                "  Calibrated batch {} in {} seconds.",
                batches.len(),
                t0.elapsed().as_secs_f64()
            ),
        );
        batches.push(bufs);
    }
    if batches.is_empty() {
        crate::bail!(
            InvalidArgument,
            "the calibrator returned no batch (getBatch was false on the first call)"
        );
    }

    #[cfg(feature = "cuda")]
    if crate::backend::selected() == crate::backend::Device::Cuda {
        match crate::backend::cuda::calibration_histograms(
            net,
            batch,
            &batches,
            alg.needs_histograms(),
        ) {
            Ok(h) => {
                logger.log(
                    Severity::Info,
                    "  Calibration statistics collected on the GPU.",
                );
                return Ok(h);
            }
            Err(e) => logger.log(
                Severity::Info,
                &format!("  Calibration statistics collected on the CPU: {e}"),
            ),
        }
    }
    host_histograms(net, batch, &batches, alg.needs_histograms())
}

/// Each tensor's histogram (only its range where `histograms` is false) over `batches` of
/// `batch` items, run on the CPU; each batch holds the network inputs' values in `net.inputs`
/// order. The reference that the GPU's statistics are checked against.
pub fn host_histograms(
    net: &Network,
    batch: usize,
    batches: &[Vec<Vec<f32>>],
    histograms: bool,
) -> Result<Vec<calib::Histogram>> {
    let engine = Arc::new(fp32_engine(net, batch, false)?);
    let mut ctx = ExecutionContext::new(engine)?;
    let mut collector = RangeCollector::new(net.tensors.len());
    for pass in 0..2 {
        if pass == 1 {
            if !histograms {
                break;
            }
            collector.begin_histograms();
        }
        for b in batches {
            let mut err = None;
            let mut observe = |t: usize, data: &[f32]| {
                let r = if pass == 0 {
                    collector.observe_absmax(t, data)
                } else {
                    collector.observe_histogram(t, data)
                };
                if let Err(e) = r {
                    err.get_or_insert(e);
                }
            };
            for (&t, data) in net.inputs.iter().zip(b) {
                observe(t, data);
            }
            let mut bindings: Vec<HostBinding> =
                b.iter().map(|d| HostBinding::Input(f32_bytes(d))).collect();
            ctx.run(batch, &mut bindings, &mut observe)?;
            if let Some(e) = err {
                return Err(Error::Runtime(format!("calibration: {e}")));
            }
        }
    }
    Ok(collector.into_histograms())
}
