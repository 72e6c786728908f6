//! Execution backends. The CPU backend is the numerical oracle; CUDA (when present) must agree with it.

pub mod cpu;
