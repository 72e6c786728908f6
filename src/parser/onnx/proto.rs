//! The ONNX schema (`proto/onnx.proto`), compiled by build.rs into prost types.

#![allow(dead_code, clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
