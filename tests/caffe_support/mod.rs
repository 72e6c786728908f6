//! Shared by the Caffe parser tests: where the real models are, and a reader for the reference
//! `.npy` files (float32, C order) saved beside them.

#![allow(dead_code)]

use infer8::network::Network;
use infer8::parser::{BlobNameToTensor, CaffeParser};
use infer8::types::DataType;
use std::path::{Path, PathBuf};

/// `$INFER8_DATA_DIR`, else `../shared/data` beside the crate, made absolute (tests run programs
/// in other folders); `None` (after saying so) when absent.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("INFER8_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("models").is_dir() {
        Some(std::fs::canonicalize(&dir).unwrap_or(dir))
    } else {
        eprintln!(
            "skipped: no model data at {} (set INFER8_DATA_DIR)",
            dir.display()
        );
        None
    }
}

/// Parses `models/<deploy>` with `models/<model>` into a fresh network (FP32 weights).
pub fn parse(data: &Path, deploy: &str, model: &str) -> (Network, BlobNameToTensor) {
    let mut net = Network::new();
    let models = data.join("models");
    let blobs = CaffeParser::new()
        .parse(
            &models.join(deploy),
            Some(&models.join(model)),
            &mut net,
            DataType::Float,
        )
        .unwrap_or_else(|e| panic!("{deploy}: {e}"));
    (net, blobs)
}

/// A float32 C-order `.npy` array: its shape and values.
pub fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x93NUMPY"),
        "{}: not an .npy file",
        path.display()
    );
    // Version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one.
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + len]).expect("npy header is text");
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"),
        "{}: {header}",
        path.display()
    );
    let dims = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("npy shape");
    let shape: Vec<usize> = dims
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("npy dimension"))
        .collect();
    let values: Vec<f32> = bytes[start + len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(
        values.len(),
        shape.iter().product::<usize>(),
        "{}: size",
        path.display()
    );
    (shape, values)
}
