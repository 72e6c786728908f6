//! The TensorRT 6/7 layer calls of `INetworkDefinition` (`addConvolutionNd`, `addPoolingNd`,
//! `addDeconvolutionNd`, `addScaleNd`, `addPaddingNd`, `addParametricReLU`, `addResize`,
//! `addSelect`, `addShape`, `addFill`) and their layers' setters, called through the vtables as
//! compiled C++ calls them, built into explicit-batch engines and run on the CPU with `executeV2`.
//!
//! Each output is compared with a float64 reference written here: the largest absolute error
//! relative to the reference's largest magnitude must be at most 1e-5. Refused arguments (3D
//! windows, bad enums, NULL tensors, mismatched scales) log an error and return null or leave the
//! layer as it was.

mod abi_support;
mod common;

use abi_support::session::*;
use abi_support::{serial, vt};
use common::Rng;
use infer8::abi::builder::IBuilderVtbl;
use infer8::abi::builder_config::IBuilderConfigVtbl;
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::layers::convolution::{IConvolutionLayerVtbl, IDeconvolutionLayerVtbl};
use infer8::abi::layers::fill::IFillLayerVtbl;
use infer8::abi::layers::pooling::IPoolingLayerVtbl;
use infer8::abi::layers::resize::IResizeLayerVtbl;

/// A CHW tensor in float64 (the batch of these tests is 1).
#[derive(Clone)]
struct T {
    c: usize,
    h: usize,
    w: usize,
    v: Vec<f64>,
}

impl T {
    fn new(c: usize, h: usize, w: usize, v: &[f32]) -> T {
        assert_eq!(v.len(), c * h * w);
        T {
            c,
            h,
            w,
            v: v.iter().map(|&x| x as f64).collect(),
        }
    }

    fn zeros(c: usize, h: usize, w: usize) -> T {
        T {
            c,
            h,
            w,
            v: vec![0.0; c * h * w],
        }
    }

    fn at(&self, c: usize, y: usize, x: usize) -> f64 {
        self.v[(c * self.h + y) * self.w + x]
    }

    fn set(&mut self, c: usize, y: usize, x: usize, v: f64) {
        let (h, w) = (self.h, self.w);
        self.v[(c * h + y) * w + x] = v;
    }

    /// The value at a padded position: zero outside the tensor.
    fn padded(&self, c: usize, y: i64, x: i64) -> f64 {
        if y < 0 || x < 0 || y >= self.h as i64 || x >= self.w as i64 {
            0.0
        } else {
            self.at(c, y as usize, x as usize)
        }
    }
}

struct Conv {
    k: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pre: [usize; 2],
    post: [usize; 2],
    dilation: [usize; 2],
}

/// Direct convolution, weights `[K, C, kh, kw]`.
fn conv_ref(x: &T, p: &Conv, w: &[f32], b: &[f32]) -> T {
    let extent = |d: usize| p.dilation[d] * (p.kernel[d] - 1) + 1;
    let oh = (x.h + p.pre[0] + p.post[0] - extent(0)) / p.stride[0] + 1;
    let ow = (x.w + p.pre[1] + p.post[1] - extent(1)) / p.stride[1] + 1;
    let mut y = T::zeros(p.k, oh, ow);
    for (k, &bias) in b.iter().enumerate().take(p.k) {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut s = bias as f64;
                for c in 0..x.c {
                    for ky in 0..p.kernel[0] {
                        for kx in 0..p.kernel[1] {
                            let iy =
                                (oy * p.stride[0] + ky * p.dilation[0]) as i64 - p.pre[0] as i64;
                            let ix =
                                (ox * p.stride[1] + kx * p.dilation[1]) as i64 - p.pre[1] as i64;
                            let wi = ((k * x.c + c) * p.kernel[0] + ky) * p.kernel[1] + kx;
                            s += x.padded(c, iy, ix) * w[wi] as f64;
                        }
                    }
                }
                y.set(k, oy, ox, s);
            }
        }
    }
    y
}

