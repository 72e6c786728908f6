//! `nvinfer1::ITensor`: a view of one tensor of a network, owned by the network object.

use std::ffi::{CString, c_char};

use super::boundary::{Object, c_str, enum_arg, method, unsupported};
use super::dims::Dims;
use super::network::NetworkObj;
use crate::error::Result;
use crate::logger::SharedLogger;
use crate::network::{Tensor, TensorId};
use crate::types::{DataType, TensorLocation};

type This = *mut TensorObj;

vtable! {
    "ITensor" => struct ITensorVtbl {
        setName: unsafe extern "C" fn(This, *const c_char),
        getName: unsafe extern "C" fn(This) -> *const c_char,
        setDimensions: unsafe extern "C" fn(This, Dims),
        getDimensions: unsafe extern "C" fn(This) -> Dims,
        setType: unsafe extern "C" fn(This, i32),
        getType: unsafe extern "C" fn(This) -> i32,
        setDynamicRange: unsafe extern "C" fn(This, f32, f32) -> bool,
        getDynamicRange: unsafe extern "C" fn(This) -> f32,
        isNetworkInput: unsafe extern "C" fn(This) -> bool,
        isNetworkOutput: unsafe extern "C" fn(This) -> bool,
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setBroadcastAcrossBatch: unsafe extern "C" fn(This, bool),
        getBroadcastAcrossBatch: unsafe extern "C" fn(This) -> bool,
        getLocation: unsafe extern "C" fn(This) -> i32,
        setLocation: unsafe extern "C" fn(This, i32),
        dynamicRangeIsSet: unsafe extern "C" fn(This) -> bool,
        resetDynamicRange: unsafe extern "C" fn(This),
        getDynamicRangeMin: unsafe extern "C" fn(This) -> f32,
        getDynamicRangeMax: unsafe extern "C" fn(This) -> f32,
        setAllowedFormats: unsafe extern "C" fn(This, u32),
        getAllowedFormats: unsafe extern "C" fn(This) -> u32,
        isShapeTensor: unsafe extern "C" fn(This) -> bool,
        isExecutionTensor: unsafe extern "C" fn(This) -> bool,
    }
}

/// Bit of `TensorFormat::kLINEAR`, the only layout infer8 computes in.
const LINEAR: u32 = 1;

#[repr(C)]
pub struct TensorObj {
    vtable: &'static ITensorVtbl,
    pub(super) network: *mut NetworkObj,
    pub(super) id: TensorId,
    logger: SharedLogger,
    name: CString,
}

impl Object for TensorObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl TensorObj {
    pub(super) fn new(network: *mut NetworkObj, id: TensorId, logger: SharedLogger) -> TensorObj {
        TensorObj {
            vtable: &VTABLE,
            network,
            id,
            logger,
            name: CString::default(),
        }
    }

    pub(super) fn is_tensor(p: *const TensorObj) -> bool {
        // SAFETY: only the first word is read; every ITensor the caller can hold starts with a vptr.
        !p.is_null() && std::ptr::eq(unsafe { (*p).vtable }, &VTABLE)
    }

    fn net(&self) -> &'static mut NetworkObj {
        // SAFETY: a tensor object lives inside its network object (freed with it), which is boxed
        // and never moves; objects are used by one thread at a time (TensorRT's rule for networks).
        unsafe { &mut *self.network }
    }
}

/// Runs `f` on the core tensor behind `this`.
fn with<R>(
    func: &str,
    this: This,
    default: R,
    f: impl FnOnce(&mut TensorObj, &mut NetworkObj) -> Result<R>,
) -> R {
    method(func, this, default, |t| {
        let net = t.net();
        f(t, net)
    })
}

fn tensor<'a>(t: &TensorObj, net: &'a mut NetworkObj) -> &'a mut Tensor {
    &mut net.core.tensors[t.id]
}

unsafe extern "C" fn set_name(this: This, name: *const c_char) {
    with("ITensor::setName", this, (), |t, net| {
        // SAFETY: `name` is a C string per the interface.
        let name = unsafe { c_str(name, "name") }?;
        tensor(t, net).name = name;
        Ok(())
    })
}

unsafe extern "C" fn get_name(this: This) -> *const c_char {
    with("ITensor::getName", this, std::ptr::null(), |t, net| {
        let name = net.core.tensors[t.id].name.clone();
        Ok(super::boundary::cache_c_string(&mut t.name, &name))
    })
}

unsafe extern "C" fn set_dimensions(this: This, dims: Dims) {
    with("ITensor::setDimensions", this, (), |t, net| {
        if !net.core.is_input(t.id) {
            crate::bail!(
                InvalidArgument,
                "only network inputs can be given dimensions ('{}' is a layer output)",
                net.core.tensors[t.id].name
            );
        }
        let declared = dims.signed_values("dimensions")?;
        if declared.is_empty() {
            crate::bail!(InvalidArgument, "dimensions must not be empty");
        }
        net.core.set_input_dims(t.id, &declared)?;
        net.reinfer();
        Ok(())
    })
}

unsafe extern "C" fn get_dimensions(this: This) -> Dims {
    with("ITensor::getDimensions", this, Dims::default(), |t, net| {
        // A dynamic input reports its -1 dimensions, as declared.
        match net.core.dynamic.get(&t.id) {
            Some(d) => Ok(Dims::from_values(
                &d.iter().map(|&v| v as i32).collect::<Vec<_>>(),
            )),
            None => Dims::from_shape(&net.core.tensors[t.id].shape),
        }
    })
}

unsafe extern "C" fn set_type(this: This, dtype: i32) {
    with("ITensor::setType", this, (), |t, net| {
        tensor(t, net).dtype = enum_arg(dtype, DataType::from_i32, "DataType")?;
        Ok(())
    })
}

