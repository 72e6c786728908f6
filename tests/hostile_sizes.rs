//! Sizes declared by a file or a caller are checked against the bytes present and against the
//! memory cap (`INFER8_MAX_ALLOC`, `infer8_set_max_alloc`) before anything is allocated, and
//! `setProtobufBufferSize` bounds every protobuf input. One process: the cap is process-wide, so the
//! tests that lower it hold a lock.

use std::sync::{Mutex, MutexGuard};

use infer8::data::batch_file;
use infer8::engine::serialize;
use infer8::network::Network;
use infer8::parser::caffe::CaffeParser;
use infer8::types::DataType;

fn cap(bytes: usize) -> impl Drop {
    static LOCK: Mutex<()> = Mutex::new(());
    struct Reset(#[allow(dead_code)] MutexGuard<'static, ()>);
    impl Drop for Reset {
        fn drop(&mut self) {
            infer8::limits::set_max_alloc(0);
        }
    }
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    infer8::limits::set_max_alloc(bytes);
    Reset(guard)
}

fn parse(deploy: &str, model: Option<&[u8]>) -> Result<(), String> {
    let mut net = Network::new();
    CaffeParser::new()
        .parse_buffers(deploy.as_bytes(), model, &mut net, DataType::Float)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

const INPUT: &str = "input: \"data\" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4\n";

#[test]
fn generated_weights_stay_under_the_cap() {
    let _cap = cap(1 << 20);
    // 16 inputs x 100000 outputs = 6.4 MB of weights to generate: over a 1 MiB cap.
    let deploy = format!(
        "{INPUT}layer {{ name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"fc\" inner_product_param {{ num_output: 100000 }} }}"
    );
    let e = parse(&deploy, None).unwrap_err();
    assert!(e.contains("layer 'fc' blob 0"), "{e}");
    assert!(e.contains("INFER8_MAX_ALLOC"), "{e}");
    // The same layer a thousand times smaller is fine.
    assert_eq!(parse(&deploy.replace("100000", "100"), None), Ok(()));
}

#[test]
fn activations_over_the_cap_are_refused_by_shape_inference() {
    let _cap = cap(1 << 20);
    // 1x4x4 upsampled by a 512x512 deconvolution stride: 4 * 4 * 512 * 512 floats = 16 MiB.
    let deploy = format!(
        "{INPUT}layer {{ name: \"up\" type: \"Deconvolution\" bottom: \"data\" top: \"up\" convolution_param {{ num_output: 1 kernel_size: 512 stride: 512 }} }}"
    );
    let e = parse(&deploy, None).unwrap_err();
    assert!(e.contains("'up'") || e.contains("up"), "{e}");
    assert!(e.contains("INFER8_MAX_ALLOC"), "{e}");
}

#[test]
fn a_caffemodel_larger_than_the_protobuf_buffer_size_is_refused() {
    let deploy =
        format!("{INPUT}layer {{ name: \"relu\" type: \"ReLU\" bottom: \"data\" top: \"relu\" }}");
    // An empty NetParameter padded with an unknown length-delimited field (tag 1000): valid protobuf.
    let mut model = vec![0xc2, 0x3e, 0x80, 0x08];
    model.resize(model.len() + 1024, 0);
    let mut net = Network::new();
    let mut parser = CaffeParser::new();
    assert!(
        parser
            .parse_buffers(deploy.as_bytes(), Some(&model), &mut net, DataType::Float)
            .is_ok()
    );
    parser.set_protobuf_buffer_size(1000);
    let mut net = Network::new();
    let e = parser
        .parse_buffers(deploy.as_bytes(), Some(&model), &mut net, DataType::Float)
        .unwrap_err()
        .to_string();
    assert!(e.contains("model buffer: 1028 bytes"), "{e}");
    assert!(e.contains("setProtobufBufferSize"), "{e}");

    // The same from files, named in the message.
    let dir = std::env::temp_dir().join(format!("infer8-pbsize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (d, m) = (dir.join("d.prototxt"), dir.join("m.caffemodel"));
    std::fs::write(&d, &deploy).unwrap();
    std::fs::write(&m, &model).unwrap();
    let e = parser
        .parse(&d, Some(&m), &mut Network::new(), DataType::Float)
        .unwrap_err()
        .to_string();
    assert!(e.contains("m.caffemodel: 1028 bytes is larger"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Engine bytes with the max batch field set to `batch` and a valid checksum.
fn engine_with_max_batch(batch: u64) -> Vec<u8> {
    let mut net = Network::new();
    let x = net.add_input("x", DataType::Float, &[2, 3]).unwrap();
    let l = net
        .add_layer(
            infer8::network::LayerKind::Activation {
                kind: infer8::types::ActivationType::Relu,
                alpha: 0.0,
                beta: 0.0,
            },
            &[x],
        )
        .unwrap();
    let y = net.layers[l].outputs[0];
    net.mark_output(y).unwrap();
    let cfg = infer8::builder::BuilderConfig {
        max_batch_size: 4,
        ..Default::default()
    };
    let engine =
        infer8::builder::build_engine(&net, &cfg, None, &infer8::logger::NullLogger).unwrap();
    let mut bytes = serialize::to_bytes(&engine);
    bytes[28..36].copy_from_slice(&batch.to_le_bytes());
    let sum = bytes[28..].iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    bytes[20..28].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// A max batch of 2^30 makes every context allocate 6 floats x 2^30 = 24 GiB of activations, over
/// the default cap; 2^40 is not even a C++ `int`, as TensorRT's max batch is.
#[test]
fn an_engine_declaring_a_huge_batch_is_refused() {
    let _cap = cap(0);
    let e = serialize::from_bytes(&engine_with_max_batch(1 << 30))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("activation memory at maximum batch size 1073741824"),
        "{e}"
    );
    assert!(e.contains("INFER8_MAX_ALLOC"), "{e}");
    let e = serialize::from_bytes(&engine_with_max_batch(1 << 40))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("out-of-range value 1099511627776 at byte 0"),
        "{e}"
    );
}

/// Found by review while writing the batch-file fuzz target: dims whose product is 2^64 - 2 made
/// "values + labels" wrap to 0, so an empty file was taken to hold 2 labels and `split_at` panicked.
#[test]
fn batch_file_label_count_cannot_overflow() {
    let raw = include_bytes!("regressions/batch_file_label_count_overflow.bin");
    let e = batch_file::parse(raw, "b")
        .err()
        .expect("accepted")
        .to_string();
    assert!(
        e.contains("does not match the file size of 16 bytes"),
        "{e}"
    );
}

#[test]
fn the_cap_is_readable_and_settable_from_c() {
    let _cap = cap(0);
    use infer8::capi::limits::{infer8_get_max_alloc, infer8_set_max_alloc};
    let default = infer8_get_max_alloc();
    assert!(default >= 1 << 30);
    infer8_set_max_alloc(12345);
    assert_eq!(infer8_get_max_alloc(), 12345);
    infer8_set_max_alloc(0);
    assert_eq!(infer8_get_max_alloc(), default);
}