/// Transposed convolution (no padding), weights `[C, K, kh, kw]`.
fn deconv_ref(x: &T, k: usize, kernel: [usize; 2], stride: [usize; 2], w: &[f32], b: &[f32]) -> T {
    let oh = (x.h - 1) * stride[0] + kernel[0];
    let ow = (x.w - 1) * stride[1] + kernel[1];
    let mut y = T::zeros(k, oh, ow);
    for (o, &bias) in b.iter().enumerate().take(k) {
        for oy in 0..oh {
            for ox in 0..ow {
                y.set(o, oy, ox, bias as f64);
            }
        }
    }
    for c in 0..x.c {
        for iy in 0..x.h {
            for ix in 0..x.w {
                for o in 0..k {
                    for ky in 0..kernel[0] {
                        for kx in 0..kernel[1] {
                            let (oy, ox) = (iy * stride[0] + ky, ix * stride[1] + kx);
                            let wi = ((c * k + o) * kernel[0] + ky) * kernel[1] + kx;
                            let v = y.at(o, oy, ox) + x.at(c, iy, ix) * w[wi] as f64;
                            y.set(o, oy, ox, v);
                        }
                    }
                }
            }
        }
    }
    y
}

/// Max pooling without padding.
fn max_pool_ref(x: &T, window: [usize; 2], stride: [usize; 2]) -> T {
    let oh = (x.h - window[0]) / stride[0] + 1;
    let ow = (x.w - window[1]) / stride[1] + 1;
    let mut y = T::zeros(x.c, oh, ow);
    for c in 0..x.c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f64::NEG_INFINITY;
                for ky in 0..window[0] {
                    for kx in 0..window[1] {
                        m = m.max(x.at(c, oy * stride[0] + ky, ox * stride[1] + kx));
                    }
                }
                y.set(c, oy, ox, m);
            }
        }
    }
    y
}

/// Zero padding (`pre`, `post` per spatial dimension, non-negative here).
fn pad_ref(x: &T, pre: [usize; 2], post: [usize; 2]) -> T {
    let mut y = T::zeros(x.c, x.h + pre[0] + post[0], x.w + pre[1] + post[1]);
    for c in 0..x.c {
        for oy in 0..y.h {
            for ox in 0..y.w {
                let v = x.padded(c, oy as i64 - pre[0] as i64, ox as i64 - pre[1] as i64);
                y.set(c, oy, ox, v);
            }
        }
    }
    y
}

/// The Nd convolution family, each layer's parameters set through its Nd setters, chained:
/// convolution → max pooling → padding → per-channel scale → parametric ReLU → deconvolution.
#[test]
fn nd_convolution_pooling_padding_scale_prelu_and_deconvolution_match_float64() {
    let _g = serial();
    let s = Session::new();
    let n = s.n();
    let mut rng = Rng::new(7);
    let (c, h, w) = (2usize, 7usize, 8usize);
    let x_data = rng.vec(c * h * w, -1.0, 1.0);
    let conv = Conv {
        k: 3,
        kernel: [3, 2],
        stride: [2, 1],
        pre: [1, 1],
        post: [1, 0],
        dilation: [1, 2],
    };
    let cw = rng.vec(3 * c * 3 * 2, -0.5, 0.5);
    let cb = rng.vec(3, -0.5, 0.5);
    let shift = rng.vec(3, -0.5, 0.5);
    let scale = rng.vec(3, 0.5, 1.5);
    let power = [1.0f32; 3];
    let slope = [0.1f32, -0.3, 0.7];
    let dw = rng.vec(3 * 2 * 2 * 3, -0.5, 0.5);
    let db = rng.vec(2, -0.5, 0.5);

    let outs = unsafe {
        let x = s.input("x", FLOAT, &[1, c as i32, h as i32, w as i32]);
        let lc = (n.addConvolutionNd)(s.net, x, 3, dims(&[3, 2]), weights(&cw), weights(&cb));
        let cv: &IConvolutionLayerVtbl = vt(lc);
        (cv.setStrideNd)(lc, dims(&[2, 1]));
        (cv.setPaddingNd)(lc, dims(&[1, 1]));
        (cv.setPostPadding)(lc, dims(&[1, 0]));
        (cv.setDilationNd)(lc, dims(&[1, 2]));
        assert_eq!((cv.getDilationNd)(lc).d[..2], [1, 2]);
        let lp = (n.addPoolingNd)(s.net, output(lc), 0, dims(&[2, 2]));
        let pv: &IPoolingLayerVtbl = vt(lp);
        (pv.setStrideNd)(lp, dims(&[1, 2]));
        assert_eq!((pv.getWindowSizeNd)(lp).d[..2], [2, 2]);
        let lpad = (n.addPaddingNd)(s.net, output(lp), dims(&[1, 0]), dims(&[0, 2]));
        let ls = (n.addScaleNd)(
            s.net,
            output(lpad),
            1,
            weights(&shift),
            weights(&scale),
            weights(&power),
            1,
        );
        let lslope = (n.addConstant)(s.net, dims(&[1, 3, 1, 1]), weights(&slope));
        let lr = (n.addParametricReLU)(s.net, output(ls), output(lslope));
        let ld = (n.addDeconvolutionNd)(
            s.net,
            output(lr),
            2,
            dims(&[2, 3]),
            weights(&dw),
            weights(&db),
        );
        let dv: &IDeconvolutionLayerVtbl = vt(ld);
        (dv.setStrideNd)(ld, dims(&[2, 1]));
        s.logger.expect_no_error();
        for l in [lc, lp, lpad, ls, lr, ld] {
            s.mark(output(l));
        }
        s.run(&[bytes(&x_data)])
    };

    let x = T::new(c, h, w, &x_data);
    let y_conv = conv_ref(&x, &conv, &cw, &cb);
    let y_pool = max_pool_ref(&y_conv, [2, 2], [1, 2]);
    let y_pad = pad_ref(&y_pool, [1, 0], [0, 2]);
    let mut y_scale = y_pad.clone();
    for (i, v) in y_scale.v.iter_mut().enumerate() {
        let ch = i / (y_pad.h * y_pad.w);
        *v = *v * scale[ch] as f64 + shift[ch] as f64;
    }
    let mut y_prelu = y_scale.clone();
    for (i, v) in y_prelu.v.iter_mut().enumerate() {
        let ch = i / (y_scale.h * y_scale.w);
        if *v < 0.0 {
            *v *= slope[ch] as f64;
        }
    }
    let y_deconv = deconv_ref(&y_prelu, 2, [2, 3], [2, 1], &dw, &db);
    let want = [&y_conv, &y_pool, &y_pad, &y_scale, &y_prelu, &y_deconv];
    let names = [
        "convolution",
        "pooling",
        "padding",
        "scale",
        "parametric ReLU",
        "deconvolution",
    ];
    for ((name, got), want) in names.iter().zip(&outs).zip(want) {
        check(name, &floats(got), &want.v);
    }
}

