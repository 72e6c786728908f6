//! MNIST IDX files (optionally gzip-compressed): big-endian magic 2051 (images) / 2049 (labels),
//! then the dimensions, then u8 values.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::Format(format!("{}: gzip: {e}", path.display())))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be32(data: &[u8], at: usize, path: &Path) -> Result<usize> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| Error::Format(format!("{}: truncated IDX header", path.display())))
}

pub fn read_images(path: &Path) -> Result<Images> {
    let data = read_maybe_gz(path)?;
    if be32(&data, 0, path)? != 2051 {
        crate::bail!(
            Format,
            "{}: not an IDX image file (magic is not 2051)",
            path.display()
        );
    }
    let (count, rows, cols) = (
        be32(&data, 4, path)?,
        be32(&data, 8, path)?,
        be32(&data, 12, path)?,
    );
    let n = count.checked_mul(rows).and_then(|v| v.checked_mul(cols));
    if n.is_none_or(|n| data.len() != 16 + n) {
        crate::bail!(
            Format,
            "{}: {count} images of {rows}x{cols} do not match the file size",
            path.display()
        );
    }
    Ok(Images {
        count,
        rows,
        cols,
        pixels: data[16..].to_vec(),
    })
}

pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let data = read_maybe_gz(path)?;
    if be32(&data, 0, path)? != 2049 {
        crate::bail!(
            Format,
            "{}: not an IDX label file (magic is not 2049)",
            path.display()
        );
    }
    let count = be32(&data, 4, path)?;
    if data.len() != 8 + count {
        crate::bail!(
            Format,
            "{}: {count} labels do not match the file size",
            path.display()
        );
    }
    Ok(data[8..].to_vec())
}

impl Images {
    /// Images `[first, first + n)` as `pixel / 255` floats, NCHW with C = 1 (sampleINT8's scaling).
    pub fn normalized(&self, first: usize, n: usize) -> Vec<f32> {
        let size = self.rows * self.cols;
        self.pixels[first * size..(first + n) * size]
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect()
    }
}
