//! TensorRT's enums and value types, with the integer values of its headers, so the ABI layers can
//! convert checked integers (never transmute) and the engine file can store them.

/// Defines a `#[repr(i32)]` enum with TensorRT's values and a checked `from_i32`.
macro_rules! trt_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum $name { $($variant = $value),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn from_i32(v: i32) -> Option<Self> {
                match v {
                    $(x if x == $value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

trt_enum!(DataType { Float = 0, Half = 1, Int8 = 2, Int32 = 3, Bool = 4 });

impl DataType {
    pub fn size(self) -> usize {
        match self {
            DataType::Float | DataType::Int32 => 4,
            DataType::Half => 2,
            DataType::Int8 | DataType::Bool => 1,
        }
    }
}

trt_enum!(ActivationType {
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
});

trt_enum!(PoolingType { Max = 0, Average = 1, MaxAverageBlend = 2 });

trt_enum!(PaddingMode {
    ExplicitRoundDown = 0,
    ExplicitRoundUp = 1,
    SameUpper = 2,
    SameLower = 3,
    CaffeRoundDown = 4,
    CaffeRoundUp = 5,
});

trt_enum!(ScaleMode { Uniform = 0, Channel = 1, Elementwise = 2 });

trt_enum!(ElementWiseOperation {
    Sum = 0,
    Prod = 1,
    Max = 2,
    Min = 3,
    Sub = 4,
    Div = 5,
    Pow = 6,
    FloorDiv = 7,
});

trt_enum!(UnaryOperation {
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
});

trt_enum!(ReduceOperation { Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4 });

trt_enum!(TopKOperation { Max = 0, Min = 1 });

trt_enum!(MatrixOperation { None = 0, Transpose = 1, Vector = 2 });

trt_enum!(LayerType {
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
});

trt_enum!(ResizeMode { Nearest = 0, Linear = 1 });

trt_enum!(FillOperation { Linspace = 0, RandomUniform = 1 });

trt_enum!(CalibrationAlgoType { Legacy = 0, Entropy = 1, Entropy2 = 2, MinMax = 3 });

trt_enum!(TensorLocation { Device = 0, Host = 1 });

/// Non-batch dimensions of a tensor (implicit batch mode: the batch is never part of them).
pub type Shape = Vec<usize>;

pub fn volume(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Layer weights, owned. TensorRT holds the caller's pointer until the build; copying at the call is
/// the safe equivalent (the caller may free them as soon as the build is done either way).
/// Values are stored as f32 whatever type they came in; `dtype` remembers that type (FP16 weights
/// stay exactly representable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Weights {
    pub dtype: Option<DataType>,
    pub values: Vec<f32>,
}

impl Weights {
    pub fn new(values: Vec<f32>) -> Self {
        Weights {
            dtype: Some(DataType::Float),
            values,
        }
    }

    pub fn empty() -> Self {
        Weights::default()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
