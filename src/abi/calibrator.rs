//! User calibrators (`IInt8Calibrator` and subclasses) as the builder's [`Calibrator`]. On the CPU
//! backend the pointers `getBatch` hands back are host memory; each input's batch is copied out
//! before the next call, as TensorRT consumes it.

use std::ffi::{CString, c_char, c_void};

use crate::builder::Calibrator;
use crate::logger::{Severity, SharedLogger};
use crate::types::CalibrationAlgoType;

type User = *mut c_void;

vtable! {
    "IInt8Calibrator" => struct IInt8CalibratorVtbl {
        getBatchSize: unsafe extern "C" fn(User) -> i32,
        getBatch: unsafe extern "C" fn(User, *mut *mut c_void, *const *const c_char, i32) -> bool,
        readCalibrationCache: unsafe extern "C" fn(User, *mut usize) -> *const c_void,
        writeCalibrationCache: unsafe extern "C" fn(User, *const c_void, usize),
        getAlgorithm: unsafe extern "C" fn(User) -> i32,
        dtor_complete as "~D1": unsafe extern "C" fn(User),
        dtor_deleting as "~D0": unsafe extern "C" fn(User),
    }
}

vtable! {
    "IInt8LegacyCalibrator" => struct IInt8LegacyCalibratorVtbl : IInt8CalibratorVtbl {
        getQuantile: unsafe extern "C" fn(User) -> f64,
        getRegressionCutoff: unsafe extern "C" fn(User) -> f64,
        readHistogramCache: unsafe extern "C" fn(User, *mut usize) -> *const c_void,
        writeHistogramCache: unsafe extern "C" fn(User, *const c_void, usize),
    }
}

/// The calibrator subclasses only override `getAlgorithm` (inline in the header), at slot 4.
pub fn override_slots() -> Vec<(&'static str, &'static str, usize)> {
    let slot =
        std::mem::offset_of!(IInt8CalibratorVtbl, getAlgorithm) / std::mem::size_of::<usize>();
    [
        "IInt8EntropyCalibrator",
        "IInt8EntropyCalibrator2",
        "IInt8MinMaxCalibrator",
        "IInt8LegacyCalibrator",
    ]
    .into_iter()
    .map(|iface| (iface, "getAlgorithm", slot))
    .collect()
}

#[repr(C)]
struct Header {
    vtable: &'static IInt8CalibratorVtbl,
}

/// A user `IInt8Calibrator*`, checked when the build starts.
pub struct CppCalibrator {
    user: User,
    algorithm: CalibrationAlgoType,
    logger: SharedLogger,
}

impl CppCalibrator {
    fn vtable(&self) -> &'static IInt8CalibratorVtbl {
        // SAFETY: `user` is the live IInt8Calibrator given to setInt8Calibrator (see `new`).
        unsafe { (*self.user.cast::<Header>()).vtable }
    }

    /// Asks the calibrator for its algorithm (the value is an `int` from user code: checked).
    ///
    /// # Safety
    /// `user` must be a live `IInt8Calibrator` for as long as the result is used.
    pub unsafe fn new(user: User, logger: SharedLogger) -> crate::error::Result<CppCalibrator> {
        // SAFETY: per the contract; slot 4 is getAlgorithm.
        let v = unsafe { ((*user.cast::<Header>()).vtable.getAlgorithm)(user) };
        let algorithm = CalibrationAlgoType::from_i32(v).ok_or_else(|| {
            crate::error::Error::InvalidArgument(format!(
                "the calibrator's getAlgorithm() returned {v}, not a CalibrationAlgoType"
            ))
        })?;
        Ok(CppCalibrator {
            user,
            algorithm,
            logger,
        })
    }

    fn legacy(&self) -> &'static IInt8LegacyCalibratorVtbl {
        // SAFETY: only called for calibrators whose getAlgorithm is kLEGACY_CALIBRATION, i.e.
        // IInt8LegacyCalibrator subclasses, whose vtable continues with the legacy slots.
        unsafe {
            &*(self.vtable() as *const IInt8CalibratorVtbl).cast::<IInt8LegacyCalibratorVtbl>()
        }
    }
}

impl Calibrator for CppCalibrator {
    fn batch_size(&mut self) -> usize {
        // SAFETY: see `vtable`.
        let n = unsafe { (self.vtable().getBatchSize)(self.user) };
        usize::try_from(n).unwrap_or_else(|_| {
            self.logger.log(
                Severity::Error,
                &format!("IInt8Calibrator::getBatchSize returned {n}"),
            );
            0
        })
    }

