//! A network built and run through the C functions gives the same bits as the same network built
//! with the core API; serialization, the profiler and the calibrator callbacks work through C.

use std::ffi::{CStr, c_char, c_void};
use std::ptr::null;
use std::sync::Arc;

use infer8::builder::{BuilderConfig, build_engine};
use infer8::capi::builder::*;
use infer8::capi::calibrator::infer8_calibrator;
use infer8::capi::context::*;
use infer8::capi::engine::*;
use infer8::capi::host_memory::*;
use infer8::capi::layer::*;
use infer8::capi::logger::infer8_logger;
use infer8::capi::network::*;
use infer8::capi::runtime::*;
use infer8::capi::tensor::*;
use infer8::engine::ExecutionContext;
use infer8::engine::context::HostBinding;
use infer8::logger::NullLogger;
use infer8::network::{ConvParams, LayerKind, Network, PoolParams};
use infer8::types::*;

const BATCH: usize = 3;
const IN: [usize; 3] = [3, 9, 8];
const OUT: usize = 7;

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

struct Weights4 {
    conv_k: Vec<f32>,
    conv_b: Vec<f32>,
    fc_k: Vec<f32>,
    fc_b: Vec<f32>,
}

fn weights() -> Weights4 {
    // conv: 4 maps, 3x2 kernel, stride (2, 1), padding (1, 0): [4, 5, 7]; avg pool 2x2 stride 1: [4, 4, 6].
    Weights4 {
        conv_k: values(4 * 3 * 3 * 2, 1),
        conv_b: values(4, 2),
        fc_k: values(OUT * 4 * 4 * 6, 3),
        fc_b: values(OUT, 4),
    }
}

/// The network through the core API, as a Rust user builds it.
fn core_network(w: &Weights4) -> Network {
    let mut net = Network::new();
    let x = net.add_input("data", DataType::Float, &IN).unwrap();
    let mut conv = ConvParams::new(
        4,
        [3, 2],
        infer8::types::Weights::new(w.conv_k.clone()),
        infer8::types::Weights::new(w.conv_b.clone()),
    );
    conv.stride = [2, 1];
    conv.pre_padding = [1, 0];
    conv.post_padding = [1, 0];
    let c = net.add_layer(LayerKind::Convolution(conv), &[x]).unwrap();
    let mut pool = PoolParams::new(PoolingType::Average, [2, 2]);
    pool.stride = [1, 1];
    let p = net
        .add_layer(LayerKind::Pooling(pool), &[net.layers[c].outputs[0]])
        .unwrap();
    let fc = LayerKind::FullyConnected {
        nb_outputs: OUT,
        kernel: infer8::types::Weights::new(w.fc_k.clone()),
        bias: infer8::types::Weights::new(w.fc_b.clone()),
    };
    let f = net.add_layer(fc, &[net.layers[p].outputs[0]]).unwrap();
    let a = net
        .add_layer(
            LayerKind::Activation {
                kind: ActivationType::LeakyRelu,
                alpha: 0.1,
                beta: 0.0,
            },
            &[net.layers[f].outputs[0]],
        )
        .unwrap();
    let s = net
        .add_layer(LayerKind::SoftMax { axes: 1 }, &[net.layers[a].outputs[0]])
        .unwrap();
    let out = net.layers[s].outputs[0];
    net.tensors[out].name = "prob".into();
    net.mark_output(out).unwrap();
    net
}

fn run_core(net: &Network, input: &[f32]) -> Vec<f32> {
    let config = BuilderConfig {
        max_batch_size: BATCH,
        ..BuilderConfig::default()
    };
    let engine = build_engine(net, &config, None, &NullLogger).unwrap();
    let mut ctx = ExecutionContext::new(Arc::new(engine)).unwrap();
    let mut out = vec![0f32; BATCH * OUT];
    // SAFETY: plain f32 buffers viewed as bytes.
    let (i, o) = unsafe {
        (
            std::slice::from_raw_parts(input.as_ptr() as *const u8, input.len() * 4),
            std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut u8, out.len() * 4),
        )
    };
    ctx.execute(BATCH, &mut [HostBinding::Input(i), HostBinding::Output(o)])
        .unwrap();
    out
}

