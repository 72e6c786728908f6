//! Dynamic shapes through the TensorRT 7 ABI: an explicit-batch input declared with -1
//! dimensions, its range in an `IOptimizationProfile`, the engine built for the maximum and run
//! at two shapes after `setBindingDimensions` (outputs against a float64 reference, relative
//! error at most 1e-5), and through a serialized engine; shapes outside the range, runs before
//! the dimensions are set and networks without a profile are refused with an error.

mod abi_support;

use std::ffi::c_void;

use abi_support::session::*;
use abi_support::{serial, vt};
use infer8::abi::builder::IBuilderVtbl;
use infer8::abi::builder_config::IBuilderConfigVtbl;
use infer8::abi::context::IExecutionContextVtbl;
use infer8::abi::dims::Dims;
use infer8::abi::engine::{EngineObj, ICudaEngineVtbl};
use infer8::abi::host_memory::IHostMemoryVtbl;
use infer8::abi::profile::IOptimizationProfileVtbl;
use infer8::abi::runtime::{IRuntimeVtbl, createInferRuntime_INTERNAL};
use infer8::abi::tensor::ITensorVtbl;

const KMIN: i32 = 0;
const KOPT: i32 = 1;
const KMAX: i32 = 2;

fn values(d: Dims) -> Vec<i32> {
    d.d[..d.nb_dims as usize].to_vec()
}

/// `x [-1, 2, -1, -1]` → 3x3 convolution, 3 maps, padding 1 → ReLU → `y [-1, 3, -1, -1]`.
const W: [f32; 3 * 2 * 9] = {
    let mut w = [0f32; 54];
    let mut i = 0;
    while i < 54 {
        w[i] = ((i * 7 % 11) as f32 - 5.0) / 8.0;
        i += 1;
    }
    w
};
const B: [f32; 3] = [0.25, -0.5, 0.125];

fn reference(x: &[f32], n: usize, h: usize, w: usize) -> Vec<f64> {
    let mut y = vec![0.0; n * 3 * h * w];
    for b in 0..n {
        for (k, &bias) in B.iter().enumerate() {
            for oy in 0..h {
                for ox in 0..w {
                    let mut s = bias as f64;
                    for c in 0..2 {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) =
                                    (oy as i64 + ky as i64 - 1, ox as i64 + kx as i64 - 1);
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                    continue;
                                }
                                let xv = x[((b * 2 + c) * h + iy as usize) * w + ix as usize];
                                s += xv as f64 * W[((k * 2 + c) * 3 + ky) * 3 + kx] as f64;
                            }
                        }
                    }
                    y[((b * 3 + k) * h + oy) * w + ox] = s.max(0.0);
                }
            }
        }
    }
    y
}

/// The network above; returns the input.
fn network(s: &Session) -> Tensor {
    let n = s.n();
    unsafe {
        let x = s.input("x", FLOAT, &[-1, 2, -1, -1]);
        let t: &ITensorVtbl = vt(x);
        assert_eq!(values((t.getDimensions)(x)), [-1, 2, -1, -1]);
        let conv = (n.addConvolutionNd)(s.net, x, 3, dims(&[3, 3]), weights(&W), weights(&B));
        let cv: &infer8::abi::layers::convolution::IConvolutionLayerVtbl = vt(conv);
        (cv.setPaddingNd)(conv, dims(&[1, 1]));
        let relu = (n.addActivation)(s.net, output(conv), 0);
        s.mark(output(relu));
        x
    }
}

/// Builds with one profile (`min`, `opt`, `max` for `x`); null when the build fails.
fn build(s: &Session, range: Option<[&[i32]; 3]>) -> *mut EngineObj {
    let b: &IBuilderVtbl = vt(s.builder);
    unsafe {
        let config = (b.createBuilderConfig)(s.builder.cast());
        let c: &IBuilderConfigVtbl = vt(config);
        if let Some(range) = range {
            let profile = (b.createOptimizationProfile)(s.builder.cast());
            let p: &IOptimizationProfileVtbl = vt(profile);
            for (sel, d) in [KMIN, KOPT, KMAX].into_iter().zip(range) {
                assert!((p.setDimensions)(
                    profile.cast(),
                    c"x".as_ptr(),
                    sel,
                    dims(d)
                ));
            }
            assert_eq!((c.addOptimizationProfile)(config.cast(), profile.cast()), 0);
        }
        let engine = (b.buildEngineWithConfig)(s.builder.cast(), s.net, config);
        (c.destroy)(config.cast());
        engine
    }
}

/// Sets `x` to `shape`, runs, and checks `y` against the reference.
fn run_at(s: &Session, ctx: *mut c_void, shape: [usize; 4]) {
    let cx: &IExecutionContextVtbl = vt(ctx.cast::<u8>());
    let [n, c, h, w] = shape;
    let x: Vec<f32> = (0..n * c * h * w)
        .map(|i| ((i * 13 % 17) as f32 - 8.0) / 4.0)
        .collect();
    let mut y = vec![f32::NAN; n * 3 * h * w];
    unsafe {
        let d = dims(&shape.map(|v| v as i32));
        assert!((cx.setBindingDimensions)(ctx.cast(), 0, d));
        assert!((cx.allInputDimensionsSpecified)(ctx.cast()));
        assert_eq!(
            values((cx.getBindingDimensions)(ctx.cast(), 1)),
            [n as i32, 3, h as i32, w as i32]
        );
        let mut bindings = [
            x.as_ptr().cast_mut().cast::<c_void>(),
            y.as_mut_ptr().cast(),
        ];
        assert!((cx.executeV2)(ctx.cast(), bindings.as_mut_ptr()));
    }
    s.logger.expect_no_error();
    check(&format!("{shape:?}"), &y, &reference(&x, n, h, w));
}

