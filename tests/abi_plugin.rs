//! Plugin layers through the C++ ABI, with plugins built in Rust the way compiled C++ lays them out
//! (vptr first): a `Scale` layer (`y = factor * x`) as an `IPluginV2Ext` re-created by a registered
//! `IPluginCreator`, and as an `IPluginExt` re-created by the runtime's `IPluginFactory`. Checks the
//! calls infer8 makes (configure, initialize, workspace, enqueue on host memory with a null stream,
//! terminate, clone/destroy), the Caffe parser's `IPluginFactory`, and that every failure of the application's code is a logged error
//! naming the layer, never a crash.

mod abi_support;

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use abi_support::{TestLogger, serial, vt};
use infer8::abi::builder::{IBuilderVtbl, createInferBuilder_INTERNAL};
use infer8::abi::caffe::{IBlobNameToTensorVtbl, ICaffeParserVtbl, create_caffe_parser};
use infer8::abi::context::IExecutionContextVtbl;
use infer8::abi::dims::{Dims, RawWeights};
use infer8::abi::engine::ICudaEngineVtbl;
use infer8::abi::host_memory::IHostMemoryVtbl;
use infer8::abi::layer::ILayerVtbl;
use infer8::abi::network::INetworkDefinitionVtbl;
use infer8::abi::plugin::{IPluginCreatorVtbl, IPluginRegistryVtbl, getPluginRegistry};
use infer8::abi::plugin_factory::{IPluginFactoryVtbl, IRuntimePluginFactoryVtbl};
use infer8::abi::plugin_layer::IPluginV2LayerVtbl;
use infer8::abi::runtime::{IRuntimeVtbl, createInferRuntime_INTERNAL};
use infer8::abi::tensor::ITensorVtbl;
use infer8::abi::user_plugin::{
    IPluginExtVtbl, IPluginV2ExtVtbl, IPluginV2IOExtVtbl, IPluginV2Vtbl, IPluginVtbl,
    PluginTensorDesc,
};

type User = *mut c_void;

/// Calls infer8 made into plugin objects, over all of them.
struct Stats {
    alive: AtomicI32,
    initialized: AtomicI32,
    clones: AtomicI32,
    configured_max_batch: AtomicI32,
    enqueues: AtomicI32,
}

static STATS: Stats = Stats {
    alive: AtomicI32::new(0),
    initialized: AtomicI32::new(0),
    clones: AtomicI32::new(0),
    configured_max_batch: AtomicI32::new(0),
    enqueues: AtomicI32::new(0),
};

/// What a test makes a plugin do.
#[derive(Clone)]
struct Behaviour {
    factor: f32,
    nb_outputs: i32,
    supports_fp32: bool,
    initialize_status: i32,
    enqueue_status: i32,
    namespace: CString,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            factor: 2.0,
            nb_outputs: 1,
            supports_fp32: true,
            initialize_status: 0,
            enqueue_status: 0,
            namespace: CString::new("infer8-test").unwrap(),
        }
    }
}

/// A plugin object: a vptr (of either generation), then its state.
#[repr(C)]
struct Scale {
    vtable: *const c_void,
    b: Behaviour,
    /// Elements per batch item, learnt at configure time or from the plugin's bytes.
    count: AtomicUsize,
}

const WORKSPACE: usize = 64;

fn me<'a>(this: User) -> &'a Scale {
    unsafe { &*(this as *const Scale) }
}

fn new_plugin(vtable: *const c_void, b: Behaviour, count: usize) -> User {
    STATS.alive.fetch_add(1, Ordering::SeqCst);
    Box::into_raw(Box::new(Scale {
        vtable,
        b,
        count: AtomicUsize::new(count),
    }))
    .cast()
}

fn volume(d: &Dims) -> usize {
    d.d[..d.nb_dims as usize].iter().product::<i32>() as usize
}

