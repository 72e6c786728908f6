//! The application's `IGpuAllocator` (set on a builder or runtime) as the backend's
//! [`DeviceAllocator`]: engines made afterwards take their contexts' device memory from it.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::backend::DeviceAllocator;

vtable! {
    /// Implemented by the application.
    "IGpuAllocator" => struct IGpuAllocatorVtbl {
        allocate: unsafe extern "C" fn(*mut c_void, u64, u64, u32) -> *mut c_void,
        free: unsafe extern "C" fn(*mut c_void, *mut c_void),
    }
}

#[repr(C)]
struct Header {
    vtable: &'static IGpuAllocatorVtbl,
}

pub struct CppGpuAllocator(NonNull<Header>);

// SAFETY: TensorRT requires `IGpuAllocator` to be thread-safe; the object outlives every engine
// and context made while it was set (the application's contract, as in TensorRT).
unsafe impl Send for CppGpuAllocator {}
unsafe impl Sync for CppGpuAllocator {}

impl CppGpuAllocator {
    /// `None` for a null pointer (TensorRT's way of going back to its own allocator).
    ///
    /// # Safety
    /// A non-null `p` must be an `IGpuAllocator` that outlives everything made with it.
    pub unsafe fn from_ptr(p: *mut c_void) -> Option<Arc<dyn DeviceAllocator>> {
        NonNull::new(p.cast::<Header>())
            .map(|p| Arc::new(CppGpuAllocator(p)) as Arc<dyn DeviceAllocator>)
    }
}

impl DeviceAllocator for CppGpuAllocator {
    fn allocate(&self, bytes: usize, alignment: usize) -> Option<u64> {
        // SAFETY: a live IGpuAllocator (see `from_ptr`); slot 0 is `allocate`; flags 0 (no
        // resizing is ever asked).
        let p = unsafe {
            (self.0.as_ref().vtable.allocate)(
                self.0.as_ptr().cast(),
                bytes as u64,
                alignment as u64,
                0,
            )
        };
        (!p.is_null()).then_some(p as u64)
    }

    fn free(&self, ptr: u64) {
        // SAFETY: as above; slot 1 is `free`, given what `allocate` returned.
        unsafe { (self.0.as_ref().vtable.free)(self.0.as_ptr().cast(), ptr as *mut c_void) }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::c_void;
    use std::sync::Mutex;

    use super::{CppGpuAllocator, IGpuAllocatorVtbl};

    /// A C++-shaped allocator object: vtable pointer first, then a log of the calls.
    #[repr(C)]
    struct Fake {
        vtable: &'static IGpuAllocatorVtbl,
        calls: Mutex<Vec<String>>,
    }

    unsafe extern "C" fn allocate(
        this: *mut c_void,
        size: u64,
        align: u64,
        flags: u32,
    ) -> *mut c_void {
        // SAFETY: `this` is the Fake below.
        let f = unsafe { &*(this as *const Fake) };
        f.calls
            .lock()
            .unwrap()
            .push(format!("allocate {size} {align} {flags}"));
        if size > 1000 {
            std::ptr::null_mut()
        } else {
            0x1000 as *mut c_void
        }
    }

    unsafe extern "C" fn free(this: *mut c_void, p: *mut c_void) {
        // SAFETY: as above.
        let f = unsafe { &*(this as *const Fake) };
        f.calls
            .lock()
            .unwrap()
            .push(format!("free {:#x}", p as u64));
    }

    static VTABLE: IGpuAllocatorVtbl = IGpuAllocatorVtbl { allocate, free };

    #[test]
    fn calls_reach_the_application_through_its_vtable() {
        let fake = Fake {
            vtable: &VTABLE,
            calls: Mutex::new(Vec::new()),
        };
        // SAFETY: `fake` outlives the wrapper.
        let a = unsafe { CppGpuAllocator::from_ptr(&fake as *const Fake as *mut c_void) }.unwrap();
        assert_eq!(a.allocate(256, 256), Some(0x1000));
        assert_eq!(a.allocate(4096, 256), None);
        a.free(0x1000);
        assert_eq!(
            *fake.calls.lock().unwrap(),
            ["allocate 256 256 0", "allocate 4096 256 0", "free 0x1000"]
        );
        // SAFETY: null is TensorRT's "no allocator".
        assert!(unsafe { CppGpuAllocator::from_ptr(std::ptr::null_mut()) }.is_none());
    }
}
