//! The memory cap: the most bytes one allocation whose size comes from a file or a caller may take
//! (a blob, a generated weight set, an engine's activation arena). Sizes declared by hostile input
//! are checked against it before anything is allocated, so a 30-byte file cannot ask for terabytes.
//!
//! Set with the environment variable `INFER8_MAX_ALLOC` (bytes, optional `K`/`M`/`G` suffix: powers
//! of 1024), read once, or at run time with [`set_max_alloc`] (`infer8_set_max_alloc` in C).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Without a setting: large enough for any network TensorRT 5 ran, small enough that a bad size
/// fails with a message instead of the kernel's OOM killer.
pub const DEFAULT_MAX_ALLOC: usize = 16 << 30;

/// 0 = not set at run time: the environment (or the default) applies.
static OVERRIDE: AtomicUsize = AtomicUsize::new(0);

/// Parses `INFER8_MAX_ALLOC`'s value: `1048576`, `512M`, `4G`.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 10),
        (i, 'm' | 'M') => (&t[..i], 20),
        (i, 'g' | 'G') => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1usize << shift).filter(|&b| b > 0)
}

fn from_env() -> usize {
    static ENV: OnceLock<usize> = OnceLock::new();
    *ENV.get_or_init(|| {
        std::env::var("INFER8_MAX_ALLOC")
            .ok()
            .and_then(|v| parse_size(&v))
            .unwrap_or(DEFAULT_MAX_ALLOC)
    })
}

/// The cap in force, in bytes.
pub fn max_alloc() -> usize {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => from_env(),
        n => n,
    }
}

/// Sets the cap for the whole process; 0 goes back to `INFER8_MAX_ALLOC` or the default.
pub fn set_max_alloc(bytes: usize) {
    OVERRIDE.store(bytes, Ordering::Relaxed);
}

/// Checks that `count` elements of `elem_bytes` each fit under the cap; `what` names the allocation
/// (file, layer, blob) in the error. `None` is a count that already overflowed.
pub fn check(count: Option<usize>, elem_bytes: usize, what: &dyn std::fmt::Display) -> Result<()> {
    let cap = max_alloc();
    match count.and_then(|n| n.checked_mul(elem_bytes)) {
        Some(b) if b <= cap => Ok(()),
        Some(b) => Err(Error::Unsupported(format!(
            "{what} needs {b} bytes, more than the memory cap of {cap} bytes (INFER8_MAX_ALLOC)"
        ))),
        None => Err(Error::Unsupported(format!(
            "{what}: its declared size overflows; the memory cap is {cap} bytes (INFER8_MAX_ALLOC)"
        ))),
    }
}

/// The product of `dims`, `None` on overflow: the element count of a declared shape.
pub fn volume(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size(" 4g "), Some(4 << 30));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn check_names_the_allocation() {
        let cap = max_alloc();
        assert!(check(Some(cap / 4), 4, &"x").is_ok());
        let msg = check(Some(cap / 4 + 1), 4, &"layer 'c' blob 0")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("layer 'c' blob 0 needs"), "{msg}");
        assert!(msg.contains("INFER8_MAX_ALLOC"), "{msg}");
        assert!(
            check(None, 4, &"y")
                .unwrap_err()
                .to_string()
                .contains("overflows")
        );
    }
}