extern "C" fn collect(user: *mut c_void, severity: i32, msg: *const c_char) {
    // SAFETY: `user` is the test's Vec; `msg` is valid during the call.
    let log = unsafe { &mut *(user as *mut Vec<(i32, String)>) };
    log.push((
        severity,
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned(),
    ));
}

/// The same network through the C functions; returns the built engine.
///
/// # Safety
/// `builder` is a live builder.
unsafe fn c_engine(builder: *mut infer8_builder, w: &Weights4) -> *mut infer8_engine {
    // SAFETY: live objects made here; weight pointers valid for their counts.
    unsafe {
        let net = infer8_builder_create_network(builder);
        let dims = IN.map(|d| d as i32);
        let x = infer8_network_add_input(net, c"data".as_ptr(), 0, dims.as_ptr(), 3);
        let conv = infer8_network_add_convolution(
            net,
            x,
            4,
            3,
            2,
            w.conv_k.as_ptr(),
            w.conv_k.len() as i64,
            w.conv_b.as_ptr(),
            4,
        );
        assert!(infer8_layer_set_stride(conv, 2, 1));
        assert!(infer8_layer_set_padding(conv, 1, 0));
        let pool = infer8_network_add_pooling(net, infer8_layer_get_output(conv, 0), 1, 2, 2);
        assert!(infer8_layer_set_stride(pool, 1, 1));
        let pooled = infer8_layer_get_output(pool, 0);
        let d = infer8_tensor_get_dims(pooled);
        assert_eq!(&d.d[..d.nb_dims as usize], &[4, 4, 6]);
        let fc = infer8_network_add_fully_connected(
            net,
            pooled,
            OUT as i32,
            w.fc_k.as_ptr(),
            w.fc_k.len() as i64,
            w.fc_b.as_ptr(),
            OUT as i64,
        );
        let act = infer8_network_add_activation(net, infer8_layer_get_output(fc, 0), 3);
        assert!(infer8_layer_set_alpha(act, 0.1));
        let sm = infer8_network_add_softmax(net, infer8_layer_get_output(act, 0));
        let out = infer8_layer_get_output(sm, 0);
        assert!(infer8_tensor_set_name(out, c"prob".as_ptr()));
        assert_eq!(
            CStr::from_ptr(infer8_tensor_get_name(out))
                .to_str()
                .unwrap(),
            "prob"
        );
        assert!(infer8_network_mark_output(net, out));
        assert_eq!(infer8_network_get_nb_layers(net), 5);
        assert_eq!(
            infer8_layer_get_type(infer8_network_get_layer(net, 1)),
            LayerType::Pooling as i32
        );
        // Handles are stable: asking again gives the same pointer.
        assert_eq!(infer8_network_get_input(net, 0), x);
        assert!(infer8_builder_set_max_batch_size(builder, BATCH as i32));
        let engine = infer8_builder_build_engine(builder, net);
        infer8_network_destroy(net);
        engine
    }
}

/// # Safety
/// `engine` is a live engine with bindings "data" then "prob".
unsafe fn run_c(
    engine: *const infer8_engine,
    input: &[f32],
    profiler: Option<&infer8_profiler>,
) -> Vec<f32> {
    let mut out = vec![0f32; BATCH * OUT];
    // SAFETY: live engine; buffers sized for BATCH items of each binding.
    unsafe {
        let ctx = infer8_engine_create_execution_context(engine);
        if let Some(p) = profiler {
            assert!(infer8_context_set_profiler(ctx, p));
        }
        let bindings = [
            input.as_ptr() as *mut c_void,
            out.as_mut_ptr() as *mut c_void,
        ];
        assert!(infer8_context_execute(ctx, BATCH as i32, bindings.as_ptr()));
        // Batch above the maximum: refused, outputs untouched.
        let before = out.clone();
        assert!(!infer8_context_execute(
            ctx,
            BATCH as i32 + 1,
            bindings.as_ptr()
        ));
        assert_eq!(before, out);
        infer8_context_destroy(ctx);
    }
    out
}

