//! Input data the samples, tools and tests share: MNIST IDX files and TensorRT's batch files.

pub mod batch_file;
pub mod mnist;
