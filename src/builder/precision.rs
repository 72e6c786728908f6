//! Which precision each layer runs in, where INT8 scales come from, and the weights each precision
//! needs.

use super::{BuilderConfig, Calibrator};
use crate::engine::Precision;
use crate::error::Result;
use crate::logger::{Logger, Severity};
use crate::network::{LayerKind, Network};
use crate::types::DataType;

/// Layers with an INT8 kernel (INT8 inputs, INT8 weights per output channel, INT32 accumulation).
fn has_int8_kernel(kind: &LayerKind) -> bool {
    matches!(
        kind,
        LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
    )
}

/// Builder flags first, then the user's `setPrecision` where types are strict; layers without a
/// kernel in the requested precision fall back to the next one (INT8 → FP16 → FP32).
pub fn assign(net: &Network, config: &BuilderConfig, logger: &dyn Logger) -> Vec<Precision> {
    net.layers
        .iter()
        .map(|layer| {
            // The application's code computes in FP32 (`network::plugin`); neighbours convert.
            if matches!(layer.kind, LayerKind::Plugin(_)) {
                if layer.precision.is_some_and(|p| p != DataType::Float) {
                    logger.log(
                        Severity::Warning,
                        &format!("plugin layer '{}' runs in FP32", layer.name),
                    );
                }
                return Precision::Float;
            }
            let requested = match layer.precision {
                Some(DataType::Int8) if config.int8 || config.strict_types => Some(Precision::Int8),
                Some(DataType::Half) if config.fp16 || config.strict_types => Some(Precision::Half),
                Some(DataType::Float) => Some(Precision::Float),
                _ => None,
            };
            let fallback = if config.fp16 {
                Precision::Half
            } else {
                Precision::Float
            };
            match requested {
                Some(Precision::Int8) | None if config.int8 && has_int8_kernel(&layer.kind) => {
                    Precision::Int8
                }
                Some(Precision::Int8) => {
                    logger.log(
                        Severity::Warning,
                        &format!(
                            "layer '{}' has no INT8 kernel; it runs in {fallback:?}",
                            layer.name
                        ),
                    );
                    fallback
                }
                Some(p) => p,
                None => fallback,
            }
        })
        .collect()
}

/// Per tensor `amax / 127`: user dynamic ranges first, the calibrator (or its cache) for the rest.
pub fn int8_scales(
    net: &Network,
    calibrator: Option<&mut dyn Calibrator>,
    logger: &dyn Logger,
) -> Result<Vec<Option<f32>>> {
    let mut amax: Vec<Option<f32>> = net
        .tensors
        .iter()
        .map(|t| t.dynamic_range.map(|(lo, hi)| lo.abs().max(hi.abs())))
        .collect();
    let all_set = amax.iter().all(Option::is_some);
    match calibrator {
        Some(c) if !all_set => {
            let calibrated = super::calibrate::calibrate(net, c, logger)?;
            for (a, c) in amax.iter_mut().zip(calibrated) {
                if a.is_none() {
                    *a = c;
                }
            }
        }
        None if !all_set && amax.iter().all(Option::is_none) => logger.log(
            Severity::Warning,
            "INT8 mode without a calibrator or dynamic ranges: layers run in higher precision",
        ),
        _ => {}
    }
    Ok(amax
        .into_iter()
        .map(|a| a.filter(|&a| a > 0.0 && a.is_finite()).map(|a| a / 127.0))
        .collect())
}

/// An INT8 layer needs the scales of its input and output tensors.
pub fn drop_unscaled_int8(
    net: &Network,
    precisions: &mut [Precision],
    scales: &[Option<f32>],
    config: &BuilderConfig,
    logger: &dyn Logger,
) {
    for (l, p) in precisions.iter_mut().enumerate() {
        let layer = &net.layers[l];
        if *p == Precision::Int8
            && layer
                .inputs
                .iter()
                .chain(&layer.outputs)
                .any(|&t| scales[t].is_none())
        {
            *p = if config.fp16 {
                Precision::Half
            } else {
                Precision::Float
            };
            logger.log(
                Severity::Warning,
                &format!(
                    "layer '{}': no INT8 scale for an input or output tensor; it runs in {p:?}",
                    layer.name
                ),
            );
        }
    }
}

/// Symmetric per-output-channel INT8 weights (as TensorRT), held as the f32 values they represent.
fn quantize_per_channel(w: &mut [f32], channels: usize) {
    if channels == 0 || !w.len().is_multiple_of(channels) {
        return;
    }
    for chunk in w.chunks_mut(w.len() / channels) {
        let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        if amax == 0.0 {
            continue;
        }
        let s = amax / 127.0;
        for v in chunk {
            *v = (*v / s).round().clamp(-127.0, 127.0) * s;
        }
    }
}

/// Weight storage of each precision: FP16 weights are rounded to half, INT8 weights quantized.
pub fn convert_weights(net: &mut Network, precisions: &[Precision]) {
    for (layer, &p) in net.layers.iter_mut().zip(precisions) {
        let (kernel, bias, channels) = match &mut layer.kind {
            LayerKind::Convolution(c) => (&mut c.kernel_weights, &mut c.bias, c.nb_output_maps),
            LayerKind::FullyConnected {
                kernel,
                bias,
                nb_outputs,
            } => (kernel, bias, *nb_outputs),
            LayerKind::Deconvolution(c) if p == Precision::Half => {
                (&mut c.kernel_weights, &mut c.bias, 0)
            }
            _ => continue,
        };
        match p {
            Precision::Half => {
                crate::engine::context::round_to_half(&mut kernel.values);
                crate::engine::context::round_to_half(&mut bias.values);
            }
            Precision::Int8 => quantize_per_channel(&mut kernel.values, channels),
            Precision::Float => {}
        }
    }
}
