//! TensorRT's calibration cache ("calibration table") text format, trt-legacy-api.md §3.

use std::collections::HashMap;

use super::{Algorithm, TRT_NAMES};

/// What a calibration cache holds. `version` is the `NV_TENSORRT_VERSION` of the header, absent
/// in the headerless TensorRT 2-4 forms.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheContents {
    pub version: Option<i32>,
    pub algorithm: &'static str,
    pub scales: Vec<(String, f32)>,
}

/// The scale TensorRT stores: `abs(max_dynamic_range) / 127.0f`, in f32 as TensorRT computes it.
pub fn scale_from_amax(amax: f32) -> f32 {
    amax / 127.0
}

pub fn amax_from_scale(scale: f32) -> f32 {
    scale * 127.0
}

/// Writes `TRT-<version>-<Algorithm>` and one `name: <f32 bits of scale>` line per entry, in
/// the given order. Legacy caches use TensorRT's old `0<cutoff><quantile>` header instead,
/// because that is the only known form carrying the parameters the cache must be checked
/// against (`readCalibrationCache`: "will not be used if these do not match").
pub fn write_cache(version: i32, alg: &Algorithm, entries: &[(String, f32)]) -> Vec<u8> {
    let mut out = match *alg {
        Algorithm::Legacy {
            quantile,
            regression_cutoff,
        } => format!(
            "0{:016x}{:016x}\n",
            regression_cutoff.to_bits(),
            quantile.to_bits()
        ),
        _ => format!("TRT-{version}-{}\n", alg.trt_name()),
    };
    for (name, scale) in entries {
        out.push_str(&format!("{name}: {:08x}\n", scale.to_bits()));
    }
    out.into_bytes()
}

/// Parses a cache written by TensorRT 2-10 or by `write_cache`, and refuses one made by another
/// algorithm (or, for legacy, other parameters) than `expected`.
pub fn read_cache(bytes: &[u8], expected: &Algorithm) -> Result<CacheContents, String> {
    let mut lines = bytes.split(|&b| b == b'\n').enumerate().map(|(i, raw)| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        std::str::from_utf8(raw)
            .map(|text| (i + 1, text))
            .map_err(|_| format!("calibration cache line {}: not UTF-8 text", i + 1))
    });
    let header = match lines.next() {
        Some(line) => line?.1,
        None => return Err("calibration cache is empty".to_string()),
    };
    if header.is_empty() {
        return Err("calibration cache line 1: empty header".to_string());
    }
    let (version, algorithm) = parse_header(header, expected)?;
    let mut scales = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for line in lines {
        let (number, text) = line?;
        if text.is_empty() {
            continue;
        }
        let (name, scale) = parse_entry(number, text)?;
        if let Some(first) = seen.insert(name, number) {
            return Err(format!(
                "calibration cache line {number}: tensor '{name}' already given on line {first}"
            ));
        }
        scales.push((name.to_string(), scale));
    }
    Ok(CacheContents {
        version,
        algorithm,
        scales,
    })
}

