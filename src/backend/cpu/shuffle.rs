//! Shuffle: first transpose, reshape (a reinterpretation of the C-order data), second transpose.

use super::strided::transpose;
use super::{In, Out};
use crate::error::Result;
use crate::network::ShuffleParams;
use crate::network::shape::shuffle_shapes;

pub struct Shuffle {
    input: Vec<usize>,
    /// `None` where the transpose keeps the order.
    first: Option<Vec<usize>>,
    reshaped: Vec<usize>,
    second: Option<Vec<usize>>,
}

fn moves(perm: &[usize]) -> Option<Vec<usize>> {
    perm.iter().enumerate().any(|(i, &p)| i != p).then(|| perm.to_vec())
}

impl Shuffle {
    pub fn new(p: &ShuffleParams, input: &[usize]) -> Result<Shuffle> {
        let (_, reshaped, _) = shuffle_shapes(p, input).map_err(crate::error::Error::Network)?;
        Ok(Shuffle {
            input: input.to_vec(),
            first: moves(&p.first_transpose),
            reshaped,
            second: moves(&p.second_transpose),
        })
    }

    /// With two real transposes the intermediate lives in scratch.
    pub fn scratch_len(&self, batch: usize) -> usize {
        if self.first.is_some() && self.second.is_some() { batch * self.input.iter().product::<usize>() } else { 0 }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out, scratch: &mut [f32]) {
        let v: usize = self.input.iter().product();
        for b in 0..batch {
            let src = x.item_of(b, 1, v);
            let dst = &mut y.data[b * v..][..v];
            match (&self.first, &self.second) {
                (None, None) => dst.copy_from_slice(src),
                (Some(p), None) => transpose(&self.input, p, src, dst),
                (None, Some(q)) => transpose(&self.reshaped, q, src, dst),
                (Some(p), Some(q)) => {
                    let mid = &mut scratch[b * v..][..v];
                    transpose(&self.input, p, src, mid);
                    transpose(&self.reshaped, q, mid, dst);
                }
            }
        }
    }
}
