//! The layer set of TensorRT 5.1's `INetworkDefinition`, as plain data. A layer's parameters can be
//! changed after it is added (as through `IConvolutionLayer::setStride`); shapes are re-inferred.

use super::plugin::PluginLayer;
use crate::types::*;

/// Height and width, the order of TensorRT's `DimsHW`.
pub type Hw = [usize; 2];

#[derive(Debug, Clone, PartialEq)]
pub struct ConvParams {
    pub nb_output_maps: usize,
    pub kernel: Hw,
    pub stride: Hw,
    /// Explicit padding before and after, per spatial dimension (`setPadding` sets both).
    pub pre_padding: Hw,
    pub post_padding: Hw,
    pub dilation: Hw,
    pub groups: usize,
    pub padding_mode: PaddingMode,
    /// Convolution: `[K, C/groups, kh, kw]`; deconvolution: `[C, K/groups, kh, kw]` (Caffe layouts).
    pub kernel_weights: Weights,
    pub bias: Weights,
}

impl ConvParams {
    pub fn new(nb_output_maps: usize, kernel: Hw, kernel_weights: Weights, bias: Weights) -> Self {
        ConvParams {
            nb_output_maps,
            kernel,
            stride: [1, 1],
            pre_padding: [0, 0],
            post_padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            padding_mode: PaddingMode::ExplicitRoundDown,
            kernel_weights,
            bias,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoolParams {
    pub kind: PoolingType,
    pub window: Hw,
    pub stride: Hw,
    pub pre_padding: Hw,
    pub post_padding: Hw,
    pub padding_mode: PaddingMode,
    /// Weight of max in `MaxAverageBlend`: `blend * max + (1 - blend) * average`.
    pub blend_factor: f32,
    pub average_count_excludes_padding: bool,
}

impl PoolParams {
    pub fn new(kind: PoolingType, window: Hw) -> Self {
        PoolParams {
            kind,
            window,
            // TensorRT: the stride defaults to the window size.
            stride: window,
            pre_padding: [0, 0],
            post_padding: [0, 0],
            padding_mode: PaddingMode::ExplicitRoundDown,
            blend_factor: 0.0,
            average_count_excludes_padding: true,
        }
    }
}

/// Shuffle: first transpose, then reshape (0 copies the input dimension, -1 is inferred), then a
/// second transpose.
#[derive(Debug, Clone, PartialEq)]
pub struct ShuffleParams {
    pub first_transpose: Vec<usize>,
    pub reshape: Option<Vec<i64>>,
    pub second_transpose: Vec<usize>,
}

/// `IResizeLayer`: the output size comes from `output` when set, else from `scales` (one per
/// dimension, `floor(input * scale)`); with neither, the output is the input's size.
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeParams {
    pub output: Option<Shape>,
    pub scales: Option<Vec<f32>>,
    pub mode: ResizeMode,
    pub align_corners: bool,
}

/// `IFillLayer`: linspace gives `alpha + beta * i` along its one dimension; random uniform draws
/// from `[alpha, beta]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FillParams {
    pub dims: Shape,
    pub op: FillOperation,
    pub alpha: f64,
    pub beta: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LayerKind {
    Convolution(ConvParams),
    Deconvolution(ConvParams),
    Pooling(PoolParams),
    FullyConnected {
        nb_outputs: usize,
        kernel: Weights,
        bias: Weights,
    },
    Activation {
        kind: ActivationType,
        alpha: f32,
        beta: f32,
    },
    /// Inputs: data, slopes (broadcast like an element-wise product).
    ParametricRelu,
    Lrn {
        window: usize,
        alpha: f32,
        beta: f32,
        k: f32,
    },
    Scale {
        mode: ScaleMode,
        shift: Weights,
        scale: Weights,
        power: Weights,
    },
    /// Bit mask over the non-batch axes.
    SoftMax {
        axes: u32,
    },
    Concatenation {
        axis: usize,
    },
    ElementWise {
        op: ElementWiseOperation,
    },
    Unary {
        op: UnaryOperation,
    },
    /// Pads (negative values crop) the last two dimensions.
    Padding {
        pre: [i64; 2],
        post: [i64; 2],
    },
    Shuffle(ShuffleParams),
    Constant {
        dims: Shape,
        weights: Weights,
    },
    Identity,
    Slice {
        start: Vec<i64>,
        size: Vec<usize>,
        stride: Vec<i64>,
    },
    Reduce {
        op: ReduceOperation,
        axes: u32,
        keep_dims: bool,
    },
    /// Outputs: values, indices (INT32).
    TopK {
        op: TopKOperation,
        k: usize,
        axes: u32,
    },
    MatrixMultiply {
        op0: MatrixOperation,
        op1: MatrixOperation,
    },
    /// Inputs: data, indices (INT32).
    Gather {
        axis: usize,
    },
    /// Inputs: condition (non-zero is true), then, else; broadcast like an element-wise operation.
    Select,
    // The builder lowers these three to the kinds above before an engine is assembled
    // (`builder::lower`): they exist so that their parameters stay editable until the build.
    Resize(ResizeParams),
    /// The input's dimensions as a 1D INT32 tensor.
    Shape,
    Fill(FillParams),
    /// A layer the application implements (`addPlugin`, `addPluginExt`, `addPluginV2`).
    Plugin(PluginLayer),
}

impl LayerKind {
    pub fn layer_type(&self) -> LayerType {
        match self {
            LayerKind::Convolution(_) => LayerType::Convolution,
            LayerKind::Deconvolution(_) => LayerType::Deconvolution,
            LayerKind::Pooling(_) => LayerType::Pooling,
            LayerKind::FullyConnected { .. } => LayerType::FullyConnected,
            LayerKind::Activation { .. } => LayerType::Activation,
            LayerKind::ParametricRelu => LayerType::ParametricRelu,
            LayerKind::Lrn { .. } => LayerType::Lrn,
            LayerKind::Scale { .. } => LayerType::Scale,
            LayerKind::SoftMax { .. } => LayerType::SoftMax,
            LayerKind::Concatenation { .. } => LayerType::Concatenation,
            LayerKind::ElementWise { .. } => LayerType::ElementWise,
            LayerKind::Unary { .. } => LayerType::Unary,
            LayerKind::Padding { .. } => LayerType::Padding,
            LayerKind::Shuffle(_) => LayerType::Shuffle,
            LayerKind::Constant { .. } => LayerType::Constant,
            LayerKind::Identity => LayerType::Identity,
            LayerKind::Slice { .. } => LayerType::Slice,
            LayerKind::Reduce { .. } => LayerType::Reduce,
            LayerKind::TopK { .. } => LayerType::TopK,
            LayerKind::MatrixMultiply { .. } => LayerType::MatrixMultiply,
            LayerKind::Gather { .. } => LayerType::Gather,
            LayerKind::Select => LayerType::Select,
            LayerKind::Resize(_) => LayerType::Resize,
            LayerKind::Shape => LayerType::Shape,
            LayerKind::Fill(_) => LayerType::Fill,
            LayerKind::Plugin(p) if p.is_v2() => LayerType::PluginV2,
            LayerKind::Plugin(_) => LayerType::Plugin,
        }
    }

    /// TensorRT's default layer names look like `(Unnamed Layer* 3) [Convolution]`.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerKind::Convolution(_) => "Convolution",
            LayerKind::Deconvolution(_) => "Deconvolution",
            LayerKind::Pooling(_) => "Pooling",
            LayerKind::FullyConnected { .. } => "Fully Connected",
            LayerKind::Activation { .. } => "Activation",
            LayerKind::ParametricRelu => "ParametricReLU",
            LayerKind::Lrn { .. } => "LRN",
            LayerKind::Scale { .. } => "Scale",
            LayerKind::SoftMax { .. } => "Softmax",
            LayerKind::Concatenation { .. } => "Concatenation",
            LayerKind::ElementWise { .. } => "ElementWise",
            LayerKind::Unary { .. } => "Unary",
            LayerKind::Padding { .. } => "Padding",
            LayerKind::Shuffle(_) => "Shuffle",
            LayerKind::Constant { .. } => "Constant",
            LayerKind::Identity => "Identity",
            LayerKind::Slice { .. } => "Slice",
            LayerKind::Reduce { .. } => "Reduce",
            LayerKind::TopK { .. } => "TopK",
            LayerKind::MatrixMultiply { .. } => "Matrix Multiply",
            LayerKind::Gather { .. } => "Gather",
            LayerKind::Select => "Select",
            LayerKind::Resize(_) => "Resize",
            LayerKind::Shape => "Shape",
            LayerKind::Fill(_) => "Fill",
            LayerKind::Plugin(p) if p.is_v2() => "PluginV2",
            LayerKind::Plugin(_) => "Plugin",
        }
    }

    pub fn nb_outputs(&self) -> usize {
        match self {
            LayerKind::TopK { .. } => 2,
            LayerKind::Plugin(p) => p.nb_outputs,
            _ => 1,
        }
    }
}