fn parse_header(line: &str, expected: &Algorithm) -> Result<(Option<i32>, &'static str), String> {
    let (version, name) = if let Some(rest) = line.strip_prefix("TRT-") {
        let (digits, name) = rest
            .split_once('-')
            .ok_or_else(|| format!("calibration cache line 1: header '{line}' has no algorithm"))?;
        // 4 digits up to TensorRT 9 (5105), 6 from TensorRT 10 (100300).
        let well_formed =
            (4..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        let version = digits
            .parse::<i32>()
            .ok()
            .filter(|_| well_formed)
            .ok_or_else(|| {
                format!(
                    "calibration cache line 1: version '{digits}' in '{line}' is not 4 to 6 digits"
                )
            })?;
        let known = TRT_NAMES.iter().find(|&&n| n == name).ok_or_else(|| {
            format!("calibration cache line 1: unknown calibration algorithm '{name}'")
        })?;
        (Some(version), *known)
    } else if line == "1" {
        (None, Algorithm::Entropy.trt_name())
    } else if let Some(params) = line.strip_prefix('0') {
        check_legacy_params(params, expected)?;
        (None, TRT_NAMES[0])
    } else {
        return Err(format!(
            "calibration cache line 1: '{}' is not a calibration cache header \
             (expected TRT-<version>-<algorithm>, 1, or 0<cutoff><quantile>)",
            shorten(line)
        ));
    };
    if name != expected.trt_name() {
        return Err(format!(
            "calibration cache line 1: calibration cache was written by {name}, calibrator wants {}",
            expected.trt_name()
        ));
    }
    Ok((version, name))
}

/// The legacy header carries the regression cutoff and quantile as 16-hex-digit f64 bit patterns.
fn check_legacy_params(params: &str, expected: &Algorithm) -> Result<(), String> {
    let parse = |field: &str, what: &str| {
        u64::from_str_radix(field, 16)
            .ok()
            .filter(|_| field.len() == 16)
            .map(f64::from_bits)
            .ok_or_else(|| {
                format!("calibration cache line 1: legacy {what} '{field}' is not 16 hex digits")
            })
    };
    if params.len() != 32 || !params.is_ascii() {
        return Err(format!(
            "calibration cache line 1: legacy header '0{}' must hold 32 hex digits (cutoff, quantile)",
            shorten(params)
        ));
    }
    let cutoff = parse(&params[..16], "regression cutoff")?;
    let quantile = parse(&params[16..], "quantile")?;
    match *expected {
        Algorithm::Legacy {
            quantile: want_q,
            regression_cutoff: want_c,
        } if want_q != quantile || want_c != cutoff => Err(format!(
            "calibration cache line 1: cache was made with regression cutoff {cutoff} and quantile \
             {quantile}, calibrator wants regression cutoff {want_c} and quantile {want_q}"
        )),
        _ => Ok(()),
    }
}

fn parse_entry(number: usize, text: &str) -> Result<(&str, f32), String> {
    // Names may themselves contain ": " ("(Unnamed Layer* 4) [Fully Connected]_output"), the
    // scale never does.
    let (name, hex) = text.rsplit_once(": ").ok_or_else(|| {
        format!(
            "calibration cache line {number}: expected '<tensor name>: <8 hex digits>', found '{}'",
            shorten(text)
        )
    })?;
    if name.is_empty() {
        return Err(format!(
            "calibration cache line {number}: empty tensor name"
        ));
    }
    let hex = hex.trim_end();
    let bits = u32::from_str_radix(hex, 16)
        .ok()
        .filter(|_| hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            format!(
                "calibration cache line {number}: tensor '{name}': scale '{}' is not 8 hex digits",
                shorten(hex)
            )
        })?;
    let scale = f32::from_bits(bits);
    if !scale.is_finite() {
        return Err(format!(
            "calibration cache line {number}: tensor '{name}': scale {hex} is not a finite number"
        ));
    }
    if scale.is_sign_negative() {
        return Err(format!(
            "calibration cache line {number}: tensor '{name}': scale {hex} is negative"
        ));
    }
    Ok((name, scale))
}

