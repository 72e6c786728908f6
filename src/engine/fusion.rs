//! Layers the CPU runs as one: a convolution or fully connected layer and the ReLU right after
//! it that alone reads its output. The first layer applies the ReLU in its epilogue and writes
//! the ReLU's output tensor; the ReLU's step is skipped. Values are those of the two layers run
//! apart, in FP32, FP16 (rounding to half commutes with the ReLU) and INT8 (see
//! `CpuLayer::run_fused`), so fusion changes time only, and is off while calibration observes
//! every tensor.

use super::{Engine, Precision};
use crate::backend::cpu::CpuLayer;
use crate::network::{LayerId, LayerKind, Network, TensorId};
use crate::types::{ActivationType, volume};

/// Per step of the engine's order.
pub struct Fusion {
    /// The tensor this step writes instead of its own output: the fused ReLU's.
    pub writes: Vec<Option<TensorId>>,
    /// The step runs inside the one before it.
    pub absorbed: Vec<bool>,
    /// What `IProfiler` hears a fused step called: "conv + relu", as TensorRT names fused layers.
    pub labels: Vec<Option<String>>,
}

/// Per step of `order`: it is a convolution or fully connected layer whose output only the next
/// step reads, and that step is a ReLU. The memory plan keeps such a layer's inputs alive through
/// the ReLU's step, so that the ReLU's output can be written while they are read.
pub fn relu_follows(net: &Network, order: &[LayerId]) -> Vec<bool> {
    let mut readers = vec![0usize; net.tensors.len()];
    for &l in order {
        for &t in &net.layers[l].inputs {
            readers[t] += 1;
        }
    }
    let mut follows = vec![false; order.len()];
    for (i, pair) in order.windows(2).enumerate() {
        let (first, next) = (&net.layers[pair[0]], &net.layers[pair[1]]);
        let gemm = matches!(
            first.kind,
            LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
        );
        let relu = matches!(
            next.kind,
            LayerKind::Activation {
                kind: ActivationType::Relu,
                ..
            }
        );
        follows[i] = gemm
            && relu
            && matches!(first.outputs[..], [t] if next.inputs == [t]
                && readers[t] == 1
                && !net.outputs.contains(&t))
            && next.outputs.len() == 1;
    }
    follows
}

/// The pairs of `engine` (whose CPU kernels are `kernels`, INT8 storage `int8_storage`) that
/// run fused: those of [`relu_follows`] whose first kernel can apply the ReLU and whose two
/// layers store their outputs alike (the same INT8 scale or none, and FP16 rounding kept).
pub fn plan(engine: &Engine, kernels: &[CpuLayer], int8_storage: &[Option<f32>]) -> Fusion {
    let net = &engine.network;
    let steps = engine.order.len();
    let mut fusion = Fusion {
        writes: vec![None; steps],
        absorbed: vec![false; steps],
        labels: vec![None; steps],
    };
    // Per-item arena extent of a tensor; the run scales every offset and length by the batch.
    let extent = |t: TensorId| engine.plan.offsets[t].map(|o| o..o + volume(&net.tensors[t].shape));
    for (i, follows) in relu_follows(net, &engine.order).into_iter().enumerate() {
        if !follows || fusion.absorbed[i] || !kernels[i].fuses_relu() {
            continue;
        }
        let (l, r) = (engine.order[i], engine.order[i + 1]);
        let (first, relu) = (&net.layers[l], &net.layers[r]);
        let (t, u) = (first.outputs[0], relu.outputs[0]);
        // The fused step rounds to half as the first layer would; rounding commutes with the
        // ReLU, so only a ReLU that rounds after a layer that does not would be lost.
        let half = |l: LayerId| engine.precisions[l] == Precision::Half;
        let same_numerics = int8_storage[t] == int8_storage[u]
            && (int8_storage[u].is_some() || half(l) || !half(r));
        // What the memory plan promises (see `relu_follows`), checked: an engine whose plan
        // does not keep it runs the pair apart.
        let Some(out) = extent(u) else { continue };
        let disjoint = first
            .inputs
            .iter()
            .all(|&x| extent(x).is_none_or(|x| x.end <= out.start || out.end <= x.start));
        if same_numerics && disjoint {
            fusion.writes[i] = Some(u);
            fusion.absorbed[i + 1] = true;
            fusion.labels[i] = Some(format!("{} + {}", first.name, relu.name));
        }
    }
    fusion
}
