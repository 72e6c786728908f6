//! Layer weights from a binary caffemodel, matched to deploy layers by name as TensorRT's
//! `CaffeWeightFactory` does, checked against the counts each layer needs, and converted to the
//! requested weight type. Without a model, weights are filled deterministically (TensorRT fills
//! random ones, for timing networks whose weights do not matter).

use super::proto::{BlobProto, LayerParameter, NetParameter};
use crate::error::{Error, Result};
use crate::types::{DataType, Weights};
use prost::Message;
use std::collections::HashMap;

/// Decodes a caffemodel. prost checks every declared length against the bytes present before it
/// allocates, so a truncated or hostile file is an error, not a huge allocation.
pub(super) fn decode_model(bytes: &[u8], file: &str) -> Result<NetParameter> {
    NetParameter::decode(bytes).map_err(|e| {
        Error::Format(format!(
            "{file}: not a valid caffemodel (binary NetParameter): {e}"
        ))
    })
}

/// How to fill a weight blob when there is no model.
#[derive(Debug, Clone, Copy)]
pub(super) enum Fill {
    Zero,
    Uniform(f32, f32),
    Normal(f32),
}

enum Source {
    /// Blobs by layer name (the last layer of a name wins, as when Caffe copies trained layers).
    Model(HashMap<String, Vec<BlobProto>>),
    /// The filler, and how many values it has made: a deploy file alone must not be able to demand
    /// more memory than the cap (`limits`), summed over all its layers.
    Generated(Rng, usize),
}

pub(super) struct WeightStore {
    source: Source,
    dtype: DataType,
    file: String,
}

impl WeightStore {
    pub fn from_model(layers: Vec<LayerParameter>, file: &str, dtype: DataType) -> Self {
        let blobs = layers
            .into_iter()
            .map(|l| (l.name.unwrap_or_default(), l.blobs))
            .collect();
        WeightStore {
            source: Source::Model(blobs),
            dtype,
            file: file.to_string(),
        }
    }

    pub fn generated(dtype: DataType) -> Self {
        WeightStore {
            source: Source::Generated(Rng(0x5eed_cafe), 0),
            dtype,
            file: "(no model)".to_string(),
        }
    }

    /// Number of blobs the model holds for `layer`; `None` without a model.
    pub fn blob_count(&self, layer: &str) -> Option<usize> {
        match &self.source {
            Source::Model(m) => Some(m.get(layer).map_or(0, Vec::len)),
            Source::Generated(..) => None,
        }
    }

    /// Every blob of `layer` as FP32 values, for a plugin layer (none without a model, or when the
    /// model has no weights for the layer).
    pub fn all_blobs(&self, layer: &str) -> Result<Vec<Vec<f32>>> {
        let Source::Model(m) = &self.source else {
            return Ok(Vec::new());
        };
        m.get(layer).map_or(Ok(Vec::new()), |blobs| {
            blobs
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    blob_values(b).map_err(|e| {
                        Error::Format(format!("{}: layer '{layer}' blob {i}: {e}", self.file))
                    })
                })
                .collect()
        })
    }

    /// Blob `index` (`what` names it in errors) of `layer`, which must hold `expected` values.
    pub fn blob(
        &mut self,
        layer: &str,
        index: usize,
        what: &str,
        expected: usize,
        fill: Fill,
    ) -> Result<Weights> {
        let values = match &mut self.source {
            Source::Generated(rng, made) => {
                let total = made.checked_add(expected);
                crate::limits::check(
                    total,
                    std::mem::size_of::<f32>(),
                    &format_args!(
                        "layer '{layer}' blob {index} ({what}): generating weights without a model"
                    ),
                )
                .map_err(|e| Error::Format(e.to_string()))?;
                *made += expected;
                (0..expected).map(|_| rng.sample(fill)).collect()
            }
            Source::Model(m) => {
                let file = &self.file;
                let blobs = m.get(layer).ok_or_else(|| {
                    Error::Format(format!("{file}: the model has no weights for layer '{layer}' (layer/weight name mismatch)"))
                })?;
                let blob = blobs.get(index).ok_or_else(|| {
                    Error::Format(format!(
                        "{file}: layer '{layer}' has {} weight blob(s) in the model; blob {index} ({what}) is missing",
                        blobs.len()
                    ))
                })?;
                let values = blob_values(blob).map_err(|e| {
                    Error::Format(format!(
                        "{file}: layer '{layer}' blob {index} ({what}): {e}"
                    ))
                })?;
                if values.len() != expected {
                    crate::bail!(
                        Format,
                        "{file}: layer '{layer}' blob {index} ({what}) has {} values (shape {:?}); the layer needs {expected}",
                        values.len(),
                        blob_dims(blob)
                    );
                }
                values
            }
        };
        Ok(self.convert(values))
    }

    /// Weights in the parser's weight type: FP16 values are rounded to what FP16 holds.
    pub fn convert(&self, values: Vec<f32>) -> Weights {
        match self.dtype {
            DataType::Half => Weights {
                dtype: Some(DataType::Half),
                values: values
                    .into_iter()
                    .map(|v| half::f16::from_f32(v).to_f32())
                    .collect(),
            },
            _ => Weights::new(values),
        }
    }
}

