//! A LeNet-shaped network driven entirely through the C++ vtables from Rust, the way a TensorRT
//! sample does it: builder, network, layers, build (FP32 and INT8 with a user calibrator), context
//! with a profiler, serialize, runtime deserialize, and the Caffe parser on the real LeNet.

mod abi_support;

use std::ffi::{CStr, c_char, c_void};
use std::sync::Mutex;

use abi_support::{TestLogger, serial, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::caffe::{IBlobNameToTensorVtbl, ICaffeParserVtbl, createNvCaffeParser_INTERNAL};
use infer8::abi::calibrator::IInt8CalibratorVtbl;
use infer8::abi::context::{IExecutionContextVtbl, IProfilerVtbl};
use infer8::abi::dims::{Dims, RawWeights};
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::host_memory::IHostMemoryVtbl;
use infer8::abi::layer::ILayerVtbl;
use infer8::abi::layers::pooling::IPoolingLayerVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::runtime::{IRuntimeVtbl, createInferRuntime_INTERNAL};
use infer8::abi::tensor::ITensorVtbl;

fn weights(values: &[f32]) -> RawWeights {
    RawWeights {
        type_: 0,
        values: values.as_ptr().cast(),
        count: values.len() as i64,
    }
}

fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// Builds data[1,12,12] → scale → conv(4, 3x3) → maxpool(2x2, stride 2) → fc(16) → relu → fc(10)
/// → softmax "prob" through the INetworkDefinition vtable. Returns the network.
unsafe fn lenet_like(builder: *mut c_void) -> *mut c_void {
    let b: &IBuilderVtbl = vt(builder);
    let net = unsafe { (b.createNetwork)(builder.cast()) };
    let n: &INetworkDefinitionVtbl = vt(net);
    let conv_w = pseudo_random(4 * 9, 1);
    let conv_b = pseudo_random(4, 2);
    let fc1_w = pseudo_random(16 * 100, 3);
    let fc1_b = pseudo_random(16, 4);
    let fc2_w = pseudo_random(10 * 16, 5);
    let fc2_b = pseudo_random(10, 6);
    let scale = [0.5f32];
    let none = RawWeights::EMPTY;
    unsafe {
        let data = (n.addInput)(net, c"data".as_ptr(), 0, Dims::from_values(&[1, 12, 12]));
        assert!(!data.is_null());
        let s = (n.addScale)(net, data, 0, none, weights(&scale), none);
        let s_out = (vt::<ILayerVtbl, _>(s).getOutput)(s, 0);
        let conv = (n.addConvolution)(
            net,
            s_out,
            4,
            Dims::from_values(&[3, 3]),
            weights(&conv_w),
            weights(&conv_b),
        );
        let conv_out = (vt::<ILayerVtbl, _>(conv).getOutput)(conv, 0);
        let pool = (n.addPooling)(net, conv_out, 0, Dims::from_values(&[2, 2]));
        (vt::<IPoolingLayerVtbl, _>(pool).setStride)(pool, Dims::from_values(&[2, 2]));
        let pool_out = (vt::<ILayerVtbl, _>(pool).getOutput)(pool, 0);
        let dims = (vt::<ITensorVtbl, _>(pool_out).getDimensions)(pool_out);
        assert_eq!(&dims.d[..dims.nb_dims as usize], &[4, 5, 5]);
        let fc1 = (n.addFullyConnected)(net, pool_out, 16, weights(&fc1_w), weights(&fc1_b));
        let relu = (n.addActivation)(net, (vt::<ILayerVtbl, _>(fc1).getOutput)(fc1, 0), 0);
        let fc2 = (n.addFullyConnected)(
            net,
            (vt::<ILayerVtbl, _>(relu).getOutput)(relu, 0),
            10,
            weights(&fc2_w),
            weights(&fc2_b),
        );
        let sm = (n.addSoftMax)(net, (vt::<ILayerVtbl, _>(fc2).getOutput)(fc2, 0));
        let prob = (vt::<ILayerVtbl, _>(sm).getOutput)(sm, 0);
        (vt::<ITensorVtbl, _>(prob).setName)(prob, c"prob".as_ptr());
        (n.markOutput)(net, prob);
        assert_eq!((n.getNbLayers)(net), 7);
        // getLayer hands back the same object addLayer returned (single inheritance).
        assert_eq!((n.getLayer)(net, 1).cast::<c_void>(), conv.cast::<c_void>());
    }
    net.cast()
}

/// Runs `batch` items of `input` through a context; returns the outputs.
unsafe fn run(engine: *mut c_void, batch: usize, input: &[f32]) -> Vec<f32> {
    let e: &ICudaEngineVtbl = vt(engine);
    unsafe {
        assert_eq!((e.getNbBindings)(engine.cast()), 2);
        let inp = (e.getBindingIndex)(engine.cast(), c"data".as_ptr());
        let out = (e.getBindingIndex)(engine.cast(), c"prob".as_ptr());
        assert_eq!((inp, out), (0, 1));
        let d = (e.getBindingDimensions)(engine.cast(), out);
        assert_eq!(&d.d[..d.nb_dims as usize], &[10, 1, 1]);
        let ctx = (e.createExecutionContext)(engine.cast());
        assert!(!ctx.is_null());
        let c: &IExecutionContextVtbl = vt(ctx);
        let mut output = vec![0f32; batch * 10];
        let mut bindings = [
            input.as_ptr().cast_mut().cast::<c_void>(),
            output.as_mut_ptr().cast(),
        ];
        assert!((c.enqueue)(
            ctx,
            batch as i32,
            bindings.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut()
        ));
        assert_eq!((c.getEngine)(ctx).cast::<c_void>(), engine);
        (c.destroy)(ctx);
        output
    }
}

#[repr(C)]
struct TestProfiler {
    vtable: &'static IProfilerVtbl,
    layers: Mutex<Vec<String>>,
}

unsafe extern "C" fn report(this: *mut c_void, name: *const c_char, ms: f32) {
    let p = unsafe { &*(this as *const TestProfiler) };
    assert!(ms >= 0.0);
    p.layers.lock().unwrap().push(
        unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned(),
    );
}

unsafe extern "C" fn no_dtor(_: *mut c_void) {}

static PROFILER_VTABLE: IProfilerVtbl = IProfilerVtbl {
    reportLayerTime: report,
    dtor_complete: no_dtor,
    dtor_deleting: no_dtor,
};

#[test]
fn build_run_profile_serialize_deserialize() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        assert!(!builder.is_null());
        let b: &IBuilderVtbl = vt(builder);
        let net = lenet_like(builder);
        (b.setMaxBatchSize)(builder.cast(), 4);
        (b.setMaxWorkspaceSize)(builder.cast(), 1 << 20);
        let engine = (b.buildCudaEngine)(builder.cast(), net.cast());
        logger.expect_no_error();
        assert!(!engine.is_null());
        let input = pseudo_random(3 * 144, 7);
        let out = run(engine.cast(), 3, &input);
        for item in out.chunks(10) {
            assert!(
                (item.iter().sum::<f32>() - 1.0).abs() < 1e-5,
                "softmax rows sum to 1: {item:?}"
            );
        }

        // Profiler: one report per layer of the engine.
        let e: &ICudaEngineVtbl = vt(engine);
        let ctx = (e.createExecutionContext)(engine);
        let c: &IExecutionContextVtbl = vt(ctx);
        let profiler = TestProfiler {
            vtable: &PROFILER_VTABLE,
            layers: Mutex::new(Vec::new()),
        };
        (c.setProfiler)(ctx, (&profiler as *const TestProfiler).cast_mut().cast());
        let mut output = vec![0f32; 10];
        let mut bindings = [
            input.as_ptr().cast_mut().cast::<c_void>(),
            output.as_mut_ptr().cast(),
        ];
        assert!((c.execute)(ctx, 1, bindings.as_mut_ptr()));
        // Fused steps report as "conv1 + pool1": as many names in all as the engine has layers.
        let reported: Vec<String> = profiler
            .layers
            .lock()
            .unwrap()
            .iter()
            .flat_map(|l| l.split(" + ").map(str::to_string).collect::<Vec<_>>())
            .collect();
        assert_eq!(
            reported.len(),
            (e.getNbLayers)(engine) as usize,
            "{reported:?}"
        );
        assert!(
            profiler
                .layers
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(" + "))
        );
        (c.destroy)(ctx);

        // Serialize, deserialize through IRuntime: same outputs, bit for bit.
        let mem = (e.serialize)(engine);
        let m: &IHostMemoryVtbl = vt(mem);
        let bytes = std::slice::from_raw_parts((m.data)(mem).cast::<u8>(), (m.size)(mem)).to_vec();
        (m.destroy)(mem);
        let runtime = createInferRuntime_INTERNAL(logger.ptr(), 5105);
        let r: &IRuntimeVtbl = vt(runtime);
        let engine2 = (r.deserializeCudaEngine)(
            runtime.cast(),
            bytes.as_ptr().cast(),
            bytes.len(),
            std::ptr::null_mut(),
        );
        logger.expect_no_error();
        assert!(!engine2.is_null());
        assert_eq!(run(engine2.cast(), 3, &input), out);

        (vt::<ICudaEngineVtbl, _>(engine2).destroy)(engine2);
        (r.destroy)(runtime.cast());
        (e.destroy)(engine);
        (vt::<INetworkDefinitionVtbl, _>(net).destroy)(net.cast());
        (b.destroy)(builder.cast());
    }
    logger.expect_no_error();
}

