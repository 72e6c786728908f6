//! `nvinfer1::IBuilderConfig` (6.0): the build settings TensorRT 6 moved off `IBuilder`, read by
//! `IBuilder::buildEngineWithConfig`.

use std::collections::HashMap;
use std::ffi::c_void;

use super::boundary::{Object, method, release, unsupported};
use super::builder::{DLA, GPU, device};
use super::layer::LayerObj;
use super::profile::ProfileObj;
use crate::error::Result;
use crate::logger::{Severity, SharedLogger};

type This = *mut BuilderConfigObj;
type Layer = *const LayerObj;

vtable! {
    "IBuilderConfig" => struct IBuilderConfigVtbl {
        setMinTimingIterations: unsafe extern "C" fn(This, i32),
        getMinTimingIterations: unsafe extern "C" fn(This) -> i32,
        setAvgTimingIterations: unsafe extern "C" fn(This, i32),
        getAvgTimingIterations: unsafe extern "C" fn(This) -> i32,
        setEngineCapability: unsafe extern "C" fn(This, i32),
        getEngineCapability: unsafe extern "C" fn(This) -> i32,
        setInt8Calibrator: unsafe extern "C" fn(This, *mut c_void),
        getInt8Calibrator: unsafe extern "C" fn(This) -> *mut c_void,
        setMaxWorkspaceSize: unsafe extern "C" fn(This, usize),
        getMaxWorkspaceSize: unsafe extern "C" fn(This) -> usize,
        setFlags: unsafe extern "C" fn(This, u32),
        getFlags: unsafe extern "C" fn(This) -> u32,
        clearFlag: unsafe extern "C" fn(This, i32),
        setFlag: unsafe extern "C" fn(This, i32),
        getFlag: unsafe extern "C" fn(This, i32) -> bool,
        setDeviceType: unsafe extern "C" fn(This, Layer, i32),
        getDeviceType: unsafe extern "C" fn(This, Layer) -> i32,
        isDeviceTypeSet: unsafe extern "C" fn(This, Layer) -> bool,
        resetDeviceType: unsafe extern "C" fn(This, Layer),
        canRunOnDLA: unsafe extern "C" fn(This, Layer) -> bool,
        setDLACore: unsafe extern "C" fn(This, i32),
        getDLACore: unsafe extern "C" fn(This) -> i32,
        setDefaultDeviceType: unsafe extern "C" fn(This, i32),
        getDefaultDeviceType: unsafe extern "C" fn(This) -> i32,
        reset: unsafe extern "C" fn(This),
        destroy: unsafe extern "C" fn(This),
        setProfileStream: unsafe extern "C" fn(This, *mut c_void),
        getProfileStream: unsafe extern "C" fn(This) -> *mut c_void,
        addOptimizationProfile: unsafe extern "C" fn(This, *const ProfileObj) -> i32,
        getNbOptimizationProfiles: unsafe extern "C" fn(This) -> i32,
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
    }
}

/// `BuilderFlag` bits.
pub(super) const FP16: u32 = 1 << 0;
pub(super) const INT8: u32 = 1 << 1;
pub(super) const DEBUG: u32 = 1 << 2;
pub(super) const GPU_FALLBACK: u32 = 1 << 3;
pub(super) const STRICT_TYPES: u32 = 1 << 4;
const REFIT: u32 = 1 << 5;
/// kDISABLE_TIMING_CACHE and kTF32 (7.1): accepted, nothing to change on infer8's backends.
const KNOWN: u32 = (1 << 8) - 1;

pub(super) struct ConfigSettings {
    pub min_timing: i32,
    pub avg_timing: i32,
    pub calibrator: *mut c_void,
    pub workspace: usize,
    pub flags: u32,
    device_types: HashMap<usize, i32>,
    dla_core: i32,
    default_device: i32,
    profile_stream: *mut c_void,
    /// Owned by the builder that created them (the application keeps them alive, as in TensorRT).
    pub profiles: Vec<*const ProfileObj>,
}

impl Default for ConfigSettings {
    fn default() -> Self {
        ConfigSettings {
            min_timing: 1,
            avg_timing: 1,
            calibrator: std::ptr::null_mut(),
            workspace: 0,
            flags: 0,
            device_types: HashMap::new(),
            dla_core: -1,
            default_device: GPU,
            profile_stream: std::ptr::null_mut(),
            profiles: Vec::new(),
        }
    }
}

impl ConfigSettings {
    pub fn wants_dla(&self) -> bool {
        self.default_device == DLA || self.device_types.values().any(|&d| d == DLA)
    }
}

#[repr(C)]
pub struct BuilderConfigObj {
    vtable: &'static IBuilderConfigVtbl,
    pub(super) s: ConfigSettings,
    logger: SharedLogger,
}

impl Object for BuilderConfigObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl BuilderConfigObj {
    pub(super) fn create(logger: SharedLogger) -> *mut BuilderConfigObj {
        Box::into_raw(Box::new(BuilderConfigObj {
            vtable: &VTABLE,
            s: ConfigSettings::default(),
            logger,
        }))
    }

