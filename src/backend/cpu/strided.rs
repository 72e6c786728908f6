//! Strided gathers shared by transposes and slices.

/// Fills `dst` (C order over `dims`) with `src[base + Σ index[d] · strides[d]]`. Strides may be
/// negative (reversed slices); the caller guarantees every position is inside `src`.
pub fn gather(dims: &[usize], strides: &[isize], base: usize, src: &[f32], dst: &mut [f32]) {
    let r = dims.len();
    if r == 0 {
        dst[0] = src[base];
        return;
    }
    let inner = dims[r - 1];
    let step = strides[r - 1];
    let mut idx = vec![0usize; r];
    let mut start = base as isize;
    for row in dst.chunks_exact_mut(inner) {
        let mut at = start;
        for o in row {
            *o = src[at as usize];
            at += step;
        }
        for d in (0..r - 1).rev() {
            idx[d] += 1;
            start += strides[d];
            if idx[d] < dims[d] {
                break;
            }
            start -= strides[d] * dims[d] as isize;
            idx[d] = 0;
        }
    }
}

/// Element strides of a C-order tensor.
pub fn strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as isize;
    }
    s
}

/// `y = x` transposed so that output dimension `i` is input dimension `perm[i]`.
pub fn transpose(shape: &[usize], perm: &[usize], x: &[f32], y: &mut [f32]) {
    let s = strides(shape);
    let dims: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let st: Vec<isize> = perm.iter().map(|&p| s[p]).collect();
    gather(&dims, &st, 0, x, y);
}
