//! Device memory from the application (TensorRT's `IGpuAllocator`): where a context's weights,
//! activations and scratch come from when the application manages GPU memory itself.

/// An application's device memory allocator. It is called from whichever thread creates or drops a
/// context's device state, so it must be thread-safe (TensorRT asks the same of `IGpuAllocator`).
pub trait DeviceAllocator: Send + Sync {
    /// `bytes` of device memory aligned to `alignment`, or `None` when there is none to give.
    fn allocate(&self, bytes: usize, alignment: usize) -> Option<u64>;
    /// Gives back what `allocate` returned.
    fn free(&self, ptr: u64);
}
