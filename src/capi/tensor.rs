//! `infer8_tensor`: a handle to one tensor of a network, owned by the network.

use std::ffi::c_char;

use super::boundary::{Reporter, enum_arg, ffi_boundary, get, str_arg};
use super::network::infer8_network;
use super::types::{infer8_dims, shape_arg};
use crate::error::Result;
use crate::network::TensorId;
use crate::types::DataType;

/// A tensor of a network. Valid until its network is destroyed; never freed by the caller.
pub struct infer8_tensor {
    pub(crate) network: *mut infer8_network,
    pub(crate) id: TensorId,
}

/// Resolves a tensor handle to its network and id, and points the reporter at the network's logger.
/// The handle is read once: the network owns it, and is then accessed on its own.
///
/// # Safety
/// `t` is null or a handle of a live network that nothing else accesses during the call.
pub(crate) unsafe fn resolve<'a>(
    rep: &mut Reporter,
    t: *const infer8_tensor,
) -> Result<(&'a mut infer8_network, TensorId)> {
    // SAFETY: the caller's contract.
    let (network, id) = unsafe { get(t, "tensor") }.map(|h| (h.network, h.id))?;
    // SAFETY: a handle points to the network that owns it, alive as long as the handle.
    let n = unsafe { &mut *network };
    rep.set_logger(&n.logger);
    Ok((n, id))
}

/// Renames the tensor (an engine binding keeps the name it had at build time).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_set_name(
    tensor: *mut infer8_tensor,
    name: *const c_char,
) -> bool {
    ffi_boundary!("infer8_tensor_set_name", false, |rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        n.net.tensors[t].name = unsafe { str_arg(name, "name") }?.to_string();
        Ok(true)
    })
}

/// The tensor's name, owned by the network: valid until the tensor is renamed or the network destroyed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_get_name(tensor: *const infer8_tensor) -> *const c_char {
    ffi_boundary!("infer8_tensor_get_name", std::ptr::null(), |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        n.tensor_names.get(t, &n.net.tensors[t].name)
    })
}

/// The tensor's dimensions without the batch; `nb_dims` is -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_get_dims(tensor: *const infer8_tensor) -> infer8_dims {
    ffi_boundary!("infer8_tensor_get_dims", infer8_dims::INVALID, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        infer8_dims::from_shape(&n.net.tensors[t].shape)
    })
}

/// Changes a network input's dimensions; shapes downstream are inferred again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_set_dims(
    tensor: *mut infer8_tensor,
    dims: *const i32,
    nb_dims: i32,
) -> bool {
    ffi_boundary!("infer8_tensor_set_dims", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        let shape = unsafe { shape_arg(dims, nb_dims, "dims") }?;
        if !n.net.is_input(t) {
            crate::bail!(
                InvalidArgument,
                "tensor '{}' is not a network input",
                n.net.tensors[t].name
            );
        }
        let old = std::mem::replace(&mut n.net.tensors[t].shape, shape);
        if let Err(e) = n.net.refresh_shapes() {
            n.net.tensors[t].shape = old;
            // Undo is best effort: the old shapes were consistent, so this succeeds.
            let _ = n.net.refresh_shapes();
            return Err(e);
        }
        Ok(true)
    })
}

/// The tensor's data type (`infer8_data_type`), or -1 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_get_type(tensor: *const infer8_tensor) -> i32 {
    ffi_boundary!("infer8_tensor_get_type", -1, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        Ok(n.net.tensors[t].dtype as i32)
    })
}

/// Sets the data type of a network input or output (the type of its engine binding).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_set_type(tensor: *mut infer8_tensor, dtype: i32) -> bool {
    ffi_boundary!("infer8_tensor_set_type", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        let dtype = enum_arg(dtype, DataType::from_i32, "dtype")?;
        if !n.net.is_input(t) && !n.net.is_output(t) {
            crate::bail!(
                InvalidArgument,
                "tensor '{}' is neither a network input nor an output",
                n.net.tensors[t].name
            );
        }
        n.net.tensors[t].dtype = dtype;
        Ok(true)
    })
}

/// Sets the range INT8 mode uses for this tensor instead of calibrating it; needs `min <= max`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_set_dynamic_range(
    tensor: *mut infer8_tensor,
    min: f32,
    max: f32,
) -> bool {
    ffi_boundary!("infer8_tensor_set_dynamic_range", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        if min.is_nan() || max.is_nan() || min > max {
            crate::bail!(
                InvalidArgument,
                "dynamic range [{min}, {max}] is empty or not a number"
            );
        }
        n.net.tensors[t].dynamic_range = Some((min, max));
        Ok(true)
    })
}

/// Writes the dynamic range to `min` and `max` and returns true if one was set; false (writing
/// nothing) if none was set or on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_get_dynamic_range(
    tensor: *const infer8_tensor,
    min: *mut f32,
    max: *mut f32,
) -> bool {
    ffi_boundary!("infer8_tensor_get_dynamic_range", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        let (min, max) = unsafe {
            (
                super::boundary::get_mut(min, "min")?,
                super::boundary::get_mut(max, "max")?,
            )
        };
        Ok(match n.net.tensors[t].dynamic_range {
            Some((lo, hi)) => {
                *min = lo;
                *max = hi;
                true
            }
            None => false,
        })
    })
}

/// Whether the tensor is a network input (false on error too).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_is_network_input(tensor: *const infer8_tensor) -> bool {
    ffi_boundary!("infer8_tensor_is_network_input", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        Ok(n.net.is_input(t))
    })
}

/// Whether the tensor is a network output (false on error too).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_tensor_is_network_output(tensor: *const infer8_tensor) -> bool {
    ffi_boundary!("infer8_tensor_is_network_output", false, |rep| {
        let (n, t) = unsafe { resolve(rep, tensor) }?;
        Ok(n.net.is_output(t))
    })
}