unsafe extern "C" fn get_type(this: This) -> i32 {
    with(
        "ITensor::getType",
        this,
        DataType::Float as i32,
        |t, net| Ok(net.core.tensors[t.id].dtype as i32),
    )
}

unsafe extern "C" fn set_dynamic_range(this: This, min: f32, max: f32) -> bool {
    with("ITensor::setDynamicRange", this, false, |t, net| {
        if !(min.is_finite() && max.is_finite() && min <= max) {
            crate::bail!(
                InvalidArgument,
                "dynamic range [{min}, {max}] is not a finite interval"
            );
        }
        tensor(t, net).dynamic_range = Some((min, max));
        Ok(true)
    })
}

/// 5.0's single-number range: the largest magnitude of `[min, max]`.
unsafe extern "C" fn get_dynamic_range(this: This) -> f32 {
    with("ITensor::getDynamicRange", this, 0.0, |t, net| {
        Ok(net.core.tensors[t.id]
            .dynamic_range
            .map_or(0.0, |(lo, hi)| lo.abs().max(hi.abs())))
    })
}

unsafe extern "C" fn is_network_input(this: This) -> bool {
    with("ITensor::isNetworkInput", this, false, |t, net| {
        Ok(net.core.is_input(t.id))
    })
}

unsafe extern "C" fn is_network_output(this: This) -> bool {
    with("ITensor::isNetworkOutput", this, false, |t, net| {
        Ok(net.core.is_output(t.id))
    })
}

/// Tensors belong to their network: `delete` on one is a caller error that must not free it.
unsafe extern "C" fn dtor(this: This) {
    with("ITensor::~ITensor", this, (), |_, _| {
        crate::bail!(
            InvalidArgument,
            "tensors are owned by their network and cannot be deleted"
        )
    })
}

unsafe extern "C" fn set_broadcast_across_batch(this: This, v: bool) {
    with("ITensor::setBroadcastAcrossBatch", this, (), |t, net| {
        tensor(t, net).broadcast_across_batch = v;
        Ok(())
    })
}

unsafe extern "C" fn get_broadcast_across_batch(this: This) -> bool {
    with("ITensor::getBroadcastAcrossBatch", this, false, |t, net| {
        Ok(net.core.tensors[t.id].broadcast_across_batch)
    })
}

unsafe extern "C" fn get_location(this: This) -> i32 {
    with(
        "ITensor::getLocation",
        this,
        TensorLocation::Device as i32,
        |t, net| Ok(net.core.tensors[t.id].location as i32),
    )
}

unsafe extern "C" fn set_location(this: This, v: i32) {
    with("ITensor::setLocation", this, (), |t, net| {
        tensor(t, net).location = enum_arg(v, TensorLocation::from_i32, "TensorLocation")?;
        Ok(())
    })
}

unsafe extern "C" fn dynamic_range_is_set(this: This) -> bool {
    with("ITensor::dynamicRangeIsSet", this, false, |t, net| {
        Ok(net.core.tensors[t.id].dynamic_range.is_some())
    })
}

unsafe extern "C" fn reset_dynamic_range(this: This) {
    with("ITensor::resetDynamicRange", this, (), |t, net| {
        tensor(t, net).dynamic_range = None;
        Ok(())
    })
}

unsafe extern "C" fn get_dynamic_range_min(this: This) -> f32 {
    with("ITensor::getDynamicRangeMin", this, 0.0, |t, net| {
        Ok(net.core.tensors[t.id].dynamic_range.map_or(0.0, |r| r.0))
    })
}

unsafe extern "C" fn get_dynamic_range_max(this: This) -> f32 {
    with("ITensor::getDynamicRangeMax", this, 0.0, |t, net| {
        Ok(net.core.tensors[t.id].dynamic_range.map_or(0.0, |r| r.1))
    })
}

unsafe extern "C" fn set_allowed_formats(this: This, formats: u32) {
    with("ITensor::setAllowedFormats", this, (), |_, _| {
        if formats & LINEAR == 0 {
            return unsupported("a tensor format other than kLINEAR");
        }
        Ok(())
    })
}

unsafe extern "C" fn get_allowed_formats(this: This) -> u32 {
    with("ITensor::getAllowedFormats", this, LINEAR, |_, _| {
        Ok(LINEAR)
    })
}

unsafe extern "C" fn is_shape_tensor(this: This) -> bool {
    with("ITensor::isShapeTensor", this, false, |_, _| Ok(false))
}

unsafe extern "C" fn is_execution_tensor(this: This) -> bool {
    with("ITensor::isExecutionTensor", this, false, |_, _| Ok(true))
}

static VTABLE: ITensorVtbl = ITensorVtbl {
    setName: set_name,
    getName: get_name,
    setDimensions: set_dimensions,
    getDimensions: get_dimensions,
    setType: set_type,
    getType: get_type,
    setDynamicRange: set_dynamic_range,
    getDynamicRange: get_dynamic_range,
    isNetworkInput: is_network_input,
    isNetworkOutput: is_network_output,
    dtor_complete: dtor,
    dtor_deleting: dtor,
    setBroadcastAcrossBatch: set_broadcast_across_batch,
    getBroadcastAcrossBatch: get_broadcast_across_batch,
    getLocation: get_location,
    setLocation: set_location,
    dynamicRangeIsSet: dynamic_range_is_set,
    resetDynamicRange: reset_dynamic_range,
    getDynamicRangeMin: get_dynamic_range_min,
    getDynamicRangeMax: get_dynamic_range_max,
    setAllowedFormats: set_allowed_formats,
    getAllowedFormats: get_allowed_formats,
    isShapeTensor: is_shape_tensor,
    isExecutionTensor: is_execution_tensor,
};
