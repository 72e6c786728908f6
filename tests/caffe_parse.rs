//! The Caffe parser on the real models in `../shared/data` (LeNet, CIFAR-10 in V1 and V2 form,
//! MTCNN) and on malformed inputs, which must give errors that say what is wrong.

mod caffe_support;

use caffe_support::{data_dir, parse, read_npy};
use infer8::network::{LayerKind, Network};
use infer8::parser::CaffeParser;
use infer8::types::{DataType, PaddingMode};

/// Deploy file, caffemodel, number of network layers, and output blobs with their shapes.
type Case = (
    &'static str,
    &'static str,
    usize,
    &'static [(&'static str, &'static [usize])],
);

const CASES: &[Case] = &[
    (
        "lenet/lenet.prototxt",
        "lenet/lenet_iter_10000.caffemodel",
        8,
        &[("prob", &[10, 1, 1])],
    ),
    (
        "cifar10_quick/cifar10_quick.prototxt",
        "cifar10_quick/cifar10_quick_iter_5000.caffemodel",
        12,
        &[("prob", &[10, 1, 1])],
    ),
    (
        "cifar10_quick/bvlc_master/cifar10_quick.prototxt",
        "cifar10_quick/cifar10_quick_iter_5000.caffemodel",
        12,
        &[("prob", &[10, 1, 1])],
    ),
    // Each WITHIN_CHANNEL LRN is 4 layers.
    (
        "cifar10_full/cifar10_full.prototxt",
        "cifar10_full/cifar10_full_iter_70000.caffemodel",
        19,
        &[("prob", &[10, 1, 1])],
    ),
    (
        "cifar10_full/bvlc_master/cifar10_full.prototxt",
        "cifar10_full/cifar10_full_iter_70000.caffemodel",
        19,
        &[("prob", &[10, 1, 1])],
    ),
    // Each PReLU is a constant and a ParametricReLU.
    (
        "mtcnn/det1.prototxt",
        "mtcnn/det1.caffemodel",
        13,
        &[("prob1", &[2, 1, 1]), ("conv4-2", &[4, 1, 1])],
    ),
    (
        "mtcnn/det2.prototxt",
        "mtcnn/det2.caffemodel",
        17,
        &[("prob1", &[2, 1, 1]), ("conv5-2", &[4, 1, 1])],
    ),
    (
        "mtcnn/det3.prototxt",
        "mtcnn/det3.caffemodel",
        22,
        &[
            ("prob1", &[2, 1, 1]),
            ("conv6-2", &[4, 1, 1]),
            ("conv6-3", &[10, 1, 1]),
        ],
    ),
    // The 15-channel input is sliced into 5 layers.
    (
        "mtcnn/det4.prototxt",
        "mtcnn/det4.caffemodel",
        84,
        &[("fc5_1", &[2, 1, 1]), ("fc5_5", &[2, 1, 1])],
    ),
];

#[test]
fn real_models_parse() {
    let Some(data) = data_dir() else { return };
    for &(deploy, model, layers, outputs) in CASES {
        let (net, blobs) = parse(&data, deploy, model);
        assert_eq!(
            net.layers.len(),
            layers,
            "{deploy}: layers {:?}",
            net.layers.iter().map(|l| &l.name).collect::<Vec<_>>()
        );
        for &(blob, shape) in outputs {
            let t = blobs
                .find(blob)
                .unwrap_or_else(|| panic!("{deploy}: no blob {blob}"));
            assert_eq!(net.tensors[t].shape, shape, "{deploy}: {blob}");
            assert_eq!(net.tensors[t].name, blob);
        }
    }
}

