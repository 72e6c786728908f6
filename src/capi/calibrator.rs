//! The user's INT8 calibrator: a struct of callbacks plus a user pointer. The library hands
//! `get_batch` host buffers to fill, which is simpler for C than device bindings.

use std::ffi::{CString, c_char, c_void};

use super::boundary::get;
use crate::builder::Calibrator;
use crate::error::Result;
use crate::types::CalibrationAlgoType;

/// A calibrator implemented by the caller, copied by `infer8_builder_set_int8_calibrator`; `user` is
/// passed back unchanged and must stay valid until the build that uses it returns.
///
/// - `batch_size`: items per batch (positive).
/// - `get_batch`: fills `buffers[i]` (`batch * volume(input i)` floats, CHW per item) for the input
///   named `names[i]`, for each of the `nb` network inputs; returns false when there are no more batches.
///   NULL: no batches (only a cache can calibrate).
/// - `read_cache`: returns the calibration cache and writes its length to `*len`, or returns NULL
///   (calibrate). The memory must stay valid until the build returns. May be NULL.
/// - `write_cache`: receives the cache written after calibrating (valid during the call). May be NULL.
/// - `algorithm`: an `infer8_calibration_algo_type`.
/// - `quantile`, `regression_cutoff`: the legacy algorithm's parameters (ignored by the others).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct infer8_calibrator {
    pub user: *mut c_void,
    pub batch_size: i32,
    pub get_batch: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            names: *const *const c_char,
            buffers: *const *mut f32,
            nb: i32,
            batch: i32,
        ) -> bool,
    >,
    pub read_cache:
        Option<unsafe extern "C" fn(user: *mut c_void, len: *mut usize) -> *const c_void>,
    pub write_cache:
        Option<unsafe extern "C" fn(user: *mut c_void, data: *const c_void, len: usize)>,
    pub algorithm: i32,
    pub quantile: f64,
    pub regression_cutoff: f64,
}

/// The Rust side of an `infer8_calibrator`, with its values checked once.
pub(crate) struct CCalibrator {
    c: infer8_calibrator,
    batch_size: usize,
    algorithm: CalibrationAlgoType,
}

impl CCalibrator {
    /// # Safety
    /// `c` is null or points to a valid `infer8_calibrator`.
    pub(crate) unsafe fn from_arg(c: *const infer8_calibrator) -> Result<CCalibrator> {
        // SAFETY: the caller's contract.
        let c = *unsafe { get(c, "calibrator") }?;
        let batch_size = super::boundary::positive_arg(c.batch_size, "calibrator batch_size")?;
        let algorithm = super::boundary::enum_arg(
            c.algorithm,
            CalibrationAlgoType::from_i32,
            "calibrator algorithm",
        )?;
        Ok(CCalibrator {
            c,
            batch_size,
            algorithm,
        })
    }
}

impl Calibrator for CCalibrator {
    fn batch_size(&mut self) -> usize {
        self.batch_size
    }

    fn get_batch(&mut self, names: &[&str], buffers: &mut [&mut [f32]]) -> bool {
        let Some(f) = self.c.get_batch else {
            return false;
        };
        let Ok(names) = names
            .iter()
            .map(|n| CString::new(*n))
            .collect::<Result<Vec<_>, _>>()
        else {
            return false;
        };
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let buf_ptrs: Vec<*mut f32> = buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
        // SAFETY: the caller's function, with arrays of `nb` valid names and buffers of the documented size.
        unsafe {
            f(
                self.c.user,
                name_ptrs.as_ptr(),
                buf_ptrs.as_ptr(),
                names.len() as i32,
                self.batch_size as i32,
            )
        }
    }

    fn read_calibration_cache(&mut self) -> Option<Vec<u8>> {
        let f = self.c.read_cache?;
        let mut len = 0usize;
        // SAFETY: the caller's function; `len` is a valid out-pointer.
        let p = unsafe { f(self.c.user, &mut len) };
        if p.is_null() || len == 0 {
            return None;
        }
        // SAFETY: the caller promises `len` readable bytes at `p`; copied before anything else runs.
        Some(unsafe { std::slice::from_raw_parts(p as *const u8, len) }.to_vec())
    }

    fn write_calibration_cache(&mut self, cache: &[u8]) {
        if let Some(f) = self.c.write_cache {
            // SAFETY: the caller's function, with a buffer valid during the call.
            unsafe { f(self.c.user, cache.as_ptr() as *const c_void, cache.len()) };
        }
    }

    fn algorithm(&mut self) -> CalibrationAlgoType {
        self.algorithm
    }

    fn legacy_parameters(&mut self) -> Option<(f64, f64)> {
        Some((self.c.quantile, self.c.regression_cutoff))
    }
}