#[repr(C)]
struct TestCalibrator {
    vtable: &'static IInt8CalibratorVtbl,
    data: Vec<f32>,
    batches_left: Mutex<usize>,
    written: Mutex<Vec<u8>>,
}

unsafe fn calibrator<'a>(this: *mut c_void) -> &'a TestCalibrator {
    unsafe { &*(this as *const TestCalibrator) }
}

unsafe extern "C" fn cal_batch_size(_: *mut c_void) -> i32 {
    2
}

unsafe extern "C" fn cal_get_batch(
    this: *mut c_void,
    bindings: *mut *mut c_void,
    names: *const *const c_char,
    nb: i32,
) -> bool {
    let c = unsafe { calibrator(this) };
    let mut left = c.batches_left.lock().unwrap();
    if *left == 0 {
        return false;
    }
    *left -= 1;
    assert_eq!(nb, 1);
    assert_eq!(unsafe { CStr::from_ptr(*names) }.to_str().unwrap(), "data");
    unsafe { *bindings = c.data.as_ptr().cast_mut().cast() };
    true
}

unsafe extern "C" fn cal_read_cache(_: *mut c_void, len: *mut usize) -> *const c_void {
    unsafe { *len = 0 };
    std::ptr::null()
}

unsafe extern "C" fn cal_write_cache(this: *mut c_void, p: *const c_void, len: usize) {
    let c = unsafe { calibrator(this) };
    *c.written.lock().unwrap() =
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec();
}

