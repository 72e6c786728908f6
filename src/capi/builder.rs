//! `infer8_builder`: makes networks and builds engines from them (TensorRT's `IBuilder`, with the
//! 5.1 builder settings on the builder itself).

use super::boundary::{Reporter, ffi_boundary, get_mut, positive_arg};
use super::calibrator::{CCalibrator, infer8_calibrator};
use super::engine::infer8_engine;
use super::logger::{infer8_logger, logger_arg};
use super::network::infer8_network;
use crate::builder::{BuilderConfig, Calibrator, build_engine};
use crate::error::Result;
use crate::logger::SharedLogger;

/// Made by `infer8_builder_create`, freed by `infer8_builder_destroy`.
pub struct infer8_builder {
    config: BuilderConfig,
    calibrator: Option<CCalibrator>,
    logger: SharedLogger,
}

/// # Safety
/// `b` is null or a live builder that nothing else accesses during the call.
unsafe fn builder<'a>(
    rep: &mut Reporter,
    b: *mut infer8_builder,
) -> Result<&'a mut infer8_builder> {
    // SAFETY: the caller's contract.
    let b = unsafe { get_mut(b, "builder") }?;
    rep.set_logger(&b.logger);
    Ok(b)
}

/// A builder whose messages, and those of the networks and engines it makes, go to `logger` (copied;
/// its `user` must outlive them). NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_create(
    logger: *const infer8_logger,
) -> *mut infer8_builder {
    ffi_boundary!("infer8_builder_create", std::ptr::null_mut(), |_rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        let logger = unsafe { logger_arg(logger) }?;
        Ok(super::handles::adopt(Box::new(infer8_builder {
            config: BuilderConfig::default(),
            calibrator: None,
            logger,
        })))
    })
}

/// Frees a builder. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_destroy(builder: *mut infer8_builder) {
    ffi_boundary!("infer8_builder_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live builder made by this library.
        drop(unsafe { super::handles::release(builder, "builder") }?);
        Ok(())
    })
}

/// An empty network (implicit batch), freed with `infer8_network_destroy`. NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_create_network(
    builder: *mut infer8_builder,
) -> *mut infer8_network {
    ffi_boundary!(
        "infer8_builder_create_network",
        std::ptr::null_mut(),
        |rep| {
            let b = unsafe { self::builder(rep, builder) }?;
            Ok(super::handles::adopt(Box::new(infer8_network::new(
                b.logger.clone(),
            ))))
        }
    )
}

/// The largest batch the engine will run (positive; default 1).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_max_batch_size(
    builder: *mut infer8_builder,
    batch_size: i32,
) -> bool {
    ffi_boundary!("infer8_builder_set_max_batch_size", false, |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        b.config.max_batch_size = positive_arg(batch_size, "batch_size")?;
        Ok(true)
    })
}

/// The maximum batch size, or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_get_max_batch_size(builder: *mut infer8_builder) -> i32 {
    ffi_boundary!("infer8_builder_get_max_batch_size", -1, |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        Ok(b.config.max_batch_size as i32)
    })
}

/// Scratch memory layers may use beyond the activations, in bytes (TensorRT's workspace): bounds
/// the CUDA backend's split reductions; 0 (the default) runs them unsplit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_max_workspace_size(
    builder: *mut infer8_builder,
    size: usize,
) -> bool {
    ffi_boundary!("infer8_builder_set_max_workspace_size", false, |rep| {
        unsafe { self::builder(rep, builder) }?
            .config
            .max_workspace_size = size;
        Ok(true)
    })
}

/// Allows FP16 layers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_fp16_mode(
    builder: *mut infer8_builder,
    enabled: bool,
) -> bool {
    ffi_boundary!("infer8_builder_set_fp16_mode", false, |rep| {
        unsafe { self::builder(rep, builder) }?.config.fp16 = enabled;
        Ok(true)
    })
}

/// Allows INT8 layers; tensors need a dynamic range or a calibrator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_int8_mode(
    builder: *mut infer8_builder,
    enabled: bool,
) -> bool {
    ffi_boundary!("infer8_builder_set_int8_mode", false, |rep| {
        unsafe { self::builder(rep, builder) }?.config.int8 = enabled;
        Ok(true)
    })
}

/// Makes layer precisions and output types set on layers binding, not hints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_strict_type_constraints(
    builder: *mut infer8_builder,
    enabled: bool,
) -> bool {
    ffi_boundary!("infer8_builder_set_strict_type_constraints", false, |rep| {
        unsafe { self::builder(rep, builder) }?.config.strict_types = enabled;
        Ok(true)
    })
}

/// Synchronizes after every layer while building (for debugging).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_debug_sync(
    builder: *mut infer8_builder,
    enabled: bool,
) -> bool {
    ffi_boundary!("infer8_builder_set_debug_sync", false, |rep| {
        unsafe { self::builder(rep, builder) }?.config.debug_sync = enabled;
        Ok(true)
    })
}

/// Timing iterations when choosing kernels (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_min_find_iterations(
    builder: *mut infer8_builder,
    iterations: i32,
) -> bool {
    ffi_boundary!("infer8_builder_set_min_find_iterations", false, |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        b.config.min_find_iterations = positive_arg(iterations, "iterations")? as i32;
        Ok(true)
    })
}

/// Iterations averaged per timing when choosing kernels (positive).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_average_find_iterations(
    builder: *mut infer8_builder,
    iterations: i32,
) -> bool {
    ffi_boundary!("infer8_builder_set_average_find_iterations", false, |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        b.config.avg_find_iterations = positive_arg(iterations, "iterations")? as i32;
        Ok(true)
    })
}

/// The calibrator INT8 builds use (copied; NULL removes it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_set_int8_calibrator(
    builder: *mut infer8_builder,
    calibrator: *const infer8_calibrator,
) -> bool {
    ffi_boundary!("infer8_builder_set_int8_calibrator", false, |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        b.calibrator = if calibrator.is_null() {
            None
        } else {
            Some(unsafe { CCalibrator::from_arg(calibrator) }?)
        };
        Ok(true)
    })
}

/// Builds an engine from the network with the builder's settings, freed with
/// `infer8_engine_destroy`. NULL on error (the logger says why).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_builder_build_engine(
    builder: *mut infer8_builder,
    network: *mut infer8_network,
) -> *mut infer8_engine {
    ffi_boundary!("infer8_builder_build_engine", std::ptr::null_mut(), |rep| {
        let b = unsafe { self::builder(rep, builder) }?;
        let n = unsafe { get_mut(network, "network") }?;
        let calibrator = b.calibrator.as_mut().map(|c| c as &mut dyn Calibrator);
        let engine = build_engine(&n.net, &b.config, calibrator, &*b.logger)?;
        Ok(super::handles::adopt(Box::new(infer8_engine::new(
            engine,
            b.logger.clone(),
        )?)))
    })
}