/// TensorRT 7's resize: asymmetric source coordinates `o / scale`, nearest rounding down; with
/// aligned corners `o * (in - 1) / (out - 1)`. Linear interpolates the two neighbours per axis.
fn resize_ref(x: &T, oh: usize, ow: usize, scales: [f64; 2], linear: bool, align: bool) -> T {
    let src = |o: usize, input: usize, output: usize, scale: f64| -> f64 {
        if align {
            if output > 1 {
                o as f64 * (input as f64 - 1.0) / (output as f64 - 1.0)
            } else {
                0.0
            }
        } else {
            o as f64 / scale
        }
    };
    let taps = |s: f64, input: usize| -> Vec<(usize, f64)> {
        let clamp = |i: i64| i.clamp(0, input as i64 - 1) as usize;
        let f = s.floor();
        if linear {
            vec![
                (clamp(f as i64), 1.0 - (s - f)),
                (clamp(f as i64 + 1), s - f),
            ]
        } else {
            vec![(clamp(f as i64), 1.0)]
        }
    };
    let mut y = T::zeros(x.c, oh, ow);
    for c in 0..x.c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut v = 0.0;
                for (iy, wy) in taps(src(oy, x.h, oh, scales[0]), x.h) {
                    for (ix, wx) in taps(src(ox, x.w, ow, scales[1]), x.w) {
                        v += wy * wx * x.at(c, iy, ix);
                    }
                }
                y.set(c, oy, ox, v);
            }
        }
    }
    y
}

