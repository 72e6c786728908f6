//! `nvinfer1::IBuilder` and `createInferBuilder_INTERNAL`.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Arc;

use super::boundary::{Object, function, method, non_null, positive, release, unsupported};
use super::builder_config::{self, BuilderConfigObj};
use super::calibrator::CppCalibrator;
use super::engine::EngineObj;
use super::error_recorder::ErrorRecorderSlot;
use super::gpu_allocator::CppGpuAllocator;
use super::layer::LayerObj;
use super::logger::{CppLogger, set_process_logger};
use super::network::NetworkObj;
use super::profile::ProfileObj;
use crate::backend::DeviceAllocator;
use crate::builder::{BuilderConfig, Calibrator, build_engine};
use crate::error::Result;
use crate::logger::{Logger, Severity, SharedLogger};

type This = *mut BuilderObj;
type Network = *mut NetworkObj;
type Layer = *mut LayerObj;
type Engine = *mut EngineObj;

vtable! {
    "IBuilder" => struct IBuilderVtbl {
        createNetwork: unsafe extern "C" fn(This) -> Network,
        setMaxBatchSize: unsafe extern "C" fn(This, i32),
        getMaxBatchSize: unsafe extern "C" fn(This) -> i32,
        setMaxWorkspaceSize: unsafe extern "C" fn(This, usize),
        getMaxWorkspaceSize: unsafe extern "C" fn(This) -> usize,
        setHalf2Mode: unsafe extern "C" fn(This, bool),
        getHalf2Mode: unsafe extern "C" fn(This) -> bool,
        setDebugSync: unsafe extern "C" fn(This, bool),
        getDebugSync: unsafe extern "C" fn(This) -> bool,
        setMinFindIterations: unsafe extern "C" fn(This, i32),
        getMinFindIterations: unsafe extern "C" fn(This) -> i32,
        setAverageFindIterations: unsafe extern "C" fn(This, i32),
        getAverageFindIterations: unsafe extern "C" fn(This) -> i32,
        buildCudaEngine: unsafe extern "C" fn(This, Network) -> Engine,
        platformHasFastFp16: unsafe extern "C" fn(This) -> bool,
        platformHasFastInt8: unsafe extern "C" fn(This) -> bool,
        destroy: unsafe extern "C" fn(This),
        setInt8Mode: unsafe extern "C" fn(This, bool),
        getInt8Mode: unsafe extern "C" fn(This) -> bool,
        setInt8Calibrator: unsafe extern "C" fn(This, *mut c_void),
        setDeviceType: unsafe extern "C" fn(This, Layer, i32),
        getDeviceType: unsafe extern "C" fn(This, Layer) -> i32,
        isDeviceTypeSet: unsafe extern "C" fn(This, Layer) -> bool,
        resetDeviceType: unsafe extern "C" fn(This, Layer),
        canRunOnDLA: unsafe extern "C" fn(This, Layer) -> bool,
        setDefaultDeviceType: unsafe extern "C" fn(This, i32),
        getDefaultDeviceType: unsafe extern "C" fn(This) -> i32,
        getMaxDLABatchSize: unsafe extern "C" fn(This) -> i32,
        allowGPUFallback: unsafe extern "C" fn(This, bool),
        getNbDLACores: unsafe extern "C" fn(This) -> i32,
        setDLACore: unsafe extern "C" fn(This, i32),
        getDLACore: unsafe extern "C" fn(This) -> i32,
        reset: unsafe extern "C" fn(This, Network),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setGpuAllocator: unsafe extern "C" fn(This, *mut c_void),
        setFp16Mode: unsafe extern "C" fn(This, bool),
        getFp16Mode: unsafe extern "C" fn(This) -> bool,
        setStrictTypeConstraints: unsafe extern "C" fn(This, bool),
        getStrictTypeConstraints: unsafe extern "C" fn(This) -> bool,
        setRefittable: unsafe extern "C" fn(This, bool),
        getRefittable: unsafe extern "C" fn(This) -> bool,
        setEngineCapability: unsafe extern "C" fn(This, i32),
        getEngineCapability: unsafe extern "C" fn(This) -> i32,
        createBuilderConfig: unsafe extern "C" fn(This) -> *mut c_void,
        buildEngineWithConfig: unsafe extern "C" fn(This, Network, *mut c_void) -> Engine,
        createNetworkV2: unsafe extern "C" fn(This, u32) -> Network,
        createOptimizationProfile: unsafe extern "C" fn(This) -> *mut c_void,
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
        reset2 as "reset#2": unsafe extern "C" fn(This),
    }
}

