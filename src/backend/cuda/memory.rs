//! Device memory owned by the library (weights, arenas, staging) and copies for callers that hold
//! device pointers (calibrators, tests, benchmarks).

use cudarc::driver::result as drv;
use cudarc::driver::sys;

use std::sync::Arc;

use super::{cuda_err, gpu_or_err};
use crate::backend::DeviceAllocator;
use crate::error::Result;

/// Where device buffers come from: the driver, or the application's allocator.
pub type Source = Option<Arc<dyn DeviceAllocator>>;

/// Alignment asked of an application's allocator: what `cuMemAlloc` gives, which the kernels'
/// vector loads rely on.
const ALIGNMENT: usize = 256;

/// A device allocation, freed on drop (to where it came from).
pub struct DeviceBuffer {
    ptr: u64,
    bytes: usize,
    source: Source,
}

impl DeviceBuffer {
    /// `bytes` of uninitialized device memory (no allocation for 0 bytes: the pointer is 0).
    pub fn alloc(bytes: usize) -> Result<DeviceBuffer> {
        Self::alloc_from(bytes, &None)
    }

    /// As [`Self::alloc`], from the application's allocator where `source` names one.
    pub fn alloc_from(bytes: usize, source: &Source) -> Result<DeviceBuffer> {
        if bytes == 0 {
            return Ok(DeviceBuffer {
                ptr: 0,
                bytes,
                source: None,
            });
        }
        gpu_or_err()?
            .ctx
            .bind_to_thread()
            .map_err(cuda_err("binding the context"))?;
        let ptr = match source {
            Some(a) => match a.allocate(bytes, ALIGNMENT) {
                Some(p) if p != 0 && p % ALIGNMENT as u64 == 0 => p,
                Some(p) if p != 0 => {
                    a.free(p);
                    crate::bail!(
                        Runtime,
                        "IGpuAllocator returned {p:#x} for {bytes} bytes, not aligned to {ALIGNMENT}"
                    )
                }
                _ => crate::bail!(Runtime, "IGpuAllocator gave no memory for {bytes} bytes"),
            },
            // SAFETY: a plain allocation in the bound (primary) context.
            None => unsafe { drv::malloc_sync(bytes) }
                .map_err(cuda_err(&format!("allocating {bytes} bytes")))?,
        };
        Ok(DeviceBuffer {
            ptr,
            bytes,
            source: source.clone(),
        })
    }

    pub fn from_slice<T: Copy>(data: &[T]) -> Result<DeviceBuffer> {
        Self::from_slice_in(data, &None)
    }

    /// As [`Self::from_slice`], from the application's allocator where `source` names one.
    pub fn from_slice_in<T: Copy>(data: &[T], source: &Source) -> Result<DeviceBuffer> {
        let buf = DeviceBuffer::alloc_from(std::mem::size_of_val(data), source)?;
        buf.upload(data)?;
        Ok(buf)
    }

    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Copies `data` to the start of the buffer (synchronously).
    pub fn upload<T: Copy>(&self, data: &[T]) -> Result<()> {
        let n = std::mem::size_of_val(data);
        if n > self.bytes {
            crate::bail!(
                InvalidArgument,
                "upload of {n} bytes into a device buffer of {}",
                self.bytes
            );
        }
        // SAFETY: `data` is `n` readable bytes; the buffer holds at least `n`.
        unsafe { copy(self.ptr, data.as_ptr() as u64, n) }
    }

    /// Copies the start of the buffer into `out` (synchronously).
    pub fn download<T: Copy>(&self, out: &mut [T]) -> Result<()> {
        let n = std::mem::size_of_val(out);
        if n > self.bytes {
            crate::bail!(
                InvalidArgument,
                "download of {n} bytes from a device buffer of {}",
                self.bytes
            );
        }
        // SAFETY: `out` is `n` writable bytes of plain data; the buffer holds at least `n`.
        unsafe { copy(out.as_mut_ptr() as u64, self.ptr, n) }
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.ptr == 0 {
            return;
        }
        match &self.source {
            Some(a) => a.free(self.ptr),
            // SAFETY: allocated by malloc_sync and freed once. A failure (context torn down at
            // process exit) leaves nothing to do.
            None => {
                let _ = unsafe { drv::free_sync(self.ptr) };
            }
        }
    }
}

/// Synchronous copy of `bytes` between any two addresses the driver knows (unified addressing:
/// device memory, pinned or pageable host memory).
///
/// # Safety
/// Both ranges must be valid for `bytes` bytes.
pub unsafe fn copy(dst: u64, src: u64, bytes: usize) -> Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    gpu_or_err()?
        .ctx
        .bind_to_thread()
        .map_err(cuda_err("binding the context"))?;
    // SAFETY: the caller guarantees the ranges.
    unsafe { sys::cuMemcpy(dst, src, bytes) }
        .result()
        .map_err(cuda_err("cuMemcpy"))
}

/// Copies a device (or host) range into host memory: what a calibrator's `getBatch` device
/// pointers need on the CUDA backend.
///
/// # Safety
/// `src` must be valid for `dst.len()` bytes.
pub unsafe fn copy_to_host(src: u64, dst: &mut [u8]) -> Result<()> {
    // SAFETY: forwarded contract; `dst` is writable.
    unsafe { copy(dst.as_mut_ptr() as u64, src, dst.len()) }
}
