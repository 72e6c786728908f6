//! Value types and enum constants of the C API. Functions take enums as `int32_t` and check them with
//! the core types' `from_i32` (a C caller can pass any integer, and an invalid discriminant in a Rust
//! enum is undefined behaviour); the enums below exist to give C the names and values, which
//! `tests/capi_header.rs` checks against the core types.

use crate::error::{Error, Result};

/// The most dimensions a tensor has (TensorRT's `Dims::MAX_DIMS`).
pub const INFER8_MAX_DIMS: usize = 8;

/// Dimensions without the batch (implicit batch). `nb_dims` is -1 in a value returned on error.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct infer8_dims {
    pub nb_dims: i32,
    pub d: [i32; INFER8_MAX_DIMS],
}

impl infer8_dims {
    pub const INVALID: infer8_dims = infer8_dims {
        nb_dims: -1,
        d: [0; INFER8_MAX_DIMS],
    };

    pub fn from_shape(shape: &[usize]) -> Result<infer8_dims> {
        if shape.len() > INFER8_MAX_DIMS {
            crate::bail!(
                Unsupported,
                "{} dimensions do not fit infer8_dims",
                shape.len()
            );
        }
        let mut dims = infer8_dims {
            nb_dims: shape.len() as i32,
            d: [0; INFER8_MAX_DIMS],
        };
        for (o, &s) in dims.d.iter_mut().zip(shape) {
            *o = i32::try_from(s)
                .map_err(|_| Error::Unsupported(format!("dimension {s} does not fit int32_t")))?;
        }
        Ok(dims)
    }
}

/// Reads `nb_dims` positive dimensions from C.
///
/// # Safety
/// `dims` is null or points to `nb_dims` readable values.
pub unsafe fn shape_arg(dims: *const i32, nb_dims: i32, what: &str) -> Result<Vec<usize>> {
    if !(1..=INFER8_MAX_DIMS as i32).contains(&nb_dims) {
        crate::bail!(
            InvalidArgument,
            "{what}: nb_dims = {nb_dims} must be 1 to {INFER8_MAX_DIMS}"
        );
    }
    // SAFETY: the caller's contract.
    let values = unsafe { super::boundary::slice_arg(dims, nb_dims.into(), what) }?;
    values
        .iter()
        .map(|&d| super::boundary::positive_arg(d, what))
        .collect()
}

#[repr(i32)]
pub enum infer8_data_type {
    Float = 0,
    Half = 1,
    Int8 = 2,
    Int32 = 3,
    Bool = 4,
}

/// Severity passed to `infer8_logger.log`.
#[repr(i32)]
pub enum infer8_severity {
    InternalError = 0,
    Error = 1,
    Warning = 2,
    Info = 3,
    Verbose = 4,
}

#[repr(i32)]
pub enum infer8_activation_type {
    Relu = 0,
    Sigmoid = 1,
    Tanh = 2,
    LeakyRelu = 3,
    Elu = 4,
    Selu = 5,
    Softsign = 6,
    Softplus = 7,
    Clip = 8,
    HardSigmoid = 9,
    ScaledTanh = 10,
    ThresholdedRelu = 11,
}

#[repr(i32)]
pub enum infer8_pooling_type {
    Max = 0,
    Average = 1,
    MaxAverageBlend = 2,
}

#[repr(i32)]
pub enum infer8_padding_mode {
    ExplicitRoundDown = 0,
    ExplicitRoundUp = 1,
    SameUpper = 2,
    SameLower = 3,
    CaffeRoundDown = 4,
    CaffeRoundUp = 5,
}

#[repr(i32)]
pub enum infer8_scale_mode {
    Uniform = 0,
    Channel = 1,
    Elementwise = 2,
}

#[repr(i32)]
pub enum infer8_element_wise_operation {
    Sum = 0,
    Prod = 1,
    Max = 2,
    Min = 3,
    Sub = 4,
    Div = 5,
    Pow = 6,
    FloorDiv = 7,
}

#[repr(i32)]
pub enum infer8_unary_operation {
    Exp = 0,
    Log = 1,
    Sqrt = 2,
    Recip = 3,
    Abs = 4,
    Neg = 5,
    Sin = 6,
    Cos = 7,
    Tan = 8,
    Sinh = 9,
    Cosh = 10,
    Asin = 11,
    Acos = 12,
    Atan = 13,
    Asinh = 14,
    Acosh = 15,
    Atanh = 16,
    Ceil = 17,
    Floor = 18,
    Erf = 19,
}

#[repr(i32)]
pub enum infer8_reduce_operation {
    Sum = 0,
    Prod = 1,
    Max = 2,
    Min = 3,
    Avg = 4,
}

#[repr(i32)]
pub enum infer8_top_k_operation {
    Max = 0,
    Min = 1,
}

#[repr(i32)]
pub enum infer8_matrix_operation {
    None = 0,
    Transpose = 1,
    Vector = 2,
}

/// What `infer8_layer_get_type` returns (the values of TensorRT's `LayerType`).
#[repr(i32)]
pub enum infer8_layer_type {
    Convolution = 0,
    FullyConnected = 1,
    Activation = 2,
    Pooling = 3,
    Lrn = 4,
    Scale = 5,
    SoftMax = 6,
    Deconvolution = 7,
    Concatenation = 8,
    ElementWise = 9,
    Plugin = 10,
    Rnn = 11,
    Unary = 12,
    Padding = 13,
    Shuffle = 14,
    Reduce = 15,
    TopK = 16,
    Gather = 17,
    MatrixMultiply = 18,
    RaggedSoftMax = 19,
    Constant = 20,
    RnnV2 = 21,
    Identity = 22,
    PluginV2 = 23,
    Slice = 24,
    Shape = 25,
    ParametricRelu = 26,
    Resize = 27,
    TripLimit = 28,
    Recurrence = 29,
    Iterator = 30,
    LoopOutput = 31,
    Select = 32,
    Fill = 33,
}

#[repr(i32)]
pub enum infer8_calibration_algo_type {
    Legacy = 0,
    Entropy = 1,
    Entropy2 = 2,
    MinMax = 3,
}
