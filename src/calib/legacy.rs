use super::histogram::Histogram;
use super::percentile::quantile_edge;

/// TensorRT 2.0's legacy calibrator is unpublished; this is infer8's definition, chosen so that
/// the two parameters keep their documented meaning and TensorRT's observed behaviour holds:
/// - the quantile q picks a candidate maximum, the right edge of the bin where the cumulative
///   count (zeros included) reaches q of all values;
/// - the regression cutoff c is the fraction of the observed maximum below which the range may
///   not be cut: amax = max(q-edge, c * absmax).
///
/// With c = 1 every quantile gives |max| (what TensorRT's legacy caches show with cutoff 1.0),
/// and with q = 1 the q-edge is the edge of the bin holding absmax, i.e. absmax itself.
pub(crate) fn amax(hist: &Histogram, quantile: f64, regression_cutoff: f64) -> f32 {
    let floor = (regression_cutoff * f64::from(hist.absmax)) as f32;
    quantile_edge(hist, quantile).max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread() -> Histogram {
        let mut h = Histogram::new(2048.0);
        h.bins[99] = 990;
        h.bins[1499] = 9;
        h.bins[2047] = 1;
        h
    }

    #[test]
    fn cutoff_one_or_quantile_one_gives_absmax() {
        let h = spread();
        assert_eq!(amax(&h, 0.99, 1.0), 2048.0);
        assert_eq!(amax(&h, 1.0, 0.4), 2048.0);
    }

    #[test]
    fn cutoff_bounds_the_quantile_from_below() {
        let h = spread();
        assert_eq!(amax(&h, 0.99, 0.01), 100.0);
        assert_eq!(amax(&h, 0.99, 0.5), 1024.0);
        assert_eq!(amax(&h, 0.995, 0.5), 1500.0);
    }
}