#[test]
fn resize_nearest_and_linear_match_float64() {
    let _g = serial();
    let s = Session::new();
    let n = s.n();
    let mut rng = Rng::new(11);
    let (c, h, w) = (2usize, 3usize, 4usize);
    let x_data = rng.vec(c * h * w, -1.0, 1.0);
    let outs = unsafe {
        let x = s.input("x", FLOAT, &[1, c as i32, h as i32, w as i32]);
        // Nearest, by scales: 3x4 → 6x6.
        let a = (n.addResize)(s.net, x);
        let r: &IResizeLayerVtbl = vt(a);
        let scales = [1.0f32, 1.0, 2.0, 1.5];
        (r.setScales)(a, scales.as_ptr(), 4);
        let mut back = [0f32; 4];
        assert_eq!((r.getScales)(a, 4, back.as_mut_ptr()), 4);
        assert_eq!(back, scales);
        assert_eq!((r.getOutputDimensions)(a).d[..4], [1, 2, 6, 6]);
        assert_eq!((r.getResizeMode)(a), 0);
        // Linear, by output dimensions: 3x4 → 5x7, then the same with aligned corners.
        let mut linear = Vec::new();
        for align in [false, true] {
            let l = (n.addResize)(s.net, x);
            (r.setOutputDimensions)(l, dims(&[1, 2, 5, 7]));
            (r.setResizeMode)(l, 1);
            (r.setAlignCorners)(l, align);
            assert_eq!((r.getAlignCorners)(l), align);
            assert_eq!((r.getScales)(l, 0, std::ptr::null_mut()), -1);
            linear.push(l);
        }
        s.logger.expect_no_error();
        for l in [a, linear[0], linear[1]] {
            s.mark(output(l));
        }
        s.run(&[bytes(&x_data)])
    };
    let x = T::new(c, h, w, &x_data);
    check(
        "nearest",
        &floats(&outs[0]),
        &resize_ref(&x, 6, 6, [2.0, 1.5], false, false).v,
    );
    let scales = [5.0 / 3.0, 7.0 / 4.0];
    check(
        "linear",
        &floats(&outs[1]),
        &resize_ref(&x, 5, 7, scales, true, false).v,
    );
    check(
        "linear, aligned corners",
        &floats(&outs[2]),
        &resize_ref(&x, 5, 7, scales, true, true).v,
    );
}

/// Select with all three inputs broadcast; the unchosen values include an infinity and a NaN,
/// which must not reach the output. Shape gives an INT32 output; fills are generated constants.
#[test]
fn select_shape_and_fill_match_float64() {
    let _g = serial();
    let s = Session::new();
    let n = s.n();
    let mut rng = Rng::new(13);
    let then_data = rng.vec(2 * 2 * 3, -1.0, 1.0);
    let cond: Vec<u8> = vec![1, 0, 1, 0, 0, 1];
    let other = [1.5f32, -2.0, f32::NAN, 4.0, 5.0, f32::INFINITY];
    let y_data = [1.0f32, 2.0, 3.0, 4.0];
    let outs = unsafe {
        let c = s.input("cond", BOOL, &[1, 1, 2, 3]);
        let t = s.input("then", FLOAT, &[1, 2, 2, 3]);
        let y = s.input("y", FLOAT, &[4]);
        let e = (n.addConstant)(s.net, dims(&[1, 2, 1, 3]), weights(&other));
        let sel = (n.addSelect)(s.net, c, t, output(e));
        let shape = (n.addShape)(s.net, t);
        let lin = (n.addFill)(s.net, dims(&[4]), 0);
        let f: &IFillLayerVtbl = vt(lin);
        (f.setAlpha)(lin, 2.0);
        (f.setBeta)(lin, -0.5);
        assert_eq!((f.getBeta)(lin), -0.5);
        let sum = (n.addElementWise)(s.net, y, output(lin), 0);
        let uni = (n.addFill)(s.net, dims(&[1]), 1);
        (f.setDimensions)(uni, dims(&[2, 3]));
        (f.setAlpha)(uni, -1.0);
        (f.setBeta)(uni, 3.0);
        assert_eq!((f.getOperation)(uni), 1);
        assert_eq!((f.getDimensions)(uni).d[..2], [2, 3]);
        s.logger.expect_no_error();
        for l in [sel, shape, sum, uni] {
            s.mark(output(l));
        }
        s.run(&[cond.clone(), bytes(&then_data), bytes(&y_data)])
    };
    let mut want = vec![0.0; 12];
    for ch in 0..2 {
        for i in 0..2 {
            for j in 0..3 {
                let o = (ch * 2 + i) * 3 + j;
                want[o] = if cond[i * 3 + j] != 0 {
                    then_data[o] as f64
                } else {
                    other[ch * 3 + j] as f64
                };
            }
        }
    }
    check("select", &floats(&outs[0]), &want);
    assert_eq!(ints(&outs[1]), [1, 2, 2, 3], "shape");
    let want: Vec<f64> = (0..4)
        .map(|i| y_data[i] as f64 + 2.0 - 0.5 * i as f64)
        .collect();
    check("linspace fill", &floats(&outs[2]), &want);
    let uniform = floats(&outs[3]);
    assert!(
        uniform.iter().all(|v| (-1.0..=3.0).contains(v)),
        "{uniform:?}"
    );
    assert!(uniform.windows(2).any(|p| p[0] != p[1]), "{uniform:?}");
}

