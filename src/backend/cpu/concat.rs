//! Concatenation along one non-batch axis.

use super::{In, Out};

pub fn run(axis: usize, batch: usize, inputs: &[In], y: &mut Out) {
    let inner: usize = y.shape[axis + 1..].iter().product();
    let outer: usize = y.shape[..axis].iter().product();
    let row = y.shape[axis] * inner;
    let mut off = 0;
    for x in inputs {
        let len = x.shape[axis] * inner;
        for o in 0..batch * outer {
            let src = x.item_of(o, outer, len);
            y.data[o * row + off..][..len].copy_from_slice(src);
        }
        off += len;
    }
}
