use super::histogram::Histogram;

/// Per-tensor range statistics, filled in two passes over the same calibration batches:
/// absolute maxima first, then histograms over the frozen [0, absmax] ranges. Both passes are
/// order-independent (a maximum and integer counts), which is what makes caches reproducible.
pub struct RangeCollector {
    hists: Vec<Histogram>,
    histogram_pass: bool,
}

impl RangeCollector {
    pub fn new(num_tensors: usize) -> Self {
        RangeCollector {
            hists: vec![Histogram::new(0.0); num_tensors],
            histogram_pass: false,
        }
    }

    /// Pass 1. Non-finite values are ignored here so that one inf does not stretch the range
    /// of every other value into bin 0; pass 2 clamps them into the last bin instead.
    pub fn observe_absmax(&mut self, tensor: usize, data: &[f32]) -> Result<(), String> {
        if self.histogram_pass {
            return Err(format!(
                "tensor {tensor}: absolute-maximum observation after begin_histograms()"
            ));
        }
        let hist = self.get_mut(tensor)?;
        for &x in data {
            let a = x.abs();
            if a.is_finite() && a > hist.absmax {
                hist.absmax = a;
            }
        }
        Ok(())
    }

    /// Freezes every tensor's range; later `observe_histogram` calls bin against it.
    pub fn begin_histograms(&mut self) {
        self.histogram_pass = true;
    }

    /// Pass 2.
    pub fn observe_histogram(&mut self, tensor: usize, data: &[f32]) -> Result<(), String> {
        if !self.histogram_pass {
            return Err(format!(
                "tensor {tensor}: histogram observation before begin_histograms()"
            ));
        }
        self.get_mut(tensor)?.add(data);
        Ok(())
    }

    pub fn histograms(&self) -> &[Histogram] {
        &self.hists
    }

    pub fn into_histograms(self) -> Vec<Histogram> {
        self.hists
    }

    fn get_mut(&mut self, tensor: usize) -> Result<&mut Histogram, String> {
        let count = self.hists.len();
        self.hists.get_mut(tensor).ok_or_else(|| {
            format!("tensor {tensor}: out of range, the collector was made for {count} tensors")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Algorithm, compute_amax};
    use super::*;

    /// Deterministic pseudo-random values with a heavy tail (no external crates).
    fn sample_data(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = ((state >> 40) as f32) / (1u64 << 24) as f32;
                let v = u * u * u * 10.0;
                match i % 7 {
                    0 => 0.0,
                    1 => -v,
                    _ => v,
                }
            })
            .collect()
    }

    fn collect(batches: &[Vec<f32>]) -> Vec<Histogram> {
        let mut c = RangeCollector::new(2);
        for b in batches {
            c.observe_absmax(0, b).unwrap();
            c.observe_absmax(1, &b[..b.len() / 2]).unwrap();
        }
        c.begin_histograms();
        for b in batches {
            c.observe_histogram(0, b).unwrap();
            c.observe_histogram(1, &b[..b.len() / 2]).unwrap();
        }
        c.into_histograms()
    }

    #[test]
    fn batch_order_does_not_change_bins_or_amax() {
        let batches: Vec<Vec<f32>> = (0..16).map(|s| sample_data(3000, s + 1)).collect();
        let mut shuffled = batches.clone();
        shuffled.reverse();
        shuffled.swap(0, 7);
        shuffled.swap(3, 12);
        let a = collect(&batches);
        let b = collect(&shuffled);
        assert_eq!(a, b);
        let algs = [
            Algorithm::Entropy,
            Algorithm::Entropy2,
            Algorithm::MinMax,
            Algorithm::Percentile(99.99),
            Algorithm::Legacy {
                quantile: 0.999,
                regression_cutoff: 0.5,
            },
        ];
        for alg in &algs {
            for (ha, hb) in a.iter().zip(&b) {
                assert_eq!(
                    compute_amax(alg, ha).to_bits(),
                    compute_amax(alg, hb).to_bits(),
                    "{alg:?}"
                );
            }
        }
    }

    #[test]
    fn absmax_ignores_non_finite_values() {
        let mut c = RangeCollector::new(1);
        c.observe_absmax(0, &[f32::NAN, -3.0, f32::NEG_INFINITY, 2.0])
            .unwrap();
        c.begin_histograms();
        c.observe_histogram(0, &[f32::INFINITY, 3.0]).unwrap();
        let h = &c.histograms()[0];
        assert_eq!(h.absmax, 3.0);
        assert_eq!(h.bins[2047], 2);
    }

    #[test]
    fn protocol_errors_name_the_tensor() {
        let mut c = RangeCollector::new(2);
        let err = c.observe_histogram(1, &[1.0]).unwrap_err();
        assert!(err.contains("tensor 1") && err.contains("before"), "{err}");
        let err = c.observe_absmax(5, &[1.0]).unwrap_err();
        assert!(
            err.contains("tensor 5") && err.contains("2 tensors"),
            "{err}"
        );
        c.begin_histograms();
        let err = c.observe_absmax(0, &[1.0]).unwrap_err();
        assert!(err.contains("tensor 0") && err.contains("after"), "{err}");
    }
}
