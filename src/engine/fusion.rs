//! Layers the CPU runs as one: a convolution or fully connected layer absorbs the ReLU right after
//! it, and a convolution then the 2x2 stride-2 max pooling after that, each the sole reader of
//! what precedes it. The first layer applies the ReLU in its epilogue and pools each item while
//! its output is in cache, writing the last absorbed layer's output tensor; the absorbed steps
//! are skipped. Values are those of the layers run apart, in FP32, FP16 (rounding to half commutes
//! with the ReLU and the maximum) and INT8 (see `CpuLayer::run_fused`), so fusion changes time
//! only, and is off while calibration observes every tensor.

use super::{Engine, Precision};
use crate::backend::cpu::CpuLayer;
use crate::network::{LayerId, LayerKind, Network, TensorId};
use crate::types::{ActivationType, PoolingType, volume};

/// The steps a convolution or fully connected step can absorb, by position in the order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Absorbs {
    pub relu: Option<usize>,
    pub pool: Option<usize>,
}

impl Absorbs {
    /// The last absorbed step.
    fn last(&self) -> Option<usize> {
        self.pool.or(self.relu)
    }
}

/// Per step of the engine's order.
pub struct Fusion {
    /// What the step absorbs, when it runs fused.
    pub absorbs: Vec<Absorbs>,
    /// The tensor the step writes instead of its own output: the last absorbed layer's.
    pub writes: Vec<Option<TensorId>>,
    /// The step runs inside an earlier one.
    pub absorbed: Vec<bool>,
    /// What `IProfiler` hears a fused step called: "conv + relu + pool", as TensorRT names fused
    /// layers.
    pub labels: Vec<Option<String>>,
}

/// Per step of `order`, what the CPU could absorb by the network's shape alone: a ReLU next, then
/// (after a convolution) a 2x2 stride-2 unpadded max pooling, each reading only the tensor before
/// it, which nothing else reads and which is no network output. The memory plan keeps the step's
/// inputs alive through them (see [`fusable_through`]).
pub fn absorbable(net: &Network, order: &[LayerId]) -> Vec<Absorbs> {
    let mut readers = vec![0usize; net.tensors.len()];
    for &l in order {
        for &t in &net.layers[l].inputs {
            readers[t] += 1;
        }
    }
    // Whether step `j` reads only `t`, alone, has one output, and `t` is private.
    let takes = |j: usize, t: TensorId| {
        order.get(j).is_some_and(|&l| {
            let layer = &net.layers[l];
            layer.inputs == [t]
                && layer.outputs.len() == 1
                && readers[t] == 1
                && !net.outputs.contains(&t)
        })
    };
    let mut all = vec![Absorbs::default(); order.len()];
    for (i, &l) in order.iter().enumerate() {
        let first = &net.layers[l];
        let conv = matches!(first.kind, LayerKind::Convolution(_));
        if !conv && !matches!(first.kind, LayerKind::FullyConnected { .. }) {
            continue;
        }
        let [mut t] = first.outputs[..] else { continue };
        let mut next = i + 1;
        let relu = takes(next, t)
            && matches!(
                net.layers[order[next]].kind,
                LayerKind::Activation {
                    kind: ActivationType::Relu,
                    ..
                }
            );
        if relu {
            all[i].relu = Some(next);
            t = net.layers[order[next]].outputs[0];
            next += 1;
        }
        let pool = conv
            && takes(next, t)
            && matches!(&net.layers[order[next]].kind, LayerKind::Pooling(p)
                if p.kind == PoolingType::Max
                    && p.window == [2, 2]
                    && p.stride == [2, 2]
                    && p.pre_padding == [0, 0]
                    && p.post_padding == [0, 0]);
        if pool {
            all[i].pool = Some(next);
        }
    }
    all
}

