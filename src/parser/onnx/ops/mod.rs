//! One importer per ONNX operator: each reads its node's inputs and attributes and returns the
//! node's outputs, as network tensors or folded constants.

mod conv;
mod layout;
mod matmul;
mod norm;
mod pointwise;
mod pool_taps;
mod quant;
mod reduce;
mod resize;
mod slice;

use super::error::{PResult, bad};
use super::importer::{Importer, Val};
use super::proto::NodeProto;

type Import = fn(&mut Importer, &NodeProto) -> PResult<Vec<Val>>;

const IMPORTERS: &[(&str, Import)] = &[
    ("Abs", pointwise::unary),
    ("Add", pointwise::binary),
    ("AveragePool", conv::pool),
    ("BatchNormalization", norm::batch_norm),
    ("Cast", layout::cast),
    ("Ceil", pointwise::unary),
    ("Clip", pointwise::clip),
    ("Concat", layout::concat),
    ("Constant", layout::constant),
    ("Conv", conv::conv),
    ("ConvTranspose", conv::conv),
    ("Cos", pointwise::unary),
    ("DequantizeLinear", quant::dequantize),
    ("Div", pointwise::binary),
    ("Dropout", layout::identity),
    ("Elu", pointwise::activation),
    ("Erf", pointwise::unary),
    ("Exp", pointwise::unary),
    ("Flatten", layout::flatten),
    ("Floor", pointwise::unary),
    ("Gather", slice::gather),
    ("Gemm", matmul::gemm),
    ("GlobalAveragePool", conv::global_pool),
    ("GlobalMaxPool", conv::global_pool),
    ("HardSigmoid", pointwise::activation),
    ("Identity", layout::identity),
    ("LRN", norm::lrn),
    ("LeakyRelu", pointwise::activation),
    ("Log", pointwise::unary),
    ("LogSoftmax", norm::softmax),
    ("MatMul", matmul::matmul),
    ("Max", pointwise::binary),
    ("MaxPool", conv::pool),
    ("Min", pointwise::binary),
    ("Mul", pointwise::binary),
    ("Neg", pointwise::unary),
    ("PRelu", pointwise::prelu),
    ("Pad", slice::pad),
    ("Pow", pointwise::binary),
    ("QuantizeLinear", quant::quantize),
    ("Reciprocal", pointwise::unary),
    ("ReduceMax", reduce::reduce),
    ("ReduceMean", reduce::reduce),
    ("ReduceMin", reduce::reduce),
    ("ReduceProd", reduce::reduce),
    ("ReduceSum", reduce::reduce),
    ("Relu", pointwise::activation),
    ("Reshape", layout::reshape),
    ("Resize", resize::resize),
    ("Selu", pointwise::activation),
    ("Shape", layout::shape),
    ("Sigmoid", pointwise::activation),
    ("Sin", pointwise::unary),
    ("Slice", slice::slice),
    ("Softmax", norm::softmax),
    ("Softplus", pointwise::activation),
    ("Softsign", pointwise::activation),
    ("Sqrt", pointwise::unary),
    ("Squeeze", layout::squeeze),
    ("Sub", pointwise::binary),
    ("Sum", pointwise::binary),
    ("Tanh", pointwise::activation),
    ("ThresholdedRelu", pointwise::activation),
    ("Transpose", layout::transpose),
    ("Unsqueeze", layout::unsqueeze),
    ("Upsample", resize::resize),
];

pub fn supports(op_type: &str) -> bool {
    IMPORTERS.iter().any(|(name, _)| *name == op_type)
}

pub fn import(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let op = node.op_type();
    let f = IMPORTERS
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, f)| *f)
        .ok_or_else(|| bad!(UnsupportedNode, "operator {op} is not supported"))?;
    f(imp, node)
}
