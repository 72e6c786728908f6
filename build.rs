//! Build steps, one function each.

use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    caffe_schema(&out);
    onnx_schema(&out);
    soname();
}

/// Programs linked with `-lnvinfer` (through the libnvinfer.so symlink) record this name, so they
/// find the library again at run time under TensorRT 5's file name.
fn soname() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnvinfer.so.5");
}

/// Compiles the Caffe schema (BVLC `caffe.proto` plus the SSD fields of `ssd.proto`) with protox (no
/// protoc needed): prost code for the parser's typed view, and the encoded descriptor set, which
/// prost-reflect needs at run time to read prototxt (protobuf text format).
fn caffe_schema(out: &Path) {
    const BVLC: &str = "proto/caffe.proto";
    const SSD: &str = "src/parser/caffe/ssd.proto";
    println!("cargo:rerun-if-changed={BVLC}");
    println!("cargo:rerun-if-changed={SSD}");
    let bvlc = std::fs::read_to_string(BVLC).expect("read proto/caffe.proto");
    let ssd = std::fs::read_to_string(SSD).expect("read ssd.proto");
    let (fields, messages) = ssd
        .split_once("// MESSAGES\n")
        .and_then(|(head, msgs)| Some((head.split_once("// FIELDS\n")?.1, msgs)))
        .expect("ssd.proto has // FIELDS and // MESSAGES sections");
    let anchor = "message LayerParameter {\n";
    assert!(bvlc.contains(anchor), "caffe.proto declares LayerParameter");
    let merged = format!(
        "{}\n{messages}",
        bvlc.replacen(anchor, &format!("{anchor}{fields}"), 1)
    );

    let dir = out.join("caffe_proto");
    std::fs::create_dir_all(&dir).expect("create OUT_DIR/caffe_proto");
    std::fs::write(dir.join("caffe.proto"), merged).expect("write merged caffe.proto");
    let mut compiler = protox::Compiler::new([&dir]).expect("protox include path");
    compiler
        .include_imports(true)
        .open_file("caffe.proto")
        .unwrap_or_else(|e| panic!("caffe.proto: {e:?}"));
    std::fs::write(
        out.join("caffe_fds.bin"),
        compiler.encode_file_descriptor_set(),
    )
    .expect("write caffe_fds.bin");
    prost_build::Config::new()
        .out_dir(out)
        .compile_fds(compiler.file_descriptor_set())
        .expect("prost code for caffe.proto");
}

/// Compiles the official ONNX schema (`proto/onnx.proto`, from the `onnx` Python package, IR
/// version 9) into prost code for the ONNX parser; models are binary protobuf, so no descriptor
/// set is needed at run time.
fn onnx_schema(out: &Path) {
    const ONNX: &str = "proto/onnx.proto";
    println!("cargo:rerun-if-changed={ONNX}");
    let mut compiler = protox::Compiler::new(["proto"]).expect("protox include path");
    compiler
        .open_file("onnx.proto")
        .unwrap_or_else(|e| panic!("onnx.proto: {e:?}"));
    prost_build::Config::new()
        .out_dir(out)
        .compile_fds(compiler.file_descriptor_set())
        .expect("prost code for onnx.proto");
}