    pub(super) fn is_config(p: *const BuilderConfigObj) -> bool {
        // SAFETY: only the vptr is read; any IBuilderConfig starts with one.
        !p.is_null() && std::ptr::eq(unsafe { (*p).vtable }, &VTABLE)
    }
}

fn layer_key(layer: Layer) -> Result<usize> {
    if !LayerObj::is_layer(layer) {
        crate::bail!(
            InvalidArgument,
            "argument `layer` is null or not a layer created by infer8"
        );
    }
    Ok(layer as usize)
}

fn flag(v: i32) -> Result<u32> {
    match u32::try_from(v) {
        Ok(f) if f < 8 => Ok(1 << f),
        _ => crate::bail!(InvalidArgument, "{v} is not a valid BuilderFlag"),
    }
}

/// Refit is the one flag whose promise infer8 cannot keep.
fn set_flags(c: &mut BuilderConfigObj, flags: u32) -> Result<()> {
    if flags & !KNOWN != 0 {
        crate::bail!(
            InvalidArgument,
            "flags {flags:#x} include unknown BuilderFlag bits"
        );
    }
    if flags & REFIT != 0 {
        return unsupported("BuilderFlag::kREFIT (refittable engines)");
    }
    c.s.flags = flags;
    Ok(())
}

unsafe extern "C" fn set_min_timing(this: This, v: i32) {
    method("IBuilderConfig::setMinTimingIterations", this, (), |c| {
        c.s.min_timing = v;
        Ok(())
    })
}

unsafe extern "C" fn get_min_timing(this: This) -> i32 {
    method("IBuilderConfig::getMinTimingIterations", this, 0, |c| {
        Ok(c.s.min_timing)
    })
}

unsafe extern "C" fn set_avg_timing(this: This, v: i32) {
    method("IBuilderConfig::setAvgTimingIterations", this, (), |c| {
        c.s.avg_timing = v;
        Ok(())
    })
}

unsafe extern "C" fn get_avg_timing(this: This) -> i32 {
    method("IBuilderConfig::getAvgTimingIterations", this, 0, |c| {
        Ok(c.s.avg_timing)
    })
}

unsafe extern "C" fn set_engine_capability(this: This, v: i32) {
    method(
        "IBuilderConfig::setEngineCapability",
        this,
        (),
        |_| match v {
            0 => Ok(()),
            1 | 2 => unsupported("EngineCapability kSAFE_GPU / kSAFE_DLA"),
            _ => crate::bail!(InvalidArgument, "{v} is not a valid EngineCapability"),
        },
    )
}

unsafe extern "C" fn get_engine_capability(this: This) -> i32 {
    method("IBuilderConfig::getEngineCapability", this, 0, |_| Ok(0))
}

unsafe extern "C" fn set_int8_calibrator(this: This, calibrator: *mut c_void) {
    method("IBuilderConfig::setInt8Calibrator", this, (), |c| {
        c.s.calibrator = calibrator;
        Ok(())
    })
}

unsafe extern "C" fn get_int8_calibrator(this: This) -> *mut c_void {
    method(
        "IBuilderConfig::getInt8Calibrator",
        this,
        std::ptr::null_mut(),
        |c| Ok(c.s.calibrator),
    )
}

unsafe extern "C" fn set_max_workspace_size(this: This, v: usize) {
    method("IBuilderConfig::setMaxWorkspaceSize", this, (), |c| {
        c.s.workspace = v;
        Ok(())
    })
}

unsafe extern "C" fn get_max_workspace_size(this: This) -> usize {
    method("IBuilderConfig::getMaxWorkspaceSize", this, 0, |c| {
        Ok(c.s.workspace)
    })
}

unsafe extern "C" fn set_flags_fn(this: This, flags: u32) {
    method("IBuilderConfig::setFlags", this, (), |c| {
        set_flags(c, flags)
    })
}

unsafe extern "C" fn get_flags(this: This) -> u32 {
    method("IBuilderConfig::getFlags", this, 0, |c| Ok(c.s.flags))
}

unsafe extern "C" fn clear_flag(this: This, f: i32) {
    method("IBuilderConfig::clearFlag", this, (), |c| {
        c.s.flags &= !flag(f)?;
        Ok(())
    })
}

unsafe extern "C" fn set_flag(this: This, f: i32) {
    method("IBuilderConfig::setFlag", this, (), |c| {
        let flags = c.s.flags | flag(f)?;
        set_flags(c, flags)
    })
}

unsafe extern "C" fn get_flag(this: This, f: i32) -> bool {
    method("IBuilderConfig::getFlag", this, false, |c| {
        Ok(c.s.flags & flag(f)? != 0)
    })
}

unsafe extern "C" fn set_device_type(this: This, layer: Layer, v: i32) {
    method("IBuilderConfig::setDeviceType", this, (), |c| {
        c.s.device_types.insert(layer_key(layer)?, device(v)?);
        Ok(())
    })
}

