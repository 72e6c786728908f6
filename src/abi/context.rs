//! `nvinfer1::IExecutionContext`. Bindings are host pointers on the CPU backend; their lengths
//! follow from the engine's binding shapes, the batch size and the element size. `enqueue` runs
//! synchronously, then signals `inputConsumed` with the CUDA runtime's `cudaEventRecord` (found in
//! the process, real or host-memory runtime: DESIGN.md decision 3).

use std::ffi::{CString, c_char, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use super::boundary::{
    Object, c_str, cache_c_string, index, method, non_null, positive, release, unsupported,
};
use super::dims::Dims;
use super::engine::EngineObj;
use super::error_recorder::ErrorRecorderSlot;
use crate::backend::Device;
use crate::engine::context::{HostBinding, Profiler};
use crate::engine::{Engine, ExecutionContext};
use crate::error::Result;
use crate::logger::SharedLogger;
use crate::types::volume;

type This = *mut ContextObj;
type User = *mut c_void;

vtable! {
    "IExecutionContext" => struct IExecutionContextVtbl {
        execute: unsafe extern "C" fn(This, i32, *mut *mut c_void) -> bool,
        enqueue: unsafe extern "C" fn(This, i32, *mut *mut c_void, *mut c_void, *mut *mut c_void) -> bool,
        setDebugSync: unsafe extern "C" fn(This, bool),
        getDebugSync: unsafe extern "C" fn(This) -> bool,
        setProfiler: unsafe extern "C" fn(This, User),
        getProfiler: unsafe extern "C" fn(This) -> User,
        getEngine: unsafe extern "C" fn(This) -> *const EngineObj,
        destroy: unsafe extern "C" fn(This),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setName: unsafe extern "C" fn(This, *const c_char),
        getName: unsafe extern "C" fn(This) -> *const c_char,
        setDeviceMemory: unsafe extern "C" fn(This, *mut c_void),
        getStrides: unsafe extern "C" fn(This, i32) -> Dims,
        setOptimizationProfile: unsafe extern "C" fn(This, i32) -> bool,
        getOptimizationProfile: unsafe extern "C" fn(This) -> i32,
        setBindingDimensions: unsafe extern "C" fn(This, i32, Dims) -> bool,
        getBindingDimensions: unsafe extern "C" fn(This, i32) -> Dims,
        setInputShapeBinding: unsafe extern "C" fn(This, i32, *const i32) -> bool,
        getShapeBinding: unsafe extern "C" fn(This, i32, *mut i32) -> bool,
        allInputDimensionsSpecified: unsafe extern "C" fn(This) -> bool,
        allInputShapesSpecified: unsafe extern "C" fn(This) -> bool,
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
        executeV2: unsafe extern "C" fn(This, *mut *mut c_void) -> bool,
        enqueueV2: unsafe extern "C" fn(This, *mut *mut c_void, *mut c_void, *mut *mut c_void) -> bool,
    }
}

vtable! {
    /// Implemented by the user.
    "IProfiler" => struct IProfilerVtbl {
        reportLayerTime: unsafe extern "C" fn(User, *const c_char, f32),
        dtor_complete as "~D1": unsafe extern "C" fn(User),
        dtor_deleting as "~D0": unsafe extern "C" fn(User),
    }
}

/// A user `IProfiler*`, told every layer's time after each run.
struct CppProfiler(NonNull<&'static IProfilerVtbl>);

// SAFETY: a context is used by one thread at a time (TensorRT's rule), and so is its profiler.
unsafe impl Send for CppProfiler {}

impl Profiler for CppProfiler {
    fn report_layer_time(&mut self, layer_name: &str, ms: f32) {
        let name = CString::new(layer_name.replace('\0', "?")).unwrap_or_default();
        // SAFETY: the application keeps its profiler alive while it is set; slot 0 is
        // reportLayerTime.
        unsafe { ((*self.0.as_ptr()).reportLayerTime)(self.0.as_ptr().cast(), name.as_ptr(), ms) }
    }
}

#[repr(C)]
pub struct ContextObj {
    vtable: &'static IExecutionContextVtbl,
    ctx: ExecutionContext,
    /// The `ICudaEngine` that created this context (`getEngine`).
    engine_obj: *const EngineObj,
    logger: SharedLogger,
    profiler: User,
    name: CString,
    /// `setErrorRecorder`: errors of this object (and, for an engine, of contexts made
    /// afterwards) also reach the application's recorder.
    recorder: ErrorRecorderSlot,
}

impl Object for ContextObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl ContextObj {
    pub(super) fn create(
        engine_obj: *const EngineObj,
        engine: Arc<Engine>,
        logger: SharedLogger,
    ) -> Result<This> {
        let mut ctx = ExecutionContext::new(engine)?;
        // SAFETY: contexts are made by their engine's methods, which pass the live engine.
        ctx.set_device_allocator(unsafe { &*engine_obj }.allocator.clone());
        Ok(Box::into_raw(Box::new(ContextObj {
            vtable: &VTABLE,
            ctx,
            engine_obj,
            logger,
            profiler: std::ptr::null_mut(),
            name: CString::default(),
            recorder: ErrorRecorderSlot::default(),
        })))
    }

    /// Runs `batch` items on the C++ binding array (one pointer per engine binding). On CUDA the
    /// pointers are device memory and the work is queued on `stream` (`None`: TensorRT's
    /// synchronous `execute`), with `consumed` recorded after it; on the CPU it runs now.
    fn run(
        &mut self,
        batch: i32,
        bindings: *mut *mut c_void,
        stream: Option<*mut c_void>,
        consumed: *mut *mut c_void,
    ) -> Result<bool> {
        self.ctx.prepare_shapes()?;
        let engine = self.ctx.engine().clone();
        let batch = positive(batch, "batchSize")?;
        if batch > engine.max_batch_size {
            crate::bail!(
                InvalidArgument,
                "batch size {batch} exceeds the engine's maximum batch size {}",
                engine.max_batch_size
            );
        }
        non_null(bindings, "bindings")?;
        // SAFETY: the array holds one pointer per binding (getNbBindings()), per the interface.
        let ptrs = unsafe { std::slice::from_raw_parts(bindings, engine.bindings.len()) };
        let mut ranges = Vec::with_capacity(ptrs.len());
        for (i, (b, &p)) in engine.bindings.iter().zip(ptrs).enumerate() {
            if p.is_null() {
                crate::bail!(InvalidArgument, "binding {i} ('{}') is null", b.name);
            }
            let len = batch * volume(&b.shape) * b.dtype.size();
            ranges.push((p as usize, p as usize + len, b.is_input));
        }
        // Outputs are written: they must not share memory with any other binding.
        for (i, &(start, end, is_input)) in ranges.iter().enumerate() {
            let clash = ranges
                .iter()
                .enumerate()
                .find(|&(j, &(s, e, _))| j != i && !is_input && s < end && start < e);
            if let Some((j, _)) = clash {
                crate::bail!(InvalidArgument, "output binding {i} overlaps binding {j}");
            }
        }
        // SAFETY: a non-null `inputConsumed` points at a cudaEvent_t, per the interface.
        let event = unsafe { consumed.as_ref() }
            .copied()
            .filter(|e| !e.is_null());
        if self.ctx.device() == Device::Cuda {
            let raw: Vec<u64> = ptrs.iter().map(|&p| p as u64).collect();
            // SAFETY: TensorRT's contract: device pointers to `batch` items of each binding, and
            // the application's stream and event.
            unsafe {
                match stream {
                    Some(s) => {
                        self.ctx
                            .enqueue_device(batch, &raw, s as u64, event.map(|e| e as u64))
                    }
                    None => self.ctx.execute_device(batch, &raw),
                }
            }?;
            return Ok(true);
        }
        let mut host: Vec<HostBinding> = ranges
            .iter()
            .zip(ptrs)
            .map(|(&(start, end, is_input), &p)| {
                // SAFETY: the application provides `batch` items of each binding at its pointer
                // (TensorRT's contract); outputs overlap nothing (checked above).
                unsafe {
                    if is_input {
                        HostBinding::Input(std::slice::from_raw_parts(p.cast::<u8>(), end - start))
                    } else {
                        HostBinding::Output(std::slice::from_raw_parts_mut(
                            p.cast::<u8>(),
                            end - start,
                        ))
                    }
                }
            })
            .collect();
        self.ctx.execute(batch, &mut host)?;
        if let (Some(event), Some(stream)) = (event, stream) {
            record_event(event, stream)?;
        }
        Ok(true)
    }
}

unsafe extern "C" fn execute(this: This, batch: i32, bindings: *mut *mut c_void) -> bool {
    method("IExecutionContext::execute", this, false, |c| {
        c.run(batch, bindings, None, std::ptr::null_mut())
    })
}

/// `cudaEventRecord(event, stream)` from the CUDA runtime loaded in the process.
fn record_event(event: *mut c_void, stream: *mut c_void) -> Result<()> {
    type Record = unsafe extern "C" fn(*mut c_void, *mut c_void) -> i32;
    // SAFETY: dlsym with a NUL-terminated name; RTLD_DEFAULT searches the loaded objects.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"cudaEventRecord".as_ptr()) };
    if sym.is_null() {
        crate::bail!(
            Runtime,
            "inputConsumed was given but no CUDA runtime (cudaEventRecord) is loaded in the process"
        );
    }
    // SAFETY: `cudaEventRecord(cudaEvent_t, cudaStream_t) -> cudaError_t` has this signature.
    let record = unsafe { std::mem::transmute::<*mut c_void, Record>(sym) };
    // SAFETY: the event and stream are the application's, as it passed them to enqueue.
    match unsafe { record(event, stream) } {
        0 => Ok(()),
        rc => crate::bail!(
            Runtime,
            "cudaEventRecord for inputConsumed failed with CUDA error {rc}"
        ),
    }
}

unsafe extern "C" fn enqueue(
    this: This,
    batch: i32,
    bindings: *mut *mut c_void,
    stream: *mut c_void,
    consumed: *mut *mut c_void,
) -> bool {
    method("IExecutionContext::enqueue", this, false, |c| {
        c.run(batch, bindings, Some(stream), consumed)
    })
}

unsafe extern "C" fn set_debug_sync(this: This, v: bool) {
    method("IExecutionContext::setDebugSync", this, (), |c| {
        c.ctx.debug_sync = v;
        Ok(())
    })
}

unsafe extern "C" fn get_debug_sync(this: This) -> bool {
    method("IExecutionContext::getDebugSync", this, false, |c| {
        Ok(c.ctx.debug_sync)
    })
}

unsafe extern "C" fn set_profiler(this: This, profiler: User) {
    method("IExecutionContext::setProfiler", this, (), |c| {
        c.profiler = profiler;
        let p =
            NonNull::new(profiler.cast()).map(|p| Box::new(CppProfiler(p)) as Box<dyn Profiler>);
        c.ctx.set_profiler(p);
        Ok(())
    })
}

unsafe extern "C" fn get_profiler(this: This) -> User {
    method(
        "IExecutionContext::getProfiler",
        this,
        std::ptr::null_mut(),
        |c| Ok(c.profiler),
    )
}

unsafe extern "C" fn get_engine(this: This) -> *const EngineObj {
    method(
        "IExecutionContext::getEngine",
        this,
        std::ptr::null(),
        |c| Ok(c.engine_obj),
    )
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by this library; the caller gives it up.
    unsafe { release("IExecutionContext::destroy", this) }
}

unsafe extern "C" fn set_name(this: This, name: *const c_char) {
    method("IExecutionContext::setName", this, (), |c| {
        // SAFETY: a C string per the interface.
        c.ctx.name = unsafe { c_str(name, "name") }?;
        Ok(())
    })
}

unsafe extern "C" fn get_name(this: This) -> *const c_char {
    method("IExecutionContext::getName", this, std::ptr::null(), |c| {
        Ok(cache_c_string(&mut c.name, &c.ctx.name))
    })
}

/// The CPU backend's activations live in host memory the context owns; device memory handed in
/// for a context made without it is not needed.
unsafe extern "C" fn set_device_memory(this: This, memory: *mut c_void) {
    method("IExecutionContext::setDeviceMemory", this, (), |_| {
        non_null(memory, "memory").map(|_| ())
    })
}

fn binding_shape(c: &ContextObj, i: i32) -> Result<Vec<usize>> {
    let bindings = &c.ctx.engine().bindings;
    Ok(bindings[index(i, bindings.len(), "binding index")?]
        .shape
        .clone())
}

/// Strides in elements of a dense row-major binding (batch excluded).
unsafe extern "C" fn get_strides(this: This, i: i32) -> Dims {
    method(
        "IExecutionContext::getStrides",
        this,
        Dims::default(),
        |c| {
            let shape = binding_shape(c, i)?;
            let strides: Vec<usize> = (0..shape.len()).map(|d| volume(&shape[d + 1..])).collect();
            Dims::from_shape(&strides)
        },
    )
}

unsafe extern "C" fn set_optimization_profile(this: This, p: i32) -> bool {
    method(
        "IExecutionContext::setOptimizationProfile",
        this,
        false,
        |_| index(p, 1, "profile index").map(|_| true),
    )
}

unsafe extern "C" fn get_optimization_profile(this: This) -> i32 {
    method(
        "IExecutionContext::getOptimizationProfile",
        this,
        -1,
        |_| Ok(0),
    )
}

/// A dynamic input's dimensions are checked against its profile; the context re-plans for them
/// before its next run. A fixed binding accepts only its own dimensions.
unsafe extern "C" fn set_binding_dimensions(this: This, i: i32, dims: Dims) -> bool {
    method(
        "IExecutionContext::setBindingDimensions",
        this,
        false,
        |c| {
            let i = index(i, c.ctx.built_engine().bindings.len(), "binding index")?;
            c.ctx.set_input_shape(i, dims.sizes("dimensions", 1)?)?;
            Ok(true)
        },
    )
}

/// A dynamic input: -1 until set, then as set; an output: -1 where it depends on an input not
/// set yet, else its dimensions at the inputs' dimensions.
unsafe extern "C" fn get_binding_dimensions(this: This, i: i32) -> Dims {
    method(
        "IExecutionContext::getBindingDimensions",
        this,
        Dims::default(),
        |c| {
            let built = Arc::clone(c.ctx.built_engine());
            let i = index(i, built.bindings.len(), "binding index")?;
            if let Some(shape) = c.ctx.input_shape(i) {
                return Dims::from_shape(shape);
            }
            if built.bindings[i].is_input || c.ctx.unset_input().is_some() {
                let d = built.binding_dims(i)?;
                return Ok(Dims::from_values(
                    &d.iter().map(|&v| v as i32).collect::<Vec<_>>(),
                ));
            }
            c.ctx.prepare_shapes()?;
            Dims::from_shape(&c.ctx.engine().bindings[i].shape)
        },
    )
}

unsafe extern "C" fn set_input_shape_binding(this: This, _: i32, _: *const i32) -> bool {
    method(
        "IExecutionContext::setInputShapeBinding",
        this,
        false,
        |_| unsupported("shape bindings (the engine has none)"),
    )
}

unsafe extern "C" fn get_shape_binding(this: This, _: i32, _: *mut i32) -> bool {
    method("IExecutionContext::getShapeBinding", this, false, |_| {
        unsupported("shape bindings (the engine has none)")
    })
}

unsafe extern "C" fn all_input_dimensions_specified(this: This) -> bool {
    method(
        "IExecutionContext::allInputDimensionsSpecified",
        this,
        false,
        |c| Ok(c.ctx.unset_input().is_none()),
    )
}

unsafe extern "C" fn all_input_shapes_specified(this: This) -> bool {
    method(
        "IExecutionContext::allInputShapesSpecified",
        this,
        false,
        |_| Ok(true),
    )
}

unsafe extern "C" fn set_error_recorder(this: This, recorder: *mut c_void) {
    method("IExecutionContext::setErrorRecorder", this, (), |o| {
        // SAFETY: the application's IErrorRecorder, alive while referenced (TensorRT's contract).
        unsafe { o.recorder.set(&mut o.logger, recorder) };
        Ok(())
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    method(
        "IExecutionContext::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |o| Ok(o.recorder.get()),
    )
}

/// The V2 calls are for explicit-batch engines, whose bindings carry the batch: one run of the
/// whole network. TensorRT rejects them on implicit-batch engines.
fn explicit(c: &ContextObj, func: &str) -> Result<()> {
    if !c.ctx.engine().network.explicit_batch {
        crate::bail!(
            InvalidArgument,
            "{func} on an implicit-batch engine: use the call with a batch size (V2 calls need createNetworkV2(1U << kEXPLICIT_BATCH))"
        );
    }
    Ok(())
}

unsafe extern "C" fn execute_v2(this: This, bindings: *mut *mut c_void) -> bool {
    method("IExecutionContext::executeV2", this, false, |c| {
        explicit(c, "executeV2")?;
        c.run(1, bindings, None, std::ptr::null_mut())
    })
}

unsafe extern "C" fn enqueue_v2(
    this: This,
    bindings: *mut *mut c_void,
    stream: *mut c_void,
    consumed: *mut *mut c_void,
) -> bool {
    method("IExecutionContext::enqueueV2", this, false, |c| {
        explicit(c, "enqueueV2")?;
        c.run(1, bindings, Some(stream), consumed)
    })
}

static VTABLE: IExecutionContextVtbl = IExecutionContextVtbl {
    execute,
    enqueue,
    setDebugSync: set_debug_sync,
    getDebugSync: get_debug_sync,
    setProfiler: set_profiler,
    getProfiler: get_profiler,
    getEngine: get_engine,
    destroy,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    setName: set_name,
    getName: get_name,
    setDeviceMemory: set_device_memory,
    getStrides: get_strides,
    setOptimizationProfile: set_optimization_profile,
    getOptimizationProfile: get_optimization_profile,
    setBindingDimensions: set_binding_dimensions,
    getBindingDimensions: get_binding_dimensions,
    setInputShapeBinding: set_input_shape_binding,
    getShapeBinding: get_shape_binding,
    allInputDimensionsSpecified: all_input_dimensions_specified,
    allInputShapesSpecified: all_input_shapes_specified,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
    executeV2: execute_v2,
    enqueueV2: enqueue_v2,
};
