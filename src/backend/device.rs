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

/// `IBuilder::platformHasFastFp16` for the selected device. A GPU answers as TensorRT did, by
/// compute capability (half arithmetic at twice the FP32 rate: 5.3, 6.0, 6.2, and 7.0 on). The CPU
/// backend stores FP16 tensors as half and converts them in hardware where the CPU has F16C.
pub fn fast_fp16() -> bool {
    match selected() {
        Device::Cuda => gpu_arch().is_some_and(half_rate_arch),
        Device::Cpu => cpu_has_f16c(),
    }
}

/// `IBuilder::platformHasFastInt8` for the selected device: a GPU with 8-bit dot products (6.1,
/// 6.2, and 7.0 on; tensor cores from 7.2), and always on the CPU, whose INT8 kernels multiply
/// 8-bit values into 32-bit sums (backend/cpu/igemm.rs) on any x86-64 or other CPU.
pub fn fast_int8() -> bool {
    match selected() {
        Device::Cuda => gpu_arch().is_some_and(int8_dot_arch),
        Device::Cpu => true,
    }
}

fn half_rate_arch(a: (i32, i32)) -> bool {
    matches!(a, (5, 3) | (6, 0) | (6, 2)) || a.0 >= 7
}

fn int8_dot_arch(a: (i32, i32)) -> bool {
    matches!(a, (6, 1) | (6, 2)) || a.0 >= 7
}

#[cfg(feature = "cuda")]
fn gpu_arch() -> Option<(i32, i32)> {
    super::cuda::gpu().map(|g| g.arch)
}

#[cfg(not(feature = "cuda"))]
fn gpu_arch() -> Option<(i32, i32)> {
    None
}

fn cpu_has_f16c() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::{half_rate_arch, int8_dot_arch};

    #[test]
    fn fast_precisions_follow_compute_capability() {
        // Maxwell desktop and Pascal GP104 (6.1) have slow half arithmetic; Jetson TX1 (5.3),
        // P100 (6.0), TX2 (6.2) and everything from Volta on have it at twice the FP32 rate.
        let half: Vec<_> = [(5, 2), (5, 3), (6, 0), (6, 1), (6, 2), (7, 0), (9, 0)]
            .into_iter()
            .map(half_rate_arch)
            .collect();
        assert_eq!(half, [false, true, true, false, true, true, true]);
        // dp4a arrived with 6.1; P100 (6.0) and Maxwell lack it.
        let int8: Vec<_> = [(5, 3), (6, 0), (6, 1), (6, 2), (7, 5), (8, 9), (9, 0)]
            .into_iter()
            .map(int8_dot_arch)
            .collect();
        assert_eq!(int8, [false, false, true, true, true, true, true]);
    }
}
