//! Softmax, LRN, BatchNorm, Scale, Bias and SSD's Normalize. LRN across channels, BatchNorm and
//! one-bottom Scale map as in TensorRT's parser; the rest are compositions.

use super::super::proto::lrn_parameter::NormRegion;
use super::super::weights::Fill;
use super::Ctx;
use crate::error::Result;
use crate::network::{LayerKind, PoolParams, ShuffleParams, TensorId};
use crate::types::{
    ElementWiseOperation, PaddingMode, PoolingType, ReduceOperation, ScaleMode, Weights, volume,
};

pub(super) fn softmax(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let axis = cx.layer.softmax_param.as_ref().map_or(1, |p| p.axis());
    let axes = 1u32 << cx.axis(axis, 0)?;
    Ok(vec![cx.add(LayerKind::SoftMax { axes }, &[cx.input(0)])?])
}

pub(super) fn lrn(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.lrn_param.unwrap_or_default();
    let (n, alpha, beta) = (p.local_size() as usize, p.alpha(), p.beta());
    match p.norm_region() {
        NormRegion::AcrossChannels => Ok(vec![cx.add(
            LayerKind::Lrn {
                window: n,
                alpha,
                beta,
                k: p.k(),
            },
            &[cx.input(0)],
        )?]),
        NormRegion::WithinChannel => within_channel_lrn(cx, n, alpha, beta),
    }
}

/// Caffe's WITHIN_CHANNEL LRN, built from the same layers Caffe uses internally:
/// `x * (1 + alpha * avgpool_n(x^2)) ^ -beta`, the n x n average pool padded by (n-1)/2 with stride 1
/// and the padding counted in the divisor (`k` plays no part).
fn within_channel_lrn(cx: &mut Ctx, n: usize, alpha: f32, beta: f32) -> Result<Vec<TensorId>> {
    if n.is_multiple_of(2) {
        return Err(cx.error(format!("local_size {n} must be odd")));
    }
    let x = cx.input(0);
    let square = cx.add_part(
        "square",
        LayerKind::ElementWise {
            op: ElementWiseOperation::Prod,
        },
        &[x, x],
    )?;
    let mut pool = PoolParams::new(PoolingType::Average, [n, n]);
    pool.stride = [1, 1];
    pool.pre_padding = [(n - 1) / 2; 2];
    pool.post_padding = pool.pre_padding;
    pool.padding_mode = PaddingMode::CaffeRoundUp;
    pool.average_count_excludes_padding = false;
    let avg = cx.add_part("pool", LayerKind::Pooling(pool), &[square])?;
    let kind = LayerKind::Scale {
        mode: ScaleMode::Uniform,
        shift: cx.values(vec![1.0]),
        scale: cx.values(vec![alpha]),
        power: cx.values(vec![-beta]),
    };
    let factor = cx.add_part("power", kind, &[avg])?;
    Ok(vec![cx.add(
        LayerKind::ElementWise {
            op: ElementWiseOperation::Prod,
        },
        &[x, factor],
    )?])
}

/// Mean, variance and the moving-average factor become one channel Scale:
/// `scale = 1 / sqrt(var * f + eps)`, `shift = -mean * f * scale`, with `f = 1 / factor` (0 if 0).
pub(super) fn batch_norm(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    if cx.blob_count() == Some(5) {
        return Err(cx.unsupported("NVCaffe's 5-blob BatchNorm is not supported"));
    }
    let eps = cx.layer.batch_norm_param.as_ref().map_or(1e-5, |p| p.eps());
    let [c, _, _] = cx.chw(0)?;
    let mean = cx.blob(0, "mean", c, Fill::Zero)?.values;
    let var = cx.blob(1, "variance", c, Fill::Uniform(0.9, 1.1))?.values;
    let factor = cx
        .blob(2, "moving average factor", 1, Fill::Uniform(0.99, 1.01))?
        .values[0];
    let f = if factor == 0.0 { 0.0 } else { 1.0 / factor };
    let scale: Vec<f32> = var.iter().map(|v| 1.0 / (v * f + eps).sqrt()).collect();
    let shift = mean.iter().zip(&scale).map(|(m, s)| -m * f * s).collect();
    let kind = LayerKind::Scale {
        mode: ScaleMode::Channel,
        shift: cx.values(shift),
        scale: cx.values(scale),
        power: Weights::empty(),
    };
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

/// The Scale mode and weight count for a learned parameter over `num_axes` axes from `axis`.
fn param_mode(cx: &Ctx, axis: i32, num_axes: i32) -> Result<(ScaleMode, usize)> {
    let shape = cx.shape(0);
    let a = cx.axis(axis, 0)?;
    let all = a == 0 && (num_axes == -1 || num_axes as usize == shape.len());
    Ok(match num_axes {
        0 => (ScaleMode::Uniform, 1),
        _ if all => (ScaleMode::Elementwise, volume(&shape)),
        1 if a == 0 && shape.len() >= 3 => (ScaleMode::Channel, shape[0]),
        _ => {
            return Err(cx.unsupported(format!(
                "axis {axis} with num_axes {num_axes} on {shape:?} is not supported"
            )));
        }
    })
}

pub(super) fn scale(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 2, 1)?;
    let p = cx.layer.scale_param.clone().unwrap_or_default();
    if cx.inputs.len() == 2 {
        let s = broadcast_operand(cx, p.axis())?;
        let prod = LayerKind::ElementWise {
            op: ElementWiseOperation::Prod,
        };
        if !p.bias_term() {
            return Ok(vec![cx.add(prod, &[cx.input(0), s])?]);
        }
        let y = cx.add_part("scale", prod, &[cx.input(0), s])?;
        let (mode, n) = param_mode(cx, p.axis(), 1)?;
        let shift = cx.blob(0, "bias", n, Fill::Zero)?;
        return Ok(vec![cx.add(
            LayerKind::Scale {
                mode,
                shift,
                scale: Weights::empty(),
                power: Weights::empty(),
            },
            &[y],
        )?]);
    }
    let (mode, n) = param_mode(cx, p.axis(), p.num_axes())?;
    let scale = cx.blob(0, "scale", n, Fill::Uniform(0.9, 1.1))?;
    let shift = if p.bias_term() {
        cx.blob(1, "bias", n, Fill::Zero)?
    } else {
        Weights::empty()
    };
    Ok(vec![cx.add(
        LayerKind::Scale {
            mode,
            shift,
            scale,
            power: Weights::empty(),
        },
        &[cx.input(0)],
    )?])
}

