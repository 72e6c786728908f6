//! Naive float64 reference implementations, written from the operator definitions with direct
//! loops. They compute output sizes themselves (never through `infer8::network::shape`), so a
//! shape-inference bug shows up as a mismatch.

use infer8::network::{ConvParams, PoolParams};
use infer8::types::{ActivationType, PaddingMode, PoolingType};

/// A float64 tensor whose shape includes the batch.
#[derive(Debug, Clone)]
pub struct T {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl T {
    pub fn new(shape: &[usize], data: &[f32]) -> T {
        assert_eq!(shape.iter().product::<usize>(), data.len());
        T { shape: shape.to_vec(), data: data.iter().map(|&v| v as f64).collect() }
    }

    pub fn zeros(shape: &[usize]) -> T {
        T { shape: shape.to_vec(), data: vec![0.0; shape.iter().product()] }
    }

    pub fn strides(&self) -> Vec<usize> {
        strides(&self.shape)
    }
}

pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// Multi-index of flat position `i` in `shape`.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

pub fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Output size and effective (pre, post) padding of a sliding window, TensorRT's rules.
pub fn window_out(mode: PaddingMode, i: i64, k: i64, s: i64, pre: i64, post: i64) -> Option<(i64, i64, i64)> {
    let floor_div = |a: i64, b: i64| a.div_euclid(b);
    let ceil_div = |a: i64, b: i64| -((-a).div_euclid(b));
    let r = match mode {
        PaddingMode::ExplicitRoundDown => (floor_div(i + pre + post - k, s) + 1, pre, post),
        PaddingMode::ExplicitRoundUp => (ceil_div(i + pre + post - k, s) + 1, pre, post),
        PaddingMode::SameUpper | PaddingMode::SameLower => {
            let out = ceil_div(i, s);
            let total = ((out - 1) * s + k - i).max(0);
            if mode == PaddingMode::SameUpper {
                (out, total / 2, total - total / 2)
            } else {
                (out, total - total / 2, total / 2)
            }
        }
        PaddingMode::CaffeRoundDown => (floor_div(i + 2 * pre - k, s) + 1, pre, pre),
        PaddingMode::CaffeRoundUp => {
            let mut out = ceil_div(i + 2 * pre - k, s) + 1;
            // Caffe: the last window must start inside the image or its left padding.
            if pre > 0 && (out - 1) * s >= i + pre {
                out -= 1;
            }
            (out, pre, pre)
        }
    };
    let explicit_total = match mode {
        PaddingMode::ExplicitRoundDown | PaddingMode::ExplicitRoundUp => i + pre + post,
        PaddingMode::CaffeRoundDown | PaddingMode::CaffeRoundUp => i + 2 * pre,
        _ => i64::MAX,
    };
    (k <= explicit_total && r.0 > 0).then_some(r)
}

fn split_chw(shape: &[usize]) -> (usize, usize, usize, usize) {
    let n = shape.len();
    (shape[..n - 3].iter().product(), shape[n - 3], shape[n - 2], shape[n - 1])
}

/// Direct convolution; `x` is `[N.., C, H, W]`, weights `[K, C/g, kh, kw]`.
pub fn conv(x: &T, p: &ConvParams) -> T {
    let (outer, c, h, w) = split_chw(&x.shape);
    let (k, g) = (p.nb_output_maps, p.groups);
    let dk = |d: usize| (p.kernel[d] - 1) * p.dilation[d] + 1;
    let (oh, ph, _) = window_out(p.padding_mode, h as i64, dk(0) as i64, p.stride[0] as i64, p.pre_padding[0] as i64, p.post_padding[0] as i64).expect("conv height");
    let (ow, pw, _) = window_out(p.padding_mode, w as i64, dk(1) as i64, p.stride[1] as i64, p.pre_padding[1] as i64, p.post_padding[1] as i64).expect("conv width");
    let (oh, ow) = (oh as usize, ow as usize);
    let (cg, kg) = (c / g, k / g);
    let [kh, kw] = p.kernel;
    let mut shape = x.shape[..x.shape.len() - 3].to_vec();
    shape.extend([k, oh, ow]);
    let mut y = T::zeros(&shape);
    let wv = &p.kernel_weights.values;
    for n in 0..outer {
        for ko in 0..k {
            let grp = ko / kg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = p.bias.values.get(ko).map_or(0.0, |&b| b as f64);
                    for ci in 0..cg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * p.stride[0] + ky * p.dilation[0]) as i64 - ph;
                                let ix = (ox * p.stride[1] + kx * p.dilation[1]) as i64 - pw;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                    continue;
                                }
                                let xv = x.data[((n * c + grp * cg + ci) * h + iy as usize) * w + ix as usize];
                                let wt = wv[((ko * cg + ci) * kh + ky) * kw + kx] as f64;
                                acc += xv * wt;
                            }
                        }
                    }
                    y.data[((n * k + ko) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    y
}

/// Transposed convolution by scattering each input value; weights `[C, K/g, kh, kw]`.
pub fn deconv(x: &T, p: &ConvParams) -> T {
    let (outer, c, h, w) = split_chw(&x.shape);
    let (k, g) = (p.nb_output_maps, p.groups);
    let mut pads = [(0i64, 0i64); 2];
    let mut outs = [0usize; 2];
    for d in 0..2 {
        let i = [h, w][d] as i64;
        let dk = ((p.kernel[d] - 1) * p.dilation[d] + 1) as i64;
        let s = p.stride[d] as i64;
        let full = (i - 1) * s + dk;
        pads[d] = match p.padding_mode {
            PaddingMode::SameUpper | PaddingMode::SameLower => {
                let total = (full - i * s).max(0);
                if p.padding_mode == PaddingMode::SameUpper { (total / 2, total - total / 2) } else { (total - total / 2, total / 2) }
            }
            PaddingMode::CaffeRoundDown | PaddingMode::CaffeRoundUp => (p.pre_padding[d] as i64, p.pre_padding[d] as i64),
            _ => (p.pre_padding[d] as i64, p.post_padding[d] as i64),
        };
        let o = full - pads[d].0 - pads[d].1;
        assert!(o > 0, "deconv output size");
        outs[d] = o as usize;
    }
    let [oh, ow] = outs;
    let (cg, kg) = (c / g, k / g);
    let [kh, kw] = p.kernel;
    let mut shape = x.shape[..x.shape.len() - 3].to_vec();
    shape.extend([k, oh, ow]);
    let mut y = T::zeros(&shape);
    let wv = &p.kernel_weights.values;
    for n in 0..outer {
        for ko in 0..k {
            let b = p.bias.values.get(ko).map_or(0.0, |&b| b as f64);
            for v in &mut y.data[(n * k + ko) * oh * ow..][..oh * ow] {
                *v = b;
            }
        }
        for ci in 0..c {
            let grp = ci / cg;
            for iy in 0..h {
                for ix in 0..w {
                    let xv = x.data[((n * c + ci) * h + iy) * w + ix];
                    for kl in 0..kg {
                        let ko = grp * kg + kl;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let oy = (iy * p.stride[0] + ky * p.dilation[0]) as i64 - pads[0].0;
                                let ox = (ix * p.stride[1] + kx * p.dilation[1]) as i64 - pads[1].0;
                                if oy < 0 || ox < 0 || oy >= oh as i64 || ox >= ow as i64 {
                                    continue;
                                }
                                let wt = wv[((ci * kg + kl) * kh + ky) * kw + kx] as f64;
                                y.data[((n * k + ko) * oh + oy as usize) * ow + ox as usize] += xv * wt;
                            }
                        }
                    }
                }
            }
        }
    }
    y
}