unsafe extern "C" fn nb_outputs(this: User) -> i32 {
    me(this).b.nb_outputs
}
unsafe extern "C" fn output_dims(_: User, _: i32, inputs: *const Dims, _: i32) -> Dims {
    unsafe { *inputs }
}
unsafe extern "C" fn configure(
    this: User,
    i: *const Dims,
    _: i32,
    _: *const Dims,
    _: i32,
    mb: i32,
) {
    me(this)
        .count
        .store(volume(unsafe { &*i }), Ordering::SeqCst);
    STATS.configured_max_batch.store(mb, Ordering::SeqCst);
}
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn configure_with_format(
    this: User,
    i: *const Dims,
    ni: i32,
    o: *const Dims,
    no: i32,
    ty: i32,
    format: u8,
    mb: i32,
) {
    assert_eq!((ty, format), (0, 0), "FP32 linear");
    unsafe { configure(this, i, ni, o, no, mb) }
}
unsafe extern "C" fn supports_format(this: User, ty: i32, format: u8) -> bool {
    me(this).b.supports_fp32 && ty == 0 && format == 0
}
unsafe extern "C" fn initialize(this: User) -> i32 {
    let status = me(this).b.initialize_status;
    if status == 0 {
        STATS.initialized.fetch_add(1, Ordering::SeqCst);
    }
    status
}
unsafe extern "C" fn terminate(_: User) {
    STATS.initialized.fetch_sub(1, Ordering::SeqCst);
}
unsafe extern "C" fn workspace_size(_: User, _: i32) -> usize {
    WORKSPACE
}
unsafe extern "C" fn enqueue(
    this: User,
    batch: i32,
    inputs: *const *const c_void,
    outputs: *mut *mut c_void,
    workspace: *mut c_void,
    stream: *mut c_void,
) -> i32 {
    let p = me(this);
    if p.b.enqueue_status != 0 {
        return p.b.enqueue_status;
    }
    assert!(stream.is_null(), "host memory comes with a null stream");
    assert!(
        !workspace.is_null(),
        "asked for {WORKSPACE} bytes of workspace"
    );
    unsafe { std::ptr::write_bytes(workspace.cast::<u8>(), 0xab, WORKSPACE) };
    let n = batch as usize * p.count.load(Ordering::SeqCst);
    let (x, y) = unsafe {
        (
            std::slice::from_raw_parts(*inputs as *const f32, n),
            std::slice::from_raw_parts_mut(*outputs as *mut f32, n),
        )
    };
    for (y, x) in y.iter_mut().zip(x) {
        *y = p.b.factor * x;
    }
    STATS.enqueues.fetch_add(1, Ordering::SeqCst);
    0
}
unsafe extern "C" fn serialization_size(_: User) -> usize {
    8
}
unsafe extern "C" fn serialize(this: User, buffer: *mut c_void) {
    let p = me(this);
    let mut bytes = p.b.factor.to_le_bytes().to_vec();
    bytes.extend((p.count.load(Ordering::SeqCst) as u32).to_le_bytes());
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast(), 8) };
}
/// (factor, count) from the plugin's bytes.
fn deserialize(data: *const c_void, len: usize) -> Option<(f32, usize)> {
    if len != 8 {
        return None;
    }
    let b = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), 8) };
    Some((
        f32::from_le_bytes(b[..4].try_into().unwrap()),
        u32::from_le_bytes(b[4..].try_into().unwrap()) as usize,
    ))
}
unsafe extern "C" fn no_dtor(_: User) {}

unsafe extern "C" fn ext_version(_: User) -> i32 {
    5105
}

static EXT: IPluginExtVtbl = IPluginExtVtbl {
    base: IPluginVtbl {
        getNbOutputs: nb_outputs,
        getOutputDimensions: output_dims,
        configure,
        initialize,
        terminate,
        getWorkspaceSize: workspace_size,
        enqueue,
        getSerializationSize: serialization_size,
        serialize,
        dtor_complete: no_dtor,
        dtor_deleting: no_dtor,
    },
    getTensorRTVersion: ext_version,
    supportsFormat: supports_format,
    configureWithFormat: configure_with_format,
};

