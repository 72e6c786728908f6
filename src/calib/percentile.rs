use super::histogram::Histogram;

/// Smallest right bin edge whose cumulative count (zeros first, then the bins) reaches
/// `fraction` of all values. A target met by the zeros alone still yields the first non-empty
/// bin, because a zero range would turn every nonzero value into saturation.
pub(crate) fn quantile_edge(hist: &Histogram, fraction: f64) -> f32 {
    let total = hist.zeros + hist.nonzero_count();
    let target = fraction * total as f64;
    let mut cumulative = hist.zeros;
    for (i, &count) in hist.bins.iter().enumerate() {
        cumulative += count;
        if count > 0 && cumulative as f64 >= target {
            return hist.right_edge(i);
        }
    }
    // No nonzero values at all, or a fraction above 1 (rejected by `Algorithm::validate`).
    hist.absmax
}

/// infer8 extension: the range covering `percent` of the values.
pub(crate) fn amax(hist: &Histogram, percent: f64) -> f32 {
    quantile_edge(hist, percent / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// absmax = 2048 makes the right edge of bin i exactly i + 1.
    fn table() -> Histogram {
        let mut h = Histogram::new(2048.0);
        h.bins[9] = 90;
        h.bins[99] = 9;
        h.bins[2047] = 1;
        h
    }

    #[test]
    fn percentiles_pick_exact_bin_edges() {
        let h = table();
        assert_eq!(amax(&h, 50.0), 10.0);
        assert_eq!(amax(&h, 90.0), 10.0);
        assert_eq!(amax(&h, 90.5), 100.0);
        assert_eq!(amax(&h, 99.0), 100.0);
        assert_eq!(amax(&h, 99.5), 2048.0);
        assert_eq!(amax(&h, 100.0), 2048.0);
    }

    #[test]
    fn zeros_count_toward_the_total() {
        let mut h = table();
        h.zeros = 100;
        assert_eq!(amax(&h, 95.0), 10.0);
        assert_eq!(amax(&h, 99.5), 100.0);
        assert_eq!(
            amax(&h, 10.0),
            10.0,
            "target inside the zeros gives the first bin"
        );
    }

    #[test]
    fn all_zero_tensor_has_zero_range() {
        let mut h = Histogram::new(0.0);
        h.add(&[0.0; 5]);
        assert_eq!(amax(&h, 99.99), 0.0);
    }
}