/// Pooling over the last two dimensions; Caffe's divisor when padding counts.
pub fn pool(x: &T, p: &PoolParams) -> T {
    let r = x.shape.len();
    let (h, w) = (x.shape[r - 2], x.shape[r - 1]);
    let planes: usize = x.shape[..r - 2].iter().product();
    let (oh, ph, qh) = window_out(p.padding_mode, h as i64, p.window[0] as i64, p.stride[0] as i64, p.pre_padding[0] as i64, p.post_padding[0] as i64).expect("pool height");
    let (ow, pw, qw) = window_out(p.padding_mode, w as i64, p.window[1] as i64, p.stride[1] as i64, p.pre_padding[1] as i64, p.post_padding[1] as i64).expect("pool width");
    let (oh, ow) = (oh as usize, ow as usize);
    let mut shape = x.shape[..r - 2].to_vec();
    shape.extend([oh, ow]);
    let mut y = T::zeros(&shape);
    for pl in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let ys = oy as i64 * p.stride[0] as i64 - ph;
                let xs = ox as i64 * p.stride[1] as i64 - pw;
                let ye = (ys + p.window[0] as i64).min(h as i64 + qh);
                let xe = (xs + p.window[1] as i64).min(w as i64 + qw);
                let padded = ((ye - ys) * (xe - xs)) as f64;
                let (mut max, mut sum, mut count) = (f64::NEG_INFINITY, 0.0, 0usize);
                for iy in ys.max(0)..ye.min(h as i64) {
                    for ix in xs.max(0)..xe.min(w as i64) {
                        let v = x.data[(pl * h + iy as usize) * w + ix as usize];
                        max = max.max(v);
                        sum += v;
                        count += 1;
                    }
                }
                let avg = sum / if p.average_count_excludes_padding { count as f64 } else { padded };
                let b = p.blend_factor as f64;
                y.data[(pl * oh + oy) * ow + ox] = if count == 0 {
                    0.0
                } else {
                    match p.kind {
                        PoolingType::Max => max,
                        PoolingType::Average => avg,
                        PoolingType::MaxAverageBlend => b * max + (1.0 - b) * avg,
                    }
                };
            }
        }
    }
    y
}

