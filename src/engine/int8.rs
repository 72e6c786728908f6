//! How the CPU backend runs an engine's INT8 layers: which tensors stay INT8 between layers, and
//! how each INT8 layer meets its neighbours.
//!
//! An INT8 convolution or fully connected layer reads its input on the input tensor's scale. When
//! that input comes from another INT8 layer, possibly through max pooling and ReLU layers (which
//! commute with quantization, being monotonic and mapping 0 to 0), and every tensor on the way
//! feeds only the next layer and is no network output, the producer requantizes its output onto
//! the consumer's input scale in its epilogue, the pooling and ReLU run on the INT8 values, and
//! the tensors between them are stored INT8. Elsewhere INT8 layers quantize a real input and
//! write real outputs, and all other layers run in FP32 (or FP16).

use super::{Engine, Precision};
use crate::backend::cpu::{Int8Gemm, Int8Mode, int8_kernel_name};
use crate::network::{LayerKind, Network, TensorId};
use crate::types::{ActivationType, PoolingType};

pub struct Int8Plan {
    /// Per tensor: the scale of its INT8 storage, where it is kept INT8.
    pub storage: Vec<Option<f32>>,
    /// Per layer: how it works on INT8 data (`None`: in its engine precision, on real values).
    pub modes: Vec<Option<Int8Mode>>,
}

fn is_int8_gemm(engine: &Engine, l: usize) -> bool {
    let layer = &engine.network.layers[l];
    engine.precisions[l] == Precision::Int8
        && matches!(
            layer.kind,
            LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
        )
        && layer.inputs.len() == 1
        && engine.scales[layer.inputs[0]].is_some()
}

/// Max pooling and ReLU: exact on INT8 values.
fn commutes_with_quantization(net: &Network, l: usize) -> bool {
    let layer = &net.layers[l];
    layer.inputs.len() == 1
        && layer.outputs.len() == 1
        && match &layer.kind {
            LayerKind::Pooling(p) => p.kind == PoolingType::Max,
            LayerKind::Activation { kind, .. } => *kind == ActivationType::Relu,
            _ => false,
        }
}

pub fn plan(engine: &Engine) -> Int8Plan {
    let net = &engine.network;
    let mut consumers = vec![0usize; net.tensors.len()];
    for layer in &net.layers {
        for &t in &layer.inputs {
            consumers[t] += 1;
        }
    }
    let private = |t: TensorId| consumers[t] == 1 && !net.outputs.contains(&t) && !net.is_input(t);
    let mut storage = vec![None; net.tensors.len()];
    let mut modes = vec![None; net.layers.len()];
    for l in (0..net.layers.len()).filter(|&l| is_int8_gemm(engine, l)) {
        let input = net.layers[l].inputs[0];
        let mut chain = Vec::new();
        let mut t = input;
        let found = loop {
            let Some((p, _)) = net.tensors[t].producer else {
                break false;
            };
            if !private(t) {
                break false;
            }
            chain.push((t, p));
            if is_int8_gemm(engine, p) {
                break true;
            }
            if !commutes_with_quantization(net, p) {
                break false;
            }
            t = net.layers[p].inputs[0];
        };
        if found {
            for &(t, p) in &chain {
                storage[t] = engine.scales[input];
                if !is_int8_gemm(engine, p) {
                    modes[p] = Some(Int8Mode::Passthrough);
                }
            }
        }
    }
    for l in (0..net.layers.len()).filter(|&l| is_int8_gemm(engine, l)) {
        let layer = &net.layers[l];
        let input = layer.inputs[0];
        modes[l] = engine.scales[input].map(|input_scale| {
            Int8Mode::Gemm(Int8Gemm {
                input_scale,
                input_int8: storage[input].is_some(),
                output_scale: storage[layer.outputs[0]],
            })
        });
    }
    Int8Plan { storage, modes }
}

/// One line per layer, in execution order: the precision it runs in on the CPU and, for INT8
/// layers, where their input and output scales come from.
pub fn describe(engine: &Engine, plan: &Int8Plan) -> Vec<String> {
    let net = &engine.network;
    engine
        .order
        .iter()
        .map(|&l| {
            let name = &net.layers[l].name;
            match plan.modes[l] {
                Some(Int8Mode::Gemm(m)) => format!(
                    "Layer '{name}' runs in INT8 on the CPU ({} kernel, INT32 accumulation, \
                     per-channel weight scales): input {} on scale {:e}, output {}",
                    int8_kernel_name(),
                    if m.input_int8 {
                        "INT8"
                    } else {
                        "FP32 quantized"
                    },
                    m.input_scale,
                    match m.output_scale {
                        Some(s) => format!("requantized to INT8 on scale {s:e}"),
                        None => "FP32".into(),
                    }
                ),
                Some(Int8Mode::Passthrough) => {
                    format!("Layer '{name}' runs in INT8 on the CPU (on INT8 values, exact)")
                }
                None => format!(
                    "Layer '{name}' runs in {} on the CPU",
                    match engine.precisions[l] {
                        Precision::Half => "FP16",
                        _ => "FP32",
                    }
                ),
            }
        })
        .collect()
}
