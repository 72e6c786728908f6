//! The layer subclass interfaces. Every vtable here embeds [`ILayerVtbl`](super::layer::ILayerVtbl)
//! first; the functions reach the core layer through `layer::read` / `layer::edit`.

use std::ffi::c_void;

use super::layer::PLAIN;
use super::plugin_layer;
use crate::network::LayerKind;

/// The parameters of a layer kind. The vtable guarantees the kind, so a mismatch is a library bug,
/// reported as an error rather than a panic.
macro_rules! params {
    ($k:expr, $pat:pat => $out:expr) => {
        match $k {
            $pat => Ok($out),
            _ => Err($crate::error::Error::Runtime(
                "the layer object does not match its layer kind".into(),
            )),
        }
    };
}

pub mod convolution;
pub mod fill;
pub mod pointwise;
pub mod pooling;
pub mod resize;
pub mod shape;

fn ptr<T>(v: &'static T) -> *const c_void {
    (v as *const T).cast()
}

/// The vtable and C++ interface name for a layer kind.
pub fn vtable_of(kind: &LayerKind) -> (*const c_void, &'static str) {
    match kind {
        LayerKind::Convolution(_) => (ptr(&convolution::CONVOLUTION), "IConvolutionLayer"),
        LayerKind::Deconvolution(_) => (ptr(&convolution::DECONVOLUTION), "IDeconvolutionLayer"),
        LayerKind::Pooling(_) => (ptr(&pooling::POOLING), "IPoolingLayer"),
        LayerKind::FullyConnected { .. } => {
            (ptr(&pointwise::FULLY_CONNECTED), "IFullyConnectedLayer")
        }
        LayerKind::Activation { .. } => (ptr(&pointwise::ACTIVATION), "IActivationLayer"),
        LayerKind::Lrn { .. } => (ptr(&pointwise::LRN), "ILRNLayer"),
        LayerKind::Scale { .. } => (ptr(&pointwise::SCALE), "IScaleLayer"),
        LayerKind::SoftMax { .. } => (ptr(&pointwise::SOFTMAX), "ISoftMaxLayer"),
        LayerKind::Concatenation { .. } => (ptr(&pointwise::CONCATENATION), "IConcatenationLayer"),
        LayerKind::ElementWise { .. } => (ptr(&pointwise::ELEMENT_WISE), "IElementWiseLayer"),
        LayerKind::Unary { .. } => (ptr(&pointwise::UNARY), "IUnaryLayer"),
        LayerKind::Padding { .. } => (ptr(&shape::PADDING), "IPaddingLayer"),
        LayerKind::Shuffle(_) => (ptr(&shape::SHUFFLE), "IShuffleLayer"),
        LayerKind::Constant { .. } => (ptr(&shape::CONSTANT), "IConstantLayer"),
        LayerKind::Slice { .. } => (ptr(&shape::SLICE), "ISliceLayer"),
        LayerKind::Reduce { .. } => (ptr(&shape::REDUCE), "IReduceLayer"),
        LayerKind::TopK { .. } => (ptr(&shape::TOP_K), "ITopKLayer"),
        LayerKind::MatrixMultiply { .. } => (ptr(&shape::MATRIX_MULTIPLY), "IMatrixMultiplyLayer"),
        LayerKind::Gather { .. } => (ptr(&shape::GATHER), "IGatherLayer"),
        LayerKind::Identity => (ptr(&PLAIN), "IIdentityLayer"),
        LayerKind::ParametricRelu => (ptr(&PLAIN), "IParametricReLULayer"),
        LayerKind::Select => (ptr(&PLAIN), "ISelectLayer"),
        LayerKind::Shape => (ptr(&PLAIN), "IShapeLayer"),
        LayerKind::Resize(_) => (ptr(&resize::RESIZE), "IResizeLayer"),
        LayerKind::Fill(_) => (ptr(&fill::FILL), "IFillLayer"),
        LayerKind::Plugin(p) if p.is_v2() => (ptr(&plugin_layer::PLUGIN_V2), "IPluginV2Layer"),
        LayerKind::Plugin(_) => (ptr(&plugin_layer::PLUGIN), "IPluginLayer"),
    }
}

/// Whether `v` is one of the layer vtables (identifies `ILayer*` arguments).
pub fn is_layer_vtable(v: *const c_void) -> bool {
    [
        ptr(&convolution::CONVOLUTION),
        ptr(&convolution::DECONVOLUTION),
        ptr(&pooling::POOLING),
        ptr(&pointwise::FULLY_CONNECTED),
        ptr(&pointwise::ACTIVATION),
        ptr(&pointwise::LRN),
        ptr(&pointwise::SCALE),
        ptr(&pointwise::SOFTMAX),
        ptr(&pointwise::CONCATENATION),
        ptr(&pointwise::ELEMENT_WISE),
        ptr(&pointwise::UNARY),
        ptr(&shape::PADDING),
        ptr(&shape::SHUFFLE),
        ptr(&shape::CONSTANT),
        ptr(&shape::SLICE),
        ptr(&shape::REDUCE),
        ptr(&shape::TOP_K),
        ptr(&shape::MATRIX_MULTIPLY),
        ptr(&shape::GATHER),
        ptr(&resize::RESIZE),
        ptr(&fill::FILL),
        ptr(&PLAIN),
        ptr(&plugin_layer::PLUGIN),
        ptr(&plugin_layer::PLUGIN_V2),
    ]
    .contains(&v)
}
