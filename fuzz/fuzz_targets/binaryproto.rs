//! A mean file (`parseBinaryProto`): a BlobProto whose shape must match its data.
#![no_main]

use infer8::parser::caffe::CaffeParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    if let Ok(blob) = CaffeParser::new().parse_binary_proto_buffer(data, "fuzz.binaryproto") {
        assert_eq!(blob.dims.iter().product::<usize>(), blob.data.len());
    }
});
