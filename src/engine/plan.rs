//! The activation memory plan: every tensor that is not a network input gets a region of one arena,
//! and regions are reused once their tensor's last consumer has run.

use crate::error::Result;
use crate::network::{LayerId, Network, TensorId};
use crate::types::volume;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemoryPlan {
    /// Per tensor: offset in the arena, in units of f32 per batch item (scaled by the batch size at
    /// run time, so one plan serves every batch up to the maximum). `None` for network inputs.
    pub offsets: Vec<Option<usize>>,
    /// Arena length in f32 per batch item.
    pub arena_len: usize,
}

impl MemoryPlan {
    /// Greedy first-fit over live intervals, in execution order. A layer's outputs are placed before
    /// its dead inputs are released, so no layer ever reads and writes the same memory.
    pub fn new(net: &Network, order: &[LayerId]) -> Result<MemoryPlan> {
        let n = net.tensors.len();
        let mut last_use = vec![0usize; n];
        for (step, &l) in order.iter().enumerate() {
            for &t in &net.layers[l].inputs {
                last_use[t] = step;
            }
        }
        // A layer that absorbs the layers after it writes the last one's output while reading
        // its own inputs (engine/fusion.rs): they stay alive through that layer's step.
        for (step, last) in super::fusion::fusable_through(net, order)
            .into_iter()
            .enumerate()
        {
            for &t in &net.layers[order[step]].inputs {
                last_use[t] = last_use[t].max(last);
            }
        }
        for &t in &net.outputs {
            last_use[t] = usize::MAX;
        }
        let size = |t: TensorId| volume(&net.tensors[t].shape).max(1);
        let mut offsets = vec![None; n];
        let mut live: Vec<(usize, usize, TensorId)> = Vec::new(); // (offset, len, tensor), sorted by offset
        let mut arena_len = 0;
        for (step, &l) in order.iter().enumerate() {
            for &t in &net.layers[l].outputs {
                let len = size(t);
                let mut at = 0;
                for &(o, n, _) in &live {
                    if o >= at + len {
                        break;
                    }
                    at = at.max(o + n);
                }
                let pos = live.partition_point(|&(o, _, _)| o < at);
                live.insert(pos, (at, len, t));
                offsets[t] = Some(at);
                arena_len = arena_len.max(at + len);
            }
            live.retain(|&(_, _, t)| last_use[t] > step);
        }
        Ok(MemoryPlan { offsets, arena_len })
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryPlan;
    use crate::network::{ConvParams, LayerKind, Network, PoolParams, TensorId};
    use crate::types::{ActivationType, DataType, PoolingType, Weights, volume};

    fn act(kind: ActivationType) -> LayerKind {
        LayerKind::Activation {
            kind,
            alpha: 0.0,
            beta: 0.0,
        }
    }

    /// Builds `layers` in a line from a [4, 9, 9] input, marks the last output, and checks that the
    /// output of layer `writer` (what a fused kernel of layer `first` writes) never shares memory
    /// with layer `first`'s input.
    fn check_apart(layers: Vec<LayerKind>, first: usize, writer: usize) {
        let mut net = Network::new();
        let mut t = net.add_input("x", DataType::Float, &[4, 9, 9]).unwrap();
        let mut outs: Vec<TensorId> = Vec::new();
        for kind in layers {
            let l = net.add_layer(kind, &[t]).unwrap();
            t = net.layers[l].outputs[0];
            outs.push(t);
        }
        net.mark_output(t).unwrap();
        let order: Vec<usize> = (0..net.layers.len()).collect();
        let plan = MemoryPlan::new(&net, &order).unwrap();
        let extent = |t: TensorId| {
            let o = plan.offsets[t].unwrap();
            o..o + volume(&net.tensors[t].shape)
        };
        let (input, written) = (extent(net.layers[first].inputs[0]), extent(outs[writer]));
        assert!(
            input.end <= written.start || written.end <= input.start,
            "layer {first}'s input {input:?} and layer {writer}'s output {written:?} overlap"
        );
    }

    /// The CUDA backend fuses a convolution with any unpadded max pooling (a 3x3 stride-2 one
    /// here, which the CPU does not fuse), and an FC layer with any activation and a softmax:
    /// the memory plan keeps the first layer's input alive throughout.
    #[test]
    fn fused_outputs_never_share_their_first_layers_inputs() {
        let conv = || {
            LayerKind::Convolution(ConvParams::new(
                4,
                [1, 1],
                Weights::new(vec![0.5; 16]),
                Weights::new(vec![0.0; 4]),
            ))
        };
        let mut pool = PoolParams::new(PoolingType::Max, [3, 3]);
        pool.stride = [2, 2];
        let fc = |n: usize, k: usize| LayerKind::FullyConnected {
            nb_outputs: n,
            kernel: Weights::new(vec![0.5; n * k]),
            bias: Weights::new(vec![0.0; n]),
        };
        check_apart(
            vec![
                act(ActivationType::Relu),
                conv(),
                LayerKind::Pooling(pool),
                fc(8, 64),
            ],
            1,
            2,
        );
        check_apart(
            vec![
                act(ActivationType::Relu),
                fc(10, 324),
                act(ActivationType::Sigmoid),
                LayerKind::SoftMax { axes: 1 },
                fc(4, 10),
            ],
            1,
            3,
        );
    }
}