unsafe extern "C" fn get_device_type(this: This, layer: Layer) -> i32 {
    method("IBuilderConfig::getDeviceType", this, GPU, |c| {
        let key = layer_key(layer)?;
        Ok(c.s
            .device_types
            .get(&key)
            .copied()
            .unwrap_or(c.s.default_device))
    })
}

unsafe extern "C" fn is_device_type_set(this: This, layer: Layer) -> bool {
    method("IBuilderConfig::isDeviceTypeSet", this, false, |c| {
        Ok(c.s.device_types.contains_key(&layer_key(layer)?))
    })
}

unsafe extern "C" fn reset_device_type(this: This, layer: Layer) {
    method("IBuilderConfig::resetDeviceType", this, (), |c| {
        c.s.device_types.remove(&layer_key(layer)?);
        Ok(())
    })
}

unsafe extern "C" fn can_run_on_dla(this: This, layer: Layer) -> bool {
    method("IBuilderConfig::canRunOnDLA", this, false, |_| {
        layer_key(layer)?;
        Ok(false)
    })
}

unsafe extern "C" fn set_dla_core(this: This, core: i32) {
    method("IBuilderConfig::setDLACore", this, (), |c| {
        c.s.dla_core = core;
        if core >= 0 {
            c.logger.log(
                Severity::Warning,
                &format!("setDLACore({core}): this machine has no DLA cores"),
            );
        }
        Ok(())
    })
}

unsafe extern "C" fn get_dla_core(this: This) -> i32 {
    method("IBuilderConfig::getDLACore", this, -1, |c| Ok(c.s.dla_core))
}

unsafe extern "C" fn set_default_device_type(this: This, v: i32) {
    method("IBuilderConfig::setDefaultDeviceType", this, (), |c| {
        c.s.default_device = device(v)?;
        Ok(())
    })
}

unsafe extern "C" fn get_default_device_type(this: This) -> i32 {
    method("IBuilderConfig::getDefaultDeviceType", this, GPU, |c| {
        Ok(c.s.default_device)
    })
}

unsafe extern "C" fn reset(this: This) {
    method("IBuilderConfig::reset", this, (), |c| {
        c.s = ConfigSettings::default();
        Ok(())
    })
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by `IBuilder::createBuilderConfig`; the caller gives it up.
    unsafe { release("IBuilderConfig::destroy", this) }
}

/// The stream TensorRT profiles kernels on; infer8 times nothing at build, so it is only kept.
unsafe extern "C" fn set_profile_stream(this: This, stream: *mut c_void) {
    method("IBuilderConfig::setProfileStream", this, (), |c| {
        c.s.profile_stream = stream;
        Ok(())
    })
}

unsafe extern "C" fn get_profile_stream(this: This) -> *mut c_void {
    method(
        "IBuilderConfig::getProfileStream",
        this,
        std::ptr::null_mut(),
        |c| Ok(c.s.profile_stream),
    )
}

unsafe extern "C" fn add_optimization_profile(this: This, profile: *const ProfileObj) -> i32 {
    method("IBuilderConfig::addOptimizationProfile", this, -1, |c| {
        if !ProfileObj::is_profile(profile) {
            crate::bail!(
                InvalidArgument,
                "argument `profile` is null or not made by IBuilder::createOptimizationProfile"
            );
        }
        c.s.profiles.push(profile);
        Ok(c.s.profiles.len() as i32 - 1)
    })
}

unsafe extern "C" fn get_nb_optimization_profiles(this: This) -> i32 {
    method("IBuilderConfig::getNbOptimizationProfiles", this, 0, |c| {
        Ok(c.s.profiles.len() as i32)
    })
}

static VTABLE: IBuilderConfigVtbl = IBuilderConfigVtbl {
    setMinTimingIterations: set_min_timing,
    getMinTimingIterations: get_min_timing,
    setAvgTimingIterations: set_avg_timing,
    getAvgTimingIterations: get_avg_timing,
    setEngineCapability: set_engine_capability,
    getEngineCapability: get_engine_capability,
    setInt8Calibrator: set_int8_calibrator,
    getInt8Calibrator: get_int8_calibrator,
    setMaxWorkspaceSize: set_max_workspace_size,
    getMaxWorkspaceSize: get_max_workspace_size,
    setFlags: set_flags_fn,
    getFlags: get_flags,
    clearFlag: clear_flag,
    setFlag: set_flag,
    getFlag: get_flag,
    setDeviceType: set_device_type,
    getDeviceType: get_device_type,
    isDeviceTypeSet: is_device_type_set,
    resetDeviceType: reset_device_type,
    canRunOnDLA: can_run_on_dla,
    setDLACore: set_dla_core,
    getDLACore: get_dla_core,
    setDefaultDeviceType: set_default_device_type,
    getDefaultDeviceType: get_default_device_type,
    reset,
    destroy,
    setProfileStream: set_profile_stream,
    getProfileStream: get_profile_stream,
    addOptimizationProfile: add_optimization_profile,
    getNbOptimizationProfiles: get_nb_optimization_profiles,
    dtor_complete: destroy,
    dtor_deleting: destroy,
};
