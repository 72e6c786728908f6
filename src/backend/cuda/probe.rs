//! Finds a usable GPU without letting cudarc panic: cudarc binds symbols eagerly and panics when a
//! library is missing, so the driver is first opened by hand (dlopen `libcuda.so.1`, `cuInit`,
//! `cuDeviceGetCount`), then cudarc checks its own libraries, then the primary context of device
//! 0 is retained inside `catch_unwind`. The primary context is the one the CUDA runtime uses, so
//! pointers from the application's `cudaMalloc` are valid bindings.

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::sync::{Arc, OnceLock};

use cudarc::driver::CudaContext;
use cudarc::driver::sys::CUdevice_attribute;

/// The GPU this process uses, with what kernel compilation and launch sizes need to know.
pub struct Gpu {
    pub ctx: Arc<CudaContext>,
    pub name: String,
    /// Compute capability (major, minor).
    pub arch: (i32, i32),
    pub multiprocessors: u32,
    /// Bytes of shared memory a block may opt in to.
    pub shared_per_block: usize,
}

/// The GPU, probed once per process; `None` where no driver, device or NVRTC is usable.
pub fn gpu() -> Option<&'static Arc<Gpu>> {
    static GPU: OnceLock<Option<Arc<Gpu>>> = OnceLock::new();
    GPU.get_or_init(|| probe().ok().map(Arc::new)).as_ref()
}

/// Why the GPU is not usable, for messages (probes again; cheap next to a failed run).
pub fn unavailable_reason() -> String {
    match probe() {
        Ok(_) => "the GPU was found".into(),
        Err(e) => e,
    }
}

fn probe() -> Result<Gpu, String> {
    let devices = driver_device_count()?;
    if devices == 0 {
        return Err("the CUDA driver reports no device".into());
    }
    // SAFETY: these only try to dlopen the libraries cudarc would bind.
    let (driver, nvrtc) = unsafe {
        (
            cudarc::driver::sys::is_culib_present(),
            cudarc::nvrtc::sys::is_culib_present(),
        )
    };
    if !driver {
        return Err("cudarc cannot load the CUDA driver library".into());
    }
    if !nvrtc {
        return Err("NVRTC (libnvrtc.so) is not installed: kernels cannot be compiled".into());
    }
    let ctx = std::panic::catch_unwind(|| CudaContext::new(0))
        .map_err(|_| "cudarc panicked while opening device 0".to_string())?
        .map_err(|e| format!("cannot open device 0: {e:?}"))?;
    let name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
    let arch = ctx
        .compute_capability()
        .map_err(|e| format!("compute capability: {e:?}"))?;
    let multiprocessors = ctx
        .attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
        .map_err(|e| format!("multiprocessor count: {e:?}"))?;
    let shared_per_block = ctx
        .attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
        .map_err(|e| format!("shared memory per block: {e:?}"))?;
    Ok(Gpu {
        ctx,
        name,
        arch,
        multiprocessors: multiprocessors.max(1) as u32,
        shared_per_block: shared_per_block.max(0) as usize,
    })
}

/// `cuInit` + `cuDeviceGetCount` through a library opened here, so that a machine without the
/// driver gets an error instead of a panic.
fn driver_device_count() -> Result<c_int, String> {
    const LIB: &CStr = c"libcuda.so.1";
    // SAFETY: dlopen/dlsym with valid C strings; the symbols have the CUDA driver API's
    // signatures; the handle stays open (the driver is needed for the process lifetime anyway).
    unsafe {
        let lib = libc::dlopen(LIB.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
        if lib.is_null() {
            return Err("libcuda.so.1 (the CUDA driver) is not installed".into());
        }
        let init = libc::dlsym(lib, c"cuInit".as_ptr());
        let count = libc::dlsym(lib, c"cuDeviceGetCount".as_ptr());
        if init.is_null() || count.is_null() {
            return Err("libcuda.so.1 lacks cuInit or cuDeviceGetCount".into());
        }
        let init: extern "C" fn(c_uint) -> c_int = std::mem::transmute::<*mut c_void, _>(init);
        let count: extern "C" fn(*mut c_int) -> c_int =
            std::mem::transmute::<*mut c_void, _>(count);
        let rc = init(0);
        if rc != 0 {
            return Err(format!("cuInit failed with CUDA error {rc}"));
        }
        let mut n = 0;
        let rc = count(&mut n);
        if rc != 0 {
            return Err(format!("cuDeviceGetCount failed with CUDA error {rc}"));
        }
        Ok(n)
    }
}
