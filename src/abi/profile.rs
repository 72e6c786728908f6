//! `nvinfer1::IOptimizationProfile` (6.0): min/opt/max dimensions per network input, the ranges of
//! inputs declared with -1 dimensions (a fixed input's range must be its own dimensions). The
//! builder checks them against the network (`builder::profile`).

use std::collections::BTreeMap;
use std::ffi::c_char;

use super::boundary::{Object, c_str, method};
use super::dims::Dims;
use crate::builder::profile::InputProfile;
use crate::error::Result;
use crate::logger::SharedLogger;

type This = *mut ProfileObj;

vtable! {
    "IOptimizationProfile" => struct IOptimizationProfileVtbl {
        setDimensions: unsafe extern "C" fn(This, *const c_char, i32, Dims) -> bool,
        getDimensions: unsafe extern "C" fn(This, *const c_char, i32) -> Dims,
        setShapeValues: unsafe extern "C" fn(This, *const c_char, i32, *const i32, i32) -> bool,
        getNbShapeValues: unsafe extern "C" fn(This, *const c_char) -> i32,
        getShapeValues: unsafe extern "C" fn(This, *const c_char, i32) -> *const i32,
        setExtraMemoryTarget: unsafe extern "C" fn(This, f32) -> bool,
        getExtraMemoryTarget: unsafe extern "C" fn(This) -> f32,
        isValid: unsafe extern "C" fn(This) -> bool,
    }
}

#[repr(C)]
pub struct ProfileObj {
    vtable: &'static IOptimizationProfileVtbl,
    /// Input name -> dimensions for kMIN, kOPT, kMAX.
    dims: BTreeMap<String, [Option<Vec<usize>>; 3]>,
    extra_memory: f32,
    logger: SharedLogger,
}

impl Object for ProfileObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl ProfileObj {
    /// A new profile, owned by the builder that made it (the header gives it no destroy).
    pub(super) fn create(logger: SharedLogger) -> Box<ProfileObj> {
        Box::new(ProfileObj {
            vtable: &VTABLE,
            dims: BTreeMap::new(),
            extra_memory: 1.0,
            logger,
        })
    }

    pub(super) fn is_profile(p: *const ProfileObj) -> bool {
        // SAFETY: only the vptr is read; any IOptimizationProfile starts with one.
        !p.is_null() && std::ptr::eq(unsafe { (*p).vtable }, &VTABLE)
    }

    fn valid(&self) -> bool {
        self.dims
            .values()
            .all(|[min, opt, max]| match (min, opt, max) {
                (Some(a), Some(b), Some(c)) => {
                    a.len() == b.len()
                        && b.len() == c.len()
                        && (0..a.len()).all(|i| a[i] <= b[i] && b[i] <= c[i])
                }
                _ => false,
            })
    }

    /// The profile's ranges for the builder, which checks them against the network's inputs
    /// (`builder::profile`).
    pub(super) fn inputs(&self, index: usize) -> Result<Vec<InputProfile>> {
        if !self.valid() {
            crate::bail!(
                InvalidArgument,
                "optimization profile {index} is incomplete or has min > opt > max"
            );
        }
        Ok(self
            .dims
            .iter()
            .filter_map(|(name, [min, opt, max])| {
                Some(InputProfile {
                    name: name.clone(),
                    min: min.clone()?,
                    opt: opt.clone()?,
                    max: max.clone()?,
                })
            })
            .collect())
    }
}

fn selector(v: i32) -> Result<usize> {
    usize::try_from(v).ok().filter(|&i| i < 3).ok_or_else(|| {
        crate::error::Error::InvalidArgument(format!("{v} is not an OptProfileSelector"))
    })
}

unsafe extern "C" fn set_dimensions(
    this: This,
    name: *const c_char,
    select: i32,
    dims: Dims,
) -> bool {
    method("IOptimizationProfile::setDimensions", this, false, |p| {
        // SAFETY: the caller passes a NUL-terminated input name.
        let name = unsafe { c_str(name, "inputName") }?;
        let i = selector(select)?;
        let d = dims.sizes("dims", 1)?;
        p.dims.entry(name).or_default()[i] = Some(d);
        Ok(true)
    })
}

unsafe extern "C" fn get_dimensions(this: This, name: *const c_char, select: i32) -> Dims {
    let unset = Dims {
        nb_dims: -1,
        ..Dims::default()
    };
    method("IOptimizationProfile::getDimensions", this, unset, |p| {
        // SAFETY: as in `set_dimensions`.
        let name = unsafe { c_str(name, "inputName") }?;
        let i = selector(select)?;
        match p.dims.get(&name).and_then(|d| d[i].as_ref()) {
            Some(d) => Dims::from_shape(d),
            None => Ok(unset),
        }
    })
}

/// Shape tensors (inputs whose values are shapes) do not exist in infer8's engines.
unsafe extern "C" fn set_shape_values(
    this: This,
    _: *const c_char,
    _: i32,
    _: *const i32,
    _: i32,
) -> bool {
    method("IOptimizationProfile::setShapeValues", this, false, |_| {
        super::boundary::unsupported("shape tensor inputs")
    })
}

unsafe extern "C" fn get_nb_shape_values(this: This, _: *const c_char) -> i32 {
    method("IOptimizationProfile::getNbShapeValues", this, -1, |_| {
        Ok(-1)
    })
}

unsafe extern "C" fn get_shape_values(this: This, _: *const c_char, _: i32) -> *const i32 {
    method(
        "IOptimizationProfile::getShapeValues",
        this,
        std::ptr::null(),
        |_| Ok(std::ptr::null()),
    )
}

unsafe extern "C" fn set_extra_memory_target(this: This, target: f32) -> bool {
    method(
        "IOptimizationProfile::setExtraMemoryTarget",
        this,
        false,
        |p| {
            if !(0.0..=1.0).contains(&target) {
                crate::bail!(
                    InvalidArgument,
                    "extra memory target {target} is outside [0, 1]"
                );
            }
            p.extra_memory = target;
            Ok(true)
        },
    )
}

unsafe extern "C" fn get_extra_memory_target(this: This) -> f32 {
    method(
        "IOptimizationProfile::getExtraMemoryTarget",
        this,
        0.0,
        |p| Ok(p.extra_memory),
    )
}

unsafe extern "C" fn is_valid(this: This) -> bool {
    method("IOptimizationProfile::isValid", this, false, |p| {
        Ok(p.valid())
    })
}

static VTABLE: IOptimizationProfileVtbl = IOptimizationProfileVtbl {
    setDimensions: set_dimensions,
    getDimensions: get_dimensions,
    setShapeValues: set_shape_values,
    getNbShapeValues: get_nb_shape_values,
    getShapeValues: get_shape_values,
    setExtraMemoryTarget: set_extra_memory_target,
    getExtraMemoryTarget: get_extra_memory_target,
    isValid: is_valid,
};