/// Keeps error messages readable when a binary file is passed as a cache.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 60;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_TABLE: &str = "1\n(Unnamed ITensor* 5): 3dc663ff\n(Unnamed ITensor* 42): 3c010a14\n\
                            data: 40000889\n(Unnamed ITensor* 1): 4000890a\n";

    #[test]
    fn writer_emits_tensorrt_bytes() {
        assert_eq!(0.007874016f32.to_bits(), 0x3c01_0204);
        assert_eq!(scale_from_amax(1.0).to_bits(), 0x3c01_0204);
        let entries = vec![
            ("data".to_string(), scale_from_amax(1.0)),
            (
                "(Unnamed Layer* 4) [Fully Connected]_output".to_string(),
                2.0,
            ),
        ];
        let bytes = write_cache(5105, &Algorithm::Entropy2, &entries);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "TRT-5105-EntropyCalibration2\ndata: 3c010204\n\
             (Unnamed Layer* 4) [Fully Connected]_output: 40000000\n"
        );
    }

    #[test]
    fn reads_tensorrt4_entropy_table() {
        let c = read_cache(V1_TABLE.as_bytes(), &Algorithm::Entropy).unwrap();
        assert_eq!(c.version, None);
        assert_eq!(c.algorithm, "EntropyCalibration");
        let names: Vec<&str> = c.scales.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "(Unnamed ITensor* 5)",
                "(Unnamed ITensor* 42)",
                "data",
                "(Unnamed ITensor* 1)"
            ]
        );
        let data = amax_from_scale(c.scales[2].1);
        assert!((data - 2040.5 / 2048.0 * 255.0).abs() < 1e-4, "{data}");
        let prob = amax_from_scale(c.scales[3].1);
        assert!((prob - 2048.5 / 2048.0 * 255.0).abs() < 1e-4, "{prob}");
    }

    #[test]
    fn reads_odd_names_crlf_and_missing_final_newline() {
        let text = "TRT-7000-EntropyCalibration2\r\n\
                    (Unnamed Layer* 4) [Fully Connected]_output: 3c010a14\r\n\
                    weird: name: with colons: 3c010204\r\n\
                    prob: 3c010204";
        let c = read_cache(text.as_bytes(), &Algorithm::Entropy2).unwrap();
        assert_eq!(c.version, Some(7000));
        assert_eq!(c.scales.len(), 3);
        assert_eq!(c.scales[0].0, "(Unnamed Layer* 4) [Fully Connected]_output");
        assert_eq!(c.scales[0].1.to_bits(), 0x3c01_0a14);
        assert_eq!(c.scales[1].0, "weird: name: with colons");
        assert_eq!(c.scales[2].0, "prob");
    }

    #[test]
    fn accepts_six_digit_versions() {
        let c = read_cache(
            b"TRT-100300-MinMaxCalibration\nx: 00000000\n",
            &Algorithm::MinMax,
        )
        .unwrap();
        assert_eq!(c.version, Some(100300));
        assert_eq!(c.scales, vec![("x".to_string(), 0.0)]);
    }

    #[test]
    fn rejects_cache_of_another_algorithm() {
        let err = read_cache(V1_TABLE.as_bytes(), &Algorithm::Entropy2).unwrap_err();
        assert_eq!(
            err,
            "calibration cache line 1: calibration cache was written by EntropyCalibration, \
             calibrator wants EntropyCalibration2"
        );
        let err = read_cache(b"TRT-8602-MinMaxCalibration\n", &Algorithm::Entropy2).unwrap_err();
        assert!(err.contains("written by MinMaxCalibration"), "{err}");
    }

    #[test]
    fn rejects_bad_headers() {
        for (text, needle) in [
            ("", "empty"),
            ("TRT-51-EntropyCalibration2\n", "not 4 to 6 digits"),
            (
                "TRT-5105-FancyCalibration\n",
                "unknown calibration algorithm 'FancyCalibration'",
            ),
            ("TRT-5105\n", "has no algorithm"),
            ("hello\n", "not a calibration cache header"),
            ("0abc\n", "32 hex digits"),
        ] {
            let err = read_cache(text.as_bytes(), &Algorithm::Entropy2).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(err.contains("line 1") || text.is_empty(), "{err}");
        }
    }

    #[test]
    fn rejects_garbage_entries_naming_the_line() {
        let header = "TRT-5105-EntropyCalibration2\n";
        for (body, needle) in [
            (
                "data 3c010204\n",
                "line 2: expected '<tensor name>: <8 hex digits>'",
            ),
            (": 3c010204\n", "line 2: empty tensor name"),
            (
                "a: 3c01020\n",
                "line 2: tensor 'a': scale '3c01020' is not 8 hex digits",
            ),
            ("a: 3c01020g\n", "not 8 hex digits"),
            ("a: +c010204\n", "not 8 hex digits"),
            ("a: 7fc00000\n", "not a finite number"),
            ("a: 7f800000\n", "not a finite number"),
            (
                "a: bf800000\n",
                "line 2: tensor 'a': scale bf800000 is negative",
            ),
            (
                "a: 3c010204\n\nb: 3c010204\na: 3c010204\n",
                "line 5: tensor 'a' already given on line 2",
            ),
        ] {
            let text = format!("{header}{body}");
            let err = read_cache(text.as_bytes(), &Algorithm::Entropy2).unwrap_err();
            assert!(err.contains(needle), "{body:?}: {err}");
        }
        let err = read_cache(
            b"TRT-5105-EntropyCalibration2\nda\xfft: 3c010204\n",
            &Algorithm::Entropy2,
        )
        .unwrap_err();
        assert!(err.contains("line 2: not UTF-8"), "{err}");
    }

    #[test]
    fn legacy_header_carries_and_checks_parameters() {
        let alg = Algorithm::Legacy {
            quantile: 0.99999,
            regression_cutoff: 0.6,
        };
        let bytes = write_cache(5105, &alg, &[("data".to_string(), 1.5)]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            format!("0{:016x}{:016x}", 0.6f64.to_bits(), 0.99999f64.to_bits())
        );
        let c = read_cache(&bytes, &alg).unwrap();
        assert_eq!((c.algorithm, c.scales.len()), ("LegacyCalibration", 1));
        let other = Algorithm::Legacy {
            quantile: 0.99999,
            regression_cutoff: 1.0,
        };
        let err = read_cache(&bytes, &other).unwrap_err();
        assert!(
            err.contains("regression cutoff 0.6") && err.contains("wants regression cutoff 1"),
            "{err}"
        );
        let err = read_cache(&bytes, &Algorithm::Entropy).unwrap_err();
        assert!(err.contains("written by LegacyCalibration"), "{err}");
    }

    #[test]
    fn round_trips_every_algorithm() {
        let entries = vec![
            ("a b [c]".to_string(), 0.25),
            ("(Unnamed ITensor* 7)".to_string(), 3.0e-5),
        ];
        for alg in [
            Algorithm::Entropy,
            Algorithm::Entropy2,
            Algorithm::MinMax,
            Algorithm::Percentile(99.9),
            Algorithm::Legacy {
                quantile: 1.0,
                regression_cutoff: 1.0,
            },
        ] {
            let bytes = write_cache(7000, &alg, &entries);
            let c = read_cache(&bytes, &alg).unwrap();
            assert_eq!(c.scales, entries, "{alg:?}");
            assert_eq!(c.algorithm, alg.trt_name());
            assert_eq!(write_cache(7000, &alg, &c.scales), bytes);
        }
    }
}