pub(super) fn bias(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 2, 1)?;
    let p = cx.layer.bias_param.clone().unwrap_or_default();
    if cx.inputs.len() == 2 {
        let b = broadcast_operand(cx, p.axis())?;
        return Ok(vec![cx.add(
            LayerKind::ElementWise {
                op: ElementWiseOperation::Sum,
            },
            &[cx.input(0), b],
        )?]);
    }
    let (mode, n) = param_mode(cx, p.axis(), p.num_axes())?;
    let shift = cx.blob(0, "bias", n, Fill::Zero)?;
    Ok(vec![cx.add(
        LayerKind::Scale {
            mode,
            shift,
            scale: Weights::empty(),
            power: Weights::empty(),
        },
        &[cx.input(0)],
    )?])
}

/// The second bottom of a two-bottom Scale or Bias, reshaped to broadcast against the first. With an
/// implicit batch both share the batch, so only `axis: 0` (the operand's dimensions align with the
/// input's from the first) can be expressed.
fn broadcast_operand(cx: &mut Ctx, axis: i32) -> Result<TensorId> {
    let (x, s) = (cx.shape(0), cx.shape(1));
    if axis != 0 && i64::from(axis) != -(x.len() as i64 + 1) {
        return Err(
            cx.unsupported("a second bottom is supported only with axis 0 (it shares the batch)")
        );
    }
    if s.len() > x.len() || s.iter().zip(&x).any(|(a, b)| a != b && *a != 1) {
        return Err(cx.error(format!(
            "the second bottom's dimensions {s:?} do not match the input's {x:?}"
        )));
    }
    if s.len() == x.len() {
        return Ok(cx.input(1));
    }
    let mut dims: Vec<i64> = s.iter().map(|&d| d as i64).collect();
    dims.resize(x.len(), 1);
    let kind = LayerKind::Shuffle(ShuffleParams {
        first_transpose: vec![],
        reshape: Some(dims),
        second_transpose: vec![],
    });
    cx.add_part("broadcast", kind, &[cx.input(1)])
}

/// SSD's Normalize: `x / sqrt(sum(x^2) + eps)` over C,H,W (across_spatial) or over C at each position,
/// then a learned scale, shared or per channel.
pub(super) fn normalize(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.norm_param.clone().unwrap_or_default();
    let [c, _, _] = cx.chw(0)?;
    let x = cx.input(0);
    let square = cx.add_part(
        "square",
        LayerKind::ElementWise {
            op: ElementWiseOperation::Prod,
        },
        &[x, x],
    )?;
    let axes = if p.across_spatial() { 0b111 } else { 0b001 };
    let sum = cx.add_part(
        "sum",
        LayerKind::Reduce {
            op: ReduceOperation::Sum,
            axes,
            keep_dims: true,
        },
        &[square],
    )?;
    let rsqrt = LayerKind::Scale {
        mode: ScaleMode::Uniform,
        shift: cx.values(vec![p.eps()]),
        scale: cx.values(vec![1.0]),
        power: cx.values(vec![-0.5]),
    };
    let inv_norm = cx.add_part("rsqrt", rsqrt, &[sum])?;
    let normed = cx.add_part(
        "normalize",
        LayerKind::ElementWise {
            op: ElementWiseOperation::Prod,
        },
        &[x, inv_norm],
    )?;
    let (mode, n) = if p.channel_shared() {
        (ScaleMode::Uniform, 1)
    } else {
        (ScaleMode::Channel, c)
    };
    let scale = cx.blob(0, "scale", n, Fill::Uniform(0.9, 1.1))?;
    Ok(vec![cx.add(
        LayerKind::Scale {
            mode,
            shift: Weights::empty(),
            scale,
            power: Weights::empty(),
        },
        &[normed],
    )?])
}
