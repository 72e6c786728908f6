//! The live owned handles (builder, network, engine, context, runtime, host memory, parser): each
//! `_create` records its object's address and type here and each `_destroy` removes it, so a
//! handle used after `_destroy`, destroyed twice, or passed where another kind is expected is
//! refused with a message instead of touching freed memory. An address the allocator hands out
//! again to a new object of the same kind is that object: a stale handle is detectable only until then.
//!
//! Tensors and layers belong to their network and are not recorded; [`check`] lets them through.

use std::any::{TypeId, type_name};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::{Error, Result};

#[derive(Default)]
struct Registry {
    live: HashMap<usize, (TypeId, &'static str)>,
    /// Types made through [`adopt`]: a pointer of one of these types must be live.
    owned: HashSet<TypeId>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REG: OnceLock<Mutex<Registry>> = OnceLock::new();
    // A panic while the lock was held cannot leave the maps half-updated (single inserts and
    // removes), so a poisoned lock is still consistent.
    REG.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn short_name<T>() -> &'static str {
    type_name::<T>().rsplit("::").next().unwrap_or("object")
}

/// Hands a new owned object to C and records it.
pub fn adopt<T: 'static>(object: Box<T>) -> *mut T {
    let p = Box::into_raw(object);
    let mut reg = registry();
    reg.owned.insert(TypeId::of::<T>());
    reg.live
        .insert(p as usize, (TypeId::of::<T>(), short_name::<T>()));
    p
}

/// Checks a non-null pointer of type `T` before it is dereferenced; `what` names the argument.
pub fn check<T: 'static>(p: *const T, what: &str) -> Result<()> {
    let reg = registry();
    match reg.live.get(&(p as usize)) {
        Some(&(t, _)) if t == TypeId::of::<T>() => Ok(()),
        Some(&(_, other)) => Err(Error::InvalidArgument(format!(
            "{what} is an {other}, not an {}",
            short_name::<T>()
        ))),
        None if reg.owned.contains(&TypeId::of::<T>()) => Err(Error::InvalidArgument(format!(
            "{what} is not a live {} (already destroyed, or never created by infer8)",
            short_name::<T>()
        ))),
        None => Ok(()),
    }
}

/// Takes back an owned object for `_destroy`: NULL gives `None`; a pointer that is not a live
/// object of type `T` is an error, and nothing is freed.
///
/// # Safety
/// A live `p` was made by [`adopt`] and is not used by the caller afterwards.
pub unsafe fn release<T: 'static>(p: *mut T, what: &str) -> Result<Option<Box<T>>> {
    if p.is_null() {
        return Ok(None);
    }
    check(p, what)?;
    registry().live.remove(&(p as usize));
    // SAFETY: live, so made by `adopt` (Box::into_raw) and not yet released.
    Ok(Some(unsafe { Box::from_raw(p) }))
}