    fn get_batch(&mut self, names: &[&str], buffers: &mut [&mut [f32]]) -> bool {
        let c_names: Vec<CString> = names
            .iter()
            .map(|n| CString::new(n.replace('\0', "?")).unwrap_or_default())
            .collect();
        let name_ptrs: Vec<*const c_char> = c_names.iter().map(|n| n.as_ptr()).collect();
        let mut bindings = vec![std::ptr::null_mut::<c_void>(); names.len()];
        let nb = i32::try_from(names.len()).unwrap_or(i32::MAX);
        // SAFETY: see `vtable`; both arrays hold `nb` entries.
        let more = unsafe {
            (self.vtable().getBatch)(self.user, bindings.as_mut_ptr(), name_ptrs.as_ptr(), nb)
        };
        if !more {
            return false;
        }
        for ((b, buf), name) in bindings.iter().zip(buffers.iter_mut()).zip(names) {
            if b.is_null() {
                self.logger.log(
                    Severity::Error,
                    &format!("IInt8Calibrator::getBatch left the binding of input '{name}' null; calibration stops"),
                );
                return false;
            }
            if let Err(e) = copy_batch(*b, buf) {
                self.logger.log(
                    Severity::Error,
                    &format!("calibration batch of input '{name}': {e}"),
                );
                return false;
            }
        }
        true
    }

    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        let mut len = 0usize;
        // SAFETY: see `vtable`; the result points at `len` bytes owned by the calibrator.
        unsafe {
            let p = (self.vtable().readCalibrationCache)(self.user, &mut len);
            (!p.is_null() && len > 0)
                .then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        }
    }

    fn write_calibration_cache(&mut self, cache: &[u8]) {
        // SAFETY: see `vtable`; the calibrator copies the bytes during the call.
        unsafe {
            (self.vtable().writeCalibrationCache)(self.user, cache.as_ptr().cast(), cache.len())
        }
    }

    fn algorithm(&mut self) -> CalibrationAlgoType {
        self.algorithm
    }

    fn legacy_parameters(&mut self) -> Option<(f64, f64)> {
        if self.algorithm != CalibrationAlgoType::Legacy {
            return None;
        }
        let v = self.legacy();
        // SAFETY: see `legacy`.
        unsafe {
            Some((
                (v.getQuantile)(self.user),
                (v.getRegressionCutoff)(self.user),
            ))
        }
    }

    fn read_histogram_cache(&mut self) -> Option<Vec<u8>> {
        if self.algorithm != CalibrationAlgoType::Legacy {
            return None;
        }
        let mut len = 0usize;
        // SAFETY: see `legacy`; the result points at `len` bytes owned by the calibrator.
        unsafe {
            let p = (self.legacy().readHistogramCache)(self.user, &mut len);
            (!p.is_null() && len > 0)
                .then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        }
    }

    fn write_histogram_cache(&mut self, cache: &[u8]) {
        if self.algorithm != CalibrationAlgoType::Legacy {
            return;
        }
        // SAFETY: see `legacy`; the calibrator copies the bytes during the call.
        unsafe {
            (self.legacy().writeHistogramCache)(self.user, cache.as_ptr().cast(), cache.len())
        }
    }
}

/// Copies one calibration batch from the calibrator's binding: device memory when the process runs
/// on CUDA (the calibrator filled it with cudaMemcpy), host memory on the CPU backend.
fn copy_batch(src: *mut c_void, buf: &mut [f32]) -> crate::error::Result<()> {
    #[cfg(feature = "cuda")]
    if crate::backend::selected() == crate::backend::Device::Cuda {
        // SAFETY: f32 has no invalid bit patterns; the byte view is the same memory.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(
                buf.as_mut_ptr().cast::<u8>(),
                std::mem::size_of_val(buf),
            )
        };
        // SAFETY: the calibrator contract: the binding holds a full batch of its input.
        return unsafe { crate::backend::cuda::copy_to_host(src as u64, bytes) };
    }
    // SAFETY: the calibrator contract: each binding holds a full batch of its input
    // (`buf.len()` floats, getBatchSize() items), in host memory on the CPU backend.
    unsafe { std::ptr::copy_nonoverlapping(src.cast::<f32>(), buf.as_mut_ptr(), buf.len()) };
    Ok(())
}