unsafe extern "C" fn v2ext_version(_: User) -> i32 {
    (1 << 24) | 5105
}
unsafe extern "C" fn plugin_type(_: User) -> *const c_char {
    c"Scale".as_ptr()
}
unsafe extern "C" fn plugin_version(_: User) -> *const c_char {
    c"1".as_ptr()
}
unsafe extern "C" fn destroy(this: User) {
    STATS.alive.fetch_sub(1, Ordering::SeqCst);
    drop(unsafe { Box::from_raw(this as *mut Scale) });
}
unsafe extern "C" fn clone(this: User) -> User {
    let p = me(this);
    STATS.clones.fetch_add(1, Ordering::SeqCst);
    new_plugin(p.vtable, p.b.clone(), p.count.load(Ordering::SeqCst))
}
unsafe extern "C" fn set_namespace(_: User, _: *const c_char) {}
unsafe extern "C" fn get_namespace(this: User) -> *const c_char {
    me(this).b.namespace.as_ptr()
}
unsafe extern "C" fn output_type(_: User, _: i32, _: *const i32, _: i32) -> i32 {
    0
}
unsafe extern "C" fn broadcast(_: User, _: i32, _: *const bool, _: i32) -> bool {
    false
}
unsafe extern "C" fn can_broadcast(_: User, _: i32) -> bool {
    false
}
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn configure_plugin(
    this: User,
    i: *const Dims,
    ni: i32,
    o: *const Dims,
    no: i32,
    in_types: *const i32,
    _: *const i32,
    _: *const bool,
    _: *const bool,
    format: u8,
    mb: i32,
) {
    assert_eq!((unsafe { *in_types }, format), (0, 0), "FP32 linear");
    unsafe { configure(this, i, ni, o, no, mb) }
}
unsafe extern "C" fn attach(_: User, _: *mut c_void, _: *mut c_void, _: *mut c_void) {}

static V2EXT: IPluginV2ExtVtbl = IPluginV2ExtVtbl {
    base: IPluginV2Vtbl {
        getTensorRTVersion: v2ext_version,
        getPluginType: plugin_type,
        getPluginVersion: plugin_version,
        getNbOutputs: nb_outputs,
        getOutputDimensions: output_dims,
        supportsFormat: supports_format,
        configureWithFormat: configure_with_format,
        initialize,
        terminate,
        getWorkspaceSize: workspace_size,
        enqueue,
        getSerializationSize: serialization_size,
        serialize,
        destroy,
        clone,
        setPluginNamespace: set_namespace,
        getPluginNamespace: get_namespace,
        dtor_complete: no_dtor,
        dtor_deleting: no_dtor,
    },
    getOutputDataType: output_type,
    isOutputBroadcastAcrossBatch: broadcast,
    canBroadcastInputAcrossBatch: can_broadcast,
    configurePlugin: configure_plugin,
    attachToContext: attach,
    detachFromContext: no_dtor,
};

fn v2(b: Behaviour) -> User {
    new_plugin((&V2EXT as *const IPluginV2ExtVtbl).cast(), b, 0)
}

fn ext(b: Behaviour) -> User {
    new_plugin((&EXT as *const IPluginExtVtbl).cast(), b, 0)
}

// ---- The creator (registered once, namespace "infer8-test") and the runtime factory.

unsafe extern "C" fn creator_version(_: User) -> i32 {
    5105
}
unsafe extern "C" fn field_names(_: User) -> *const c_void {
    std::ptr::null()
}
unsafe extern "C" fn create_plugin(_: User, _: *const c_char, _: *const c_void) -> User {
    std::ptr::null_mut()
}
unsafe extern "C" fn deserialize_plugin(
    _: User,
    _: *const c_char,
    data: *const c_void,
    len: usize,
) -> User {
    let Some((factor, count)) = deserialize(data, len) else {
        return std::ptr::null_mut();
    };
    let p = v2(Behaviour {
        factor,
        ..Behaviour::default()
    });
    me(p).count.store(count, Ordering::SeqCst);
    p
}

