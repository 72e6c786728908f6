//! infer8: TensorRT's legacy inference API (4-7, implicit batch), in Rust. See DESIGN.md.

pub mod abi;
pub mod backend;
pub mod builder;
pub mod calib;
pub mod capi;
pub mod data;
pub mod engine;
pub mod error;
pub mod limits;
pub mod logger;
pub mod network;
pub mod parser;
pub mod types;
