//! Model parsers: they turn a model file into the same `Network` calls a user would make.

pub mod caffe;

pub use caffe::{BinaryProtoBlob, BlobNameToTensor, CaffeParser};
pub mod onnx;

pub use onnx::OnnxParser;