/// `x` is `[N.., C, H, W]` (or fewer dims); every dimension after the leading ones is flattened.
pub fn fully_connected(x: &T, nout: usize, w: &[f32], b: &[f32]) -> T {
    let r = x.shape.len();
    // The batch is x.shape[0]; keep the non-batch dims before the last three.
    let keep = 1 + (r - 1).saturating_sub(3);
    let rows: usize = x.shape[..keep].iter().product();
    let k: usize = x.shape[keep..].iter().product();
    let mut shape = x.shape[..keep].to_vec();
    shape.extend([nout, 1, 1]);
    let mut y = T::zeros(&shape);
    for i in 0..rows {
        for j in 0..nout {
            let mut acc = b.get(j).map_or(0.0, |&v| v as f64);
            for p in 0..k {
                acc += x.data[i * k + p] * w[j * k + p] as f64;
            }
            y.data[i * nout + j] = acc;
        }
    }
    y
}

pub fn activation(x: &T, kind: ActivationType, alpha: f32, beta: f32) -> T {
    let (a, b) = (alpha as f64, beta as f64);
    let f = |v: f64| match kind {
        ActivationType::Relu => v.max(0.0),
        ActivationType::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        ActivationType::Tanh => v.tanh(),
        ActivationType::LeakyRelu => if v >= 0.0 { v } else { a * v },
        ActivationType::Elu => if v >= 0.0 { v } else { a * (v.exp() - 1.0) },
        ActivationType::Selu => if v > 0.0 { b * v } else { b * a * (v.exp() - 1.0) },
        ActivationType::Softsign => v / (1.0 + v.abs()),
        ActivationType::Softplus => a * ((b * v).exp() + 1.0).ln(),
        ActivationType::Clip => a.max(b.min(v)),
        ActivationType::HardSigmoid => 0f64.max(1f64.min(a * v + b)),
        ActivationType::ScaledTanh => a * (b * v).tanh(),
        ActivationType::ThresholdedRelu => if v > a { v } else { 0.0 },
    };
    T { shape: x.shape.clone(), data: x.data.iter().map(|&v| f(v)).collect() }
}

/// Softmax along `axis` of the full shape (batch included).
pub fn softmax(x: &T, axis: usize) -> T {
    let mut y = x.clone();
    let st = x.strides();
    let n = x.shape[axis];
    for i in 0..x.data.len() {
        if unravel(i, &x.shape)[axis] != 0 {
            continue;
        }
        let sum: f64 = (0..n).map(|j| x.data[i + j * st[axis]].exp()).sum();
        for j in 0..n {
            y.data[i + j * st[axis]] = x.data[i + j * st[axis]].exp() / sum;
        }
    }
    y
}
