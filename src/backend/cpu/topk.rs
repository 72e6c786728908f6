//! Top-k along one axis: values and their indices (as f32), best first, ties by lower index.

use super::In;
use crate::types::TopKOperation;

pub struct TopK {
    max: bool,
    k: usize,
    outer: usize,
    n: usize,
    inner: usize,
}

impl TopK {
    pub fn new(op: TopKOperation, k: usize, axes: u32, input: &[usize]) -> TopK {
        let axis = axes.trailing_zeros() as usize;
        TopK {
            max: op == TopKOperation::Max,
            k,
            outer: input[..axis].iter().product(),
            n: input[axis],
            inner: input[axis + 1..].iter().product(),
        }
    }

    /// Insertion into the k-long output lane: no scratch, and scanning in index order with a
    /// strict comparison keeps equal values in index order.
    pub fn run(&self, batch: usize, x: &In, values: &mut [f32], indices: &mut [f32]) {
        let (n, k, inner) = (self.n, self.k, self.inner);
        let better = |a: f32, b: f32| if self.max { a > b } else { a < b };
        for o in 0..batch * self.outer {
            let src = x.item_of(o, self.outer, n * inner);
            let vals = &mut values[o * k * inner..][..k * inner];
            let idxs = &mut indices[o * k * inner..][..k * inner];
            for i in 0..inner {
                let mut len = 0;
                for j in 0..n {
                    let v = src[j * inner + i];
                    let pos = (0..len)
                        .find(|&p| better(v, vals[p * inner + i]))
                        .unwrap_or(len);
                    if pos >= k {
                        continue;
                    }
                    len = (len + 1).min(k);
                    for p in (pos + 1..len).rev() {
                        vals[p * inner + i] = vals[(p - 1) * inner + i];
                        idxs[p * inner + i] = idxs[(p - 1) * inner + i];
                    }
                    vals[pos * inner + i] = v;
                    idxs[pos * inner + i] = j as f32;
                }
            }
        }
    }
}
