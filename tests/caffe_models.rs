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

/// An FP32 engine with some tensors marked as outputs, and a context to run it.
struct Runner {
    cx: ExecutionContext,
    /// Per binding: its volume without the batch.
    volumes: Vec<usize>,
}

impl Runner {
    fn new(net: &mut Network, outputs: &[TensorId], max_batch: usize) -> Runner {
        for &t in outputs {
            net.mark_output(t).unwrap();
        }
        let config = BuilderConfig {
            max_batch_size: max_batch,
            ..BuilderConfig::default()
        };
        let engine = build_shared(net, &config, &NullLogger).unwrap();
        // Bindings are the input, then the outputs in markOutput order.
        let marked: Vec<TensorId> = engine
            .bindings
            .iter()
            .filter(|b| !b.is_input)
            .map(|b| b.tensor)
            .collect();
        assert_eq!(engine.bindings.len(), 1 + outputs.len());
        assert_eq!(marked.len(), outputs.len());
        let volumes = engine
            .bindings
            .iter()
            .map(|b| b.shape.iter().product())
            .collect();
        Runner {
            cx: ExecutionContext::new(engine).unwrap(),
            volumes,
        }
    }

    /// Runs `batch` items of `input`; returns each output's values.
    fn run(&mut self, batch: usize, input: &[f32]) -> Vec<Vec<f32>> {
        let input = to_bytes(input);
        let mut outputs: Vec<Vec<u8>> = self.volumes[1..]
            .iter()
            .map(|v| vec![0u8; batch * v * 4])
            .collect();
        let mut bindings = vec![HostBinding::Input(&input)];
        bindings.extend(outputs.iter_mut().map(|o| HostBinding::Output(o)));
        self.cx.execute(batch, &mut bindings).unwrap();
        drop(bindings);
        outputs
            .iter()
            .map(|b| {
                b.chunks_exact(4)
                    .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
            .collect()
    }
}

/// Max absolute difference divided by the reference's max absolute value (the README's measure).
fn relative_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let diff = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    diff / want
        .iter()
        .map(|v| v.abs())
        .fold(f32::MIN_POSITIVE, f32::max)
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
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .filter(|n| n != "input")
        .collect();
    layers.sort();
    let outputs: Vec<TensorId> = layers
        .iter()
        .map(|l| {
            blobs
                .layer_output(l)
                .unwrap_or_else(|| panic!("{deploy}: no layer {l}"))
        })
        .collect();
    let got = Runner::new(&mut net, &outputs, in_shape[0]).run(in_shape[0], &input);
    for (layer, values) in layers.iter().zip(got) {
        let (_, want) = read_npy(&dir.join(format!("{layer}.npy")));
        let err = relative_error(&values, &want);
        println!("{deploy} {layer}: relative error {err:.2e}");
        assert!(err <= 1e-4, "{deploy} {layer}: relative error {err:.2e}");
    }
}

#[test]
fn cifar10_quick_v1() {
    check_model(
        "cifar10_quick/cifar10_quick.prototxt",
        "cifar10_quick/cifar10_quick_iter_5000.caffemodel",
        "cifar10_quick/reference",
    );
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
    check_model(
        "cifar10_full/cifar10_full.prototxt",
        "cifar10_full/cifar10_full_iter_70000.caffemodel",
        "cifar10_full/reference",
    );
}

#[test]
fn mtcnn_det1() {
    check_model(
        "mtcnn/det1.prototxt",
        "mtcnn/det1.caffemodel",
        "mtcnn/reference/mtcnn_det1",
    );
}

#[test]
fn mtcnn_det2() {
    check_model(
        "mtcnn/det2.prototxt",
        "mtcnn/det2.caffemodel",
        "mtcnn/reference/mtcnn_det2",
    );
}

#[test]
fn mtcnn_det3() {
    check_model(
        "mtcnn/det3.prototxt",
        "mtcnn/det3.caffemodel",
        "mtcnn/reference/mtcnn_det3",
    );
}

#[test]
fn mtcnn_det4() {
    check_model(
        "mtcnn/det4.prototxt",
        "mtcnn/det4.caffemodel",
        "mtcnn/reference/mtcnn_det4",
    );
}

/// All 10000 MNIST test images, `pixel * 0.00390625` as in training (the reference) and `pixel / 255`
/// (TensorRT's sampleINT8): top-1 is exactly 9914 both ways, and every probability of the first is
/// within 1e-5 of OpenCV's.
#[test]
fn lenet_mnist_10000() {
    let Some(data) = data_dir() else { return };
    let (mut net, blobs) = parse(
        &data,
        "lenet/lenet.prototxt",
        "lenet/lenet_iter_10000.caffemodel",
    );
    let mnist = data.join("mnist");
    let images =
        infer8::data::mnist::read_images(&mnist.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let labels =
        infer8::data::mnist::read_labels(&mnist.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    const BATCH: usize = 500;
    let mut runner = Runner::new(&mut net, &[blobs.find("prob").unwrap()], BATCH);
    let mut classify = |scale: f32| -> Vec<f32> {
        let input: Vec<f32> = images
            .pixels
            .iter()
            .map(|&p| f32::from(p) * scale)
            .collect();
        input
            .chunks(BATCH * 28 * 28)
            .flat_map(|chunk| runner.run(chunk.len() / (28 * 28), chunk).remove(0))
            .collect()
    };
    let top1 = |prob: &[f32]| {
        prob.chunks(10)
            .zip(&labels)
            .filter(|&(p, &l)| {
                p.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, _)| i)
                    == Some(usize::from(l))
            })
            .count()
    };
    let prob = classify(0.00390625);
    let (_, want) = read_npy(&data.join("models/lenet/reference/lenet_opencv_prob_all10000.npy"));
    let max_diff = prob
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let div255 = classify(1.0 / 255.0);
    println!(
        "LeNet: top-1 {}/10000 (/255: {}), max |prob - reference| {max_diff:.2e}",
        top1(&prob),
        top1(&div255)
    );
    assert!(max_diff <= 1e-5, "max |prob - reference| {max_diff:.2e}");
    assert_eq!(top1(&prob), 9914);
    assert_eq!(top1(&div255), 9914);
}