/// Every saved reference tensor's layer exists and has the reference's size (batch excluded).
#[test]
fn reference_tensors_match_layer_shapes() {
    let Some(data) = data_dir() else { return };
    let refs = [
        (
            "cifar10_quick/cifar10_quick.prototxt",
            "cifar10_quick/cifar10_quick_iter_5000.caffemodel",
            "cifar10_quick/reference",
        ),
        (
            "cifar10_full/cifar10_full.prototxt",
            "cifar10_full/cifar10_full_iter_70000.caffemodel",
            "cifar10_full/reference",
        ),
        (
            "mtcnn/det2.prototxt",
            "mtcnn/det2.caffemodel",
            "mtcnn/reference/mtcnn_det2",
        ),
        (
            "mtcnn/det3.prototxt",
            "mtcnn/det3.caffemodel",
            "mtcnn/reference/mtcnn_det3",
        ),
        (
            "mtcnn/det4.prototxt",
            "mtcnn/det4.caffemodel",
            "mtcnn/reference/mtcnn_det4",
        ),
    ];
    for (deploy, model, dir) in refs {
        let (net, blobs) = parse(&data, deploy, model);
        for entry in std::fs::read_dir(data.join("models").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let layer = path.file_stem().unwrap().to_str().unwrap().to_string();
            if layer == "input" {
                continue;
            }
            let (shape, _) = read_npy(&path);
            let t = blobs
                .layer_output(&layer)
                .unwrap_or_else(|| panic!("{deploy}: no layer {layer}"));
            let got: usize = net.tensors[t].shape.iter().product();
            assert_eq!(
                got,
                shape[1..].iter().product::<usize>(),
                "{deploy}: {layer} {:?} vs {shape:?}",
                net.tensors[t].shape
            );
        }
    }
}

#[test]
fn lenet_maps_as_tensorrt() {
    let Some(data) = data_dir() else { return };
    let (net, blobs) = parse(
        &data,
        "lenet/lenet.prototxt",
        "lenet/lenet_iter_10000.caffemodel",
    );
    let data_t = blobs.find("data").unwrap();
    assert!(net.is_input(data_t));
    assert_eq!(net.tensors[data_t].shape, [1, 28, 28]);
    let names: Vec<&str> = net.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "prob"
        ]
    );
    match &net.layers[0].kind {
        LayerKind::Convolution(p) => {
            assert_eq!(p.padding_mode, PaddingMode::CaffeRoundDown);
            assert_eq!(
                (
                    p.nb_output_maps,
                    p.kernel,
                    p.kernel_weights.len(),
                    p.bias.len()
                ),
                (20, [5, 5], 500, 20)
            );
        }
        k => panic!("conv1 is {k:?}"),
    }
    match &net.layers[1].kind {
        LayerKind::Pooling(p) => assert!(
            p.padding_mode == PaddingMode::CaffeRoundUp && !p.average_count_excludes_padding
        ),
        k => panic!("pool1 is {k:?}"),
    }
    // relu1 is in place on ip1: the blob name goes to the ReLU's output, ip1's keeps its default.
    let ip1 = blobs.layer_output("ip1").unwrap();
    assert_eq!(blobs.find("ip1"), blobs.layer_output("relu1"));
    assert!(
        net.tensors[ip1].name.starts_with("(Unnamed Layer* 4)"),
        "{}",
        net.tensors[ip1].name
    );
}

#[test]
fn fp16_weights_are_rounded() {
    let Some(data) = data_dir() else { return };
    let models = data.join("models");
    let mut net = Network::new();
    CaffeParser::new()
        .parse(
            &models.join("lenet/lenet.prototxt"),
            Some(&models.join("lenet/lenet_iter_10000.caffemodel")),
            &mut net,
            DataType::Half,
        )
        .unwrap();
    let LayerKind::Convolution(p) = &net.layers[0].kind else {
        panic!()
    };
    assert_eq!(p.kernel_weights.dtype, Some(DataType::Half));
    assert!(
        p.kernel_weights
            .values
            .iter()
            .all(|&v| half::f16::from_f32(v).to_f32() == v)
    );
}

fn parse_err(deploy: &str, model: Option<&[u8]>) -> String {
    let mut net = Network::new();
    CaffeParser::new()
        .parse_buffers(deploy.as_bytes(), model, &mut net, DataType::Float)
        .unwrap_err()
        .to_string()
}

