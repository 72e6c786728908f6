//! Convolution, Deconvolution, Pooling and InnerProduct, as TensorRT's `parseConv`, `parseDeconv`,
//! `parsePooling` and `parseInnerProduct`.

use super::super::proto::pooling_parameter::{PoolMethod, RoundMode};
use super::super::weights::Fill;
use super::Ctx;
use crate::error::Result;
use crate::network::{ConvParams, Hw, LayerKind, PoolParams, TensorId};
use crate::types::{PaddingMode, PoolingType, Weights};

pub(super) fn convolution(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    conv_like(cx, false)
}

pub(super) fn deconvolution(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    conv_like(cx, true)
}

/// `h`/`w` fields win over the repeated field, whose second value (if any) is the width.
fn conv_hw(
    cx: &Ctx,
    what: &str,
    h: Option<u32>,
    w: Option<u32>,
    list: &[u32],
    default: Option<u32>,
) -> Result<Hw> {
    if list.len() > 2 {
        return Err(cx.unsupported(format!(
            "{what} has {} values; only 2-D convolution is supported",
            list.len()
        )));
    }
    let h = h.or(list.first().copied()).or(default);
    let w = w
        .or(list.get(1).copied())
        .or(list.first().copied())
        .or(default);
    match (h, w) {
        (Some(h), Some(w)) => Ok([h as usize, w as usize]),
        _ => Err(cx.error(format!("{what} is not set"))),
    }
}

fn conv_like(cx: &mut Ctx, deconv: bool) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.convolution_param.clone().unwrap_or_default();
    if cx.axis(p.axis(), 0)? != 0 {
        return Err(cx.unsupported("only axis 1 (channels) is supported"));
    }
    let k = p.num_output() as usize;
    let kernel = conv_hw(
        cx,
        "kernel size",
        p.kernel_h,
        p.kernel_w,
        &p.kernel_size,
        None,
    )?;
    let stride = conv_hw(cx, "stride", p.stride_h, p.stride_w, &p.stride, Some(1))?;
    let pad = conv_hw(cx, "pad", p.pad_h, p.pad_w, &p.pad, Some(0))?;
    let dilation = conv_hw(cx, "dilation", None, None, &p.dilation, Some(1))?;
    let [c, _, _] = cx.chw(0)?;
    let g = p.group() as usize;
    if k == 0 || g == 0 || !c.is_multiple_of(g) || !k.is_multiple_of(g) {
        return Err(cx.error(format!(
            "num_output {k} and {c} input channels must be positive multiples of group {g}"
        )));
    }
    let (fan_in, fan_out) = if deconv { (c, k / g) } else { (k, c / g) };
    let count = cx.count(&[fan_in, fan_out, kernel[0], kernel[1]])?;
    let std = 1.0 / ((kernel[0] * kernel[1]) as f32 * ((c / g * k) as f32).sqrt()).sqrt();
    let kernel_weights = cx.blob(0, "kernel", count, Fill::Normal(std))?;
    let bias = if p.bias_term() {
        cx.blob(1, "bias", k, Fill::Zero)?
    } else {
        Weights::empty()
    };
    let mut params = ConvParams::new(k, kernel, kernel_weights, bias);
    params.stride = stride;
    params.pre_padding = pad;
    params.post_padding = pad;
    params.dilation = dilation;
    params.groups = g;
    params.padding_mode = PaddingMode::CaffeRoundDown;
    let kind = if deconv {
        LayerKind::Deconvolution(params)
    } else {
        LayerKind::Convolution(params)
    };
    Ok(vec![cx.add(kind, &[cx.input(0)])?])
}

pub(super) fn pooling(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.pooling_param.unwrap_or_default();
    let kind = match p.pool() {
        PoolMethod::Max => PoolingType::Max,
        PoolMethod::Ave => PoolingType::Average,
        PoolMethod::Stochastic => {
            return Err(cx.unsupported("only MAX and AVE pooling are supported"));
        }
    };
    let [_, h, w] = cx.chw(0)?;
    let pair = |h: Option<u32>, w: Option<u32>, both: Option<u32>, default: Option<u32>| {
        Some([
            h.or(both).or(default)? as usize,
            w.or(both).or(default)? as usize,
        ])
    };
    let (window, stride, pad) = if p.global_pooling() {
        ([h, w], [1, 1], [0, 0])
    } else {
        let window = pair(p.kernel_h, p.kernel_w, p.kernel_size, None)
            .ok_or_else(|| cx.error("kernel size is not set"))?;
        let stride = pair(p.stride_h, p.stride_w, p.stride, Some(1)).unwrap_or([1, 1]);
        let pad = pair(p.pad_h, p.pad_w, p.pad, Some(0)).unwrap_or([0, 0]);
        (window, stride, pad)
    };
    let mut params = PoolParams::new(kind, window);
    params.stride = stride;
    params.pre_padding = pad;
    params.post_padding = pad;
    // Caffe rounds the output size up unless told otherwise, and averages over padded windows.
    params.padding_mode = match p.round_mode() {
        RoundMode::Ceil => PaddingMode::CaffeRoundUp,
        RoundMode::Floor => PaddingMode::CaffeRoundDown,
    };
    params.average_count_excludes_padding = false;
    Ok(vec![cx.add(LayerKind::Pooling(params), &[cx.input(0)])?])
}

pub(super) fn inner_product(cx: &mut Ctx) -> Result<Vec<TensorId>> {
    cx.expect(1, 1, 1)?;
    let p = cx.layer.inner_product_param.clone().unwrap_or_default();
    let shape = cx.shape(0);
    if cx.axis(p.axis(), 0)? != 0 || shape.len() > 3 {
        return Err(cx.unsupported(
            "only axis 1 of an input with at most 3 non-batch dimensions is supported",
        ));
    }
    let n = p.num_output() as usize;
    if n == 0 {
        return Err(cx.error("num_output must be positive"));
    }
    let k = cx.count(&shape)?;
    let count = cx.count(&[n, k])?;
    let mut kernel = cx.blob(
        0,
        "weights",
        count,
        Fill::Normal(1.0 / (count as f32).sqrt()),
    )?;
    if p.transpose() {
        // Stored as [K, N]; TensorRT wants [N, K].
        let t = &kernel.values;
        kernel.values = (0..count).map(|i| t[(i % k) * n + i / k]).collect();
    }
    let bias = if p.bias_term() {
        cx.blob(1, "bias", n, Fill::Zero)?
    } else {
        Weights::empty()
    };
    Ok(vec![cx.add(
        LayerKind::FullyConnected {
            nb_outputs: n,
            kernel,
            bias,
        },
        &[cx.input(0)],
    )?])
}
