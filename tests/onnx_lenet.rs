//! Issue 9: LeNet exported to ONNX from the Caffe weights (`scripts/caffe_to_onnx.py`) gives the
//! Caffe path's outputs within 1e-6 on 100 MNIST test images, FP32 on the CPU. Skips when the
//! shared data or Python's `onnx` package is absent.

mod caffe_support;

use std::path::Path;
use std::sync::Arc;

use infer8::builder::{BuilderConfig, build_engine};
use infer8::data::mnist;
use infer8::engine::context::{HostBinding, f32_bytes};
use infer8::engine::{ExecutionContext, serialize};
use infer8::logger::NullLogger;
use infer8::network::Network;
use infer8::parser::OnnxParser;

const BATCH: usize = 100;

/// Builds, round-trips the engine through its file format (which must keep the explicit batch),
/// and runs `batch` items.
fn run(net: &Network, batch: usize, images: &[f32]) -> Vec<f32> {
    let config = BuilderConfig {
        max_batch_size: batch,
        ..BuilderConfig::default()
    };
    let built = build_engine(net, &config, None, &NullLogger).unwrap();
    let engine = Arc::new(serialize::from_bytes(&serialize::to_bytes(&built)).unwrap());
    assert_eq!(engine.network.explicit_batch, net.explicit_batch);
    let mut ctx = ExecutionContext::new(engine).unwrap();
    let mut out = vec![0f32; BATCH * 10];
    let mut out_bytes = vec![0u8; out.len() * 4];
    ctx.execute(
        batch,
        &mut [
            HostBinding::Input(f32_bytes(images)),
            HostBinding::Output(&mut out_bytes),
        ],
    )
    .unwrap();
    for (o, b) in out.iter_mut().zip(out_bytes.chunks_exact(4)) {
        *o = f32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    }
    out
}

#[test]
fn onnx_lenet_matches_caffe() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let onnx = dir.join("lenet.onnx");
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/caffe_to_onnx.py"))
        .arg(&data)
        .arg(dir)
        .args(["--model", "lenet", "--batch", &BATCH.to_string()])
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!(
            "skipped: scripts/caffe_to_onnx.py failed (python3 with the onnx package needed)"
        );
        return;
    }
    let m = data.join("mnist");
    let images = mnist::read_images(&m.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let images = images.normalized(0, BATCH);

    let (mut caffe, blobs) = caffe_support::parse(
        &data,
        "lenet/lenet.prototxt",
        "lenet/lenet_iter_10000.caffemodel",
    );
    caffe.mark_output(blobs.find("prob").unwrap()).unwrap();
    let want = run(&caffe, BATCH, &images);

    let mut net = Network::new();
    net.explicit_batch = true;
    let mut parser = OnnxParser::new();
    assert!(
        parser.parse_from_file(&onnx, &mut net, &NullLogger),
        "{:?}",
        parser.errors()
    );
    assert_eq!(net.tensors[net.inputs[0]].shape, [BATCH, 1, 28, 28]);
    let got = run(&net, 1, &images);

    let max_diff = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    println!("LeNet ONNX vs Caffe, {BATCH} images: max |difference| = {max_diff:e}");
    assert!(max_diff <= 1e-6, "max difference {max_diff}");
    let agree = got
        .chunks(10)
        .zip(want.chunks(10))
        .filter(|(a, b)| argmax(a) == argmax(b))
        .count();
    assert_eq!(agree, BATCH);
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}
