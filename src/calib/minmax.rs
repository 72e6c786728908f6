use super::histogram::Histogram;

/// `IInt8MinMaxCalibrator`: the whole observed range.
pub(crate) fn amax(hist: &Histogram) -> f32 {
    hist.absmax
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amax_is_the_observed_maximum() {
        let mut h = Histogram::new(6.25);
        h.add(&[1.0, -6.25, 0.0]);
        assert_eq!(amax(&h), 6.25);
    }
}