unsafe extern "C" fn cal_algorithm(_: *mut c_void) -> i32 {
    2
}

static CALIBRATOR_VTABLE: IInt8CalibratorVtbl = IInt8CalibratorVtbl {
    getBatchSize: cal_batch_size,
    getBatch: cal_get_batch,
    readCalibrationCache: cal_read_cache,
    writeCalibrationCache: cal_write_cache,
    getAlgorithm: cal_algorithm,
    dtor_complete: no_dtor,
    dtor_deleting: no_dtor,
};

#[test]
fn int8_build_calls_the_user_calibrator() {
    let _guard = serial();
    let logger = TestLogger::new();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = lenet_like(builder);
        let cal = TestCalibrator {
            vtable: &CALIBRATOR_VTABLE,
            data: pseudo_random(2 * 144, 9),
            batches_left: Mutex::new(3),
            written: Mutex::new(Vec::new()),
        };
        (b.setMaxBatchSize)(builder.cast(), 2);
        (b.setInt8Mode)(builder.cast(), true);
        (b.setInt8Calibrator)(
            builder.cast(),
            (&cal as *const TestCalibrator).cast_mut().cast(),
        );
        let engine = (b.buildCudaEngine)(builder.cast(), net.cast());
        logger.expect_no_error();
        assert!(!engine.is_null());
        assert_eq!(
            *cal.batches_left.lock().unwrap(),
            0,
            "every batch was consumed"
        );
        let cache = String::from_utf8(cal.written.lock().unwrap().clone()).unwrap();
        assert!(
            cache.starts_with("TRT-5105-EntropyCalibration2"),
            "cache: {cache}"
        );
        assert!(cache.contains("prob:"), "cache: {cache}");
        let out = run(engine.cast(), 2, &cal.data);
        assert!((out[..10].iter().sum::<f32>() - 1.0).abs() < 1e-3);
        (vt::<ICudaEngineVtbl, _>(engine).destroy)(engine);
        (vt::<INetworkDefinitionVtbl, _>(net).destroy)(net.cast());
        (b.destroy)(builder.cast());
    }
}

