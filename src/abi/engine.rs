//! `nvinfer1::ICudaEngine` over a shared core [`Engine`].

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use super::boundary::{Object, c_str, cache_c_string, index, method, release, unsupported};
use super::context::ContextObj;
use super::dims::Dims;
use super::error_recorder::ErrorRecorderSlot;
use super::host_memory::HostMemoryObj;
use crate::backend::DeviceAllocator;
use crate::engine::{Binding, Engine};
use crate::error::Result;
use crate::logger::SharedLogger;
use crate::types::DataType;

type This = *mut EngineObj;

vtable! {
    "ICudaEngine" => struct ICudaEngineVtbl {
        getNbBindings: unsafe extern "C" fn(This) -> i32,
        getBindingIndex: unsafe extern "C" fn(This, *const c_char) -> i32,
        getBindingName: unsafe extern "C" fn(This, i32) -> *const c_char,
        bindingIsInput: unsafe extern "C" fn(This, i32) -> bool,
        getBindingDimensions: unsafe extern "C" fn(This, i32) -> Dims,
        getBindingDataType: unsafe extern "C" fn(This, i32) -> i32,
        getMaxBatchSize: unsafe extern "C" fn(This) -> i32,
        getNbLayers: unsafe extern "C" fn(This) -> i32,
        getWorkspaceSize: unsafe extern "C" fn(This) -> usize,
        serialize: unsafe extern "C" fn(This) -> *mut HostMemoryObj,
        createExecutionContext: unsafe extern "C" fn(This) -> *mut ContextObj,
        destroy: unsafe extern "C" fn(This),
        getLocation: unsafe extern "C" fn(This, i32) -> i32,
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        createExecutionContextWithoutDeviceMemory: unsafe extern "C" fn(This) -> *mut ContextObj,
        getDeviceMemorySize: unsafe extern "C" fn(This) -> usize,
        isRefittable: unsafe extern "C" fn(This) -> bool,
        getBindingBytesPerComponent: unsafe extern "C" fn(This, i32) -> i32,
        getBindingComponentsPerElement: unsafe extern "C" fn(This, i32) -> i32,
        getBindingFormat: unsafe extern "C" fn(This, i32) -> i32,
        getBindingFormatDesc: unsafe extern "C" fn(This, i32) -> *const c_char,
        getBindingVectorizedDim: unsafe extern "C" fn(This, i32) -> i32,
        getName: unsafe extern "C" fn(This) -> *const c_char,
        getNbOptimizationProfiles: unsafe extern "C" fn(This) -> i32,
        getProfileDimensions: unsafe extern "C" fn(This, i32, i32, i32) -> Dims,
        getProfileShapeValues: unsafe extern "C" fn(This, i32, i32, i32) -> *const i32,
        isShapeBinding: unsafe extern "C" fn(This, i32) -> bool,
        isExecutionBinding: unsafe extern "C" fn(This, i32) -> bool,
        getEngineCapability: unsafe extern "C" fn(This) -> i32,
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
        hasImplicitBatchDimension: unsafe extern "C" fn(This) -> bool,
    }
}

#[repr(C)]
pub struct EngineObj {
    vtable: &'static ICudaEngineVtbl,
    pub(super) engine: Arc<Engine>,
    logger: SharedLogger,
    /// `getBindingName` strings, one per binding, made once (the engine never changes).
    binding_names: Vec<CString>,
    name: CString,
    format_desc: Vec<CString>,
    /// `setErrorRecorder`: errors of this object (and, for an engine, of contexts made
    /// afterwards) also reach the application's recorder.
    recorder: ErrorRecorderSlot,
    /// The `IGpuAllocator` of the builder or runtime that made the engine: its contexts' device
    /// memory comes from it.
    pub(super) allocator: Option<Arc<dyn DeviceAllocator>>,
}

impl Object for EngineObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

impl EngineObj {
    pub(super) fn create(
        engine: Arc<Engine>,
        logger: SharedLogger,
        allocator: Option<Arc<dyn DeviceAllocator>>,
    ) -> This {
        let binding_names = engine.bindings.iter().map(|b| c_string(&b.name)).collect();
        let format_desc = engine
            .bindings
            .iter()
            .map(|b| {
                c_string(&format!(
                    "Row major linear {} format (kLINEAR)",
                    type_name(b.dtype)
                ))
            })
            .collect();
        Box::into_raw(Box::new(EngineObj {
            vtable: &VTABLE,
            name: c_string(&engine.network.name),
            engine,
            logger,
            binding_names,
            format_desc,
            recorder: ErrorRecorderSlot::default(),
            allocator,
        }))
    }

    fn binding(&self, i: i32) -> Result<&Binding> {
        Ok(&self.engine.bindings[index(i, self.engine.bindings.len(), "binding index")?])
    }
}

fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::Float => "FP32",
        DataType::Half => "FP16",
        DataType::Int8 => "INT8",
        DataType::Int32 => "INT32",
        DataType::Bool => "BOOL",
    }
}