/// Per step of `order`, the last step whose layer a backend may run inside it (the step itself when
/// none): after a convolution or FC layer, an activation of any kind, then a max pooling (after a
/// convolution) or a softmax (after an FC layer), each the sole reader of the tensor before it,
/// which is no network output. This covers what the CPU absorbs ([`absorbable`]) and what the
/// CUDA backend fuses (any unpadded max pooling, any activation, a row softmax, and layers
/// not next in the order). The memory plan keeps the step's inputs alive through that step: a
/// fused kernel writes the last layer's output while its blocks still read the inputs.
pub fn fusable_through(net: &Network, order: &[LayerId]) -> Vec<usize> {
    let mut readers: Vec<Vec<LayerId>> = vec![Vec::new(); net.tensors.len()];
    let mut step_of = vec![0; net.layers.len()];
    for (step, &l) in order.iter().enumerate() {
        step_of[l] = step;
        for &t in &net.layers[l].inputs {
            readers[t].push(l);
        }
    }
    let sole = |t: TensorId| match readers[t][..] {
        [c] if !net.outputs.contains(&t) && net.layers[c].outputs.len() == 1 => Some(c),
        _ => None,
    };
    (0..order.len())
        .map(|step| {
            let first = &net.layers[order[step]];
            let conv = matches!(first.kind, LayerKind::Convolution(_));
            let fc = matches!(first.kind, LayerKind::FullyConnected { .. });
            let (&[mut t], true) = (&first.outputs[..], conv || fc) else {
                return step;
            };
            let mut last = step;
            if let Some(c) =
                sole(t).filter(|&c| matches!(net.layers[c].kind, LayerKind::Activation { .. }))
            {
                last = last.max(step_of[c]);
                t = net.layers[c].outputs[0];
            }
            let then = sole(t).filter(|&c| match &net.layers[c].kind {
                LayerKind::Pooling(p) => conv && p.kind == PoolingType::Max,
                LayerKind::SoftMax { .. } => fc,
                _ => false,
            });
            then.map_or(last, |c| last.max(step_of[c]))
        })
        .collect()
}

/// The steps of `engine` (whose CPU kernels are `kernels`, INT8 storage `int8_storage`) that run
/// fused: [`absorbable`] ones whose kernels can do it and whose layers store their outputs alike
/// (the same INT8 scale or none, and FP16 rounding kept).
pub fn plan(engine: &Engine, kernels: &[CpuLayer], int8_storage: &[Option<f32>]) -> Fusion {
    let net = &engine.network;
    let steps = engine.order.len();
    let mut fusion = Fusion {
        absorbs: vec![Absorbs::default(); steps],
        writes: vec![None; steps],
        absorbed: vec![false; steps],
        labels: vec![None; steps],
    };
    // Per-item arena extent of a tensor; the run scales every offset and length by the batch.
    let extent = |t: TensorId| engine.plan.offsets[t].map(|o| o..o + volume(&net.tensors[t].shape));
    let half = |s: usize| engine.precisions[engine.order[s]] == Precision::Half;
    let output = |s: usize| net.layers[engine.order[s]].outputs[0];
    for (i, mut a) in absorbable(net, &engine.order).into_iter().enumerate() {
        if a.relu.is_some() && !kernels[i].fuses_relu() {
            continue;
        }
        if a.pool.is_some_and(|p| !kernels[i].fuses_pool(&kernels[p])) {
            a.pool = None;
        }
        let Some(last) = a.last() else { continue };
        let first = &net.layers[engine.order[i]];
        // The fused step rounds to half as the first layer would; rounding commutes with the
        // ReLU and the maximum, so only an absorbed layer that rounds after a first layer that
        // does not would be lost.
        let alike = [a.relu, a.pool].into_iter().flatten().all(|s| {
            let stored = int8_storage[output(s)];
            stored == int8_storage[first.outputs[0]] && (stored.is_some() || half(i) || !half(s))
        });
        // What the memory plan promises (see `absorbable`), checked: an engine whose plan does
        // not keep it runs the layers apart.
        let Some(out) = extent(output(last)) else {
            continue;
        };
        let disjoint = first
            .inputs
            .iter()
            .all(|&x| extent(x).is_none_or(|x| x.end <= out.start || out.end <= x.start));
        if alike && disjoint {
            let mut names = vec![first.name.as_str()];
            for s in [a.relu, a.pool].into_iter().flatten() {
                fusion.absorbed[s] = true;
                names.push(&net.layers[engine.order[s]].name);
            }
            fusion.absorbs[i] = a;
            fusion.writes[i] = Some(output(last));
            fusion.labels[i] = Some(names.join(" + "));
        }
    }
    fusion
}
