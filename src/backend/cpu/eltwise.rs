//! Binary operations with broadcasting: `ElementWise` and `ParametricRelu`. A dimension of 1 (the
//! batch of a batch-invariant input included) is repeated along the output's.

use super::strided::MAX_DIMS;
use super::{In, Out, PAR_MIN};
use crate::types::ElementWiseOperation;
use rayon::prelude::*;

/// Calls `f(a, b)` for every output element of `out` (`[batch, ..shape]`), where the inputs are
/// broadcast to the output shape.
fn broadcast2(batch: usize, a: &In, b: &In, out: &mut Out, f: impl Fn(f32, f32) -> f32 + Sync) {
    let r = out.shape.len() + 1;
    let mut dims = [1usize; MAX_DIMS];
    dims[0] = batch;
    dims[1..r].copy_from_slice(out.shape);
    let mut sa = strides(a.batch, a.shape, &dims[..r]);
    let mut sb = strides(b.batch, b.shape, &dims[..r]);
    // Fold the last dimension into the one before while each operand either runs on
    // contiguously or repeats across both, so rows are long (PReLU's per-channel slope
    // covers whole H x W planes instead of rows of W). The batch dimension stays.
    let mut r = r;
    let merges = |s: &[usize; MAX_DIMS], d: usize, inner: usize| {
        s[d] == s[d + 1] * inner || (s[d] == 0 && s[d + 1] == 0)
    };
    while r > 2 && merges(&sa, r - 2, dims[r - 1]) && merges(&sb, r - 2, dims[r - 1]) {
        dims[r - 2] *= dims[r - 1];
        sa[r - 2] = sa[r - 1];
        sb[r - 2] = sb[r - 1];
        r -= 1;
    }
    let inner = dims[r - 1];
    let per_item: usize = dims[1..r].iter().product();
    let item = |n: usize, out: &mut [f32]| {
        let (ia, ib) = (sa[r - 1], sb[r - 1]);
        let mut idx = [0usize; MAX_DIMS];
        idx[0] = n;
        for row in out.chunks_exact_mut(inner) {
            let oa: usize = idx.iter().zip(&sa).map(|(i, s)| i * s).sum();
            let ob: usize = idx.iter().zip(&sb).map(|(i, s)| i * s).sum();
            // Contiguous or repeated operands (the common cases) get loops the compiler
            // vectorises.
            match (ia, ib) {
                (1, 1) => {
                    let (x, y) = (&a.data[oa..oa + inner], &b.data[ob..ob + inner]);
                    for ((o, &x), &y) in row.iter_mut().zip(x).zip(y) {
                        *o = f(x, y);
                    }
                }
                (1, 0) => {
                    let y = b.data[ob];
                    for (o, &x) in row.iter_mut().zip(&a.data[oa..oa + inner]) {
                        *o = f(x, y);
                    }
                }
                (0, 1) => {
                    let x = a.data[oa];
                    for (o, &y) in row.iter_mut().zip(&b.data[ob..ob + inner]) {
                        *o = f(x, y);
                    }
                }
                _ => {
                    for (j, o) in row.iter_mut().enumerate() {
                        *o = f(a.data[oa + j * ia], b.data[ob + j * ib]);
                    }
                }
            }
            // Advance the multi-index over the item's dimensions, all but the last.
            for d in (1..r - 1).rev() {
                idx[d] += 1;
                if idx[d] < dims[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    };
    let out = &mut out.data[..batch * per_item];
    // Items on the threads when there is enough to share (as `par_rows`).
    if batch > 1 && out.len() >= PAR_MIN {
        out.par_chunks_mut(per_item)
            .enumerate()
            .for_each(|(n, o)| item(n, o));
    } else {
        for (n, o) in out.chunks_exact_mut(per_item.max(1)).enumerate() {
            item(n, o);
        }
    }
}

/// Strides of `[batch, ..shape]` in the output's index space: 0 where the input repeats.
fn strides(batch: usize, shape: &[usize], dims: &[usize]) -> [usize; MAX_DIMS] {
    let mut s = [0; MAX_DIMS];
    let mut step = 1;
    for d in (0..dims.len()).rev() {
        let n = if d == 0 { batch } else { shape[d - 1] };
        s[d] = if n == 1 && dims[d] != 1 { 0 } else { step };
        step *= n;
    }
    s
}

pub fn elementwise(op: ElementWiseOperation, batch: usize, a: &In, b: &In, y: &mut Out) {
    use ElementWiseOperation::*;
    match op {
        Sum => broadcast2(batch, a, b, y, |x, y| x + y),
        Prod => broadcast2(batch, a, b, y, |x, y| x * y),
        Max => broadcast2(batch, a, b, y, f32::max),
        Min => broadcast2(batch, a, b, y, f32::min),
        Sub => broadcast2(batch, a, b, y, |x, y| x - y),
        Div => broadcast2(batch, a, b, y, |x, y| x / y),
        Pow => broadcast2(batch, a, b, y, f32::powf),
        FloorDiv => broadcast2(batch, a, b, y, |x, y| (x / y).floor()),
    }
}

pub fn prelu(batch: usize, x: &In, slopes: &In, y: &mut Out) {
    broadcast2(batch, x, slopes, y, |v, s| if v >= 0.0 { v } else { v * s });
}

/// `Select`: `then` where `cond` is non-zero, else `other`, all three broadcast to `out`. No
/// arithmetic touches the unchosen value, so an infinity or NaN there does not leak through.
pub fn select(batch: usize, cond: &In, then: &In, other: &In, out: &mut Out) {
    let r = out.shape.len() + 1;
    let mut dims = [1usize; MAX_DIMS];
    dims[0] = batch;
    dims[1..r].copy_from_slice(out.shape);
    let s = [cond, then, other].map(|t| strides(t.batch, t.shape, &dims[..r]));
    let mut idx = [0usize; MAX_DIMS];
    for o in out.data[..dims[..r].iter().product()].iter_mut() {
        let at = |k: usize| {
            idx[..r]
                .iter()
                .zip(&s[k])
                .map(|(i, s)| i * s)
                .sum::<usize>()
        };
        *o = if cond.data[at(0)] != 0.0 {
            then.data[at(1)]
        } else {
            other.data[at(2)]
        };
        for d in (0..r).rev() {
            idx[d] += 1;
            if idx[d] < dims[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches large enough to run on the threads give each element `f` of its two broadcast
    /// inputs, by the index arithmetic of the definition: a per-channel PReLU slope (batch
    /// invariant), a per-item operand repeated over rows, and a full operand.
    #[test]
    fn threaded_items_equal_the_definition() {
        let (n, c, h, w) = (3, 16, 40, 41);
        assert!(n * c * h * w >= PAR_MIN);
        let x: Vec<f32> = (0..n * c * h * w)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let slopes: Vec<f32> = (0..c).map(|k| k as f32 * 0.1).collect();
        let per_item: Vec<f32> = (0..n * w).map(|k| k as f32).collect();
        let (xs, cs, rs) = ([c, h, w], [c, 1, 1], [1, 1, w]);
        let x_in = In {
            data: &x,
            batch: n,
            shape: &xs,
        };
        type At<'a> = Box<dyn Fn(usize, usize, usize) -> f32 + 'a>;
        let cases: [(In, At); 3] = [
            (
                In {
                    data: &slopes,
                    batch: 1,
                    shape: &cs,
                },
                Box::new(|_, k, _| slopes[k]),
            ),
            (
                In {
                    data: &per_item,
                    batch: n,
                    shape: &rs,
                },
                Box::new(|b, _, e| per_item[b * w + e % w]),
            ),
            (
                In {
                    data: &x,
                    batch: n,
                    shape: &xs,
                },
                Box::new(|_, _, e| x[e]),
            ),
        ];
        for (other, at) in cases {
            let mut y = vec![0.0; x.len()];
            let mut out = Out {
                data: &mut y,
                shape: &xs,
            };
            prelu(n, &x_in, &other, &mut out);
            for (e, &got) in y.iter().enumerate() {
                let (b, k) = (e / (c * h * w), e / (h * w) % c);
                let v = x[e];
                let want = if v >= 0.0 { v } else { v * at(b, k, e) };
                assert_eq!(got.to_bits(), want.to_bits(), "element {e}");
            }
        }
    }
}