#[test]
fn a_dynamic_input_runs_at_each_shape_of_its_profile() {
    let _g = serial();
    let s = Session::new();
    network(&s);
    let engine = build(&s, Some([&[1, 2, 4, 4], &[1, 2, 6, 6], &[2, 2, 8, 10]]));
    s.logger.expect_no_error();
    let e: &ICudaEngineVtbl = vt(engine);
    unsafe {
        assert_eq!(values((e.getBindingDimensions)(engine, 0)), [-1, 2, -1, -1]);
        assert_eq!(values((e.getBindingDimensions)(engine, 1)), [-1, 3, -1, -1]);
        assert_eq!(
            values((e.getProfileDimensions)(engine, 0, 0, KMIN)),
            [1, 2, 4, 4]
        );
        assert_eq!(
            values((e.getProfileDimensions)(engine, 0, 0, KOPT)),
            [1, 2, 6, 6]
        );
        assert_eq!(
            values((e.getProfileDimensions)(engine, 0, 0, KMAX)),
            [2, 2, 8, 10]
        );

        let ctx = (e.createExecutionContext)(engine);
        let cx: &IExecutionContextVtbl = vt(ctx);
        assert!(!(cx.allInputDimensionsSpecified)(ctx));
        assert_eq!(values((cx.getBindingDimensions)(ctx, 0)), [-1, 2, -1, -1]);
        let mut nothing = [std::ptr::null_mut::<c_void>(); 2];
        assert!(!(cx.executeV2)(ctx, nothing.as_mut_ptr()));
        s.logger
            .expect_error("setBindingDimensions must give them before a run");

        run_at(&s, ctx.cast(), [1, 2, 5, 7]);
        run_at(&s, ctx.cast(), [2, 2, 8, 10]);
        run_at(&s, ctx.cast(), [1, 2, 4, 4]);

        // Outside the range, or a fixed dimension changed: refused, the last shape stays.
        assert!(!(cx.setBindingDimensions)(ctx, 0, dims(&[1, 2, 3, 4])));
        s.logger.expect_error("outside its optimization profile");
        assert!(!(cx.setBindingDimensions)(ctx, 0, dims(&[1, 3, 4, 4])));
        s.logger.expect_error("outside its optimization profile");
        assert!(!(cx.setBindingDimensions)(ctx, 1, dims(&[1, 3, 4, 4])));
        s.logger.expect_error("is an output");
        assert_eq!(values((cx.getBindingDimensions)(ctx, 0)), [1, 2, 4, 4]);
        (cx.destroy)(ctx);

        // The ranges survive serialization.
        let blob = (e.serialize)(engine);
        let h: &IHostMemoryVtbl = vt(blob);
        let runtime = createInferRuntime_INTERNAL(s.logger.ptr(), 7000);
        let r: &IRuntimeVtbl = vt(runtime);
        let copy = (r.deserializeCudaEngine)(
            runtime.cast(),
            (h.data)(blob),
            (h.size)(blob),
            std::ptr::null_mut(),
        );
        s.logger.expect_no_error();
        let e2: &ICudaEngineVtbl = vt(copy);
        assert_eq!(
            values((e2.getProfileDimensions)(copy, 0, 0, KMIN)),
            [1, 2, 4, 4]
        );
        let ctx = (e2.createExecutionContext)(copy);
        run_at(&s, ctx.cast(), [2, 2, 6, 9]);
        (vt::<IExecutionContextVtbl, _>(ctx).destroy)(ctx);
        (e2.destroy)(copy);
        (r.destroy)(runtime.cast());
        (h.destroy)(blob);
        (e.destroy)(engine);
    }
}

#[test]
fn dynamic_inputs_need_a_fitting_profile() {
    let _g = serial();
    let s = Session::new();
    network(&s);
    assert!(build(&s, None).is_null());
    s.logger
        .expect_error("no optimization profile gives their range");
    assert!(build(&s, Some([&[1, 2, 4, 4], &[1, 2, 6, 6], &[1, 3, 8, 8]])).is_null());
    s.logger
        .expect_error("kMAX [1, 3, 8, 8] does not fit its dimensions [-1, 2, -1, -1]");
    // A layer lowered at build time from the built shapes cannot follow a re-plan.
    unsafe {
        let x = (s.n().getInput)(s.net, 0);
        s.mark(output((s.n().addShape)(s.net, x)));
    }
    assert!(build(&s, Some([&[1, 2, 4, 4], &[1, 2, 6, 6], &[2, 2, 8, 10]])).is_null());
    s.logger
        .expect_error("dynamic shapes are not supported with it");
}

#[test]
fn implicit_batch_networks_refuse_minus_one() {
    let _g = serial();
    let logger = abi_support::TestLogger::new();
    unsafe {
        let builder = infer8::abi::builder::createInferBuilder_INTERNAL(logger.ptr(), 7000);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let n: &infer8::abi::network::INetworkDefinitionVtbl = vt(net);
        assert!((n.addInput)(net, c"x".as_ptr(), FLOAT, dims(&[2, -1, 4])).is_null());
        logger.expect_error("need an explicit-batch network");
        assert!((n.addInput)(net, c"x".as_ptr(), FLOAT, dims(&[2, -2, 4])).is_null());
        logger.expect_error("neither positive nor -1");
        (n.destroy)(net);
        (b.destroy)(builder.cast());
    }
}
