//! `nvinfer1::IRuntime`, `createInferRuntime_INTERNAL`, and the other free entry points of
//! libnvinfer (`getInferLibVersion`, `createInferRefitter_INTERNAL`).

use std::ffi::c_void;
use std::sync::Arc;

use super::boundary::{Object, function, method, non_null, release, unsupported};
use super::builder::user_logger;
use super::engine::EngineObj;
use super::error_recorder::ErrorRecorderSlot;
use super::gpu_allocator::CppGpuAllocator;
use super::plugin_factory::RuntimePlugins;
use crate::backend::DeviceAllocator;
use crate::logger::{Severity, SharedLogger};

type This = *mut RuntimeObj;

vtable! {
    "IRuntime" => struct IRuntimeVtbl {
        deserializeCudaEngine: unsafe extern "C" fn(This, *const c_void, usize, *mut c_void) -> *mut EngineObj,
        setDLACore: unsafe extern "C" fn(This, i32),
        getDLACore: unsafe extern "C" fn(This) -> i32,
        getNbDLACores: unsafe extern "C" fn(This) -> i32,
        destroy: unsafe extern "C" fn(This),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setGpuAllocator: unsafe extern "C" fn(This, *mut c_void),
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
    }
}

/// `getInferLibVersion()`: the TensorRT version whose API infer8 presents (5.1.5).
pub const LIB_VERSION: i32 = 5105;

#[repr(C)]
pub struct RuntimeObj {
    vtable: &'static IRuntimeVtbl,
    logger: SharedLogger,
    dla_core: i32,
    /// `NV_TENSORRT_VERSION` of the header the caller was compiled with.
    header_version: i32,
    /// `setErrorRecorder`: engines deserialized afterwards share the recording logger.
    recorder: ErrorRecorderSlot,
    /// `setGpuAllocator`: device memory of engines deserialized afterwards.
    allocator: Option<Arc<dyn DeviceAllocator>>,
}

impl Object for RuntimeObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl RuntimeObj {
    /// The header generation the caller was compiled with (5105, 6001, 7000, …).
    pub fn header_version(&self) -> i32 {
        self.header_version
    }
}

/// Plugin layers are re-created through `factory` (`IPlugin`, `IPluginExt`; may be null when the
/// engine has none) or the plugin registry (`IPluginV2`).
unsafe extern "C" fn deserialize_cuda_engine(
    this: This,
    blob: *const c_void,
    size: usize,
    factory: *mut c_void,
) -> *mut EngineObj {
    method(
        "IRuntime::deserializeCudaEngine",
        this,
        std::ptr::null_mut(),
        |r| {
            non_null(blob, "blob")?;
            // SAFETY: `blob` points at `size` bytes per the interface.
            let bytes = unsafe { std::slice::from_raw_parts(blob.cast::<u8>(), size) };
            let engine =
                crate::engine::serialize::from_bytes_with(bytes, &mut RuntimePlugins(factory))?;
            Ok(EngineObj::create(
                Arc::new(engine),
                r.logger.clone(),
                r.allocator.clone(),
            ))
        },
    )
}

unsafe extern "C" fn set_dla_core(this: This, core: i32) {
    method("IRuntime::setDLACore", this, (), |r| {
        r.dla_core = core;
        if core >= 0 {
            r.logger.log(
                Severity::Warning,
                &format!("setDLACore({core}): this machine has no DLA cores"),
            );
        }
        Ok(())
    })
}

unsafe extern "C" fn get_dla_core(this: This) -> i32 {
    method("IRuntime::getDLACore", this, -1, |r| Ok(r.dla_core))
}

unsafe extern "C" fn get_nb_dla_cores(this: This) -> i32 {
    method("IRuntime::getNbDLACores", this, 0, |_| Ok(0))
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by `createInferRuntime_INTERNAL`; the caller gives it up.
    unsafe { release("IRuntime::destroy", this) }
}

/// Engines deserialized afterwards take their contexts' device memory from `allocator` (null:
/// from the driver again); the CPU backend allocates host memory and never calls it.
unsafe extern "C" fn set_gpu_allocator(this: This, allocator: *mut c_void) {
    method("IRuntime::setGpuAllocator", this, (), |r| {
        // SAFETY: the application keeps its allocator alive while engines made with it exist.
        r.allocator = unsafe { CppGpuAllocator::from_ptr(allocator) };
        Ok(())
    })
}

unsafe extern "C" fn set_error_recorder(this: This, recorder: *mut c_void) {
    method("IRuntime::setErrorRecorder", this, (), |r| {
        // SAFETY: the application's IErrorRecorder, alive while referenced (TensorRT's contract).
        unsafe { r.recorder.set(&mut r.logger, recorder) };
        Ok(())
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    method(
        "IRuntime::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |r| Ok(r.recorder.get()),
    )
}

static VTABLE: IRuntimeVtbl = IRuntimeVtbl {
    deserializeCudaEngine: deserialize_cuda_engine,
    setDLACore: set_dla_core,
    getDLACore: get_dla_core,
    getNbDLACores: get_nb_dla_cores,
    destroy,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    setGpuAllocator: set_gpu_allocator,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
};

/// `extern "C" void* createInferRuntime_INTERNAL(void* logger, int version)`.
///
/// # Safety
/// `logger` must be null or an `nvinfer1::ILogger` that outlives the runtime and its engines.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn createInferRuntime_INTERNAL(
    logger: *mut c_void,
    version: i32,
) -> *mut c_void {
    function("createInferRuntime_INTERNAL", std::ptr::null_mut(), || {
        let logger = user_logger(logger, version, "IRuntime")?;
        let r = RuntimeObj {
            vtable: &VTABLE,
            logger,
            dla_core: -1,
            header_version: version,
            recorder: ErrorRecorderSlot::default(),
            allocator: None,
        };
        Ok(Box::into_raw(Box::new(r)).cast())
    })
}

/// `extern "C" int getInferLibVersion()`.
#[unsafe(no_mangle)]
pub extern "C" fn getInferLibVersion() -> i32 {
    function("getInferLibVersion", LIB_VERSION, || Ok(LIB_VERSION))
}

/// `extern "C" void* createInferRefitter_INTERNAL(void* engine, void* logger, int version)`:
/// declared by the headers, so programs that mention refitting link; engines are not refittable.
#[unsafe(no_mangle)]
pub extern "C" fn createInferRefitter_INTERNAL(
    _engine: *mut c_void,
    _logger: *mut c_void,
    _version: i32,
) -> *mut c_void {
    function("createInferRefitter_INTERNAL", std::ptr::null_mut(), || {
        unsupported("IRefitter (engines are not refittable)")
    })
}
