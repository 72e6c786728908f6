//! A calibration cache (`readCalibrationCache`), read as each calibrator family would read it.
#![no_main]

use infer8::calib::{Algorithm, read_cache, read_histogram_cache};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    for alg in [
        Algorithm::Entropy,
        Algorithm::Entropy2,
        Algorithm::MinMax,
        Algorithm::Percentile(99.99),
        Algorithm::Legacy {
            quantile: 0.5,
            regression_cutoff: 1.0,
        },
    ] {
        let _ = read_cache(data, &alg);
    }
    let _ = read_histogram_cache(data);
});
