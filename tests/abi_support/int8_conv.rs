//! The calibrator tests' network: `data [1, 4, 4]` → 3x3 convolution (2 maps) → `out`, built in
//! INT8 through the C++ builder with the application calibrator given.

use std::ffi::c_void;

use super::session::weights;
use super::{TestLogger, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::dims::Dims;
use infer8::abi::layer::ILayerVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::tensor::ITensorVtbl;

const KERNEL: [f32; 18] = [
    0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 0.2, 0.1, -0.3, 0.5, 0.2, 0.1, -0.1, 0.3, 0.6,
];

/// The engine (null on error); the network and builder are destroyed before returning.
///
/// # Safety
/// `calibrator` must be a C++-shaped `IInt8Calibrator` (or subclass) alive during the call.
pub unsafe fn build(logger: &'static TestLogger, calibrator: *const c_void) -> *mut c_void {
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let n: &INetworkDefinitionVtbl = vt(net);
        let data = (n.addInput)(net, c"data".as_ptr(), 0, Dims::from_values(&[1, 4, 4]));
        let conv = (n.addConvolution)(
            net,
            data,
            2,
            Dims::from_values(&[3, 3]),
            weights(&KERNEL),
            weights(&[0.5, -0.5]),
        );
        let out = (vt::<ILayerVtbl, _>(conv).getOutput)(conv, 0);
        (vt::<ITensorVtbl, _>(out).setName)(out, c"out".as_ptr());
        (n.markOutput)(net, out);
        (b.setMaxBatchSize)(builder.cast(), 4);
        (b.setInt8Mode)(builder.cast(), true);
        (b.setInt8Calibrator)(builder.cast(), calibrator.cast_mut());
        let engine = (b.buildCudaEngine)(builder.cast(), net.cast());
        (n.destroy)(net.cast());
        (b.destroy)(builder.cast());
        engine.cast()
    }
}
