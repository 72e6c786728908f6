//! The builder: network definition → engine. Shape check, pruning to what the outputs need,
//! precision assignment, calibration, weight conversion and the memory plan (DESIGN.md data flow).

mod calibrate;
mod lower;
pub mod precision;
pub mod profile;

pub(crate) use calibrate::fp32_engine;
pub use calibrate::host_histograms;

use std::sync::Arc;

use crate::engine::{Engine, Precision};
use crate::error::Result;
use crate::logger::{Logger, Severity};
use crate::network::{LayerId, Network};
use crate::types::CalibrationAlgoType;

/// A calibrator, as the builder drives TensorRT's `IInt8Calibrator` (trt-legacy-api.md §1.6).
pub trait Calibrator {
    fn batch_size(&mut self) -> usize;
    /// Fills one host buffer per network input (in `names` order, `batch_size` items each);
    /// false when there are no more batches.
    fn get_batch(&mut self, names: &[&str], buffers: &mut [&mut [f32]]) -> bool;
    fn read_calibration_cache(&mut self) -> Option<Vec<u8>>;
    fn write_calibration_cache(&mut self, cache: &[u8]);
    fn algorithm(&mut self) -> CalibrationAlgoType;
    /// Legacy calibrator only: `(quantile, regression cutoff)`.
    fn legacy_parameters(&mut self) -> Option<(f64, f64)> {
        None
    }
    /// Legacy calibrator only (`IInt8LegacyCalibrator::readHistogramCache`): the histograms of an
    /// earlier calibration, so a quantile/cutoff search skips running the batches again.
    fn read_histogram_cache(&mut self) -> Option<Vec<u8>> {
        None
    }
    /// Legacy calibrator only: receives the histograms just collected.
    fn write_histogram_cache(&mut self, _cache: &[u8]) {}
    /// infer8's percentile method (no TensorRT `CalibrationAlgoType`): when `Some(p)`, the range of
    /// each tensor covers `p` percent of its values, and `algorithm()` is not consulted.
    fn percentile(&mut self) -> Option<f64> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct BuilderConfig {
    pub max_batch_size: usize,
    pub max_workspace_size: usize,
    pub fp16: bool,
    pub int8: bool,
    pub strict_types: bool,
    pub debug_sync: bool,
    pub min_find_iterations: i32,
    pub avg_find_iterations: i32,
    /// The optimization profile: ranges of the dynamic inputs (by name).
    pub profile: Vec<profile::InputProfile>,
}

impl Default for BuilderConfig {
    fn default() -> Self {
        BuilderConfig {
            max_batch_size: 1,
            max_workspace_size: 0,
            fp16: false,
            int8: false,
            strict_types: false,
            debug_sync: false,
            min_find_iterations: 1,
            avg_find_iterations: 1,
            profile: Vec::new(),
        }
    }
}

/// Keeps only the layers that contribute to a network output; tensor and layer ids are renumbered.
fn prune(net: &Network) -> Result<Network> {
    let order = net.topological_order()?;
    let mut needed = vec![false; net.layers.len()];
    let mut want: Vec<usize> = net.outputs.clone();
    while let Some(t) = want.pop() {
        if let Some((l, _)) = net.tensors[t].producer
            && !std::mem::replace(&mut needed[l], true)
        {
            want.extend(&net.layers[l].inputs);
        }
    }
    let mut out = Network {
        name: net.name.clone(),
        explicit_batch: net.explicit_batch,
        ..Network::default()
    };
    let mut tensor_map = vec![usize::MAX; net.tensors.len()];
    for &t in &net.inputs {
        tensor_map[t] = out.tensors.len();
        out.tensors.push(net.tensors[t].clone());
        out.inputs.push(tensor_map[t]);
    }
    for l in order.into_iter().filter(|&l| needed[l]) {
        let mut layer = net.layers[l].clone();
        let id: LayerId = out.layers.len();
        layer.inputs = layer.inputs.iter().map(|&t| tensor_map[t]).collect();
        for (i, o) in layer.outputs.iter_mut().enumerate() {
            let mut t = net.tensors[*o].clone();
            t.producer = Some((id, i));
            tensor_map[*o] = out.tensors.len();
            *o = out.tensors.len();
            out.tensors.push(t);
        }
        out.layers.push(layer);
    }
    out.outputs = net.outputs.iter().map(|&t| tensor_map[t]).collect();
    Ok(out)
}

/// Builds an engine. `calibrator` is used in INT8 mode for tensors without a user dynamic range.
pub fn build_engine(
    network: &Network,
    config: &BuilderConfig,
    calibrator: Option<&mut dyn Calibrator>,
    logger: &dyn Logger,
) -> Result<Engine> {
    if config.max_batch_size == 0 {
        crate::bail!(InvalidArgument, "the maximum batch size must be at least 1");
    }
    let mut net = network.clone();
    let ranges = profile::apply(&mut net, &config.profile)?;
    net.refresh_shapes()?;
    lower::lower(&mut net)?;
    if net.outputs.is_empty() {
        crate::bail!(
            Network,
            "the network has no outputs (markOutput was never called)"
        );
    }
    for (i, &t) in net.outputs.iter().enumerate() {
        if net.is_input(t) {
            crate::bail!(
                Network,
                "output {i} '{}' is also a network input",
                net.tensors[t].name
            );
        }
    }
    let mut net = prune(&net)?;
    crate::engine::plugin::instantiate(&mut net)?;
    logger.log(
        Severity::Info,
        &format!(
            "Detected {} inputs and {} output network tensors.",
            net.inputs.len(),
            net.outputs.len()
        ),
    );

    let mut precisions = precision::assign(&net, config, logger);
    let scales = if precisions.contains(&Precision::Int8) {
        let scales = precision::int8_scales(&net, calibrator, logger)?;
        precision::drop_unscaled_int8(&net, &mut precisions, &scales, config, logger);
        scales
    } else {
        vec![None; net.tensors.len()]
    };
    precision::convert_weights(&mut net, &precisions);

    // An explicit-batch network carries its batch in its shapes: the engine runs it once per call.
    let max_batch = if net.explicit_batch {
        1
    } else {
        config.max_batch_size
    };
    let mut engine = Engine::assemble(net, max_batch, precisions, scales)?;
    engine.profile = ranges;
    engine.max_workspace_size = config.max_workspace_size;
    crate::engine::plugin::start(&engine, true)?;
    #[cfg(feature = "cuda")]
    cuda_plan(&mut engine, config, logger);
    let plan = crate::engine::int8::plan(&engine);
    if engine.precisions.contains(&Precision::Int8) {
        let kept = plan.storage.iter().filter(|s| s.is_some()).count();
        logger.log(
            Severity::Info,
            &format!(
                "CPU execution: {} of {} layers in INT8 ({} kernel), {kept} tensors kept INT8 \
                 between layers",
                plan.modes.iter().filter(|m| m.is_some()).count(),
                engine.nb_layers(),
                crate::backend::cpu::int8_kernel_name()
            ),
        );
    }
    for line in crate::engine::int8::describe(&engine, &plan) {
        logger.log(Severity::Verbose, &line);
    }
    Ok(engine)
}

/// On a GPU, what the CUDA backend will make of the engine: each convolution and FC layer's kernel
/// family, timed as `setMinFindIterations`/`setAverageFindIterations` say, and the workspace its
/// plan needs within the builder's limit. An engine the CUDA backend cannot run (its contexts use
/// the CPU), or a failure here, leaves the engine as the CPU would build it (the plan's rules pick
/// the kernels; a context reports real errors).
#[cfg(feature = "cuda")]
fn cuda_plan(engine: &mut Engine, config: &BuilderConfig, logger: &dyn Logger) {
    use crate::backend::{Device, cuda};
    if crate::backend::selected() != Device::Cuda || cuda::unsupported(engine).is_some() {
        return;
    }
    let schedule = cuda::Schedule::new(config.min_find_iterations, config.avg_find_iterations);
    match cuda::choose_tactics(engine, schedule, logger) {
        Ok(tactics) => engine.tactics = tactics,
        Err(e) => logger.log(
            Severity::Warning,
            &format!("CUDA tactic timing failed, kernels are chosen by rules: {e}"),
        ),
    }
    match cuda::workspace_size(engine) {
        Ok((bytes, wanted)) => {
            engine.workspace_size = bytes;
            logger.log(
                Severity::Verbose,
                &format!(
                    "CUDA plan: {bytes} bytes of workspace (maximum {})",
                    engine.max_workspace_size
                ),
            );
            // TensorRT's warning, with the size that would do.
            if wanted > bytes {
                logger.log(
                    Severity::Warning,
                    &format!(
                        "Some tactics do not have sufficient workspace memory to run. Increasing \
                         workspace size may increase performance ({wanted} bytes would split \
                         every reduction as wanted; the maximum is {}).",
                        engine.max_workspace_size
                    ),
                );
            }
        }
        Err(e) => logger.log(
            Severity::Warning,
            &format!("CUDA plan: could not measure the workspace: {e}"),
        ),
    }
}

/// Convenience for Rust users and tests: build and wrap in an `Arc` for contexts.
pub fn build_shared(
    network: &Network,
    config: &BuilderConfig,
    logger: &dyn Logger,
) -> Result<Arc<Engine>> {
    build_engine(network, config, None, logger).map(Arc::new)
}