static CREATOR_VTABLE: IPluginCreatorVtbl = IPluginCreatorVtbl {
    getTensorRTVersion: creator_version,
    getPluginName: plugin_type,
    getPluginVersion: plugin_version,
    getFieldNames: field_names,
    createPlugin: create_plugin,
    deserializePlugin: deserialize_plugin,
    setPluginNamespace: set_namespace,
    getPluginNamespace: get_namespace,
    dtor_complete: no_dtor,
    dtor_deleting: no_dtor,
};

fn register_creator() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let creator: &'static Scale = Box::leak(Box::new(Scale {
            vtable: (&CREATOR_VTABLE as *const IPluginCreatorVtbl).cast(),
            b: Behaviour::default(),
            count: AtomicUsize::new(0),
        }));
        let registry = getPluginRegistry();
        let reg: &IPluginRegistryVtbl = vt(registry);
        let creator = (creator as *const Scale).cast_mut().cast();
        assert!(unsafe {
            (reg.registerCreator)(registry.cast(), creator, c"infer8-test".as_ptr())
        });
    });
}

/// `nvinfer1::IPluginFactory`: re-creates `IPluginExt` Scale plugins (null when `fail`), keeping
/// what it made and the layer names it was asked for.
#[repr(C)]
struct RuntimeFactory {
    vtable: &'static IRuntimePluginFactoryVtbl,
    fail: bool,
    made: Mutex<Vec<(String, User)>>,
}

unsafe extern "C" fn factory_create(
    this: User,
    name: *const c_char,
    data: *const c_void,
    len: usize,
) -> User {
    let f = unsafe { &*(this as *const RuntimeFactory) };
    let name = unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned();
    let Some((factor, count)) = deserialize(data, len).filter(|_| !f.fail) else {
        return std::ptr::null_mut();
    };
    let p = ext(Behaviour {
        factor,
        ..Behaviour::default()
    });
    me(p).count.store(count, Ordering::SeqCst);
    f.made.lock().unwrap().push((name, p));
    p
}

static FACTORY_VTABLE: IRuntimePluginFactoryVtbl = IRuntimePluginFactoryVtbl {
    createPlugin: factory_create,
    dtor_complete: no_dtor,
    dtor_deleting: no_dtor,
};

impl RuntimeFactory {
    fn new(fail: bool) -> RuntimeFactory {
        RuntimeFactory {
            vtable: &FACTORY_VTABLE,
            fail,
            made: Mutex::new(Vec::new()),
        }
    }
    fn ptr(&self) -> User {
        (self as *const RuntimeFactory).cast_mut().cast()
    }
}

impl Drop for RuntimeFactory {
    fn drop(&mut self) {
        for (_, p) in self.made.lock().unwrap().drain(..) {
            unsafe { destroy(p) };
        }
    }
}

// ---- Networks and engines through the vtables.

const SHAPE: [i32; 3] = [2, 3, 3];
const ITEM: usize = 18;
const MAX_BATCH: i32 = 4;

#[derive(Clone, Copy)]
enum Add {
    Ext,
    V2,
}

