//! Dynamic shapes (TensorRT 7's optimization profile): an explicit-batch input declared with -1
//! dimensions gets its range from the profile; the engine is built for the range's maximum (so
//! its memory plan holds every shape in the range) and re-planned per shape by the execution
//! context (`Engine::reshaped`).

use crate::engine::BindingProfile;
use crate::error::Result;
use crate::network::{LayerKind, Network};
use crate::types::Shape;

/// Minimum, optimum and maximum dimensions of one network input, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct InputProfile {
    pub name: String,
    pub min: Shape,
    pub opt: Shape,
    pub max: Shape,
}

/// Checks the profile against the network's inputs and gives each dynamic input its maximum
/// shape; returns the ranges of the dynamic inputs (binding index = input index).
pub fn apply(net: &mut Network, profile: &[InputProfile]) -> Result<Vec<BindingProfile>> {
    for p in profile {
        let Some(&t) = net.inputs.iter().find(|&&t| net.tensors[t].name == p.name) else {
            crate::bail!(
                InvalidArgument,
                "the optimization profile names '{}', which is not a network input",
                p.name
            );
        };
        let declared: Vec<i64> = match net.dynamic.get(&t) {
            Some(d) => d.clone(),
            None => net.tensors[t].shape.iter().map(|&d| d as i64).collect(),
        };
        for (sel, d) in [("kMIN", &p.min), ("kOPT", &p.opt), ("kMAX", &p.max)] {
            let fits = d.len() == declared.len()
                && d.iter()
                    .zip(&declared)
                    .all(|(&v, &w)| w < 0 || v as i64 == w);
            if !fits {
                crate::bail!(
                    InvalidArgument,
                    "optimization profile, input '{}': {sel} {d:?} does not fit its dimensions {declared:?}",
                    p.name
                );
            }
        }
        let ordered = (0..declared.len()).all(|i| p.min[i] <= p.opt[i] && p.opt[i] <= p.max[i]);
        if !ordered {
            crate::bail!(
                InvalidArgument,
                "optimization profile, input '{}': kMIN {:?}, kOPT {:?}, kMAX {:?} are not ordered",
                p.name,
                p.min,
                p.opt,
                p.max
            );
        }
    }
    let mut ranges = Vec::new();
    for (binding, &t) in net.inputs.iter().enumerate() {
        let Some(declared) = net.dynamic.get(&t) else {
            continue;
        };
        let name = &net.tensors[t].name;
        let Some(p) = profile.iter().find(|p| p.name == *name) else {
            crate::bail!(
                InvalidArgument,
                "input '{name}' has dynamic dimensions {declared:?}, but no optimization profile gives their range"
            );
        };
        ranges.push(BindingProfile {
            binding,
            declared: declared.clone(),
            min: p.min.clone(),
            opt: p.opt.clone(),
            max: p.max.clone(),
        });
    }
    if ranges.is_empty() {
        return Ok(ranges);
    }
    // These are lowered into constants computed from the built shapes, which a re-plan would not
    // recompute.
    if let Some(l) = net
        .layers
        .iter()
        .find(|l| matches!(l.kind, LayerKind::Resize(_) | LayerKind::Shape))
    {
        crate::bail!(
            Unsupported,
            "layer '{}' ({}) needs static input dimensions; dynamic shapes are not supported with it",
            l.name,
            l.kind.type_name()
        );
    }
    for r in &ranges {
        let t = net.inputs[r.binding];
        net.tensors[t].shape = r.max.clone();
    }
    net.dynamic.clear();
    Ok(ranges)
}
