//! A builder with an explicit-batch network, driven through the vtables as compiled C++ drives
//! it, and the byte conversions of bindings: shared by the TensorRT 7 layer and shape tests.

use std::ffi::{CString, c_void};

use super::{TestLogger, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::builder_config::IBuilderConfigVtbl;
use infer8::abi::context::IExecutionContextVtbl;
use infer8::abi::dims::{Dims, RawWeights};
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::layer::{ILayerVtbl, LayerObj};
use infer8::abi::network::{INetworkDefinitionVtbl, NetworkObj};
use infer8::abi::tensor::TensorObj;

pub const FLOAT: i32 = 0;
pub const INT32: i32 = 3;
pub const BOOL: i32 = 4;

pub type Net = *mut NetworkObj;
pub type Tensor = *mut TensorObj;
pub type Layer = *mut LayerObj;

pub fn dims(v: &[i32]) -> Dims {
    Dims::from_values(v)
}

/// Weights that borrow `v`: the network copies them when the layer is added.
pub fn weights(v: &[f32]) -> RawWeights {
    RawWeights {
        type_: FLOAT,
        values: v.as_ptr().cast(),
        count: v.len() as i64,
    }
}

pub fn output(layer: Layer) -> Tensor {
    let l: &ILayerVtbl = vt(layer);
    unsafe { (l.getOutput)(layer, 0) }
}

/// A builder and an explicit-batch network, destroyed on drop.
pub struct Session {
    pub logger: &'static TestLogger,
    pub builder: *mut c_void,
    pub net: Net,
}

impl Session {
    pub fn new() -> Session {
        let logger = TestLogger::new();
        let builder = unsafe { createInferBuilder_INTERNAL(logger.ptr(), 7000) };
        let b: &IBuilderVtbl = vt(builder);
        let net = unsafe { (b.createNetworkV2)(builder.cast(), 1) };
        Session {
            logger,
            builder,
            net,
        }
    }

    pub fn n(&self) -> &'static INetworkDefinitionVtbl {
        vt(self.net)
    }

    pub fn input(&self, name: &str, dtype: i32, shape: &[i32]) -> Tensor {
        let name = CString::new(name).unwrap();
        unsafe { (self.n().addInput)(self.net, name.as_ptr(), dtype, dims(shape)) }
    }

    pub fn mark(&self, t: Tensor) {
        unsafe { (self.n().markOutput)(self.net, t) };
        self.logger.expect_no_error();
    }

    /// Builds, binds `inputs` (raw bytes, `addInput` order) and returns every output's bytes.
    pub fn run(&self, inputs: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let b: &IBuilderVtbl = vt(self.builder);
        unsafe {
            let config = (b.createBuilderConfig)(self.builder.cast());
            let engine = (b.buildEngineWithConfig)(self.builder.cast(), self.net, config);
            self.logger.expect_no_error();
            let e: &ICudaEngineVtbl = vt(engine);
            let mut outputs: Vec<Vec<u8>> = Vec::new();
            for i in inputs.len() as i32..(e.getNbBindings)(engine) {
                let d = (e.getBindingDimensions)(engine, i);
                let n: usize = d.d[..d.nb_dims as usize].iter().product::<i32>() as usize;
                let size = if (e.getBindingDataType)(engine, i) == BOOL {
                    1
                } else {
                    4
                };
                outputs.push(vec![0xAB; n * size]);
            }
            let ctx = (e.createExecutionContext)(engine);
            let cx: &IExecutionContextVtbl = vt(ctx);
            let mut bindings: Vec<*mut c_void> = inputs
                .iter()
                .map(|v| v.as_ptr().cast_mut().cast())
                .chain(outputs.iter_mut().map(|v| v.as_mut_ptr().cast()))
                .collect();
            assert!((cx.executeV2)(ctx, bindings.as_mut_ptr()));
            self.logger.expect_no_error();
            (cx.destroy)(ctx);
            (e.destroy)(engine);
            let c: &IBuilderConfigVtbl = vt(config);
            (c.destroy)(config.cast());
            outputs
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let b: &IBuilderVtbl = vt(self.builder);
        unsafe {
            (self.n().destroy)(self.net);
            (b.destroy)(self.builder.cast());
        }
    }
}

pub fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

pub fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

pub fn ints(b: &[u8]) -> Vec<i32> {
    b.chunks_exact(4)
        .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

/// Both files' bound: the largest error relative to the largest reference magnitude.
pub const TOLERANCE: f64 = 1e-5;

/// Relative error of `got` against a float64 reference, asserted within [`TOLERANCE`].
pub fn check(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: element count");
    let scale = want.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(want)
        .map(|(&g, &w)| (g as f64 - w).abs())
        .fold(0.0, f64::max)
        / scale;
    assert!(err <= TOLERANCE, "{what}: relative error {err:e}");
}
