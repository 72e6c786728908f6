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
        T {
            shape: shape.to_vec(),
            data: data.iter().map(|&v| v as f64).collect(),
        }
    }

    pub fn zeros(shape: &[usize]) -> T {
        T {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
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
pub fn window_out(
    mode: PaddingMode,
    i: i64,
    k: i64,
    s: i64,
    pre: i64,
    post: i64,
) -> Option<(i64, i64, i64)> {
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
    (
        shape[..n - 3].iter().product(),
        shape[n - 3],
        shape[n - 2],
        shape[n - 1],
    )
}

/// Direct convolution; `x` is `[N.., C, H, W]`, weights `[K, C/g, kh, kw]`.
pub fn conv(x: &T, p: &ConvParams) -> T {
    let (outer, c, h, w) = split_chw(&x.shape);
    let (k, g) = (p.nb_output_maps, p.groups);
    let dk = |d: usize| (p.kernel[d] - 1) * p.dilation[d] + 1;
    let (oh, ph, _) = window_out(
        p.padding_mode,
        h as i64,
        dk(0) as i64,
        p.stride[0] as i64,
        p.pre_padding[0] as i64,
        p.post_padding[0] as i64,
    )
    .expect("conv height");
    let (ow, pw, _) = window_out(
        p.padding_mode,
        w as i64,
        dk(1) as i64,
        p.stride[1] as i64,
        p.pre_padding[1] as i64,
        p.post_padding[1] as i64,
    )
    .expect("conv width");
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
                                let xv = x.data
                                    [((n * c + grp * cg + ci) * h + iy as usize) * w + ix as usize];
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
                if p.padding_mode == PaddingMode::SameUpper {
                    (total / 2, total - total / 2)
                } else {
                    (total - total / 2, total / 2)
                }
            }
            PaddingMode::CaffeRoundDown | PaddingMode::CaffeRoundUp => {
                (p.pre_padding[d] as i64, p.pre_padding[d] as i64)
            }
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
                                y.data[((n * k + ko) * oh + oy as usize) * ow + ox as usize] +=
                                    xv * wt;
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
    let (oh, ph, qh) = window_out(
        p.padding_mode,
        h as i64,
        p.window[0] as i64,
        p.stride[0] as i64,
        p.pre_padding[0] as i64,
        p.post_padding[0] as i64,
    )
    .expect("pool height");
    let (ow, pw, qw) = window_out(
        p.padding_mode,
        w as i64,
        p.window[1] as i64,
        p.stride[1] as i64,
        p.pre_padding[1] as i64,
        p.post_padding[1] as i64,
    )
    .expect("pool width");
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
                let avg = sum
                    / if p.average_count_excludes_padding {
                        count as f64
                    } else {
                        padded
                    };
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
        ActivationType::LeakyRelu => {
            if v >= 0.0 {
                v
            } else {
                a * v
            }
        }
        ActivationType::Elu => {
            if v >= 0.0 {
                v
            } else {
                a * (v.exp() - 1.0)
            }
        }
        ActivationType::Selu => {
            if v > 0.0 {
                b * v
            } else {
                b * a * (v.exp() - 1.0)
            }
        }
        ActivationType::Softsign => v / (1.0 + v.abs()),
        ActivationType::Softplus => a * ((b * v).exp() + 1.0).ln(),
        ActivationType::Clip => a.max(b.min(v)),
        ActivationType::HardSigmoid => 0f64.max(1f64.min(a * v + b)),
        ActivationType::ScaledTanh => a * (b * v).tanh(),
        ActivationType::ThresholdedRelu => {
            if v > a {
                v
            } else {
                0.0
            }
        }
    };
    T {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    }
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

/// Element-wise `f(a, b)` with broadcasting: equal ranks, each dimension equal or 1.
pub fn binary(a: &T, b: &T, f: impl Fn(f64, f64) -> f64) -> T {
    assert_eq!(a.shape.len(), b.shape.len());
    let shape: Vec<usize> = a
        .shape
        .iter()
        .zip(&b.shape)
        .map(|(&x, &y)| x.max(y))
        .collect();
    let mut y = T::zeros(&shape);
    for i in 0..y.data.len() {
        let idx = unravel(i, &shape);
        let at = |t: &T| {
            let j: Vec<usize> = idx
                .iter()
                .zip(&t.shape)
                .map(|(&i, &n)| if n == 1 { 0 } else { i })
                .collect();
            t.data[ravel(&j, &t.shape)]
        };
        y.data[i] = f(at(a), at(b));
    }
    y
}

/// Cross-channel LRN; channels are dimension n-3.
pub fn lrn(x: &T, window: usize, alpha: f32, beta: f32, k: f32) -> T {
    let r = x.shape.len();
    let c = x.shape[r - 3];
    let st = x.strides();
    let mut y = x.clone();
    for i in 0..x.data.len() {
        let ch = unravel(i, &x.shape)[r - 3] as i64;
        let half = (window / 2) as i64;
        let mut sum = 0.0;
        for j in (ch - half).max(0)..=(ch + half).min(c as i64 - 1) {
            let v = x.data[(i as i64 + (j - ch) * st[r - 3] as i64) as usize];
            sum += v * v;
        }
        y.data[i] = x.data[i] / (k as f64 + alpha as f64 / window as f64 * sum).powf(beta as f64);
    }
    y
}

pub fn scale(
    x: &T,
    mode: infer8::types::ScaleMode,
    shift: &[f32],
    scale: &[f32],
    power: &[f32],
) -> T {
    use infer8::types::ScaleMode;
    let r = x.shape.len();
    let per_item: usize = x.shape[1..].iter().product();
    let mut y = x.clone();
    for i in 0..x.data.len() {
        let c = match mode {
            ScaleMode::Uniform => 0,
            ScaleMode::Channel => unravel(i, &x.shape)[r - 3],
            ScaleMode::Elementwise => i % per_item,
        };
        let get = |w: &[f32], d: f64| w.get(c).map_or(d, |&v| v as f64);
        y.data[i] = (x.data[i] * get(scale, 1.0) + get(shift, 0.0)).powf(get(power, 1.0));
    }
    y
}

/// Concatenation along `axis` of the full shape; batch-1 inputs are repeated to `batch`.
pub fn concat(xs: &[T], axis: usize, batch: usize) -> T {
    let xs: Vec<T> = xs.iter().map(|x| repeat_batch(x, batch)).collect();
    let mut shape = xs[0].shape.clone();
    shape[axis] = xs.iter().map(|x| x.shape[axis]).sum();
    let mut y = T::zeros(&shape);
    let mut off = 0;
    for x in &xs {
        for i in 0..x.data.len() {
            let mut idx = unravel(i, &x.shape);
            idx[axis] += off;
            y.data[ravel(&idx, &shape)] = x.data[i];
        }
        off += x.shape[axis];
    }
    y
}

pub fn repeat_batch(x: &T, batch: usize) -> T {
    if x.shape[0] == batch {
        return x.clone();
    }
    let mut shape = x.shape.clone();
    shape[0] = batch;
    T {
        shape,
        data: (0..batch).flat_map(|_| x.data.iter().copied()).collect(),
    }
}

/// erf by composite Simpson integration of `2/√π · e^{-t²}` (independent of the kernel's series).
pub fn erf(x: f64) -> f64 {
    let n = 2000;
    let h = x / n as f64;
    let f = |t: f64| (-t * t).exp();
    let mut s = f(0.0) + f(x);
    for i in 1..n {
        s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
}

pub fn unary(x: &T, op: infer8::types::UnaryOperation) -> T {
    use infer8::types::UnaryOperation::*;
    let f = |v: f64| match op {
        Exp => v.exp(),
        Log => v.ln(),
        Sqrt => v.sqrt(),
        Recip => 1.0 / v,
        Abs => v.abs(),
        Neg => -v,
        Sin => v.sin(),
        Cos => v.cos(),
        Tan => v.tan(),
        Sinh => v.sinh(),
        Cosh => v.cosh(),
        Asin => v.asin(),
        Acos => v.acos(),
        Atan => v.atan(),
        Asinh => v.asinh(),
        Acosh => v.acosh(),
        Atanh => v.atanh(),
        Ceil => v.ceil(),
        Floor => v.floor(),
        Erf => erf(v),
    };
    T {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    }
}

/// Zero padding of the last two dimensions; negative amounts crop.
pub fn padding(x: &T, pre: [i64; 2], post: [i64; 2]) -> T {
    let r = x.shape.len();
    let mut shape = x.shape.clone();
    shape[r - 2] = (x.shape[r - 2] as i64 + pre[0] + post[0]) as usize;
    shape[r - 1] = (x.shape[r - 1] as i64 + pre[1] + post[1]) as usize;
    let mut y = T::zeros(&shape);
    for i in 0..y.data.len() {
        let mut idx = unravel(i, &shape);
        let iy = idx[r - 2] as i64 - pre[0];
        let ix = idx[r - 1] as i64 - pre[1];
        if iy >= 0 && ix >= 0 && iy < x.shape[r - 2] as i64 && ix < x.shape[r - 1] as i64 {
            idx[r - 2] = iy as usize;
            idx[r - 1] = ix as usize;
            y.data[i] = x.data[ravel(&idx, &x.shape)];
        }
    }
    y
}

/// Permutes the non-batch axes: output axis `i` is input axis `perm[i]`.
pub fn transpose(x: &T, perm: &[usize]) -> T {
    if perm.is_empty() {
        return x.clone();
    }
    let mut shape = vec![x.shape[0]];
    shape.extend(perm.iter().map(|&p| x.shape[p + 1]));
    let mut y = T::zeros(&shape);
    for i in 0..y.data.len() {
        let o = unravel(i, &shape);
        let mut idx = vec![0; shape.len()];
        idx[0] = o[0];
        for (d, &p) in perm.iter().enumerate() {
            idx[p + 1] = o[d + 1];
        }
        y.data[i] = x.data[ravel(&idx, &x.shape)];
    }
    y
}

pub fn shuffle(x: &T, p: &infer8::network::ShuffleParams) -> T {
    let mut t = transpose(x, &p.first_transpose);
    if let Some(spec) = &p.reshape {
        let vol: usize = t.shape[1..].iter().product();
        let mut dims: Vec<i64> = spec
            .iter()
            .enumerate()
            .map(|(i, &d)| if d == 0 { t.shape[i + 1] as i64 } else { d })
            .collect();
        let known: i64 = dims.iter().filter(|&&d| d > 0).product();
        for d in &mut dims {
            if *d == -1 {
                *d = vol as i64 / known;
            }
        }
        t.shape = std::iter::once(t.shape[0])
            .chain(dims.iter().map(|&d| d as usize))
            .collect();
        assert_eq!(t.shape[1..].iter().product::<usize>(), vol);
    }
    transpose(&t, &p.second_transpose)
}

/// Slice of the non-batch dimensions.
pub fn slice(x: &T, start: &[i64], size: &[usize], stride: &[i64]) -> T {
    let mut shape = vec![x.shape[0]];
    shape.extend(size);
    let mut y = T::zeros(&shape);
    for i in 0..y.data.len() {
        let o = unravel(i, &shape);
        let mut idx = vec![o[0]];
        for d in 0..size.len() {
            idx.push((start[d] + o[d + 1] as i64 * stride[d]) as usize);
        }
        y.data[i] = x.data[ravel(&idx, &x.shape)];
    }
    y
}

pub fn reduce(x: &T, op: infer8::types::ReduceOperation, axes: u32, keep: bool) -> T {
    use infer8::types::ReduceOperation::*;
    let reduced = |d: usize| d > 0 && axes >> (d - 1) & 1 == 1;
    let kept: Vec<usize> = (0..x.shape.len())
        .map(|d| if reduced(d) { 1 } else { x.shape[d] })
        .collect();
    let mut acc = vec![Vec::new(); kept.iter().product()];
    for i in 0..x.data.len() {
        let idx: Vec<usize> = unravel(i, &x.shape)
            .iter()
            .enumerate()
            .map(|(d, &v)| if reduced(d) { 0 } else { v })
            .collect();
        acc[ravel(&idx, &kept)].push(x.data[i]);
    }
    let data = acc
        .iter()
        .map(|v| match op {
            Sum => v.iter().sum(),
            Prod => v.iter().product(),
            Max => v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            Min => v.iter().cloned().fold(f64::INFINITY, f64::min),
            Avg => v.iter().sum::<f64>() / v.len() as f64,
        })
        .collect();
    let shape = if keep {
        kept
    } else {
        (0..x.shape.len())
            .filter(|&d| !reduced(d))
            .map(|d| x.shape[d])
            .collect()
    };
    T { shape, data }
}

/// Values and indices of the `k` best along `axis` (full shape), ties broken by lower index.
pub fn topk(x: &T, max: bool, k: usize, axis: usize) -> (T, T) {
    let mut shape = x.shape.clone();
    shape[axis] = k;
    let (mut v, mut ix) = (T::zeros(&shape), T::zeros(&shape));
    let st = x.strides();
    for i in 0..v.data.len() {
        let o = unravel(i, &shape);
        if o[axis] != 0 {
            continue;
        }
        let mut base = o.clone();
        base[axis] = 0;
        let b = ravel(&base, &x.shape);
        let mut lane: Vec<(f64, usize)> = (0..x.shape[axis])
            .map(|j| (x.data[b + j * st[axis]], j))
            .collect();
        lane.sort_by(|a, b| {
            let ord = a.0.partial_cmp(&b.0).expect("no NaN");
            (if max { ord.reverse() } else { ord }).then(a.1.cmp(&b.1))
        });
        let ost = strides(&shape);
        for (r, (val, j)) in lane.into_iter().take(k).enumerate() {
            v.data[i + r * ost[axis]] = val;
            ix.data[i + r * ost[axis]] = j as f64;
        }
    }
    (v, ix)
}

/// Matrix product of full-shape tensors (batch first): `trans`/`vector` per operand.
pub fn matmul(
    a: &T,
    b: &T,
    op0: infer8::types::MatrixOperation,
    op1: infer8::types::MatrixOperation,
) -> T {
    use infer8::types::MatrixOperation::*;
    let mat = |_: &T, op| if op == Vector { 1 } else { 2 };
    let (la, lb) = (
        &a.shape[..a.shape.len() - mat(a, op0)],
        &b.shape[..b.shape.len() - mat(b, op1)],
    );
    // Align missing leading dims (besides the batch) as 1s.
    let pad = |l: &[usize], n: usize| {
        let mut v = vec![l[0]];
        v.extend(std::iter::repeat_n(1, n - l.len()));
        v.extend(&l[1..]);
        v
    };
    let n_lead = la.len().max(lb.len());
    let (la, lb) = (pad(la, n_lead), pad(lb, n_lead));
    let lead: Vec<usize> = la.iter().zip(&lb).map(|(&x, &y)| x.max(y)).collect();
    let (m, k) = match op0 {
        None => (a.shape[a.shape.len() - 2], a.shape[a.shape.len() - 1]),
        Transpose => (a.shape[a.shape.len() - 1], a.shape[a.shape.len() - 2]),
        Vector => (1, a.shape[a.shape.len() - 1]),
    };
    let n = match op1 {
        None => b.shape[b.shape.len() - 1],
        Transpose => b.shape[b.shape.len() - 2],
        Vector => 1,
    };
    let mut shape = lead.clone();
    if op0 != Vector {
        shape.push(m);
    }
    if op1 != Vector {
        shape.push(n);
    }
    let mut y = T::zeros(&shape);
    let count: usize = lead.iter().product();
    for l in 0..count {
        let idx = unravel(l, &lead);
        let pick = |ls: &[usize]| -> usize {
            let j: Vec<usize> = idx
                .iter()
                .zip(ls)
                .map(|(&i, &n)| if n == 1 { 0 } else { i })
                .collect();
            ravel(&j, ls)
        };
        let (ma, mb) = (pick(&la), pick(&lb));
        let ea = |i: usize, p: usize| match op0 {
            None => a.data[ma * m * k + i * k + p],
            Transpose => a.data[ma * m * k + p * m + i],
            Vector => a.data[ma * k + p],
        };
        let eb = |p: usize, j: usize| match op1 {
            None => b.data[mb * k * n + p * n + j],
            Transpose => b.data[mb * k * n + j * k + p],
            Vector => b.data[mb * k + p],
        };
        for i in 0..m {
            for j in 0..n {
                y.data[(l * m + i) * n + j] = (0..k).map(|p| ea(i, p) * eb(p, j)).sum();
            }
        }
    }
    y
}

/// Gather along `axis` of the non-batch dims; `idx` has its own batch (1 or the data's).
pub fn gather(x: &T, idx: &T, axis: usize) -> T {
    let batch = x.shape[0];
    let xs = &x.shape[1..];
    let mut shape = vec![batch];
    shape.extend(&xs[..axis]);
    shape.extend(&idx.shape[1..]);
    shape.extend(&xs[axis + 1..]);
    let ni: usize = idx.shape[1..].iter().product();
    let ri = idx.shape.len() - 1;
    let mut y = T::zeros(&shape);
    for i in 0..y.data.len() {
        let o = unravel(i, &shape);
        let ib = if idx.shape[0] == 1 { 0 } else { o[0] };
        let j = ravel(&o[1 + axis..1 + axis + ri], &idx.shape[1..]);
        let g = idx.data[ib * ni + j] as usize;
        let mut src = vec![o[0]];
        src.extend(&o[1..1 + axis]);
        src.push(g);
        src.extend(&o[1 + axis + ri..]);
        y.data[i] = x.data[ravel(&src, &x.shape)];
    }
    y
}
