//! Resizing one axis as layers the backends already run: each output position reads a few source
//! positions (taps) with constant weights, so an axis is one `Gather` per tap and, for linear and
//! cubic modes, a weighted sum with constant per-position weights. The ONNX parser (Resize,
//! Upsample) and the builder (`IResizeLayer`, `builder::lower`) both build resizes this way.

use super::{LayerKind, Network, TensorId};
use crate::error::Result;
use crate::types::{DataType, ElementWiseOperation, Weights};

/// How source coordinates are found and combined; names as ONNX's Resize attributes.
pub struct Resampling {
    /// `nearest`, `linear` or `cubic`.
    pub interp: String,
    /// `coordinate_transformation_mode`.
    pub transform: String,
    /// `nearest_mode`.
    pub nearest: String,
    pub cubic_a: f64,
    pub exclude_outside: bool,
}

impl Resampling {
    /// TensorRT 7's `IResizeLayer`: asymmetric coordinates (or aligned corners), nearest rounds down.
    pub fn tensorrt(linear: bool, align_corners: bool) -> Self {
        Resampling {
            interp: if linear { "linear" } else { "nearest" }.into(),
            transform: if align_corners {
                "align_corners"
            } else {
                "asymmetric"
            }
            .into(),
            nearest: "floor".into(),
            cubic_a: -0.75,
            exclude_outside: false,
        }
    }
}

/// The source coordinate of output position `o`.
fn source(
    mode: &Resampling,
    o: usize,
    input: usize,
    output_int: usize,
    scale: f64,
) -> Result<f64, String> {
    let o = o as f64;
    // ONNX measures the resized axis as `scale * input`, unrounded.
    let output = scale * input as f64;
    Ok(match mode.transform.as_str() {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "half_pixel_symmetric" => {
            let adjustment = output_int as f64 / output;
            let offset = input as f64 / 2.0 * (1.0 - adjustment);
            offset + (o + 0.5) / scale - 0.5
        }
        "pytorch_half_pixel" if output > 1.0 => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => 0.0,
        "align_corners" if output > 1.0 => o * (input as f64 - 1.0) / (output - 1.0),
        "align_corners" => 0.0,
        "asymmetric" => o / scale,
        other => {
            return Err(format!(
                "coordinate_transformation_mode '{other}' is not supported"
            ));
        }
    })
}

fn cubic_weights(r: f64, a: f64) -> [f64; 4] {
    let near = |x: f64| ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    [far(r + 1.0), near(r), near(1.0 - r), far(2.0 - r)]
}

/// Per output position: `(source index, weight)` for each tap.
pub fn taps(
    mode: &Resampling,
    input: usize,
    output: usize,
    scale: f64,
) -> Result<Vec<Vec<(usize, f64)>>, String> {
    let last = input as i64 - 1;
    let clamp = |i: i64| i.clamp(0, last) as usize;
    (0..output)
        .map(|o| {
            let x = source(mode, o, input, output, scale)?;
            Ok(match mode.interp.as_str() {
                "nearest" => {
                    let i = match mode.nearest.as_str() {
                        "round_prefer_ceil" => (x + 0.5).floor(),
                        "floor" => x.floor(),
                        "ceil" => x.ceil(),
                        _ => (x - 0.5).ceil(),
                    };
                    vec![(clamp(i as i64), 1.0)]
                }
                "linear" => {
                    let f = x.floor();
                    let r = x - f;
                    vec![(clamp(f as i64), 1.0 - r), (clamp(f as i64 + 1), r)]
                }
                _ => {
                    let f = x.floor();
                    let w = cubic_weights(x - f, mode.cubic_a);
                    let mut taps: Vec<(i64, f64)> =
                        (0..4).map(|k| (f as i64 - 1 + k, w[k as usize])).collect();
                    if mode.exclude_outside {
                        taps.retain(|&(i, _)| (0..=last).contains(&i));
                        let sum: f64 = taps.iter().map(|t| t.1).sum();
                        taps.iter_mut().for_each(|t| t.1 /= sum);
                    }
                    taps.into_iter().map(|(i, w)| (clamp(i), w)).collect()
                }
            })
        })
        .collect()
}

fn constant(
    net: &mut Network,
    dims: Vec<usize>,
    values: Vec<f32>,
    dtype: DataType,
) -> Result<TensorId> {
    let l = net.add_layer(
        LayerKind::Constant {
            dims,
            weights: Weights::new(values),
        },
        &[],
    )?;
    let t = net.layers[l].outputs[0];
    net.tensors[t].dtype = dtype;
    Ok(t)
}

fn add(net: &mut Network, kind: LayerKind, inputs: &[TensorId]) -> Result<TensorId> {
    let l = net.add_layer(kind, inputs)?;
    Ok(net.layers[l].outputs[0])
}

/// Appends the layers that resample axis `a` of `t` (`input` long) to `output` positions and
/// returns the resampled tensor; `weighted` is false for nearest (one tap of weight 1).
pub fn resample_axis(
    net: &mut Network,
    t: TensorId,
    a: usize,
    taps: &[Vec<(usize, f64)>],
    weighted: bool,
) -> Result<TensorId> {
    let rank = net.tensors[t].shape.len();
    let output = taps.len();
    let nt = taps.iter().map(Vec::len).max().unwrap_or(1);
    let mut sum: Option<TensorId> = None;
    for k in 0..nt {
        let index: Vec<f32> = taps
            .iter()
            .map(|p| p.get(k).map_or(0.0, |t| t.0 as f32))
            .collect();
        let idx = constant(net, vec![output], index, DataType::Int32)?;
        let g = add(net, LayerKind::Gather { axis: a }, &[t, idx])?;
        let term = if weighted {
            let weight: Vec<f32> = taps
                .iter()
                .map(|p| p.get(k).map_or(0.0, |t| t.1 as f32))
                .collect();
            let mut dims = vec![1; rank];
            dims[a] = output;
            let w = constant(net, dims, weight, DataType::Float)?;
            let op = ElementWiseOperation::Prod;
            add(net, LayerKind::ElementWise { op }, &[g, w])?
        } else {
            g
        };
        sum = Some(match sum {
            None => term,
            Some(s) => {
                let op = ElementWiseOperation::Sum;
                add(net, LayerKind::ElementWise { op }, &[s, term])?
            }
        });
    }
    sum.ok_or_else(|| crate::error::Error::Network("a resize without taps".into()))
}