const TINY: &str = "input: \"data\" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4\n";

#[test]
fn syntax_error_names_line() {
    let msg = parse_err(
        "name: \"n\"\nlayer {\n  name: \"r\"\n  type: \"ReLU\"\n  bottom \"data\"\n}\n",
        None,
    );
    assert!(msg.starts_with("deploy buffer:5:"), "{msg}");
}

#[test]
fn unknown_type_names_layer_and_type() {
    let msg = parse_err(
        &format!(
            "{TINY}layer {{ name: \"odd\" type: \"Frobnicate\" bottom: \"data\" top: \"y\" }}"
        ),
        None,
    );
    assert!(msg.contains("'odd'") && msg.contains("Frobnicate"), "{msg}");
}

#[test]
fn missing_bottom_is_an_error() {
    let msg = parse_err(
        &format!("{TINY}layer {{ name: \"r\" type: \"ReLU\" bottom: \"nowhere\" top: \"y\" }}"),
        None,
    );
    assert!(msg.contains("'r'") && msg.contains("nowhere"), "{msg}");
}

#[test]
fn a_cycle_is_a_missing_bottom() {
    let deploy = format!(
        "{TINY}layer {{ name: \"a\" type: \"ReLU\" bottom: \"b\" top: \"a\" }}\nlayer {{ name: \"b\" type: \"ReLU\" bottom: \"a\" top: \"b\" }}"
    );
    assert!(parse_err(&deploy, None).contains("bottom 'b'"));
}

#[test]
fn duplicate_top_is_an_error_unless_in_place() {
    let deploy = format!(
        "{TINY}layer {{ name: \"a\" type: \"ReLU\" bottom: \"data\" top: \"y\" }}\nlayer {{ name: \"b\" type: \"Sigmoid\" bottom: \"data\" top: \"y\" }}"
    );
    assert!(parse_err(&deploy, None).contains("already produced"));
}

#[test]
fn train_phase_layers_are_skipped() {
    let deploy = format!(
        "{TINY}layer {{ name: \"t\" type: \"Frobnicate\" include {{ phase: TRAIN }} }}\nlayer {{ name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"y\" }}"
    );
    let mut net = Network::new();
    let blobs = CaffeParser::new()
        .parse_buffers(deploy.as_bytes(), None, &mut net, DataType::Float)
        .unwrap();
    assert_eq!(net.layers.len(), 1);
    assert!(blobs.find("y").is_some());
}

fn lenet_bytes() -> Option<(Vec<u8>, Vec<u8>)> {
    let models = data_dir()?.join("models/lenet");
    Some((
        std::fs::read(models.join("lenet.prototxt")).unwrap(),
        std::fs::read(models.join("lenet_iter_10000.caffemodel")).unwrap(),
    ))
}

#[test]
fn truncated_caffemodel_is_an_error() {
    let Some((deploy, model)) = lenet_bytes() else {
        return;
    };
    for cut in [1, 100, model.len() / 2, model.len() - 1] {
        let mut net = Network::new();
        let err = CaffeParser::new()
            .parse_buffers(&deploy, Some(&model[..cut]), &mut net, DataType::Float)
            .unwrap_err();
        assert!(err.to_string().contains("model buffer"), "{err}");
    }
}

#[test]
fn wrong_blob_size_is_an_error() {
    let Some((deploy, model)) = lenet_bytes() else {
        return;
    };
    // conv1 with 21 outputs wants 525 kernel values; the model holds 500.
    let deploy = String::from_utf8(deploy)
        .unwrap()
        .replacen("num_output: 20", "num_output: 21", 1);
    let msg = parse_err(&deploy, Some(&model));
    assert!(
        msg.contains("conv1") && msg.contains("500") && msg.contains("525"),
        "{msg}"
    );
}