/// `DeviceType`: kGPU = 0, kDLA = 1. infer8 has no DLA: layers asked to run there run on the
/// backend in use when GPU fallback is allowed, and the build fails otherwise, as TensorRT's does
/// on a machine without DLA cores.
pub(super) const GPU: i32 = 0;
pub(super) const DLA: i32 = 1;

/// The builder state TensorRT 5.1 keeps (its `reset` restores the defaults).
struct Settings {
    config: BuilderConfig,
    calibrator: *mut c_void,
    refittable: bool,
    default_device: i32,
    device_types: HashMap<usize, i32>,
    dla_core: i32,
    gpu_fallback: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            config: BuilderConfig::default(),
            calibrator: std::ptr::null_mut(),
            refittable: false,
            default_device: GPU,
            device_types: HashMap::new(),
            dla_core: -1,
            gpu_fallback: false,
        }
    }
}

#[repr(C)]
pub struct BuilderObj {
    vtable: &'static IBuilderVtbl,
    s: Settings,
    logger: SharedLogger,
    /// `NV_TENSORRT_VERSION` of the header the caller was compiled with.
    header_version: i32,
    /// `createOptimizationProfile` results: the builder owns them (they have no destroy). Boxed:
    /// C++ holds their addresses, which must not move when the vector grows.
    #[allow(clippy::vec_box)]
    profiles: Vec<Box<ProfileObj>>,
    /// `setErrorRecorder`: networks, configs and engines made afterwards share the recording logger.
    recorder: ErrorRecorderSlot,
    /// `setGpuAllocator`: device memory of engines built afterwards.
    allocator: Option<Arc<dyn DeviceAllocator>>,
}

impl Object for BuilderObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl BuilderObj {
    fn layer_key(&self, layer: Layer) -> Result<usize> {
        if !LayerObj::is_layer(layer) {
            crate::bail!(
                InvalidArgument,
                "argument `layer` is null or not a layer created by infer8"
            );
        }
        Ok(layer as usize)
    }

    fn wants_dla(&self) -> bool {
        self.s.default_device == DLA || self.s.device_types.values().any(|&d| d == DLA)
    }
}

pub(super) fn device(v: i32) -> Result<i32> {
    match v {
        GPU | DLA => Ok(v),
        _ => crate::bail!(InvalidArgument, "{v} is not a valid DeviceType"),
    }
}

