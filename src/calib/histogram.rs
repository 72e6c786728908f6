/// Histogram resolution used by every calibrator (TensorRT's entropy calibrator uses 2048).
pub const NUM_BINS: usize = 2048;

/// Counts of |x| over the fixed range [0, absmax]. Exact zeros are counted apart: entropy
/// calibration ignores them (as ncnn and TensorRT's published results do), while quantile-based
/// methods need them in the total.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub absmax: f32,
    pub zeros: u64,
    pub bins: Vec<u64>,
}

impl Histogram {
    pub fn new(absmax: f32) -> Self {
        Histogram {
            absmax,
            zeros: 0,
            bins: vec![0; NUM_BINS],
        }
    }

    /// Adds |x| for every value: bin = min(floor(|x| / absmax * n), n - 1). NaN is skipped;
    /// infinities and values beyond absmax (possible only if pass 2 saw other data than pass 1)
    /// land in the last bin so that nothing is lost silently.
    pub(crate) fn add(&mut self, data: &[f32]) {
        let n = self.bins.len();
        let absmax = f64::from(self.absmax);
        // Two slots past the bins count zeros and NaNs, so the index computation has no branch
        // and vectorises; the counting loop after it is a plain scatter.
        let (zero_slot, nan_slot) = (n, n + 1);
        let mut counts = vec![0u64; n + 2];
        let mut index = [0u32; 256];
        for chunk in data.chunks(index.len()) {
            for (slot, &x) in index.iter_mut().zip(chunk) {
                let a = f64::from(x.abs());
                // The quotient is non-negative or NaN, so truncation (`as usize`, saturating,
                // inf included) is its floor; absmax 0 sends every nonzero value to the last bin.
                let bin = if absmax > 0.0 {
                    ((a / absmax * n as f64) as usize).min(n - 1)
                } else {
                    n - 1
                };
                let bin = if a == 0.0 { zero_slot } else { bin };
                *slot = if a.is_nan() { nan_slot } else { bin } as u32;
            }
            for &i in &index[..chunk.len()] {
                counts[i as usize] += 1;
            }
        }
        for (bin, c) in self.bins.iter_mut().zip(&counts) {
            *bin += c;
        }
        self.zeros += counts[zero_slot];
    }

    pub(crate) fn nonzero_count(&self) -> u64 {
        self.bins.iter().sum()
    }

    /// Right edge of bin `i`. Exact: (i + 1) has at most 12 significant bits and absmax 24, so
    /// the f64 product is exact and only the final narrowing rounds.
    pub(crate) fn right_edge(&self, i: usize) -> f32 {
        ((i + 1) as f64 * f64::from(self.absmax) / self.bins.len() as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_documented_bins() {
        let mut h = Histogram::new(1.0);
        h.add(&[
            0.0,
            -0.0,
            1.0,
            0.5,
            -0.25,
            f32::NAN,
            f32::INFINITY,
            3.0,
            1e-9,
        ]);
        assert_eq!(h.zeros, 2);
        assert_eq!(h.bins[2047], 3, "1.0, inf and 3.0 share the last bin");
        assert_eq!(h.bins[1024], 1);
        assert_eq!(h.bins[512], 1);
        assert_eq!(h.bins[0], 1);
        assert_eq!(h.nonzero_count(), 6, "NaN is skipped");
    }

    #[test]
    fn zero_range_puts_nonzero_values_in_last_bin() {
        let mut h = Histogram::new(0.0);
        h.add(&[0.0, 2.0]);
        assert_eq!(h.zeros, 1);
        assert_eq!(h.bins[NUM_BINS - 1], 1);
    }

    #[test]
    fn right_edges_are_exact() {
        let h = Histogram::new(2048.0);
        assert_eq!(h.right_edge(0), 1.0);
        assert_eq!(h.right_edge(NUM_BINS - 1), 2048.0);
    }
}
