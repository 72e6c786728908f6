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
        for (step, a) in super::fusion::absorbable(net, order)
            .into_iter()
            .enumerate()
        {
            let Some(last) = a.pool.or(a.relu) else {
                continue;
            };
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
