//! Resize and Upsample as separable per-axis resampling (`network::resample`, shared with
//! `IResizeLayer`), with ONNX's coordinate transformation, rounding and edge rules.

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_f, attr_floats, attr_i, attr_ints, attr_s, axis};
use super::super::proto::NodeProto;
use crate::network::LayerKind;
use crate::network::resample::{Resampling, resample_axis, taps};

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
    let mode = Resampling {
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
        let taps =
            taps(&mode, dims[a], out[a], scale[a]).map_err(|e| bad!(UnsupportedNode, "{e}"))?;
        let first = imp.net.layers.len();
        t = resample_axis(imp.net, t, a, &taps, mode.interp != "nearest")?;
        imp.adopt_layers(first);
    }
    if !changed {
        t = imp.layer(LayerKind::Identity, &[t])?;
    }
    Ok(vec![Val::T(t)])
}