extern "C" fn count_layer(user: *mut c_void, _name: *const c_char, ms: f32) {
    assert!(ms >= 0.0);
    // SAFETY: `user` is the test's counter.
    unsafe { *(user as *mut usize) += 1 };
}

#[test]
fn c_and_core_give_the_same_bits_and_serialization_keeps_them() {
    let w = weights();
    let input = values(BATCH * IN.iter().product::<usize>(), 5);
    let expected = run_core(&core_network(&w), &input);

    let mut log: Vec<(i32, String)> = Vec::new();
    let logger = infer8_logger {
        user: &mut log as *mut _ as *mut c_void,
        log: Some(collect),
    };
    let mut layers_timed = 0usize;
    let profiler = infer8_profiler {
        user: &mut layers_timed as *mut _ as *mut c_void,
        report_layer_time: Some(count_layer),
    };
    // SAFETY: live objects made here.
    unsafe {
        let builder = infer8_builder_create(&logger);
        let engine = c_engine(builder, &w);
        assert!(!engine.is_null(), "build failed: {log:?}");
        assert_eq!(infer8_engine_get_nb_bindings(engine), 2);
        assert_eq!(infer8_engine_get_binding_index(engine, c"prob".as_ptr()), 1);
        assert_eq!(
            infer8_engine_get_binding_index(engine, c"nope".as_ptr()),
            -1
        );
        assert!(infer8_engine_binding_is_input(engine, 0));
        assert!(!infer8_engine_binding_is_input(engine, 1));
        assert_eq!(
            CStr::from_ptr(infer8_engine_get_binding_name(engine, 0))
                .to_str()
                .unwrap(),
            "data"
        );
        let d = infer8_engine_get_binding_dims(engine, 1);
        assert_eq!(&d.d[..d.nb_dims as usize], &[OUT as i32, 1, 1]);
        assert_eq!(
            infer8_engine_get_binding_data_type(engine, 1),
            DataType::Float as i32
        );
        assert_eq!(infer8_engine_get_max_batch_size(engine), BATCH as i32);
        assert!(infer8_engine_get_binding_name(engine, 2).is_null());

        let got = run_c(engine, &input, Some(&profiler));
        assert_eq!(got, expected, "C API and core API differ");
        assert_eq!(layers_timed as i32, infer8_engine_get_nb_layers(engine));

        let plan = infer8_engine_serialize(engine);
        let runtime = infer8_runtime_create(&logger);
        let loaded = infer8_runtime_deserialize_engine(
            runtime,
            infer8_host_memory_data(plan),
            infer8_host_memory_size(plan),
        );
        assert!(!loaded.is_null(), "deserialize failed: {log:?}");
        assert_eq!(
            run_c(loaded, &input, None),
            expected,
            "the deserialized engine differs"
        );

        // A truncated plan is refused with a logger error.
        let before = log.len();
        let short = infer8_runtime_deserialize_engine(
            runtime,
            infer8_host_memory_data(plan),
            infer8_host_memory_size(plan) - 1,
        );
        assert!(short.is_null());
        assert!(
            log[before..]
                .iter()
                .any(|(s, m)| *s == 1 && m.starts_with("infer8_runtime_deserialize_engine:")),
            "{log:?}"
        );

        infer8_engine_destroy(loaded);
        infer8_runtime_destroy(runtime);
        infer8_host_memory_destroy(plan);
        infer8_engine_destroy(engine);
        infer8_builder_destroy(builder);
    }
}

/// What the test calibrator keeps: batches left, calls seen, the cache written.
#[derive(Default)]
struct CalibState {
    batches_left: usize,
    get_batch_calls: usize,
    names: Vec<String>,
    cache: Vec<u8>,
    serve_cache: bool,
}

