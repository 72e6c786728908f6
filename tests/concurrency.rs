//! Threads (DESIGN.md decision 8): one engine shared by several execution contexts, each on its own
//! thread, gives bit-identical results to one context on one thread; builders, runtimes and
//! contexts on separate threads, each with its own objects, do not disturb each other. Both
//! through the core API and through the C API a C program would use.

use std::ffi::c_void;
use std::sync::{Arc, Barrier};
use std::thread;

use infer8::builder::{BuilderConfig, build_engine};
use infer8::capi::builder::*;
use infer8::capi::context::*;
use infer8::capi::engine::*;
use infer8::capi::host_memory::*;
use infer8::capi::layer::*;
use infer8::capi::logger::infer8_logger;
use infer8::capi::network::*;
use infer8::capi::runtime::*;
use infer8::capi::tensor::infer8_tensor_set_name;
use infer8::engine::context::{HostBinding, f32_bytes};
use infer8::engine::{Engine, ExecutionContext};
use infer8::logger::NullLogger;
use infer8::network::{ConvParams, LayerKind, Network, PoolParams};
use infer8::types::{ActivationType, DataType, PoolingType, Weights};

const THREADS: usize = 4;
const RUNS: usize = 6;
const BATCH: usize = 5;
const IN: [usize; 3] = [2, 12, 12];
const CLASSES: usize = 10;

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// conv 5x5 (6 maps) → ReLU → max pool 2x2 → FC → softmax: a small LeNet.
fn network() -> Network {
    let mut net = Network::new();
    let x = net.add_input("data", DataType::Float, &IN).unwrap();
    let conv = ConvParams::new(
        6,
        [5, 5],
        Weights::new(values(6 * 2 * 25, 1)),
        Weights::new(values(6, 2)),
    );
    let c = net.add_layer(LayerKind::Convolution(conv), &[x]).unwrap();
    let relu = LayerKind::Activation {
        kind: ActivationType::Relu,
        alpha: 0.0,
        beta: 0.0,
    };
    let r = net.add_layer(relu, &[net.layers[c].outputs[0]]).unwrap();
    let pool = PoolParams::new(PoolingType::Max, [2, 2]);
    let p = net
        .add_layer(LayerKind::Pooling(pool), &[net.layers[r].outputs[0]])
        .unwrap();
    let fc = LayerKind::FullyConnected {
        nb_outputs: CLASSES,
        kernel: Weights::new(values(CLASSES * 6 * 4 * 4, 3)),
        bias: Weights::new(values(CLASSES, 4)),
    };
    let f = net.add_layer(fc, &[net.layers[p].outputs[0]]).unwrap();
    let s = net
        .add_layer(LayerKind::SoftMax { axes: 1 }, &[net.layers[f].outputs[0]])
        .unwrap();
    let out = net.layers[s].outputs[0];
    net.mark_output(out).unwrap();
    net
}

fn engine() -> Engine {
    let cfg = BuilderConfig {
        max_batch_size: BATCH,
        ..Default::default()
    };
    build_engine(&network(), &cfg, None, &NullLogger).unwrap()
}

/// Run `r`'s input: every run of every thread gets its own data.
fn input(r: usize) -> Vec<f32> {
    values(BATCH * IN.iter().product::<usize>(), 100 + r as u64)
}

