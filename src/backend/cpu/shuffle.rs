//! Shuffle: first transpose, reshape (a reinterpretation of the C-order data), second transpose.

use super::strided::Plan;
use super::{In, Out};
use crate::error::Result;
use crate::network::ShuffleParams;
use crate::network::shape::shuffle_shapes;

pub struct Shuffle {
    volume: usize,
    /// `None` where the transpose keeps the order.
    first: Option<Plan>,
    second: Option<Plan>,
}

fn plan(shape: &[usize], perm: &[usize]) -> Option<Plan> {
    perm.iter()
        .enumerate()
        .any(|(i, &p)| i != p)
        .then(|| Plan::transpose(shape, perm))
}

impl Shuffle {
    pub fn new(p: &ShuffleParams, input: &[usize]) -> Result<Shuffle> {
        let (_, reshaped, _) = shuffle_shapes(p, input).map_err(crate::error::Error::Network)?;
        Ok(Shuffle {
            volume: input.iter().product(),
            first: plan(input, &p.first_transpose),
            second: plan(&reshaped, &p.second_transpose),
        })
    }

    /// With two real transposes the intermediate lives in scratch.
    pub fn scratch_len(&self, batch: usize) -> usize {
        if self.first.is_some() && self.second.is_some() {
            batch * self.volume
        } else {
            0
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32]) {
        let v = self.volume;
        for b in 0..batch {
            let src = x.item_of(b, 1, v);
            let dst = &mut y.data[b * v..][..v];
            match (&self.first, &self.second) {
                (None, None) => dst.copy_from_slice(src),
                (Some(p), None) | (None, Some(p)) => p.gather(0, src, dst),
                (Some(p), Some(q)) => {
                    let mid = &mut scratch[b * v..][..v];
                    p.gather(0, src, mid);
                    q.gather(0, mid, dst);
                }
            }
        }
    }
}