#[test]
fn weight_name_mismatch_is_an_error() {
    let Some((deploy, model)) = lenet_bytes() else {
        return;
    };
    let deploy = String::from_utf8(deploy)
        .unwrap()
        .replace("\"ip2\"", "\"ip9\"");
    let msg = parse_err(&deploy, Some(&model));
    assert!(msg.contains("ip9") && msg.contains("mismatch"), "{msg}");
}

#[test]
fn buffer_size_limit() {
    let Some((deploy, model)) = lenet_bytes() else {
        return;
    };
    let mut parser = CaffeParser::new();
    parser.set_protobuf_buffer_size(1000);
    let err = parser
        .parse_buffers(&deploy, Some(&model), &mut Network::new(), DataType::Float)
        .unwrap_err();
    assert!(err.to_string().contains("buffer size"), "{err}");
}

/// Declared sizes far beyond the bytes present fail without allocating what they declare.
#[test]
fn huge_declared_sizes_fail_cleanly() {
    let deploy = format!(
        "{TINY}layer {{ name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" convolution_param {{ num_output: 1 kernel_size: 1 }} }}"
    );
    // NetParameter { layer (100) { name: "c", blobs (7) { shape (7) { dim: 2^40 } } } }, no data.
    let shape = [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
    let mut layer = vec![0x0a, 1, b'c', 0x3a, 9, 0x3a, 7];
    layer.extend(shape);
    let mut model = vec![0xa2, 0x06, layer.len() as u8];
    model.extend(&layer);
    let msg = parse_err(&deploy, Some(&model));
    assert!(
        msg.contains("model buffer") && msg.contains("1099511627776"),
        "{msg}"
    );
    // A layer whose length prefix says 2^31 bytes, with nothing behind it.
    let model = [0xa2, 0x06, 0x80, 0x80, 0x80, 0x80, 0x08];
    assert!(parse_err(&deploy, Some(&model)).contains("model buffer"));
}

#[test]
fn binary_proto_reads_dims_and_data() {
    // BlobProto { num: 1, channels: 2, height: 1, width: 2, data: [1, 2, 3, 4] (packed) }
    let mut bytes = vec![0x08, 1, 0x10, 2, 0x18, 1, 0x20, 2, 0x2a, 16];
    for v in [1.0f32, 2.0, 3.0, 4.0] {
        bytes.extend(v.to_le_bytes());
    }
    let path = std::env::temp_dir().join(format!("infer8-mean-{}.binaryproto", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let blob = CaffeParser::new().parse_binary_proto(&path).unwrap();
    assert_eq!(
        (blob.dims, blob.data),
        ([1, 2, 1, 2], vec![1.0, 2.0, 3.0, 4.0])
    );
    bytes[3] = 3; // channels 3: 6 values declared, 4 present
    std::fs::write(&path, &bytes).unwrap();
    assert!(
        CaffeParser::new()
            .parse_binary_proto(&path)
            .unwrap_err()
            .to_string()
            .contains("declares 6")
    );
    std::fs::remove_file(&path).unwrap();
}

/// Mutated and truncated copies of LeNet's prototxt and caffemodel: every one parses or fails with
/// an error, none panics.
#[test]
fn mutated_inputs_never_panic() {
    let Some((deploy, model)) = lenet_bytes() else {
        return;
    };
    // xorshift64: deterministic mutations.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut mutate = |bytes: &[u8]| {
        let mut b = bytes.to_vec();
        for _ in 0..1 + next(4) {
            if b.is_empty() {
                break;
            }
            let i = next(b.len());
            match next(3) {
                0 => b[i] = next(256) as u8,
                1 => b.truncate(i),
                _ => b.insert(i, b"0{}:\"\n-9e#"[next(10)]),
            }
        }
        b
    };
    for round in 0..300 {
        let (d, m) = if round % 2 == 0 {
            (mutate(&deploy), model.clone())
        } else {
            (deploy.clone(), mutate(&model))
        };
        let mut net = Network::new();
        let _ = CaffeParser::new().parse_buffers(&d, Some(&m), &mut net, DataType::Float);
    }
}
