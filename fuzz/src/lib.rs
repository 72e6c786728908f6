//! What the fuzz targets share: the memory cap and the input framings.

use std::sync::Once;

/// The library's memory cap while fuzzing: well under libFuzzer's default `-rss_limit_mb=2048`, so
/// an input that declares a huge size must be refused by the library, not by the fuzzer's OOM check.
pub const FUZZ_MAX_ALLOC: usize = 256 << 20;

pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| infer8::limits::set_max_alloc(FUZZ_MAX_ALLOC));
}

/// `[u16 little-endian length n][n bytes][rest]` → `(n bytes, rest)`.
pub fn split_u16(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u16::from_le_bytes([*data.first()?, *data.get(1)?]) as usize;
    let rest = data.get(2..)?;
    (rest.len() >= n).then(|| rest.split_at(n))
}

/// An engine file's bytes with the header's payload length and FNV-1a checksum rewritten to match
/// the payload (layout in `src/engine/serialize.rs`); `None` if there is no room for a header.
pub fn fix_engine_header(data: &[u8]) -> Option<Vec<u8>> {
    const HEADER: usize = 28;
    let payload = data.get(HEADER..)?;
    let sum = payload.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let mut out = data.to_vec();
    out[..8].copy_from_slice(b"INFER8EN");
    out[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[20..28].copy_from_slice(&sum.to_le_bytes());
    (out != data).then_some(out)
}
