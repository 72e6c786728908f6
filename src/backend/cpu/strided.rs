//! Strided gathers shared by transposes and slices.

/// Tensor ranks the CPU backend handles: TensorRT's 7 dimensions plus the batch.
pub const MAX_DIMS: usize = 8;

/// Reads an output laid out in C order over `dims` from `src[base + Σ index[d] · strides[d]]`.
/// Strides may be negative (reversed slices).
pub struct Plan {
    pub dims: Vec<usize>,
    pub strides: Vec<isize>,
}

impl Plan {
    /// The transpose whose output dimension `i` is input dimension `perm[i]`.
    pub fn transpose(shape: &[usize], perm: &[usize]) -> Plan {
        let s = strides(shape);
        Plan {
            dims: perm.iter().map(|&p| shape[p]).collect(),
            strides: perm.iter().map(|&p| s[p]).collect(),
        }
    }

    /// The caller guarantees every position is inside `src`.
    pub fn gather(&self, base: usize, src: &[f32], dst: &mut [f32]) {
        let (dims, strides) = (&self.dims, &self.strides);
        let r = dims.len();
        if r == 0 {
            dst[0] = src[base];
            return;
        }
        let (inner, step) = (dims[r - 1], strides[r - 1]);
        let mut idx = [0usize; MAX_DIMS];
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
}

/// Element strides of a C-order tensor.
pub fn strides(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as isize;
    }
    s
}
