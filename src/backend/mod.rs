//! Execution backends. The CPU backend is the numerical oracle; CUDA (when present) must agree with it.

mod allocator;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod device;

pub use allocator::DeviceAllocator;
pub use device::{Device, fast_fp16, fast_int8, selected};
