//! infer8's histogram cache, handed to `IInt8LegacyCalibrator::writeHistogramCache` so that a
//! cutoff/quantile grid search re-derives ranges without re-running calibration. TensorRT's
//! own format is unpublished; this one is text, versioned, and validated line by line:
//!
//! ```text
//! infer8-histogram-cache 1 2048
//! <tensor name>: <absmax as 8 hex digits of f32 bits> <zero count> <count of bin 0> … <count of bin 2047>
//! ```

use std::collections::HashMap;

use super::histogram::{Histogram, NUM_BINS};

const MAGIC: &str = "infer8-histogram-cache 1";

pub fn write_histogram_cache(entries: &[(String, Histogram)]) -> Vec<u8> {
    let mut out = format!("{MAGIC} {NUM_BINS}\n");
    for (name, hist) in entries {
        out.push_str(&format!(
            "{name}: {:08x} {}",
            hist.absmax.to_bits(),
            hist.zeros
        ));
        for count in &hist.bins {
            out.push_str(&format!(" {count}"));
        }
        out.push('\n');
    }
    out.into_bytes()
}

pub fn read_histogram_cache(bytes: &[u8]) -> Result<Vec<(String, Histogram)>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("histogram cache: not UTF-8 text (byte {})", e.valid_up_to()))?;
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    let header = lines.next().map(|(_, line)| line).unwrap_or("");
    let want = format!("{MAGIC} {NUM_BINS}");
    if header != want {
        return Err(format!(
            "histogram cache line 1: header '{header}' is not '{want}'"
        ));
    }
    let mut entries = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (number, line) in lines {
        if line.is_empty() {
            continue;
        }
        let (name, hist) = parse_line(number, line)?;
        if let Some(first) = seen.insert(name, number) {
            return Err(format!(
                "histogram cache line {number}: tensor '{name}' already given on line {first}"
            ));
        }
        entries.push((name.to_string(), hist));
    }
    Ok(entries)
}

fn parse_line(number: usize, line: &str) -> Result<(&str, Histogram), String> {
    // Names may contain ": "; the numeric fields never contain a colon.
    let (name, fields) = line.rsplit_once(": ").ok_or_else(|| {
        format!("histogram cache line {number}: expected '<tensor name>: <fields>'")
    })?;
    if name.is_empty() {
        return Err(format!("histogram cache line {number}: empty tensor name"));
    }
    let fields: Vec<&str> = fields.split(' ').collect();
    if fields.len() != NUM_BINS + 2 {
        return Err(format!(
            "histogram cache line {number}: tensor '{name}' has {} fields, expected {} \
             (absmax, zero count, {NUM_BINS} bins)",
            fields.len(),
            NUM_BINS + 2
        ));
    }
    let absmax = u32::from_str_radix(fields[0], 16)
        .ok()
        .filter(|_| fields[0].len() == 8)
        .map(f32::from_bits)
        .filter(|a| a.is_finite() && a.is_sign_positive())
        .ok_or_else(|| {
            format!(
                "histogram cache line {number}: tensor '{name}': absmax '{}' is not 8 hex digits \
                 of a finite non-negative float",
                fields[0]
            )
        })?;
    let counts = fields[1..].iter().enumerate().map(|(i, field)| {
        field.parse::<u64>().map_err(|_| {
            let what = match i {
                0 => "zero count".to_string(),
                _ => format!("bin {}", i - 1),
            };
            format!(
                "histogram cache line {number}: tensor '{name}': {what} '{field}' is not a count"
            )
        })
    });
    let counts = counts.collect::<Result<Vec<u64>, String>>()?;
    let hist = Histogram {
        absmax,
        zeros: counts[0],
        bins: counts[1..].to_vec(),
    };
    Ok((name, hist))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(String, Histogram)> {
        let mut a = Histogram::new(2.5);
        a.add(&[0.0, 1.0, -2.5, 0.001, f32::INFINITY]);
        let mut b = Histogram::new(0.0);
        b.add(&[0.0, 0.0]);
        vec![("conv1: out [x]".to_string(), a), ("data".to_string(), b)]
    }

    #[test]
    fn round_trip_is_exact() {
        let bytes = write_histogram_cache(&sample());
        assert_eq!(read_histogram_cache(&bytes).unwrap(), sample());
        let crlf = String::from_utf8(bytes).unwrap().replace('\n', "\r\n");
        assert_eq!(read_histogram_cache(crlf.as_bytes()).unwrap(), sample());
    }

    #[test]
    fn rejects_malformed_caches() {
        let good = String::from_utf8(write_histogram_cache(&sample())).unwrap();
        let cases = [
            (String::new(), "line 1: header"),
            (good.replacen("cache 1", "cache 2", 1), "line 1: header"),
            (
                good.replacen(" 40200000 ", " 4020000 ", 1),
                "line 2: tensor 'conv1: out [x]': absmax",
            ),
            (
                good.replacen(" 40200000 ", " ff800000 ", 1),
                "absmax 'ff800000'",
            ),
            (
                good.replacen("40200000 1 ", "40200000 x ", 1),
                "line 2: tensor 'conv1: out [x]': zero count 'x'",
            ),
            (good.replace(" 0\n", "\n"), "fields, expected 2050"),
            (
                good.replacen("data", "conv1: out [x]", 1),
                "line 3: tensor 'conv1: out [x]' already given on line 2",
            ),
            (good.replacen("data", "", 1), "line 3: empty tensor name"),
        ];
        for (text, needle) in cases {
            let err = read_histogram_cache(text.as_bytes()).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }
}