/// Three spatial dimensions, enum values outside their range, NULL tensors and scales, and a
/// scale count that does not match the input: an error naming the call, and null or no change.
#[test]
fn unsupported_nd_cases_and_bad_arguments_are_refused() {
    let _g = serial();
    let s = Session::new();
    let n = s.n();
    let w = vec![0.5f32; 2 * 27];
    let b = [0f32; 1];
    unsafe {
        let x = s.input("x", FLOAT, &[1, 2, 3, 4, 5]);
        let l = (n.addConvolutionNd)(s.net, x, 1, dims(&[3, 3, 3]), weights(&w), weights(&b));
        assert!(l.is_null());
        s.logger
            .expect_error("kernelSize with 3 spatial dimensions");
        assert!((n.addPoolingNd)(s.net, x, 0, dims(&[2, 2, 2])).is_null());
        s.logger
            .expect_error("windowSize with 3 spatial dimensions");
        let l = (n.addDeconvolutionNd)(s.net, x, 1, dims(&[3, 3, 3]), weights(&w), weights(&b));
        assert!(l.is_null());
        s.logger.expect_error("addDeconvolutionNd");

        let x4 = s.input("x4", FLOAT, &[1, 2, 4, 4]);
        let conv_w = vec![0.5f32; 2 * 9];
        let l = (n.addConvolutionNd)(s.net, x4, 1, dims(&[3, 3]), weights(&conv_w), weights(&b));
        let cv: &IConvolutionLayerVtbl = vt(l);
        (cv.setKernelSizeNd)(l, dims(&[1, 3, 3]));
        s.logger.expect_error("IConvolutionLayer::setKernelSizeNd");
        assert_eq!((cv.getKernelSizeNd)(l).d[..2], [3, 3]);

        assert!((n.addSelect)(s.net, std::ptr::null_mut(), x4, x4).is_null());
        s.logger.expect_error("argument `condition` is null");
        assert!((n.addShape)(s.net, std::ptr::null_mut()).is_null());
        s.logger.expect_error("addShape");
        assert!((n.addFill)(s.net, dims(&[2, 2]), 0).is_null());
        s.logger.expect_error("linspace");
        assert!((n.addFill)(s.net, dims(&[4]), 9).is_null());
        s.logger.expect_error("FillOperation");
        let fill = (n.addFill)(s.net, dims(&[4]), 1);
        let f: &IFillLayerVtbl = vt(fill);
        (f.setAlpha)(fill, f64::NAN);
        s.logger.expect_error("alpha NaN is not finite");
        assert_eq!((f.getAlpha)(fill), 0.0);

        let r = (n.addResize)(s.net, x4);
        let rv: &IResizeLayerVtbl = vt(r);
        (rv.setResizeMode)(r, 7);
        s.logger.expect_error("ResizeMode");
        (rv.setScales)(r, std::ptr::null(), 4);
        s.logger.expect_error("argument `scales` is null");
        let zero = [1.0f32, 1.0, 0.0, 2.0];
        (rv.setScales)(r, zero.as_ptr(), 4);
        s.logger.expect_error("is not positive");
        // Three scales for four dimensions: the network is inconsistent and the build says where.
        let three = [1.0f32, 2.0, 2.0];
        (rv.setScales)(r, three.as_ptr(), 3);
        s.mark(output(r));
        let builder = s.builder;
        let bv: &IBuilderVtbl = vt(builder);
        let config = (bv.createBuilderConfig)(builder.cast());
        assert!((bv.buildEngineWithConfig)(builder.cast(), s.net, config).is_null());
        s.logger
            .expect_error("3 scales for an input of 4 dimensions");
        (vt::<IBuilderConfigVtbl, _>(config).destroy)(config.cast());
    }
}

/// Shape outputs are INT32 bindings.
#[test]
fn a_shape_output_binding_is_int32() {
    let _g = serial();
    let s = Session::new();
    unsafe {
        let x = s.input("x", FLOAT, &[3, 1, 2]);
        let l = (s.n().addShape)(s.net, x);
        s.mark(output(l));
        let b: &IBuilderVtbl = vt(s.builder);
        let config = (b.createBuilderConfig)(s.builder.cast());
        let engine = (b.buildEngineWithConfig)(s.builder.cast(), s.net, config);
        let e: &ICudaEngineVtbl = vt(engine);
        assert_eq!((e.getBindingDataType)(engine, 1), INT32);
        assert_eq!((e.getBindingDimensions)(engine, 1).d[..1], [3]);
        (e.destroy)(engine);
        (vt::<IBuilderConfigVtbl, _>(config).destroy)(config.cast());
    }
}
