//! `nvinfer1::IHostMemory`: bytes owned by the library (a serialized engine).

use std::ffi::c_void;

use super::boundary::{Object, method, release};
use crate::logger::SharedLogger;
use crate::types::DataType;

type This = *mut HostMemoryObj;

vtable! {
    "IHostMemory" => struct IHostMemoryVtbl {
        data: unsafe extern "C" fn(This) -> *mut c_void,
        size: unsafe extern "C" fn(This) -> usize,
        type_ as "type": unsafe extern "C" fn(This) -> i32,
        destroy: unsafe extern "C" fn(This),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
    }
}

#[repr(C)]
pub struct HostMemoryObj {
    vtable: &'static IHostMemoryVtbl,
    bytes: Vec<u8>,
    logger: SharedLogger,
}

impl Object for HostMemoryObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl HostMemoryObj {
    pub(super) fn create(bytes: Vec<u8>, logger: SharedLogger) -> This {
        Box::into_raw(Box::new(HostMemoryObj {
            vtable: &VTABLE,
            bytes,
            logger,
        }))
    }
}

unsafe extern "C" fn data(this: This) -> *mut c_void {
    method("IHostMemory::data", this, std::ptr::null_mut(), |m| {
        Ok(m.bytes.as_mut_ptr().cast())
    })
}

unsafe extern "C" fn size(this: This) -> usize {
    method("IHostMemory::size", this, 0, |m| Ok(m.bytes.len()))
}

/// Serialized engines are plain bytes, which TensorRT types as kINT8.
unsafe extern "C" fn type_(this: This) -> i32 {
    method("IHostMemory::type", this, DataType::Int8 as i32, |_| {
        Ok(DataType::Int8 as i32)
    })
}

/// `destroy()` and both destructor slots (`delete`) free the memory.
unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by this library; the caller gives it up.
    unsafe { release("IHostMemory::destroy", this) }
}

static VTABLE: IHostMemoryVtbl = IHostMemoryVtbl {
    data,
    size,
    type_,
    destroy,
    dtor_complete: destroy,
    dtor_deleting: destroy,
};
