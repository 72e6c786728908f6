//! The Caffe schema, compiled by build.rs: prost types for reading models, and the encoded
//! descriptor set that prost-reflect needs to read the text format.

#![allow(dead_code, clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/caffe.rs"));

/// `FileDescriptorSet` of caffe.proto (with the SSD fields), encoded.
pub(super) const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/caffe_fds.bin"));
