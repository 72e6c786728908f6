//! `infer8_host_memory`: bytes the library hands to C (a serialized engine), owned until destroyed.

use std::ffi::c_void;

use super::boundary::{ffi_boundary, get};

/// Made by `infer8_engine_serialize`, freed by `infer8_host_memory_destroy`.
pub struct infer8_host_memory {
    pub(crate) bytes: Vec<u8>,
}

/// The bytes, valid until the object is destroyed; NULL on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_host_memory_data(
    memory: *const infer8_host_memory,
) -> *const c_void {
    ffi_boundary!("infer8_host_memory_data", std::ptr::null(), |_rep| {
        // SAFETY: the header's contract: null or valid.
        Ok(unsafe { get(memory, "memory") }?.bytes.as_ptr() as *const c_void)
    })
}

/// The number of bytes; 0 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_host_memory_size(memory: *const infer8_host_memory) -> usize {
    ffi_boundary!("infer8_host_memory_size", 0, |_rep| {
        // SAFETY: the header's contract: null or valid.
        Ok(unsafe { get(memory, "memory") }?.bytes.len())
    })
}

/// Frees the memory. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_host_memory_destroy(memory: *mut infer8_host_memory) {
    ffi_boundary!("infer8_host_memory_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live memory made by this library.
        drop(unsafe { super::handles::release(memory, "memory") }?);
        Ok(())
    })
}
