//! The memory cap (`crate::limits`) from C.

use super::boundary::ffi_boundary;

/// Sets the most bytes one allocation whose size comes from a file or an argument may take (a
/// blob, generated weights, an engine's activation memory), for the whole process; 0 goes back to
/// the environment variable `INFER8_MAX_ALLOC` or the default (16 GiB). Larger requests fail with
/// a logger message instead of exhausting memory.
#[unsafe(no_mangle)]
pub extern "C" fn infer8_set_max_alloc(bytes: usize) {
    ffi_boundary!("infer8_set_max_alloc", (), |_rep| {
        crate::limits::set_max_alloc(bytes);
        Ok(())
    })
}

/// The memory cap in force, in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn infer8_get_max_alloc() -> usize {
    ffi_boundary!("infer8_get_max_alloc", 0, |_rep| {
        Ok(crate::limits::max_alloc())
    })
}