/// Getter and setter of one builder setting.
macro_rules! setting {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $ty:ty, |$s:ident, $v:ident| $apply:expr, |$g:ident| $read:expr) => {
        unsafe extern "C" fn $set(this: This, $v: $ty) {
            method($set_name, this, (), |b| {
                let $s = &mut b.s;
                $apply;
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> $ty {
            method($get_name, this, Default::default(), |b| {
                let $g = &b.s;
                Ok($read)
            })
        }
    };
}

unsafe extern "C" fn create_network(this: This) -> Network {
    method("IBuilder::createNetwork", this, std::ptr::null_mut(), |b| {
        Ok(NetworkObj::create(b.logger.clone(), false))
    })
}

unsafe extern "C" fn set_max_batch_size(this: This, v: i32) {
    method("IBuilder::setMaxBatchSize", this, (), |b| {
        b.s.config.max_batch_size = positive(v, "batchSize")?;
        Ok(())
    })
}

unsafe extern "C" fn get_max_batch_size(this: This) -> i32 {
    method("IBuilder::getMaxBatchSize", this, 0, |b| {
        Ok(b.s.config.max_batch_size as i32)
    })
}

setting!(
    set_max_workspace_size,
    get_max_workspace_size,
    "IBuilder::setMaxWorkspaceSize",
    "IBuilder::getMaxWorkspaceSize",
    usize,
    |s, v| s.config.max_workspace_size = v,
    |s| s.config.max_workspace_size
);
// Half2 mode is 5.1's deprecated name for FP16 mode.
setting!(
    set_half2_mode,
    get_half2_mode,
    "IBuilder::setHalf2Mode",
    "IBuilder::getHalf2Mode",
    bool,
    |s, v| s.config.fp16 = v,
    |s| s.config.fp16
);
setting!(
    set_debug_sync,
    get_debug_sync,
    "IBuilder::setDebugSync",
    "IBuilder::getDebugSync",
    bool,
    |s, v| s.config.debug_sync = v,
    |s| s.config.debug_sync
);
setting!(
    set_min_find_iterations,
    get_min_find_iterations,
    "IBuilder::setMinFindIterations",
    "IBuilder::getMinFindIterations",
    i32,
    |s, v| s.config.min_find_iterations = v,
    |s| s.config.min_find_iterations
);
setting!(
    set_average_find_iterations,
    get_average_find_iterations,
    "IBuilder::setAverageFindIterations",
    "IBuilder::getAverageFindIterations",
    i32,
    |s, v| s.config.avg_find_iterations = v,
    |s| s.config.avg_find_iterations
);
setting!(
    set_int8_mode,
    get_int8_mode,
    "IBuilder::setInt8Mode",
    "IBuilder::getInt8Mode",
    bool,
    |s, v| s.config.int8 = v,
    |s| s.config.int8
);
setting!(
    set_fp16_mode,
    get_fp16_mode,
    "IBuilder::setFp16Mode",
    "IBuilder::getFp16Mode",
    bool,
    |s, v| s.config.fp16 = v,
    |s| s.config.fp16
);
setting!(
    set_strict_type_constraints,
    get_strict_type_constraints,
    "IBuilder::setStrictTypeConstraints",
    "IBuilder::getStrictTypeConstraints",
    bool,
    |s, v| s.config.strict_types = v,
    |s| s.config.strict_types
);

/// The build shared by `buildCudaEngine` and `buildEngineWithConfig`.
struct BuildRequest<'a> {
    config: BuilderConfig,
    calibrator: *mut c_void,
    wants_dla: bool,
    gpu_fallback: bool,
    profiles: &'a [*const ProfileObj],
    allocator: Option<Arc<dyn DeviceAllocator>>,
}

fn build(logger: &SharedLogger, network: Network, r: BuildRequest) -> Result<Engine> {
    if !NetworkObj::is_network(network) {
        crate::bail!(
            InvalidArgument,
            "argument `network` is null or not a network created by infer8"
        );
    }
    // SAFETY: checked to be one of our network objects.
    let net = unsafe { &*network };
    if r.wants_dla {
        if !r.gpu_fallback {
            crate::bail!(
                Unsupported,
                "layers were assigned to DLA, which this machine does not have (GPU fallback is off)"
            );
        }
        logger.log(
            Severity::Warning,
            "no DLA cores: layers assigned to DLA run on the default backend",
        );
    }
    let mut config = r.config;
    match r.profiles {
        [] => {}
        // SAFETY: checked by addOptimizationProfile; profiles live as long as their builder.
        [p] => config.profile = unsafe { &**p }.inputs(0)?,
        more => crate::bail!(
            Unsupported,
            "{} optimization profiles: infer8 builds one per engine",
            more.len()
        ),
    }
    let mut calibrator = match (config.int8, r.calibrator.is_null()) {
        // SAFETY: the application keeps its calibrator alive during the build (TensorRT's rule).
        (true, false) => Some(unsafe { CppCalibrator::new(r.calibrator, logger.clone()) }?),
        _ => None,
    };
    let engine = build_engine(
        &net.core,
        &config,
        calibrator.as_mut().map(|c| c as &mut dyn Calibrator),
        &**logger,
    )?;
    Ok(EngineObj::create(
        Arc::new(engine),
        logger.clone(),
        r.allocator,
    ))
}

unsafe extern "C" fn build_cuda_engine(this: This, network: Network) -> Engine {
    method(
        "IBuilder::buildCudaEngine",
        this,
        std::ptr::null_mut(),
        |b| {
            let request = BuildRequest {
                config: b.s.config.clone(),
                calibrator: b.s.calibrator,
                wants_dla: b.wants_dla(),
                gpu_fallback: b.s.gpu_fallback,
                profiles: &[],
                allocator: b.allocator.clone(),
            };
            build(&b.logger, network, request)
        },
    )
}

/// The CPU backend runs FP16 (exactly rounded) and INT8 engines; answering false would make
/// TensorRT samples skip those modes.
unsafe extern "C" fn platform_has_fast_fp16(this: This) -> bool {
    method("IBuilder::platformHasFastFp16", this, false, |_| {
        Ok(crate::backend::fast_fp16())
    })
}

unsafe extern "C" fn platform_has_fast_int8(this: This) -> bool {
    method("IBuilder::platformHasFastInt8", this, false, |_| {
        Ok(crate::backend::fast_int8())
    })
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by `createInferBuilder_INTERNAL`; the caller gives it up.
    unsafe { release("IBuilder::destroy", this) }
}

unsafe extern "C" fn set_int8_calibrator(this: This, calibrator: *mut c_void) {
    method("IBuilder::setInt8Calibrator", this, (), |b| {
        b.s.calibrator = calibrator;
        Ok(())
    })
}

unsafe extern "C" fn set_device_type(this: This, layer: Layer, v: i32) {
    method("IBuilder::setDeviceType", this, (), |b| {
        let key = b.layer_key(layer)?;
        b.s.device_types.insert(key, device(v)?);
        Ok(())
    })
}

unsafe extern "C" fn get_device_type(this: This, layer: Layer) -> i32 {
    method("IBuilder::getDeviceType", this, GPU, |b| {
        let key = b.layer_key(layer)?;
        Ok(b.s
            .device_types
            .get(&key)
            .copied()
            .unwrap_or(b.s.default_device))
    })
}

unsafe extern "C" fn is_device_type_set(this: This, layer: Layer) -> bool {
    method("IBuilder::isDeviceTypeSet", this, false, |b| {
        Ok(b.s.device_types.contains_key(&b.layer_key(layer)?))
    })
}

unsafe extern "C" fn reset_device_type(this: This, layer: Layer) {
    method("IBuilder::resetDeviceType", this, (), |b| {
        let key = b.layer_key(layer)?;
        b.s.device_types.remove(&key);
        Ok(())
    })
}

unsafe extern "C" fn can_run_on_dla(this: This, layer: Layer) -> bool {
    method("IBuilder::canRunOnDLA", this, false, |b| {
        b.layer_key(layer)?;
        Ok(false)
    })
}

unsafe extern "C" fn set_default_device_type(this: This, v: i32) {
    method("IBuilder::setDefaultDeviceType", this, (), |b| {
        b.s.default_device = device(v)?;
        Ok(())
    })
}

unsafe extern "C" fn get_default_device_type(this: This) -> i32 {
    method("IBuilder::getDefaultDeviceType", this, GPU, |b| {
        Ok(b.s.default_device)
    })
}

unsafe extern "C" fn get_max_dla_batch_size(this: This) -> i32 {
    method("IBuilder::getMaxDLABatchSize", this, 0, |_| Ok(0))
}

unsafe extern "C" fn allow_gpu_fallback(this: This, v: bool) {
    method("IBuilder::allowGPUFallback", this, (), |b| {
        b.s.gpu_fallback = v;
        Ok(())
    })
}

unsafe extern "C" fn get_nb_dla_cores(this: This) -> i32 {
    method("IBuilder::getNbDLACores", this, 0, |_| Ok(0))
}

unsafe extern "C" fn set_dla_core(this: This, core: i32) {
    method("IBuilder::setDLACore", this, (), |b| {
        b.s.dla_core = core;
        if core >= 0 {
            b.logger.log(
                Severity::Warning,
                &format!("setDLACore({core}): this machine has no DLA cores"),
            );
        }
        Ok(())
    })
}

unsafe extern "C" fn get_dla_core(this: This) -> i32 {
    method("IBuilder::getDLACore", this, -1, |b| Ok(b.s.dla_core))
}

unsafe extern "C" fn reset(this: This, network: Network) {
    method("IBuilder::reset", this, (), |b| {
        if !NetworkObj::is_network(network) {
            crate::bail!(
                InvalidArgument,
                "argument `network` is null or not a network created by infer8"
            );
        }
        b.s = Settings::default();
        Ok(())
    })
}

/// Engines built afterwards take their contexts' device memory from `allocator` (null: from the
/// driver again); the CPU backend allocates host memory and never calls it.
unsafe extern "C" fn set_gpu_allocator(this: This, allocator: *mut c_void) {
    method("IBuilder::setGpuAllocator", this, (), |b| {
        // SAFETY: the application keeps its allocator alive while engines made with it exist.
        b.allocator = unsafe { CppGpuAllocator::from_ptr(allocator) };
        Ok(())
    })
}

/// Engines are never refittable (refit is not implemented); asking for it is reported.
unsafe extern "C" fn set_refittable(this: This, v: bool) {
    method("IBuilder::setRefittable", this, (), |b| {
        if v {
            return unsupported("refittable engines (setRefittable(true))");
        }
        b.s.refittable = false;
        Ok(())
    })
}

unsafe extern "C" fn get_refittable(this: This) -> bool {
    method("IBuilder::getRefittable", this, false, |b| {
        Ok(b.s.refittable)
    })
}

/// Only `EngineCapability::kDEFAULT` (0): the safety runtimes are NVIDIA's.
unsafe extern "C" fn set_engine_capability(this: This, v: i32) {
    method("IBuilder::setEngineCapability", this, (), |_| match v {
        0 => Ok(()),
        1 | 2 => unsupported("EngineCapability kSAFE_GPU / kSAFE_DLA"),
        _ => crate::bail!(InvalidArgument, "{v} is not a valid EngineCapability"),
    })
}

unsafe extern "C" fn get_engine_capability(this: This) -> i32 {
    method("IBuilder::getEngineCapability", this, 0, |_| Ok(0))
}

unsafe extern "C" fn create_builder_config(this: This) -> *mut c_void {
    method(
        "IBuilder::createBuilderConfig",
        this,
        std::ptr::null_mut(),
        |b| Ok(BuilderConfigObj::create(b.logger.clone()).cast()),
    )
}

/// The config's settings; the maximum batch size stays the builder's (implicit-batch networks).
unsafe extern "C" fn build_engine_with_config(
    this: This,
    network: Network,
    config: *mut c_void,
) -> Engine {
    method(
        "IBuilder::buildEngineWithConfig",
        this,
        std::ptr::null_mut(),
        |b| {
            let config = config.cast::<BuilderConfigObj>();
            if !BuilderConfigObj::is_config(config) {
                crate::bail!(
                    InvalidArgument,
                    "argument `config` is null or not made by IBuilder::createBuilderConfig"
                );
            }
            // SAFETY: checked to be one of our config objects.
            let c = unsafe { &(*config).s };
            let flag = |f: u32| c.flags & f != 0;
            let request = BuildRequest {
                config: BuilderConfig {
                    max_batch_size: b.s.config.max_batch_size,
                    max_workspace_size: c.workspace,
                    fp16: flag(builder_config::FP16),
                    int8: flag(builder_config::INT8),
                    strict_types: flag(builder_config::STRICT_TYPES),
                    debug_sync: flag(builder_config::DEBUG),
                    min_find_iterations: c.min_timing,
                    avg_find_iterations: c.avg_timing,
                    // From `profiles`, in `build`.
                    profile: Vec::new(),
                },
                calibrator: c.calibrator,
                wants_dla: c.wants_dla(),
                gpu_fallback: flag(builder_config::GPU_FALLBACK),
                profiles: &c.profiles,
                allocator: b.allocator.clone(),
            };
            build(&b.logger, network, request)
        },
    )
}

/// `NetworkDefinitionCreationFlag`: bit 0 explicit batch, bit 1 explicit precision (Q/DQ layers,
/// which infer8's networks do not have: ONNX Q/DQ pairs become dynamic ranges instead).
unsafe extern "C" fn create_network_v2(this: This, flags: u32) -> Network {
    method(
        "IBuilder::createNetworkV2",
        this,
        std::ptr::null_mut(),
        |b| {
            if flags & !1 != 0 {
                return unsupported(&format!(
                    "createNetworkV2 flags {flags:#x} (only kEXPLICIT_BATCH)"
                ));
            }
            Ok(NetworkObj::create(b.logger.clone(), flags & 1 != 0))
        },
    )
}

unsafe extern "C" fn create_optimization_profile(this: This) -> *mut c_void {
    method(
        "IBuilder::createOptimizationProfile",
        this,
        std::ptr::null_mut(),
        |b| {
            let mut p = ProfileObj::create(b.logger.clone());
            let ptr: *mut ProfileObj = &mut *p;
            b.profiles.push(p);
            Ok(ptr.cast())
        },
    )
}

unsafe extern "C" fn set_error_recorder(this: This, recorder: *mut c_void) {
    method("IBuilder::setErrorRecorder", this, (), |b| {
        // SAFETY: the application's IErrorRecorder, alive while referenced (TensorRT's contract).
        unsafe { b.recorder.set(&mut b.logger, recorder) };
        Ok(())
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    method(
        "IBuilder::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |b| Ok(b.recorder.get()),
    )
}

unsafe extern "C" fn reset2(this: This) {
    method("IBuilder::reset", this, (), |b| {
        b.s = Settings::default();
        Ok(())
    })
}

static VTABLE: IBuilderVtbl = IBuilderVtbl {
    createNetwork: create_network,
    setMaxBatchSize: set_max_batch_size,
    getMaxBatchSize: get_max_batch_size,
    setMaxWorkspaceSize: set_max_workspace_size,
    getMaxWorkspaceSize: get_max_workspace_size,
    setHalf2Mode: set_half2_mode,
    getHalf2Mode: get_half2_mode,
    setDebugSync: set_debug_sync,
    getDebugSync: get_debug_sync,
    setMinFindIterations: set_min_find_iterations,
    getMinFindIterations: get_min_find_iterations,
    setAverageFindIterations: set_average_find_iterations,
    getAverageFindIterations: get_average_find_iterations,
    buildCudaEngine: build_cuda_engine,
    platformHasFastFp16: platform_has_fast_fp16,
    platformHasFastInt8: platform_has_fast_int8,
    destroy,
    setInt8Mode: set_int8_mode,
    getInt8Mode: get_int8_mode,
    setInt8Calibrator: set_int8_calibrator,
    setDeviceType: set_device_type,
    getDeviceType: get_device_type,
    isDeviceTypeSet: is_device_type_set,
    resetDeviceType: reset_device_type,
    canRunOnDLA: can_run_on_dla,
    setDefaultDeviceType: set_default_device_type,
    getDefaultDeviceType: get_default_device_type,
    getMaxDLABatchSize: get_max_dla_batch_size,
    allowGPUFallback: allow_gpu_fallback,
    getNbDLACores: get_nb_dla_cores,
    setDLACore: set_dla_core,
    getDLACore: get_dla_core,
    reset,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    setGpuAllocator: set_gpu_allocator,
    setFp16Mode: set_fp16_mode,
    getFp16Mode: get_fp16_mode,
    setStrictTypeConstraints: set_strict_type_constraints,
    getStrictTypeConstraints: get_strict_type_constraints,
    setRefittable: set_refittable,
    getRefittable: get_refittable,
    setEngineCapability: set_engine_capability,
    getEngineCapability: get_engine_capability,
    createBuilderConfig: create_builder_config,
    buildEngineWithConfig: build_engine_with_config,
    createNetworkV2: create_network_v2,
    createOptimizationProfile: create_optimization_profile,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
    reset2,
};

/// Makes the caller's logger the process logger and returns it (shared by builder and runtime).
pub(super) fn user_logger(logger: *mut c_void, version: i32, what: &str) -> Result<SharedLogger> {
    non_null(logger, "logger")?;
    // SAFETY: `logger` is the application's ILogger, which outlives the objects made with it.
    let logger =
        Arc::new(unsafe { CppLogger::new(logger) }.ok_or_else(|| {
            crate::error::Error::InvalidArgument("argument `logger` is null".into())
        })?);
    set_process_logger(logger.clone());
    logger.log(
        Severity::Verbose,
        &format!("infer8: {what} created for TensorRT header version {version}"),
    );
    Ok(logger)
}

/// `extern "C" void* createInferBuilder_INTERNAL(void* logger, int version)`.
///
/// # Safety
/// `logger` must be null or an `nvinfer1::ILogger` that outlives the builder and what it creates.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn createInferBuilder_INTERNAL(
    logger: *mut c_void,
    version: i32,
) -> *mut c_void {
    function("createInferBuilder_INTERNAL", std::ptr::null_mut(), || {
        let logger = user_logger(logger, version, "IBuilder")?;
        let b = BuilderObj {
            vtable: &VTABLE,
            s: Settings::default(),
            logger,
            header_version: version,
            profiles: Vec::new(),
            recorder: ErrorRecorderSlot::default(),
            allocator: None,
        };
        Ok(Box::into_raw(Box::new(b)).cast())
    })
}

impl BuilderObj {
    /// The header generation the caller was compiled with (5105, 6001, 7000, …).
    pub fn header_version(&self) -> i32 {
        self.header_version
    }
}
