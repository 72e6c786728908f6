//! Which backend new execution contexts run on (DESIGN.md decision 2): CUDA when the driver, a GPU
//! and NVRTC are present, else the CPU. `INFER8_DEVICE=cpu|cuda` forces one (`cuda` still falls
//! back to the CPU where the probe finds no usable GPU: there is nothing else to run on).

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda,
}

/// The device of this process, decided once.
pub fn selected() -> Device {
    static SELECTED: OnceLock<Device> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let forced = std::env::var("INFER8_DEVICE")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        if forced == "cpu" {
            return Device::Cpu;
        }
        if cuda_available() {
            Device::Cuda
        } else {
            Device::Cpu
        }
    })
}

#[cfg(feature = "cuda")]
fn cuda_available() -> bool {
    super::cuda::gpu().is_some()
}

#[cfg(not(feature = "cuda"))]
fn cuda_available() -> bool {
    false
}
