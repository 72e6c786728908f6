//! sampleINT8's `batches/batchN` files.
#![no_main]

use infer8::data::batch_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    if let Ok(b) = batch_file::parse(data, "fuzz.batch") {
        assert_eq!(b.dims.iter().product::<usize>(), b.data.len());
        assert!(b.labels.is_empty() || b.labels.len() == b.dims[0]);
    }
});
