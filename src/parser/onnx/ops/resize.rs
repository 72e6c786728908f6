//! Resize and Upsample as separable per-axis resampling: each resized axis is one Gather per tap
//! (constant source indices) and, for linear and cubic modes, a weighted sum with constant
//! per-position weights. The indices and weights are computed here, once, with ONNX's coordinate
//! transformation, rounding and edge rules.

use std::rc::Rc;

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_floats, attr_i, attr_ints, attr_s, axis};
use super::super::proto::NodeProto;
use super::super::value::{Const, elem};
use crate::network::LayerKind;
use crate::types::ElementWiseOperation;

struct Mode {
    interp: String,
    transform: String,
    nearest: String,
    cubic_a: f64,
    exclude_outside: bool,
}

pub fn resize(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    let rank = dims.len();
    let upsample = node.op_type() == "Upsample";
    let legacy = upsample || imp.opset < 11;
    let (scales, sizes) = if upsample && imp.opset < 9 {
        (
            attr_floats(node, "scales").map(|v| v.iter().map(|&s| s as f64).collect()),
            None,
        )
    } else if legacy {
        (
            imp.constant(node, 1, "scales")?.map(|c| c.values.clone()),
            None,
        )
    } else {
        let scales = imp.constant(node, 2, "scales")?.map(|c| c.values.clone());
        let sizes = imp.constant(node, 3, "sizes")?.map(|c| c.as_i64s());
        (
            scales.filter(|s| !s.is_empty()),
            sizes.filter(|s| !s.is_empty()),
        )
    };
    if attr_i(node, "antialias", 0) != 0 {
        return Err(bad!(UnsupportedNode, "antialias is not supported"));
    }
    // Opset 18: scales or sizes may cover only `axes`.
    let axes: Vec<usize> = match attr_ints(node, "axes") {
        Some(a) => a.iter().map(|&v| axis(v, rank)).collect::<PResult<_>>()?,
        None => (0..rank).collect(),
    };
    let mut out = dims.clone();
    let mut scale = vec![1.0; rank];
    match (scales, sizes) {
        (_, Some(s)) if s.len() == axes.len() => {
            let ratios = axes
                .iter()
                .zip(&s)
                .map(|(&a, &o)| o as f64 / dims[a] as f64);
            let policy = attr_s(node, "keep_aspect_ratio_policy", "stretch");
            let uniform = match policy.as_str() {
                "stretch" => None,
                "not_larger" => Some(ratios.clone().fold(f64::INFINITY, f64::min)),
                "not_smaller" => Some(ratios.clone().fold(0.0, f64::max)),
                other => {
                    return Err(bad!(
                        InvalidNode,
                        "keep_aspect_ratio_policy '{other}' is unknown"
                    ));
                }
            };
            for ((&a, &o), r) in axes.iter().zip(&s).zip(ratios) {
                match uniform {
                    None => {
                        out[a] = o.max(0) as usize;
                        scale[a] = r;
                    }
                    Some(u) => {
                        out[a] = (u * dims[a] as f64).round() as usize;
                        scale[a] = u;
                    }
                }
            }
        }
        (Some(s), None) if s.len() == axes.len() => {
            for (&a, &f) in axes.iter().zip(&s) {
                out[a] = (f * dims[a] as f64).floor() as usize;
                scale[a] = f;
            }
        }
        _ => {
            return Err(bad!(
                InvalidNode,
                "scales or sizes must give one value per resized axis ({})",
                axes.len()
            ));
        }
    }
    let mode = Mode {
        interp: attr_s(node, "mode", "nearest"),
        transform: if legacy {
            "asymmetric".into()
        } else {
            attr_s(node, "coordinate_transformation_mode", "half_pixel")
        },
        nearest: if legacy {
            "floor".into()
        } else {
            attr_s(node, "nearest_mode", "round_prefer_floor")
        },
        cubic_a: attr_f(node, "cubic_coeff_a", -0.75) as f64,
        exclude_outside: attr_i(node, "exclude_outside", 0) != 0,
    };
    if !matches!(mode.interp.as_str(), "nearest" | "linear" | "cubic") {
        return Err(bad!(
            UnsupportedNode,
            "mode '{}' is not supported",
            mode.interp
        ));
    }
    if out.contains(&0) {
        return Err(bad!(UnsupportedNode, "an output dimension is 0 ({out:?})"));
    }
    let mut t = imp.tensor(&x)?;
    let mut changed = false;
    for a in 0..rank {
        if out[a] == dims[a] && scale[a] == 1.0 {
            continue;
        }
        changed = true;
        t = resample_axis(imp, t, a, dims[a], out[a], scale[a], &mode)?;
    }
    if !changed {
        t = imp.layer(LayerKind::Identity, &[t])?;
    }
    Ok(vec![Val::T(t)])
}

/// The source coordinate of output position `o`.
fn source(mode: &Mode, o: usize, input: usize, output_int: usize, scale: f64) -> PResult<f64> {
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
            return Err(bad!(
                UnsupportedNode,
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
fn taps(mode: &Mode, input: usize, output: usize, scale: f64) -> PResult<Vec<Vec<(usize, f64)>>> {
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

fn resample_axis(
    imp: &mut Importer,
    t: usize,
    a: usize,
    input: usize,
    output: usize,
    scale: f64,
    mode: &Mode,
) -> PResult<usize> {
    let taps = taps(mode, input, output, scale)?;
    let rank = imp.net.tensors[t].shape.len();
    let nt = taps.iter().map(Vec::len).max().unwrap_or(1);
    let mut sum: Option<usize> = None;
    for k in 0..nt {
        let index: Vec<f64> = taps
            .iter()
            .map(|p| p.get(k).map_or(0.0, |t| t.0 as f64))
            .collect();
        let weight: Vec<f32> = taps
            .iter()
            .map(|p| p.get(k).map_or(0.0, |t| t.1 as f32))
            .collect();
        let idx = imp.tensor(&Val::C(Rc::new(Const::new(
            vec![output],
            index,
            elem::INT32,
        ))))?;
        let g = imp.layer(LayerKind::Gather { axis: a }, &[t, idx])?;
        let term = if mode.interp == "nearest" {
            g
        } else {
            let w = imp.channel_const(weight, rank, a)?;
            imp.elementwise(ElementWiseOperation::Prod, &Val::T(g), &w)?
        };
        sum = Some(match sum {
            None => term,
            Some(s) => imp.elementwise(ElementWiseOperation::Sum, &Val::T(s), &Val::T(term))?,
        });
    }
    sum.ok_or_else(|| bad!(InvalidNode, "no taps"))
}