/// `data [2, 3, 3]` → plugin named "scale" → `out`; returns the engine, or null (with the add
/// result: whether the layer was made).
unsafe fn build(logger: &'static TestLogger, plugin: User, add: Add) -> (User, bool) {
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let n: &INetworkDefinitionVtbl = vt(net);
        let data = (n.addInput)(net, c"data".as_ptr(), 0, Dims::from_values(&SHAPE));
        let inputs = [data];
        let layer = match add {
            Add::Ext => (n.addPluginExt)(net, inputs.as_ptr(), 1, plugin),
            Add::V2 => (n.addPluginV2)(net, inputs.as_ptr(), 1, plugin),
        };
        let mut engine = std::ptr::null_mut();
        if !layer.is_null() {
            let l: &ILayerVtbl = vt(layer);
            (l.setName)(layer, c"scale".as_ptr());
            let expected_type = match add {
                Add::Ext => 10,
                Add::V2 => 23,
            };
            assert_eq!((l.getType)(layer), expected_type);
            if let Add::V2 = add {
                let pl: &IPluginV2LayerVtbl = vt(layer);
                assert_eq!(
                    (pl.getPlugin)(layer.cast()),
                    plugin,
                    "getPlugin is the application's object"
                );
            }
            let out = (l.getOutput)(layer, 0);
            (vt::<ITensorVtbl, _>(out).setName)(out, c"out".as_ptr());
            (n.markOutput)(net, out);
            (b.setMaxBatchSize)(builder.cast(), MAX_BATCH);
            engine = (b.buildCudaEngine)(builder.cast(), net.cast()).cast();
        }
        (n.destroy)(net.cast());
        (b.destroy)(builder.cast());
        (engine, !layer.is_null())
    }
}

/// Runs 3 items through `engine` (CPU: host pointers); returns `out`, or None when execute fails.
unsafe fn run(engine: User) -> Option<Vec<f32>> {
    unsafe {
        let e: &ICudaEngineVtbl = vt(engine);
        let ctx = (e.createExecutionContext)(engine.cast());
        let c: &IExecutionContextVtbl = vt(ctx);
        let input: Vec<f32> = (0..3 * ITEM).map(|i| i as f32 - 20.0).collect();
        let mut output = vec![0f32; 3 * ITEM];
        let mut bindings = [input.as_ptr().cast_mut().cast(), output.as_mut_ptr().cast()];
        assert_eq!((e.getBindingIndex)(engine.cast(), c"out".as_ptr()), 1);
        let ok = (c.execute)(ctx.cast(), 3, bindings.as_mut_ptr());
        (c.destroy)(ctx.cast());
        ok.then_some(output)
    }
}

fn scaled(factor: f32) -> Vec<f32> {
    (0..3 * ITEM).map(|i| factor * (i as f32 - 20.0)).collect()
}

/// The engine's file, then the engine destroyed.
unsafe fn serialize_and_destroy(engine: User) -> Vec<u8> {
    unsafe {
        let e: &ICudaEngineVtbl = vt(engine);
        let mem = (e.serialize)(engine.cast());
        assert!(!mem.is_null(), "serialize");
        let m: &IHostMemoryVtbl = vt(mem);
        let bytes =
            std::slice::from_raw_parts((m.data)(mem.cast()).cast::<u8>(), (m.size)(mem.cast()))
                .to_vec();
        (m.destroy)(mem.cast());
        (e.destroy)(engine.cast());
        bytes
    }
}

unsafe fn deserialize_engine(logger: &'static TestLogger, bytes: &[u8], factory: User) -> User {
    unsafe {
        let runtime = createInferRuntime_INTERNAL(logger.ptr(), 5105);
        let r: &IRuntimeVtbl = vt(runtime);
        let engine =
            (r.deserializeCudaEngine)(runtime.cast(), bytes.as_ptr().cast(), bytes.len(), factory);
        (r.destroy)(runtime.cast());
        engine.cast()
    }
}

unsafe fn destroy_engine(engine: User) {
    unsafe { (vt::<ICudaEngineVtbl, _>(engine).destroy)(engine.cast()) }
}

fn assert_released() {
    assert_eq!(
        STATS.initialized.load(Ordering::SeqCst),
        0,
        "initialized plugins left"
    );
    assert_eq!(STATS.alive.load(Ordering::SeqCst), 0, "plugin objects left");
}

