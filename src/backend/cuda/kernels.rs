//! The loaded kernel module (one per process) and its functions by name.

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::{Mutex, OnceLock};

use cudarc::driver::result as drv;
use cudarc::driver::sys;

use super::{compile, cuda_err, gpu_or_err};
use crate::error::{Error, Result};

/// A kernel handle. CUfunction is a raw driver pointer, valid for the life of the module, which
/// is never unloaded; the driver allows its use from any thread.
#[derive(Clone, Copy)]
pub struct Func(pub sys::CUfunction);
// SAFETY: see above.
unsafe impl Send for Func {}
// SAFETY: see above.
unsafe impl Sync for Func {}

struct Module(sys::CUmodule);
// SAFETY: a module handle is usable from any thread of the process.
unsafe impl Send for Module {}
// SAFETY: as above.
unsafe impl Sync for Module {}

struct Kernels {
    module: Module,
    funcs: Mutex<HashMap<String, Func>>,
}

/// Loads a CUBIN produced by NVRTC for this device into the current context.
fn load(bin: &[u8]) -> Result<Module, String> {
    let gpu = gpu_or_err().map_err(|e| e.to_string())?;
    gpu.ctx
        .bind_to_thread()
        .map_err(|e| format!("binding the context: {e:?}"))?;
    // SAFETY: a CUBIN produced by NVRTC for this device.
    unsafe { drv::module::load_data(bin.as_ptr() as *const _) }
        .map(Module)
        .map_err(|e| format!("loading the kernel module: {e:?}"))
}

fn kernels() -> Result<&'static Kernels> {
    static KERNELS: OnceLock<Result<Kernels, String>> = OnceLock::new();
    KERNELS
        .get_or_init(|| {
            let gpu = gpu_or_err().map_err(|e| e.to_string())?;
            Ok(Kernels {
                module: load(&compile::cubin(gpu.arch)?)?,
                funcs: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
        .map_err(|e| Error::Runtime(format!("CUDA kernels: {e}")))
}

/// The kernels `names` of the chain.cu program specialized by `tail` (compile.rs), compiled (or
/// read from the cache) and loaded the first time they are asked for.
pub fn chain(tail: &str, names: &[&str]) -> Result<Vec<Func>> {
    let k = kernels()?;
    let mut funcs = k.funcs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = names.iter().map(|n| funcs.get(*n).copied()).collect() {
        return Ok(found);
    }
    let gpu = gpu_or_err()?;
    let what = || format!("CUDA kernels {}", names.join(", "));
    let bin = compile::chain_cubin(tail, gpu.arch)
        .map_err(|e| Error::Runtime(format!("{}: {e}", what())))?;
    // Loaded once (the lock is held) and, like the main module, never unloaded.
    let module = load(&bin).map_err(|e| Error::Runtime(format!("{}: {e}", what())))?;
    names
        .iter()
        .map(|&name| {
            let cname = CString::new(name)
                .map_err(|_| Error::Runtime(format!("bad kernel name {name:?}")))?;
            // SAFETY: a loaded module and a NUL-terminated name.
            let f = unsafe { drv::module::get_function(module.0, cname) }
                .map_err(cuda_err(&format!("kernel {name}")))?;
            funcs.insert(name.to_string(), Func(f));
            Ok(Func(f))
        })
        .collect()
}

/// The kernel `name` of `kernels/*.cu`: from the main module, or for a shallow.cu kernel from
/// its own module, compiled (or read from the cache) and loaded the first time it is asked for.
pub fn func(name: &str) -> Result<Func> {
    let k = kernels()?;
    let mut funcs = k.funcs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(f) = funcs.get(name) {
        return Ok(*f);
    }
    let cname =
        CString::new(name).map_err(|_| Error::Runtime(format!("bad kernel name {name:?}")))?;
    let module = match compile::shallow(name) {
        Some(line) => {
            let gpu = gpu_or_err()?;
            let bin = compile::shallow_cubin(&line, gpu.arch)
                .map_err(|e| Error::Runtime(format!("CUDA kernel {name}: {e}")))?;
            // Loaded once per name (the lock is held) and, like the main module, never unloaded.
            load(&bin)
                .map_err(|e| Error::Runtime(format!("CUDA kernel {name}: {e}")))?
                .0
        }
        None => k.module.0,
    };
    // SAFETY: a loaded module and a NUL-terminated name.
    let f = unsafe { drv::module::get_function(module, cname) }
        .map_err(cuda_err(&format!("kernel {name}")))?;
    funcs.insert(name.to_string(), Func(f));
    Ok(Func(f))
}
