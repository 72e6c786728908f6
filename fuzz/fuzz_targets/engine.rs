//! The engine file (`IRuntime::deserializeCudaEngine`). The checksum would stop almost every
//! mutation at the header, so each input is also tried with its length and checksum made right;
//! an engine that loads is then run once at batch 1 on the CPU when it is small enough to be quick.
#![no_main]

use infer8::engine::context::HostBinding;
use infer8::engine::serialize::from_bytes;
use infer8::engine::{Engine, ExecutionContext};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Activation floats per batch item above which a loaded engine is not run: keeps one execution
/// well under the fuzzer's timeout.
const RUN_LIMIT: usize = 1 << 16;

fn run(engine: Engine) {
    if engine.plan.arena_len > RUN_LIMIT {
        return;
    }
    let engine = Arc::new(engine);
    let Ok(mut ctx) = ExecutionContext::with_device(engine.clone(), infer8::backend::Device::Cpu)
    else {
        return;
    };
    let mut buffers: Vec<Vec<u8>> = engine
        .bindings
        .iter()
        .map(|b| vec![0u8; infer8::types::volume(&b.shape) * b.dtype.size()])
        .collect();
    let mut bindings: Vec<HostBinding> = engine
        .bindings
        .iter()
        .zip(buffers.iter_mut())
        .map(|(b, buf)| {
            if b.is_input {
                HostBinding::Input(buf.as_slice())
            } else {
                HostBinding::Output(buf.as_mut_slice())
            }
        })
        .collect();
    let _ = ctx.execute(1, &mut bindings);
}

fuzz_target!(|data: &[u8]| {
    infer8_fuzz::init();
    if let Ok(e) = from_bytes(data) {
        run(e);
    }
    if let Some(fixed) = infer8_fuzz::fix_engine_header(data) {
        if let Ok(e) = from_bytes(&fixed) {
            run(e);
        }
    }
});