#[test]
fn a_v2_plugin_builds_runs_and_comes_back_through_the_registry() {
    let _g = serial();
    register_creator();
    let logger = TestLogger::new();
    let mine = v2(Behaviour::default());
    let clones = STATS.clones.load(Ordering::SeqCst);
    unsafe {
        let (engine, _) = build(logger, mine, Add::V2);
        logger.expect_no_error();
        assert!(!engine.is_null());
        assert_eq!(
            STATS.clones.load(Ordering::SeqCst),
            clones + 1,
            "the engine runs its own clone"
        );
        assert_eq!(STATS.configured_max_batch.load(Ordering::SeqCst), MAX_BATCH);
        // The application may destroy its own object once the engine is built.
        destroy(mine);
        assert_eq!(run(engine), Some(scaled(2.0)));
        let bytes = serialize_and_destroy(engine);
        let back = deserialize_engine(logger, &bytes, std::ptr::null_mut());
        logger.expect_no_error();
        assert!(!back.is_null());
        assert_eq!(run(back), Some(scaled(2.0)));
        destroy_engine(back);
    }
    assert_released();
}

#[test]
fn an_ext_plugin_comes_back_through_the_runtime_factory() {
    let _g = serial();
    let logger = TestLogger::new();
    let mine = ext(Behaviour {
        factor: -0.5,
        ..Behaviour::default()
    });
    unsafe {
        let (engine, _) = build(logger, mine, Add::Ext);
        logger.expect_no_error();
        assert_eq!(run(engine), Some(scaled(-0.5)));
        let bytes = serialize_and_destroy(engine);
        {
            let factory = RuntimeFactory::new(false);
            let back = deserialize_engine(logger, &bytes, factory.ptr());
            logger.expect_no_error();
            assert_eq!(run(back), Some(scaled(-0.5)));
            assert_eq!(
                factory.made.lock().unwrap()[0].0,
                "scale",
                "createPlugin gets the layer's name"
            );
            destroy_engine(back);
        }
        let failing = RuntimeFactory::new(true);
        for factory in [std::ptr::null_mut(), failing.ptr()] {
            let back = deserialize_engine(logger, &bytes, factory);
            assert!(back.is_null());
            logger.expect_error("plugin layer 'scale'");
        }
        destroy(mine);
    }
    assert_released();
}

#[test]
fn a_missing_creator_fails_deserialization_naming_the_layer() {
    let _g = serial();
    let logger = TestLogger::new();
    let mine = v2(Behaviour {
        namespace: CString::new("nowhere").unwrap(),
        ..Behaviour::default()
    });
    unsafe {
        let (engine, _) = build(logger, mine, Add::V2);
        let bytes = serialize_and_destroy(engine);
        assert!(deserialize_engine(logger, &bytes, std::ptr::null_mut()).is_null());
        logger.expect_error("plugin layer 'scale': no plugin creator Scale version 1 is registered in namespace 'nowhere'");
        destroy(mine);
    }
    assert_released();
}

#[test]
fn failures_of_the_application_code_are_logged_errors() {
    let _g = serial();
    let logger = TestLogger::new();
    let cases = [
        (
            Behaviour {
                nb_outputs: 0,
                ..Behaviour::default()
            },
            "the plugin reports 0 outputs (getNbOutputs)",
        ),
        (
            Behaviour {
                supports_fp32: false,
                ..Behaviour::default()
            },
            "plugin layer 'scale': the plugin does not support FP32 in linear (NCHW) format",
        ),
        (
            Behaviour {
                initialize_status: 3,
                ..Behaviour::default()
            },
            "plugin layer 'scale': the plugin's initialize() returned 3",
        ),
    ];
    for (b, error) in cases {
        for add in [Add::Ext, Add::V2] {
            let mine = match add {
                Add::Ext => ext(b.clone()),
                Add::V2 => v2(b.clone()),
            };
            let (engine, _) = unsafe { build(logger, mine, add) };
            assert!(engine.is_null(), "{error}");
            logger.expect_error(error);
            unsafe { destroy(mine) };
        }
    }
    let mine = ext(Behaviour {
        enqueue_status: 7,
        ..Behaviour::default()
    });
    unsafe {
        let (engine, _) = build(logger, mine, Add::Ext);
        assert_eq!(run(engine), None);
        logger.expect_error("layer 'scale': the plugin's enqueue() returned 7");
        destroy_engine(engine);
        let (layer_made, made) = build(logger, std::ptr::null_mut(), Add::V2);
        assert!(layer_made.is_null() && !made);
        logger.expect_error("argument `plugin` is null");
        destroy(mine);
    }
    assert_released();
}

