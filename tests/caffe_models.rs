//! Real Caffe models through the parser, the builder and the CPU backend (FP32), compared with the
//! OpenCV references in `../shared/data` (see its README, "Reference results").

mod caffe_support;

use caffe_support::{data_dir, parse, read_npy};
use infer8::builder::{BuilderConfig, build_shared};
use infer8::engine::ExecutionContext;
use infer8::engine::context::HostBinding;
use infer8::logger::NullLogger;
use infer8::network::{Network, TensorId};

fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// Builds an FP32 engine for `batch` items with `outputs` marked, runs `input` through it and
/// returns each output's values, in `outputs` order.
fn run(net: &mut Network, outputs: &[TensorId], batch: usize, input: &[f32]) -> Vec<Vec<f32>> {
    for &t in outputs {
        net.mark_output(t).unwrap();
    }
    let config = BuilderConfig { max_batch_size: batch, ..BuilderConfig::default() };
    let engine = build_shared(net, &config, &NullLogger).unwrap();
    let mut cx = ExecutionContext::new(engine.clone()).unwrap();
    let input = to_bytes(input);
    let mut out_bytes: Vec<Vec<u8>> =
        engine.bindings.iter().filter(|b| !b.is_input).map(|b| vec![0u8; batch * b.shape.iter().product::<usize>() * 4]).collect();
    let mut bindings = Vec::new();
    let mut outs = out_bytes.iter_mut();
    for b in &engine.bindings {
        bindings.push(if b.is_input { HostBinding::Input(&input) } else { HostBinding::Output(outs.next().unwrap()) });
    }
    cx.execute(batch, &mut bindings).unwrap();
    drop(bindings);
    let values: Vec<Vec<f32>> =
        out_bytes.iter().map(|b| b.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect()).collect();
    // Bindings list outputs in markOutput order, which is `outputs` order unless a tensor repeats.
    let marked: Vec<TensorId> = engine.bindings.iter().filter(|b| !b.is_input).map(|b| b.tensor).collect();
    assert_eq!(marked.len(), outputs.len());
    values
}

/// Max absolute difference divided by the reference's max absolute value (the README's measure).
fn relative_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    diff / want.iter().map(|v| v.abs()).fold(f32::MIN_POSITIVE, f32::max)
}

/// Runs a model on its saved `input.npy` and compares every saved layer output.
fn check_model(deploy: &str, model: &str, reference: &str) {
    let Some(data) = data_dir() else { return };
    let (mut net, blobs) = parse(&data, deploy, model);
    let dir = data.join("models").join(reference);
    let (in_shape, input) = read_npy(&dir.join("input.npy"));
    // The references use their own input size (and a batch), not the deploy file's.
    let input_t = net.inputs[0];
    net.tensors[input_t].shape = in_shape[1..].to_vec();
    let mut layers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_str().unwrap().to_string())
        .filter(|n| n != "input")
        .collect();
    layers.sort();
    let outputs: Vec<TensorId> =
        layers.iter().map(|l| blobs.layer_output(l).unwrap_or_else(|| panic!("{deploy}: no layer {l}"))).collect();
    let got = run(&mut net, &outputs, in_shape[0], &input);
    for (layer, values) in layers.iter().zip(got) {
        let (_, want) = read_npy(&dir.join(format!("{layer}.npy")));
        let err = relative_error(&values, &want);
        println!("{deploy} {layer}: relative error {err:.2e}");
        assert!(err <= 1e-4, "{deploy} {layer}: relative error {err:.2e}");
    }
}

#[test]
fn cifar10_quick_v1() {
    check_model("cifar10_quick/cifar10_quick.prototxt", "cifar10_quick/cifar10_quick_iter_5000.caffemodel", "cifar10_quick/reference");
}

#[test]
fn cifar10_quick_v2_prototxt() {
    check_model(
        "cifar10_quick/bvlc_master/cifar10_quick.prototxt",
        "cifar10_quick/cifar10_quick_iter_5000.caffemodel",
        "cifar10_quick/reference",
    );
}

#[test]
fn cifar10_full_within_channel_lrn() {
    check_model("cifar10_full/cifar10_full.prototxt", "cifar10_full/cifar10_full_iter_70000.caffemodel", "cifar10_full/reference");
}

#[test]
fn mtcnn_det1() {
    check_model("mtcnn/det1.prototxt", "mtcnn/det1.caffemodel", "mtcnn/reference/mtcnn_det1");
}

#[test]
fn mtcnn_det2() {
    check_model("mtcnn/det2.prototxt", "mtcnn/det2.caffemodel", "mtcnn/reference/mtcnn_det2");
}

#[test]
fn mtcnn_det3() {
    check_model("mtcnn/det3.prototxt", "mtcnn/det3.caffemodel", "mtcnn/reference/mtcnn_det3");
}

#[test]
fn mtcnn_det4() {
    check_model("mtcnn/det4.prototxt", "mtcnn/det4.caffemodel", "mtcnn/reference/mtcnn_det4");
}

/// All 10000 MNIST test images, `pixel * 0.00390625` as in training: top-1 is exactly 9914 and every
/// probability within 1e-5 of OpenCV's.
#[test]
fn lenet_mnist_10000() {
    let Some(data) = data_dir() else { return };
    let (mut net, blobs) = parse(&data, "lenet/lenet.prototxt", "lenet/lenet_iter_10000.caffemodel");
    let mnist = data.join("mnist");
    let images = infer8::data::mnist::read_images(&mnist.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let labels = infer8::data::mnist::read_labels(&mnist.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let input: Vec<f32> = images.pixels.iter().map(|&p| f32::from(p) * 0.00390625).collect();
    let prob = blobs.find("prob").unwrap();
    let got = run(&mut net, &[prob], images.count, &input).remove(0);
    let (_, want) = read_npy(&data.join("models/lenet/reference/lenet_opencv_prob_all10000.npy"));
    let max_diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    let correct = got
        .chunks(10)
        .zip(&labels)
        .filter(|&(p, &l)| p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i) == Some(usize::from(l)))
        .count();
    println!("LeNet: top-1 {correct}/10000, max |prob - reference| {max_diff:.2e}");
    assert!(max_diff <= 1e-5, "max |prob - reference| {max_diff:.2e}");
    assert_eq!(correct, 9914);
}
