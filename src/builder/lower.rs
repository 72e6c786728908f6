//! Layers the network keeps editable but no backend runs itself are rewritten here, once shapes
//! are known, into the kinds the backends have kernels for: a resize into gathers and weighted
//! sums (`network::resample`), a shape and a fill into constants. A lowered layer keeps its id
//! and output tensor, so its consumers and the network outputs need no rewiring.

use crate::error::{Error, Result};
use crate::network::resample::{Resampling, resample_axis, taps};
use crate::network::{FillParams, LayerId, LayerKind, Network, ResizeParams};
use crate::types::{FillOperation, ResizeMode, Weights};

pub fn lower(net: &mut Network) -> Result<()> {
    for l in 0..net.layers.len() {
        let kind = match &net.layers[l].kind {
            LayerKind::Shape => {
                let x = &net.tensors[net.layers[l].inputs[0]].shape;
                LayerKind::Constant {
                    dims: vec![x.len()],
                    weights: Weights::new(x.iter().map(|&d| d as f32).collect()),
                }
            }
            LayerKind::Fill(p) => LayerKind::Constant {
                dims: p.dims.clone(),
                weights: Weights::new(fill_values(p)),
            },
            LayerKind::Resize(p) => {
                let p = p.clone();
                lower_resize(net, l, &p)?;
                continue;
            }
            _ => continue,
        };
        net.layers[l].kind = kind;
        net.layers[l].inputs.clear();
    }
    Ok(())
}

/// Linspace counts from `alpha` in steps of `beta`; random uniform draws from a fixed-seed
/// generator so that an engine built twice is the same engine.
fn fill_values(p: &FillParams) -> Vec<f32> {
    let n: usize = p.dims.iter().product();
    match p.op {
        FillOperation::Linspace => (0..n)
            .map(|i| (p.alpha + p.beta * i as f64) as f32)
            .collect(),
        FillOperation::RandomUniform => {
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            (0..n)
                .map(|_| {
                    // splitmix64; the top 53 bits give a uniform value in [0, 1).
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    let u = (z ^ (z >> 31)) >> 11;
                    let u = u as f64 / (1u64 << 53) as f64;
                    (p.alpha + (p.beta - p.alpha) * u) as f32
                })
                .collect()
        }
    }
}

/// Resamples each axis whose size or scale changes; the last layer of the chain takes the resize
/// layer's place (the copy left behind has no consumer and is pruned).
fn lower_resize(net: &mut Network, l: LayerId, p: &ResizeParams) -> Result<()> {
    let x = net.layers[l].inputs[0];
    let input = net.tensors[x].shape.clone();
    let output = net.tensors[net.layers[l].outputs[0]].shape.clone();
    let mode = Resampling::tensorrt(p.mode == ResizeMode::Linear, p.align_corners);
    let name = net.layers[l].name.clone();
    let first = net.layers.len();
    let mut t = x;
    for a in 0..input.len() {
        // With `setScales` the coordinates follow the scale given, not the rounded size ratio.
        let scale = match (&p.output, &p.scales) {
            (None, Some(s)) => s[a] as f64,
            _ => output[a] as f64 / input[a] as f64,
        };
        if output[a] == input[a] && scale == 1.0 {
            continue;
        }
        let taps = taps(&mode, input[a], output[a], scale)
            .map_err(|e| Error::Network(format!("layer '{name}': {e}")))?;
        t = resample_axis(net, t, a, &taps, p.mode == ResizeMode::Linear)?;
    }
    for (k, added) in net.layers[first..].iter_mut().enumerate() {
        added.name = format!("{name} ({k})");
    }
    let (kind, inputs) = match net.tensors[t].producer {
        Some((last, _)) if t != x => (
            net.layers[last].kind.clone(),
            net.layers[last].inputs.clone(),
        ),
        _ => (LayerKind::Identity, vec![x]),
    };
    net.layers[l].kind = kind;
    net.layers[l].inputs = inputs;
    Ok(())
}