#[test]
fn caffe_lenet_through_the_parser_vtables() {
    let _guard = serial();
    let dir = std::env::var("INFER8_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
        .join("models/lenet");
    let (deploy, model) = (
        dir.join("lenet.prototxt"),
        dir.join("lenet_iter_10000.caffemodel"),
    );
    if !deploy.exists() || !model.exists() {
        eprintln!("skipped: {} not found (set INFER8_DATA_DIR)", dir.display());
        return;
    }
    let logger = TestLogger::new();
    let deploy = std::ffi::CString::new(deploy.to_str().unwrap()).unwrap();
    let model = std::ffi::CString::new(model.to_str().unwrap()).unwrap();
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let parser = createNvCaffeParser_INTERNAL();
        let p: &ICaffeParserVtbl = vt(parser);
        let blobs = (p.parse)(parser.cast(), deploy.as_ptr(), model.as_ptr(), net, 0);
        logger.expect_no_error();
        assert!(!blobs.is_null());
        let find = vt::<IBlobNameToTensorVtbl, _>(blobs.cast_mut()).find;
        let prob = find(blobs, c"prob".as_ptr());
        assert!(!prob.is_null());
        assert!(find(blobs, c"no such blob".as_ptr()).is_null());
        let n: &INetworkDefinitionVtbl = vt(net);
        (n.markOutput)(net, prob);
        let input = (n.getInput)(net, 0);
        let d = (vt::<ITensorVtbl, _>(input).getDimensions)(input);
        assert_eq!(d.nb_dims, 3);
        (b.setMaxBatchSize)(builder.cast(), 1);
        let engine = (b.buildCudaEngine)(builder.cast(), net);
        logger.expect_no_error();
        assert!(!engine.is_null());
        let e: &ICudaEngineVtbl = vt(engine);
        let ctx = (e.createExecutionContext)(engine);
        let c: &IExecutionContextVtbl = vt(ctx);
        let image = vec![0.5f32; (d.d[0] * d.d[1] * d.d[2]) as usize];
        let mut out = vec![0f32; 10];
        let mut bindings = [
            image.as_ptr().cast_mut().cast::<c_void>(),
            out.as_mut_ptr().cast(),
        ];
        assert!((c.execute)(ctx, 1, bindings.as_mut_ptr()));
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{out:?}");
        (c.destroy)(ctx);
        (e.destroy)(engine);
        (p.destroy)(parser.cast());
        (n.destroy)(net);
        (b.destroy)(builder.cast());
    }
}
