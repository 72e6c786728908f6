//! TensorRT's `batches/batchN` files (trt-legacy-api.md §5.3): four native-endian int32
//! `{N, C, H, W}`, `N*C*H*W` float32 values, then 0 or `N` float32 labels.

use std::path::Path;

use crate::error::{Error, Result};

pub struct BatchFile {
    pub dims: [usize; 4],
    pub data: Vec<f32>,
    pub labels: Vec<f32>,
}

pub fn write(path: &Path, dims: [usize; 4], data: &[f32], labels: &[f32]) -> Result<()> {
    let mut out = Vec::with_capacity(16 + 4 * (data.len() + labels.len()));
    for d in dims {
        out.extend_from_slice(&(d as i32).to_ne_bytes());
    }
    data.iter()
        .chain(labels)
        .for_each(|v| out.extend_from_slice(&v.to_ne_bytes()));
    std::fs::write(path, out).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}

pub fn read(path: &Path) -> Result<BatchFile> {
    let raw = std::fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    parse(&raw, &path.display().to_string())
}

/// A batch file's bytes; `file` names it in errors.
pub fn parse(raw: &[u8], file: &str) -> Result<BatchFile> {
    let word = |i: usize| raw.get(4 * i..4 * i + 4).map(|b| [b[0], b[1], b[2], b[3]]);
    let mut dims = [0usize; 4];
    for (i, d) in dims.iter_mut().enumerate() {
        let v = word(i)
            .map(i32::from_ne_bytes)
            .ok_or_else(|| Error::Format(format!("{file}: truncated header")))?;
        *d = usize::try_from(v)
            .map_err(|_| Error::Format(format!("{file}: negative dimension {v}")))?;
    }
    let values = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let floats = (raw.len() - 16) / 4;
    let labels = match values {
        Some(v) if raw.len().is_multiple_of(4) && floats == v => 0,
        Some(v) if raw.len().is_multiple_of(4) && Some(floats) == v.checked_add(dims[0]) => dims[0],
        _ => crate::bail!(
            Format,
            "{file}: {dims:?} does not match the file size of {} bytes",
            raw.len()
        ),
    };
    let all: Vec<f32> = (4..4 + floats)
        .filter_map(|i| word(i).map(f32::from_ne_bytes))
        .collect();
    let (data, l) = all.split_at(floats - labels);
    Ok(BatchFile {
        dims,
        data: data.to_vec(),
        labels: l.to_vec(),
    })
}