fn run(ctx: &mut ExecutionContext, input: &[f32]) -> Vec<u32> {
    let mut out = vec![0u8; BATCH * CLASSES * 4];
    ctx.execute(
        BATCH,
        &mut [
            HostBinding::Input(f32_bytes(input)),
            HostBinding::Output(&mut out),
        ],
    )
    .unwrap();
    out.chunks(4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Expected bits of each run, computed by one context on this thread.
fn single_threaded(engine: &Arc<Engine>) -> Vec<Vec<u32>> {
    let mut ctx =
        ExecutionContext::with_device(engine.clone(), infer8::backend::Device::Cpu).unwrap();
    (0..RUNS).map(|r| run(&mut ctx, &input(r))).collect()
}

#[test]
fn contexts_of_one_engine_on_several_threads_match_one_thread() {
    let engine = Arc::new(engine());
    let expected = single_threaded(&engine);
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, start) = (engine.clone(), start.clone());
            thread::spawn(move || {
                let mut ctx =
                    ExecutionContext::with_device(engine, infer8::backend::Device::Cpu).unwrap();
                start.wait();
                // Each thread walks the runs in its own order, so threads overlap on different work.
                (0..RUNS)
                    .map(|i| (i + t) % RUNS)
                    .map(|r| (r, run(&mut ctx, &input(r))))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for w in workers {
        for (r, bits) in w.join().unwrap() {
            assert_eq!(
                bits, expected[r],
                "run {r} differs from the single-threaded run"
            );
        }
    }
}

/// A `*mut T` moved to another thread: each object is used by one thread at a time.
struct Handle<T>(*mut T);
// SAFETY: a handle is moved to one thread and used only there.
unsafe impl<T> Send for Handle<T> {}

fn logger() -> infer8_logger {
    infer8_logger {
        user: std::ptr::null_mut(),
        log: None,
    }
}

/// Builds the same network with C calls on `builder`; returns the engine.
unsafe fn c_build(builder: *mut infer8_builder) -> *mut infer8_engine {
    let (ck, cb) = (values(6 * 2 * 25, 1), values(6, 2));
    let (fk, fb) = (values(CLASSES * 6 * 4 * 4, 3), values(CLASSES, 4));
    // SAFETY: live objects made here; weights valid for their counts.
    unsafe {
        let net = infer8_builder_create_network(builder);
        let dims = IN.map(|d| d as i32);
        let x = infer8_network_add_input(net, c"data".as_ptr(), 0, dims.as_ptr(), 3);
        let conv =
            infer8_network_add_convolution(net, x, 6, 5, 5, ck.as_ptr(), 300, cb.as_ptr(), 6);
        let relu = infer8_network_add_activation(net, infer8_layer_get_output(conv, 0), 0);
        let pool = infer8_network_add_pooling(net, infer8_layer_get_output(relu, 0), 0, 2, 2);
        let fc = infer8_network_add_fully_connected(
            net,
            infer8_layer_get_output(pool, 0),
            CLASSES as i32,
            fk.as_ptr(),
            fk.len() as i64,
            fb.as_ptr(),
            CLASSES as i64,
        );
        let sm = infer8_network_add_softmax(net, infer8_layer_get_output(fc, 0));
        let out = infer8_layer_get_output(sm, 0);
        assert!(infer8_tensor_set_name(out, c"prob".as_ptr()));
        assert!(infer8_network_mark_output(net, out));
        assert!(infer8_builder_set_max_batch_size(builder, BATCH as i32));
        let engine = infer8_builder_build_engine(builder, net);
        infer8_network_destroy(net);
        assert!(!engine.is_null());
        engine
    }
}

unsafe fn c_run(ctx: *mut infer8_context, input: &[f32]) -> Vec<u32> {
    let mut out = vec![0f32; BATCH * CLASSES];
    let bindings = [
        input.as_ptr() as *mut c_void,
        out.as_mut_ptr() as *mut c_void,
    ];
    // SAFETY: a live context; buffers sized for BATCH.
    assert!(unsafe { infer8_context_execute(ctx, BATCH as i32, bindings.as_ptr()) });
    out.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn c_contexts_of_one_engine_on_several_threads_match_one_thread() {
    let expected = single_threaded(&Arc::new(engine()));
    let log = logger();
    // SAFETY: objects made and destroyed here; each context is used by one thread.
    unsafe {
        let builder = infer8_builder_create(&log);
        let engine = c_build(builder);
        let contexts: Vec<_> = (0..THREADS)
            .map(|_| Handle(infer8_engine_create_execution_context(engine)))
            .collect();
        let workers: Vec<_> = contexts
            .into_iter()
            .enumerate()
            .map(|(t, ctx)| {
                thread::spawn(move || {
                    let ctx = ctx;
                    let got: Vec<_> = (0..RUNS)
                        .map(|i| (i + t) % RUNS)
                        .map(|r| (r, c_run(ctx.0, &input(r))))
                        .collect();
                    infer8_context_destroy(ctx.0);
                    got
                })
            })
            .collect();
        for w in workers {
            for (r, bits) in w.join().unwrap() {
                assert_eq!(
                    bits, expected[r],
                    "run {r} differs from the single-threaded run"
                );
            }
        }
        infer8_engine_destroy(engine);
        infer8_builder_destroy(builder);
    }
}

/// Each thread: its own builder builds the network, serializes it, its own runtime loads it back,
/// and a context runs it. Every thread gets the same engine bytes and the same output bits.
#[test]
fn builders_and_runtimes_on_separate_threads() {
    let expected = single_threaded(&Arc::new(engine()));
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = start.clone();
            thread::spawn(move || {
                let log = logger();
                start.wait();
                // SAFETY: every object is made, used and destroyed on this thread.
                unsafe {
                    let builder = infer8_builder_create(&log);
                    let built = c_build(builder);
                    let plan = infer8_engine_serialize(built);
                    let bytes = std::slice::from_raw_parts(
                        infer8_host_memory_data(plan) as *const u8,
                        infer8_host_memory_size(plan),
                    )
                    .to_vec();
                    let runtime = infer8_runtime_create(&log);
                    let engine = infer8_runtime_deserialize_engine(
                        runtime,
                        bytes.as_ptr() as *const c_void,
                        bytes.len(),
                    );
                    assert!(!engine.is_null());
                    let ctx = infer8_engine_create_execution_context(engine);
                    let out: Vec<_> = (0..RUNS).map(|r| c_run(ctx, &input(r))).collect();
                    infer8_context_destroy(ctx);
                    infer8_engine_destroy(engine);
                    infer8_runtime_destroy(runtime);
                    infer8_host_memory_destroy(plan);
                    infer8_engine_destroy(built);
                    infer8_builder_destroy(builder);
                    (bytes, out)
                }
            })
        })
        .collect();
    let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    for (bytes, out) in &results {
        assert_eq!(bytes, &results[0].0, "threads built different engines");
        assert_eq!(out, &expected);
    }
}
