//! A deploy prototxt alone (weights generated, as TensorRT does without a model): text-format
//! parsing, legacy upgrade, every layer importer and shape inference.
#![no_main]

use infer8::network::Network;
use infer8::parser::caffe::CaffeParser;
use infer8::types::DataType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    let mut net = Network::new();
    let _ = CaffeParser::new().parse_buffers(data, None, &mut net, DataType::Float);
});
