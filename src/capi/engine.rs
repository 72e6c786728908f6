//! `infer8_engine`: a built engine (TensorRT's `ICudaEngine`): bindings, serialization, contexts.

use std::ffi::{CString, c_char};
use std::sync::Arc;

use super::boundary::{Reporter, ffi_boundary, get, str_arg};
use super::context::infer8_context;
use super::host_memory::infer8_host_memory;
use super::types::infer8_dims;
use crate::engine::{Binding, Engine, ExecutionContext, serialize};
use crate::error::{Error, Result};
use crate::logger::SharedLogger;

/// Made by `infer8_builder_build_engine` or `infer8_runtime_deserialize_engine`, freed by
/// `infer8_engine_destroy`. Immutable: may be used from several threads at once.
pub struct infer8_engine {
    pub(crate) engine: Arc<Engine>,
    pub(crate) logger: SharedLogger,
    /// Binding names for C, made once (the engine never changes).
    names: Vec<CString>,
}

impl infer8_engine {
    pub(crate) fn new(engine: Engine, logger: SharedLogger) -> Result<infer8_engine> {
        let names = engine
            .bindings
            .iter()
            .map(|b| CString::new(b.name.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                Error::InvalidArgument("a binding name contains a NUL character".into())
            })?;
        Ok(infer8_engine {
            engine: Arc::new(engine),
            logger,
            names,
        })
    }

    fn binding(&self, index: i32) -> Result<&Binding> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.engine.bindings.get(i))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "binding index {index} is out of range (the engine has {})",
                    self.engine.bindings.len()
                ))
            })
    }
}

/// # Safety
/// `e` is null or a live engine.
unsafe fn engine<'a>(rep: &mut Reporter, e: *const infer8_engine) -> Result<&'a infer8_engine> {
    // SAFETY: the caller's contract.
    let e = unsafe { get(e, "engine") }?;
    rep.set_logger(&e.logger);
    Ok(e)
}

/// Frees an engine; contexts made from it stay usable. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_destroy(engine: *mut infer8_engine) {
    ffi_boundary!("infer8_engine_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live engine made by this library.
        drop(unsafe { super::handles::release(engine, "engine") }?);
        Ok(())
    })
}

/// Number of bindings (inputs in the order added, then outputs in marking order), or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_nb_bindings(engine: *const infer8_engine) -> i32 {
    ffi_boundary!("infer8_engine_get_nb_bindings", -1, |rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        Ok(unsafe { self::engine(rep, engine) }?.engine.bindings.len() as i32)
    })
}

/// The index of the binding named `name`, or -1 (no such binding, or an error).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_binding_index(
    engine: *const infer8_engine,
    name: *const c_char,
) -> i32 {
    ffi_boundary!("infer8_engine_get_binding_index", -1, |rep| {
        let e = unsafe { self::engine(rep, engine) }?;
        let name = unsafe { str_arg(name, "name") }?;
        Ok(e.engine.binding_index(name).map_or(-1, |i| i as i32))
    })
}

/// The name of binding `index`, valid while the engine lives; NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_binding_name(
    engine: *const infer8_engine,
    index: i32,
) -> *const c_char {
    ffi_boundary!("infer8_engine_get_binding_name", std::ptr::null(), |rep| {
        let e = unsafe { self::engine(rep, engine) }?;
        e.binding(index)?;
        Ok(e.names[index as usize].as_ptr())
    })
}

/// Whether binding `index` is an input (false on error too).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_binding_is_input(
    engine: *const infer8_engine,
    index: i32,
) -> bool {
    ffi_boundary!("infer8_engine_binding_is_input", false, |rep| {
        Ok(unsafe { self::engine(rep, engine) }?
            .binding(index)?
            .is_input)
    })
}

/// The dimensions of binding `index` without the batch; `nb_dims` is -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_binding_dims(
    engine: *const infer8_engine,
    index: i32,
) -> infer8_dims {
    ffi_boundary!(
        "infer8_engine_get_binding_dims",
        infer8_dims::INVALID,
        |rep| {
            infer8_dims::from_shape(&unsafe { self::engine(rep, engine) }?.binding(index)?.shape)
        }
    )
}

/// The data type of binding `index` (`infer8_data_type`), or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_binding_data_type(
    engine: *const infer8_engine,
    index: i32,
) -> i32 {
    ffi_boundary!("infer8_engine_get_binding_data_type", -1, |rep| {
        Ok(unsafe { self::engine(rep, engine) }?.binding(index)?.dtype as i32)
    })
}

/// The largest batch the engine runs, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_max_batch_size(engine: *const infer8_engine) -> i32 {
    ffi_boundary!("infer8_engine_get_max_batch_size", -1, |rep| {
        Ok(unsafe { self::engine(rep, engine) }?.engine.max_batch_size as i32)
    })
}

/// Number of layers after optimization, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_get_nb_layers(engine: *const infer8_engine) -> i32 {
    ffi_boundary!("infer8_engine_get_nb_layers", -1, |rep| {
        Ok(unsafe { self::engine(rep, engine) }?.engine.nb_layers() as i32)
    })
}

/// The engine as bytes for `infer8_runtime_deserialize_engine`, freed with
/// `infer8_host_memory_destroy`. NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_serialize(
    engine: *const infer8_engine,
) -> *mut infer8_host_memory {
    ffi_boundary!("infer8_engine_serialize", std::ptr::null_mut(), |rep| {
        let e = unsafe { self::engine(rep, engine) }?;
        Ok(super::handles::adopt(Box::new(infer8_host_memory {
            bytes: serialize::to_bytes(&e.engine),
        })))
    })
}

/// A context to run the engine, freed with `infer8_context_destroy`. NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_engine_create_execution_context(
    engine: *const infer8_engine,
) -> *mut infer8_context {
    ffi_boundary!(
        "infer8_engine_create_execution_context",
        std::ptr::null_mut(),
        |rep| {
            let e = unsafe { self::engine(rep, engine) }?;
            let ctx = ExecutionContext::new(e.engine.clone())?;
            Ok(super::handles::adopt(Box::new(infer8_context {
                ctx,
                logger: e.logger.clone(),
            })))
        }
    )
}
