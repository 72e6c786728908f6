//! Gather along one non-batch axis with integer indices (held as f32). Each batch item uses its
//! own indices, or the only ones when the indices are batch-invariant.

use super::{In, Out};
use crate::error::Result;

pub struct Gather {
    outer: usize,
    n: usize,
    inner: usize,
}

impl Gather {
    pub fn new(axis: usize, input: &[usize]) -> Gather {
        Gather {
            outer: input[..axis].iter().product(),
            n: input[axis],
            inner: input[axis + 1..].iter().product(),
        }
    }

    pub fn run(&self, batch: usize, x: &In, idx: &In, y: &mut Out) -> Result<()> {
        let ni: usize = idx.shape.iter().product();
        for v in &idx.data[..idx.batch * ni] {
            if v.fract() != 0.0 || *v < 0.0 || *v >= self.n as f32 {
                crate::bail!(
                    Runtime,
                    "Gather: index {v} is outside 0..{} of the gathered axis",
                    self.n
                );
            }
        }
        let (outer, n, inner) = (self.outer, self.n, self.inner);
        let per = outer * ni * inner;
        for b in 0..batch {
            let src = x.item_of(b, 1, outer * n * inner);
            let ix = idx.item_of(b, 1, ni);
            let out = &mut y.data[b * per..][..per];
            for o in 0..outer {
                for (j, &i) in ix.iter().enumerate() {
                    let from = &src[(o * n + i as usize) * inner..][..inner];
                    out[(o * ni + j) * inner..][..inner].copy_from_slice(from);
                }
            }
        }
        Ok(())
    }
}
