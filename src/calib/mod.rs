//! INT8 calibration: range collection, the amax rules of each TensorRT calibrator family, and the
//! calibration / histogram cache text formats.
//!
//! Ranges are collected in two passes (absolute maximum first, then fixed-range histograms) so the
//! result is a pure function of the multiset of calibration values: batch order and backend do not
//! change a single bit of the cache.

mod cache;
mod collector;
mod entropy;
mod histogram;
mod histogram_cache;
mod legacy;
mod minmax;
mod percentile;

pub use cache::{CacheContents, amax_from_scale, read_cache, scale_from_amax, write_cache};
pub use collector::RangeCollector;
pub use histogram::{Histogram, NUM_BINS};
pub use histogram_cache::{read_histogram_cache, write_histogram_cache};

/// A calibration method. Names and integer values follow TensorRT's `CalibrationAlgoType`;
/// `Percentile` is an infer8 extension with no TensorRT value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Algorithm {
    Legacy {
        quantile: f64,
        regression_cutoff: f64,
    },
    Entropy,
    Entropy2,
    MinMax,
    /// Percent of the values (zeros included) that the range must cover, in (0, 100].
    Percentile(f64),
}

/// Header names in the order of `CalibrationAlgoType` values, then the infer8 extension.
pub(crate) const TRT_NAMES: [&str; 5] = [
    "LegacyCalibration",
    "EntropyCalibration",
    "EntropyCalibration2",
    "MinMaxCalibration",
    "PercentileCalibration",
];

impl Algorithm {
    /// The name TensorRT writes in the cache header (`TRT-<version>-<name>`).
    pub fn trt_name(&self) -> &'static str {
        match self {
            Algorithm::Legacy { .. } => TRT_NAMES[0],
            Algorithm::Entropy => TRT_NAMES[1],
            Algorithm::Entropy2 => TRT_NAMES[2],
            Algorithm::MinMax => TRT_NAMES[3],
            Algorithm::Percentile(_) => TRT_NAMES[4],
        }
    }

    /// Maps the value returned by `IInt8Calibrator::getAlgorithm`. `legacy_params` returns
    /// `(quantile, regression_cutoff)` and is called only for the legacy type, because only an
    /// `IInt8LegacyCalibrator` has the vtable slots that provide them.
    pub fn from_trt(
        value: i32,
        legacy_params: impl FnOnce() -> (f64, f64),
    ) -> Result<Self, String> {
        match value {
            0 => {
                let (quantile, regression_cutoff) = legacy_params();
                Ok(Algorithm::Legacy {
                    quantile,
                    regression_cutoff,
                })
            }
            1 => Ok(Algorithm::Entropy),
            2 => Ok(Algorithm::Entropy2),
            3 => Ok(Algorithm::MinMax),
            _ => Err(format!(
                "calibrator getAlgorithm() returned {value}, which is not a CalibrationAlgoType \
                 (0 legacy, 1 entropy, 2 entropy2, 3 minmax)"
            )),
        }
    }

    /// Checks user-supplied parameters; `compute_amax` does not re-check them.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Algorithm::Legacy {
                quantile,
                regression_cutoff,
            } => {
                if !(quantile > 0.0 && quantile <= 1.0) {
                    return Err(format!(
                        "legacy calibrator quantile {quantile} is outside (0, 1]"
                    ));
                }
                if !(regression_cutoff > 0.0 && regression_cutoff <= 1.0) {
                    return Err(format!(
                        "legacy calibrator regression cutoff {regression_cutoff} is outside (0, 1]"
                    ));
                }
                Ok(())
            }
            Algorithm::Percentile(p) if !(p > 0.0 && p <= 100.0) => {
                Err(format!("calibration percentile {p} is outside (0, 100]"))
            }
            _ => Ok(()),
        }
    }

    /// MinMax needs only the first (absolute maximum) pass, so the builder can skip the second.
    pub fn needs_histograms(&self) -> bool {
        !matches!(self, Algorithm::MinMax)
    }
}

/// The symmetric range limit `amax` for one tensor; the cache stores `amax / 127`.
pub fn compute_amax(alg: &Algorithm, hist: &Histogram) -> f32 {
    match *alg {
        Algorithm::Legacy {
            quantile,
            regression_cutoff,
        } => legacy::amax(hist, quantile, regression_cutoff),
        Algorithm::Entropy => entropy::amax_v1(hist),
        Algorithm::Entropy2 => entropy::amax_v2(hist),
        Algorithm::MinMax => minmax::amax(hist),
        Algorithm::Percentile(p) => percentile::amax(hist, p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trt_values_map_to_algorithms() {
        let no_params = || -> (f64, f64) { panic!("legacy parameters read for a non-legacy type") };
        assert_eq!(Algorithm::from_trt(1, no_params), Ok(Algorithm::Entropy));
        assert_eq!(Algorithm::from_trt(2, no_params), Ok(Algorithm::Entropy2));
        assert_eq!(Algorithm::from_trt(3, no_params), Ok(Algorithm::MinMax));
        assert_eq!(
            Algorithm::from_trt(0, || (0.999, 0.6)),
            Ok(Algorithm::Legacy {
                quantile: 0.999,
                regression_cutoff: 0.6
            })
        );
        let err = Algorithm::from_trt(7, no_params).unwrap_err();
        assert!(err.contains("returned 7"), "{err}");
    }

    #[test]
    fn names_match_tensorrt_headers() {
        let legacy = Algorithm::Legacy {
            quantile: 1.0,
            regression_cutoff: 1.0,
        };
        assert_eq!(legacy.trt_name(), "LegacyCalibration");
        assert_eq!(Algorithm::Entropy.trt_name(), "EntropyCalibration");
        assert_eq!(Algorithm::Entropy2.trt_name(), "EntropyCalibration2");
        assert_eq!(Algorithm::MinMax.trt_name(), "MinMaxCalibration");
        assert_eq!(
            Algorithm::Percentile(99.9).trt_name(),
            "PercentileCalibration"
        );
    }

    #[test]
    fn validate_rejects_out_of_range_parameters() {
        assert!(Algorithm::Percentile(100.0).validate().is_ok());
        assert!(Algorithm::Percentile(0.0).validate().is_err());
        assert!(Algorithm::Percentile(f64::NAN).validate().is_err());
        let bad_cutoff = Algorithm::Legacy {
            quantile: 0.5,
            regression_cutoff: 1.5,
        };
        assert!(
            bad_cutoff
                .validate()
                .unwrap_err()
                .contains("regression cutoff 1.5")
        );
        assert!(!Algorithm::MinMax.needs_histograms());
        assert!(Algorithm::Entropy2.needs_histograms());
    }
}