extern "C" fn get_batch(
    user: *mut c_void,
    names: *const *const c_char,
    buffers: *const *mut f32,
    nb: i32,
    batch: i32,
) -> bool {
    // SAFETY: `user` is the test's state; arrays of `nb` names and buffers as documented.
    let s = unsafe { &mut *(user as *mut CalibState) };
    s.get_batch_calls += 1;
    if s.batches_left == 0 {
        return false;
    }
    s.batches_left -= 1;
    let per_item: usize = IN.iter().product();
    for i in 0..nb as usize {
        unsafe {
            s.names
                .push(CStr::from_ptr(*names.add(i)).to_string_lossy().into_owned());
            let buf = std::slice::from_raw_parts_mut(*buffers.add(i), batch as usize * per_item);
            buf.copy_from_slice(&values(buf.len(), 10 + s.batches_left as u64));
        }
    }
    true
}

extern "C" fn read_cache(user: *mut c_void, len: *mut usize) -> *const c_void {
    // SAFETY: `user` is the test's state; `len` a valid out-pointer.
    let s = unsafe { &*(user as *const CalibState) };
    if !s.serve_cache {
        return null();
    }
    unsafe { *len = s.cache.len() };
    s.cache.as_ptr() as *const c_void
}

extern "C" fn write_cache(user: *mut c_void, data: *const c_void, len: usize) {
    // SAFETY: `user` is the test's state; `len` bytes at `data` during the call.
    let s = unsafe { &mut *(user as *mut CalibState) };
    s.cache = unsafe { std::slice::from_raw_parts(data as *const u8, len) }.to_vec();
}

#[test]
fn int8_calibration_through_c_callbacks_and_its_cache() {
    let w = weights();
    let mut state = CalibState {
        batches_left: 2,
        ..CalibState::default()
    };
    let calibrator = infer8_calibrator {
        user: &mut state as *mut _ as *mut c_void,
        batch_size: 2,
        get_batch: Some(get_batch),
        read_cache: Some(read_cache),
        write_cache: Some(write_cache),
        algorithm: CalibrationAlgoType::Entropy2 as i32,
        quantile: 0.0,
        regression_cutoff: 0.0,
    };
    let mut log: Vec<(i32, String)> = Vec::new();
    let logger = infer8_logger {
        user: &mut log as *mut _ as *mut c_void,
        log: Some(collect),
    };
    // SAFETY: live objects made here; the calibrator state outlives the builds.
    unsafe {
        let builder = infer8_builder_create(&logger);
        let mut bad = calibrator;
        bad.algorithm = 17;
        assert!(!infer8_builder_set_int8_calibrator(builder, &bad));
        assert!(infer8_builder_set_int8_calibrator(builder, &calibrator));
        assert!(infer8_builder_set_int8_mode(builder, true));
        let calibrated = c_engine(builder, &w);
        assert!(!calibrated.is_null(), "INT8 build failed: {log:?}");
        let state = &mut *(calibrator.user as *mut CalibState);
        assert_eq!(state.get_batch_calls, 3, "two batches, then false");
        assert_eq!(state.names, ["data", "data"]);
        let cache = String::from_utf8(state.cache.clone()).expect("the cache is text");
        assert!(cache.starts_with("TRT-5105-EntropyCalibration2"), "{cache}");

        // Second build: the cache is read and no batch is asked for.
        state.serve_cache = true;
        state.get_batch_calls = 0;
        let cached = c_engine(builder, &w);
        assert!(
            !cached.is_null(),
            "INT8 build from the cache failed: {log:?}"
        );
        assert_eq!(state.get_batch_calls, 0);

        let input = values(BATCH * IN.iter().product::<usize>(), 5);
        assert_eq!(run_c(calibrated, &input, None), run_c(cached, &input, None));
        infer8_engine_destroy(calibrated);
        infer8_engine_destroy(cached);
        infer8_builder_destroy(builder);
    }
}
