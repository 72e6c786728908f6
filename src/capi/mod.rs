//! The C API (`include/infer8.h`, generated from this module by cbindgen): flat functions
//! `infer8_<object>_<verb>` over the core API, for C programs (DESIGN.md, "who uses it" 3).
//!
//! Conventions, the same for every function (style-anchors.md §8.2):
//! - Objects are opaque. Owned ones (builder, network, engine, context, runtime, host memory) are
//!   freed by `infer8_<object>_destroy`, which ignores NULL. Tensors and layers belong to their network.
//! - Every pointer argument may be NULL without harm: the call then fails. Other pointers must be
//!   valid for what the function documents.
//! - A failing call returns NULL, false, -1 (or `nb_dims` -1), writes nothing through its output
//!   pointers, tells the object's logger why, and leaves the message for `infer8_last_error()`.
//! - Enum arguments are `int32_t` values of the `infer8_*` enums; any other value is an error.
//! - Panics inside the library are caught and reported as internal errors.
//!
//! Names are lower case, as C's are; the safety contract of each `unsafe extern "C" fn` is the one
//! stated above, once, rather than on every function.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

pub mod boundary;
pub mod builder;
pub mod caffe;
pub mod calibrator;
pub mod context;
pub mod engine;
pub mod handles;
pub mod host_memory;
pub mod layer;
pub mod limits;
pub mod logger;
pub mod network;
pub mod runtime;
pub mod tensor;
pub mod types;
