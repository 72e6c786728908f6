//! A caffemodel with the deploy prototxt it belongs to: the input is a little-endian u16 length,
//! that many bytes of prototxt, then the caffemodel. Seeds pair real files, so most mutations land
//! in the binary NetParameter and the blob-to-layer matching.
#![no_main]

use infer8::network::Network;
use infer8::parser::caffe::CaffeParser;
use infer8::types::DataType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    let Some((deploy, model)) = infer8_fuzz::split_u16(data) else {
        return;
    };
    let mut net = Network::new();
    for dtype in [DataType::Float, DataType::Half] {
        let _ = CaffeParser::new().parse_buffers(deploy, Some(model), &mut net, dtype);
    }
});