// ---- The Caffe parser's first-generation factory (`IPluginFactory`: plain `IPlugin`s).

#[repr(C)]
struct CaffeFactory {
    vtable: &'static IPluginFactoryVtbl,
    fail: bool,
    made: Mutex<Vec<User>>,
}

unsafe extern "C" fn is_plugin(_: User, name: *const c_char) -> bool {
    (unsafe { CStr::from_ptr(name) }) == c"scale"
}

unsafe extern "C" fn caffe_create(
    this: User,
    _: *const c_char,
    _: *const RawWeights,
    nb: i32,
) -> User {
    let f = unsafe { &*(this as *const CaffeFactory) };
    if f.fail || nb != 0 {
        return std::ptr::null_mut();
    }
    let p = ext(Behaviour {
        factor: 3.0,
        ..Behaviour::default()
    });
    f.made.lock().unwrap().push(p);
    p
}

static CAFFE_FACTORY_VTABLE: IPluginFactoryVtbl = IPluginFactoryVtbl {
    isPlugin: is_plugin,
    createPlugin: caffe_create,
};

impl Drop for CaffeFactory {
    fn drop(&mut self) {
        for p in self.made.lock().unwrap().drain(..) {
            unsafe { destroy(p) };
        }
    }
}

const DEPLOY: &str = r#"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 3 dim: 3 } } }
layer { name: "scale" type: "MyScale" bottom: "data" top: "out" }
"#;

/// Parses `DEPLOY` with `factory` (may be null) and builds it; returns the engine or null.
unsafe fn parse_and_build(logger: &'static TestLogger, factory: User) -> User {
    unsafe {
        let builder = createInferBuilder_INTERNAL(logger.ptr(), 5105);
        let b: &IBuilderVtbl = vt(builder);
        let net = (b.createNetwork)(builder.cast());
        let n: &INetworkDefinitionVtbl = vt(net);
        let parser = create_caffe_parser();
        let p: &ICaffeParserVtbl = vt(parser);
        (p.setPluginFactory)(parser.cast(), factory);
        let blobs = (p.parseBuffers)(
            parser.cast(),
            DEPLOY.as_ptr().cast(),
            DEPLOY.len(),
            std::ptr::null(),
            0,
            net.cast(),
            0,
        );
        let mut engine = std::ptr::null_mut();
        if !blobs.is_null() {
            let out =
                (vt::<IBlobNameToTensorVtbl, _>(blobs.cast_mut()).find)(blobs, c"out".as_ptr());
            (n.markOutput)(net, out);
            let layer = (n.getLayer)(net, 0);
            assert_eq!(
                (vt::<ILayerVtbl, _>(layer).getType)(layer),
                10,
                "an IPluginLayer"
            );
            (b.setMaxBatchSize)(builder.cast(), MAX_BATCH);
            engine = (b.buildCudaEngine)(builder.cast(), net.cast()).cast();
        }
        (p.destroy)(parser.cast());
        (n.destroy)(net.cast());
        (b.destroy)(builder.cast());
        engine
    }
}