fn int(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

unsafe extern "C" fn get_nb_bindings(this: This) -> i32 {
    method("ICudaEngine::getNbBindings", this, 0, |e| {
        Ok(int(e.engine.bindings.len()))
    })
}

/// -1 when no binding has that name (a lookup, not an error).
unsafe extern "C" fn get_binding_index(this: This, name: *const c_char) -> i32 {
    method("ICudaEngine::getBindingIndex", this, -1, |e| {
        // SAFETY: a C string per the interface.
        let name = unsafe { c_str(name, "name") }?;
        Ok(e.engine.binding_index(&name).map_or(-1, int))
    })
}

unsafe extern "C" fn get_binding_name(this: This, i: i32) -> *const c_char {
    method("ICudaEngine::getBindingName", this, std::ptr::null(), |e| {
        Ok(e.binding_names[index(i, e.binding_names.len(), "binding index")?].as_ptr())
    })
}

unsafe extern "C" fn binding_is_input(this: This, i: i32) -> bool {
    method("ICudaEngine::bindingIsInput", this, false, |e| {
        Ok(e.binding(i)?.is_input)
    })
}

/// Implicit batch: the dimensions exclude the batch.
unsafe extern "C" fn get_binding_dimensions(this: This, i: i32) -> Dims {
    method(
        "ICudaEngine::getBindingDimensions",
        this,
        Dims::default(),
        |e| {
            e.binding(i)?;
            let d = e.engine.binding_dims(i as usize)?;
            Ok(Dims::from_values(
                &d.iter().map(|&v| v as i32).collect::<Vec<_>>(),
            ))
        },
    )
}

unsafe extern "C" fn get_binding_data_type(this: This, i: i32) -> i32 {
    method(
        "ICudaEngine::getBindingDataType",
        this,
        DataType::Float as i32,
        |e| Ok(e.binding(i)?.dtype as i32),
    )
}

unsafe extern "C" fn get_max_batch_size(this: This) -> i32 {
    method("ICudaEngine::getMaxBatchSize", this, 0, |e| {
        Ok(int(e.engine.max_batch_size))
    })
}

unsafe extern "C" fn get_nb_layers(this: This) -> i32 {
    method("ICudaEngine::getNbLayers", this, 0, |e| {
        Ok(int(e.engine.nb_layers()))
    })
}

/// The scratch memory beyond the activations (within `setMaxWorkspaceSize`), as TensorRT reports it.
unsafe extern "C" fn get_workspace_size(this: This) -> usize {
    method("ICudaEngine::getWorkspaceSize", this, 0, |e| {
        Ok(e.engine.workspace_size)
    })
}

unsafe extern "C" fn serialize(this: This) -> *mut HostMemoryObj {
    method("ICudaEngine::serialize", this, std::ptr::null_mut(), |e| {
        Ok(HostMemoryObj::create(
            crate::engine::serialize::try_to_bytes(&e.engine)?,
            e.logger.clone(),
        ))
    })
}

unsafe extern "C" fn create_execution_context(this: This) -> *mut ContextObj {
    method(
        "ICudaEngine::createExecutionContext",
        this,
        std::ptr::null_mut(),
        |e| {
            let me: This = e;
            ContextObj::create(me, e.engine.clone(), e.logger.clone())
        },
    )
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by this library; the caller gives it up.
    unsafe { release("ICudaEngine::destroy", this) }
}

unsafe extern "C" fn get_location(this: This, i: i32) -> i32 {
    method("ICudaEngine::getLocation", this, 0, |e| {
        let b = e.binding(i)?;
        Ok(e.engine.network.tensors[b.tensor].location as i32)
    })
}

/// A CPU context keeps its activations in host memory of its own, so memory supplied later with
/// `setDeviceMemory` is not needed: this is `createExecutionContext`.
unsafe extern "C" fn create_execution_context_without_device_memory(this: This) -> *mut ContextObj {
    method(
        "ICudaEngine::createExecutionContextWithoutDeviceMemory",
        this,
        std::ptr::null_mut(),
        |e| {
            let me: This = e;
            ContextObj::create(me, e.engine.clone(), e.logger.clone())
        },
    )
}

unsafe extern "C" fn get_device_memory_size(this: This) -> usize {
    method("ICudaEngine::getDeviceMemorySize", this, 0, |e| {
        Ok(e.engine.device_memory_size())
    })
}

unsafe extern "C" fn is_refittable(this: This) -> bool {
    method("ICudaEngine::isRefittable", this, false, |_| Ok(false))
}

unsafe extern "C" fn get_binding_bytes_per_component(this: This, i: i32) -> i32 {
    method("ICudaEngine::getBindingBytesPerComponent", this, -1, |e| {
        Ok(e.binding(i)?.dtype.size() as i32)
    })
}

/// Bindings are linear (kLINEAR): one component per element, no vectorized dimension.
unsafe extern "C" fn get_binding_components_per_element(this: This, i: i32) -> i32 {
    method(
        "ICudaEngine::getBindingComponentsPerElement",
        this,
        -1,
        |e| e.binding(i).map(|_| 1),
    )
}

unsafe extern "C" fn get_binding_format(this: This, i: i32) -> i32 {
    method("ICudaEngine::getBindingFormat", this, 0, |e| {
        e.binding(i).map(|_| 0)
    })
}

unsafe extern "C" fn get_binding_format_desc(this: This, i: i32) -> *const c_char {
    method(
        "ICudaEngine::getBindingFormatDesc",
        this,
        std::ptr::null(),
        |e| Ok(e.format_desc[index(i, e.format_desc.len(), "binding index")?].as_ptr()),
    )
}

unsafe extern "C" fn get_binding_vectorized_dim(this: This, i: i32) -> i32 {
    method("ICudaEngine::getBindingVectorizedDim", this, -1, |e| {
        e.binding(i).map(|_| -1)
    })
}

unsafe extern "C" fn get_name(this: This) -> *const c_char {
    method("ICudaEngine::getName", this, std::ptr::null(), |e| {
        let name = e.engine.network.name.clone();
        Ok(cache_c_string(&mut e.name, &name))
    })
}

/// An implicit-batch engine has one (implicit) optimization profile, covering batch 1..=max.
unsafe extern "C" fn get_nb_optimization_profiles(this: This) -> i32 {
    method("ICudaEngine::getNbOptimizationProfiles", this, 0, |_| Ok(1))
}

unsafe extern "C" fn get_profile_dimensions(this: This, i: i32, profile: i32, select: i32) -> Dims {
    method(
        "ICudaEngine::getProfileDimensions",
        this,
        Dims::default(),
        |e| {
            index(profile, 1, "profile index")?;
            if !(0..=2).contains(&select) {
                crate::bail!(
                    InvalidArgument,
                    "{select} is not a valid OptProfileSelector"
                );
            }
            let b = e.binding(i)?;
            match e.engine.profile.iter().find(|r| r.binding == i as usize) {
                Some(r) => Dims::from_shape([&r.min, &r.opt, &r.max][select as usize]),
                None => Dims::from_shape(&b.shape),
            }
        },
    )
}

unsafe extern "C" fn get_profile_shape_values(this: This, _: i32, _: i32, _: i32) -> *const i32 {
    method(
        "ICudaEngine::getProfileShapeValues",
        this,
        std::ptr::null(),
        |_| unsupported("shape bindings (the engine has none)"),
    )
}

unsafe extern "C" fn is_shape_binding(this: This, i: i32) -> bool {
    method("ICudaEngine::isShapeBinding", this, false, |e| {
        e.binding(i).map(|_| false)
    })
}

unsafe extern "C" fn is_execution_binding(this: This, i: i32) -> bool {
    method("ICudaEngine::isExecutionBinding", this, false, |e| {
        e.binding(i).map(|_| true)
    })
}

unsafe extern "C" fn get_engine_capability(this: This) -> i32 {
    method("ICudaEngine::getEngineCapability", this, 0, |_| Ok(0))
}

unsafe extern "C" fn set_error_recorder(this: This, recorder: *mut c_void) {
    method("ICudaEngine::setErrorRecorder", this, (), |o| {
        // SAFETY: the application's IErrorRecorder, alive while referenced (TensorRT's contract).
        unsafe { o.recorder.set(&mut o.logger, recorder) };
        Ok(())
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    method(
        "ICudaEngine::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |o| Ok(o.recorder.get()),
    )
}

unsafe extern "C" fn has_implicit_batch_dimension(this: This) -> bool {
    method("ICudaEngine::hasImplicitBatchDimension", this, true, |e| {
        Ok(!e.engine.network.explicit_batch)
    })
}

static VTABLE: ICudaEngineVtbl = ICudaEngineVtbl {
    getNbBindings: get_nb_bindings,
    getBindingIndex: get_binding_index,
    getBindingName: get_binding_name,
    bindingIsInput: binding_is_input,
    getBindingDimensions: get_binding_dimensions,
    getBindingDataType: get_binding_data_type,
    getMaxBatchSize: get_max_batch_size,
    getNbLayers: get_nb_layers,
    getWorkspaceSize: get_workspace_size,
    serialize,
    createExecutionContext: create_execution_context,
    destroy,
    getLocation: get_location,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    createExecutionContextWithoutDeviceMemory: create_execution_context_without_device_memory,
    getDeviceMemorySize: get_device_memory_size,
    isRefittable: is_refittable,
    getBindingBytesPerComponent: get_binding_bytes_per_component,
    getBindingComponentsPerElement: get_binding_components_per_element,
    getBindingFormat: get_binding_format,
    getBindingFormatDesc: get_binding_format_desc,
    getBindingVectorizedDim: get_binding_vectorized_dim,
    getName: get_name,
    getNbOptimizationProfiles: get_nb_optimization_profiles,
    getProfileDimensions: get_profile_dimensions,
    getProfileShapeValues: get_profile_shape_values,
    isShapeBinding: is_shape_binding,
    isExecutionBinding: is_execution_binding,
    getEngineCapability: get_engine_capability,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
    hasImplicitBatchDimension: has_implicit_batch_dimension,
};