/// Declared dimensions: `shape`, else the legacy num/channels/height/width (unset ones are 0, as in Caffe).
pub(super) fn blob_dims(blob: &BlobProto) -> Vec<i64> {
    match &blob.shape {
        Some(s) => s.dim.clone(),
        None => [blob.num, blob.channels, blob.height, blob.width]
            .iter()
            .map(|d| i64::from(d.unwrap_or(0)))
            .collect(),
    }
}

/// The blob's values as f32 (from `data` or `double_data`), after checking they match its declared shape.
pub(super) fn blob_values(blob: &BlobProto) -> Result<Vec<f32>, String> {
    let dims = blob_dims(blob);
    let declared = dims
        .iter()
        .try_fold(1u64, |acc, &d| {
            u64::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .ok_or_else(|| format!("invalid shape {dims:?}"))?;
    let values: Vec<f32> = if blob.double_data.is_empty() {
        blob.data.clone()
    } else {
        blob.double_data.iter().map(|&v| v as f32).collect()
    };
    if values.len() as u64 != declared {
        return Err(format!(
            "shape {dims:?} declares {declared} values but the blob holds {}",
            values.len()
        ));
    }
    Ok(values)
}

/// SplitMix64: deterministic filler values, so a model-less network is the same on every run.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }

    fn sample(&mut self, fill: Fill) -> f32 {
        match fill {
            Fill::Zero => 0.0,
            Fill::Uniform(lo, hi) => lo + (hi - lo) * self.next_f32(),
            Fill::Normal(std) => {
                // Box-Muller; 1 - u keeps the logarithm finite.
                let (u, v) = (1.0 - self.next_f32(), self.next_f32());
                std * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::BlobShape;
    use super::*;

    fn layer(name: &str, blobs: Vec<BlobProto>) -> LayerParameter {
        LayerParameter {
            name: Some(name.into()),
            blobs,
            ..Default::default()
        }
    }

    fn blob(dims: &[i64], data: Vec<f32>) -> BlobProto {
        BlobProto {
            shape: Some(BlobShape { dim: dims.to_vec() }),
            data,
            ..Default::default()
        }
    }

    #[test]
    fn checks_counts_and_names() {
        let mut w = WeightStore::from_model(
            vec![layer("a", vec![blob(&[2], vec![1.0, 2.0])])],
            "m",
            DataType::Float,
        );
        assert_eq!(
            w.blob("a", 0, "w", 2, Fill::Zero).unwrap().values,
            [1.0, 2.0]
        );
        assert!(
            w.blob("a", 0, "w", 3, Fill::Zero)
                .unwrap_err()
                .to_string()
                .contains("needs 3")
        );
        assert!(
            w.blob("a", 1, "bias", 2, Fill::Zero)
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
        assert!(
            w.blob("b", 0, "w", 2, Fill::Zero)
                .unwrap_err()
                .to_string()
                .contains("name mismatch")
        );
    }

    #[test]
    fn shape_must_match_data() {
        let mut w = WeightStore::from_model(
            vec![layer("a", vec![blob(&[3], vec![1.0, 2.0])])],
            "m",
            DataType::Float,
        );
        assert!(
            w.blob("a", 0, "w", 2, Fill::Zero)
                .unwrap_err()
                .to_string()
                .contains("declares 3")
        );
    }

    #[test]
    fn half_rounds() {
        let mut w = WeightStore::from_model(
            vec![layer("a", vec![blob(&[1], vec![0.1])])],
            "m",
            DataType::Half,
        );
        let got = w.blob("a", 0, "w", 1, Fill::Zero).unwrap();
        assert_eq!(got.dtype, Some(DataType::Half));
        assert_eq!(got.values[0], half::f16::from_f32(0.1).to_f32());
    }
}