#[test]
fn the_caffe_parser_asks_its_plugin_factory_for_unknown_layers() {
    let _g = serial();
    let logger = TestLogger::new();
    unsafe {
        assert!(parse_and_build(logger, std::ptr::null_mut()).is_null());
        logger.expect_error("unknown or unsupported layer type 'MyScale'");
        {
            let factory = CaffeFactory {
                vtable: &CAFFE_FACTORY_VTABLE,
                fail: false,
                made: Mutex::new(Vec::new()),
            };
            let engine =
                parse_and_build(logger, (&factory as *const CaffeFactory).cast_mut().cast());
            logger.expect_no_error();
            assert!(!engine.is_null());
            // A first-generation IPlugin is configured through `configure` (slot 2).
            assert_eq!(STATS.configured_max_batch.load(Ordering::SeqCst), MAX_BATCH);
            assert_eq!(run(engine), Some(scaled(3.0)));
            destroy_engine(engine);
        }
        let failing = CaffeFactory {
            vtable: &CAFFE_FACTORY_VTABLE,
            fail: true,
            made: Mutex::new(Vec::new()),
        };
        let engine = parse_and_build(logger, (&failing as *const CaffeFactory).cast_mut().cast());
        assert!(engine.is_null());
        logger.expect_error(
            "layer 'scale' (MyScale): the plugin factory's createPlugin returned null",
        );
    }
    assert_released();
}

// ---- An `IPluginV2IOExt` (6.0): configured with tensor descriptions after
// `supportsFormatCombination`.

/// `nvinfer1::PluginTensorDesc` as the header lays it out.
#[repr(C)]
struct TensorDesc {
    dims: Dims,
    type_: i32,
    format: i32,
    scale: f32,
}

unsafe extern "C" fn io_version(_: User) -> i32 {
    (2 << 24) | 6001
}
unsafe extern "C" fn configure_io(
    this: User,
    inputs: *const PluginTensorDesc,
    nb_inputs: i32,
    _: *const PluginTensorDesc,
    nb_outputs: i32,
) {
    let d = unsafe { &*inputs.cast::<TensorDesc>() };
    assert_eq!((nb_inputs, nb_outputs, d.type_, d.format), (1, 1, 0, 0));
    me(this).count.store(volume(&d.dims), Ordering::SeqCst);
    STATS.configured_max_batch.store(-1, Ordering::SeqCst);
}
unsafe extern "C" fn supports_combination(
    this: User,
    pos: i32,
    in_out: *const PluginTensorDesc,
    nb_inputs: i32,
    nb_outputs: i32,
) -> bool {
    assert!((0..nb_inputs + nb_outputs).contains(&pos));
    let d = unsafe { &*in_out.cast::<TensorDesc>().add(pos as usize) };
    me(this).b.supports_fp32 && d.type_ == 0 && d.format == 0
}

static V2IOEXT: IPluginV2IOExtVtbl = IPluginV2IOExtVtbl {
    base: IPluginV2ExtVtbl {
        base: IPluginV2Vtbl {
            getTensorRTVersion: io_version,
            ..V2EXT.base
        },
        ..V2EXT
    },
    configurePluginIO: configure_io,
    supportsFormatCombination: supports_combination,
};

#[test]
fn an_io_ext_plugin_is_configured_with_tensor_descriptions() {
    let _g = serial();
    let logger = TestLogger::new();
    for supports_fp32 in [true, false] {
        let b = Behaviour {
            supports_fp32,
            ..Behaviour::default()
        };
        let mine = new_plugin((&V2IOEXT as *const IPluginV2IOExtVtbl).cast(), b, 0);
        unsafe {
            let (engine, _) = build(logger, mine, Add::V2);
            if supports_fp32 {
                logger.expect_no_error();
                assert_eq!(STATS.configured_max_batch.load(Ordering::SeqCst), -1);
                assert_eq!(run(engine), Some(scaled(2.0)));
                destroy_engine(engine);
            } else {
                assert!(engine.is_null());
                logger.expect_error("supportsFormatCombination");
            }
            destroy(mine);
        }
    }
    assert_released();
}
