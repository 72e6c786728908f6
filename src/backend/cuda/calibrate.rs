//! INT8 calibration statistics on the GPU (issue 5): the calibration batches run through an FP32
//! engine in which every tensor is an output, so none is fused away or shares memory, and
//! kernels/calibrate.cu reduces each binding where it lies: absolute maxima over every batch,
//! then histograms over those ranges. Only the histograms come back to the host. The binning is
//! calib/histogram.rs's, computed the same way; the tensors differ from the CPU's by FP32
//! rounding, so ranges agree with a CPU calibration's to within a bin.

use std::sync::Arc;

use super::args::CalibArgs;
use super::memory::DeviceBuffer;
use super::step::{Grid, Step};
use super::{gpu_or_err, plan::unsupported, synchronize};
use crate::backend::Device;
use crate::calib::{Histogram, NUM_BINS};
use crate::engine::ExecutionContext;
use crate::error::Result;
use crate::network::Network;
use crate::types::{DataType, volume};

/// Counters per tensor: the bins, exact zeros, NaNs.
const SLOTS: usize = NUM_BINS + 2;

/// Each tensor's histogram (only its range where `histograms` is false) over `batches` of
/// `batch` items, each batch holding the network inputs' values in `net.inputs` order. An
/// `Unsupported` error means the CPU should collect them (a layer without a CUDA kernel, a
/// tensor that is not FP32). Plugin layers run on the device as in any CUDA plan.
pub fn calibration_histograms(
    net: &Network,
    batch: usize,
    batches: &[Vec<Vec<f32>>],
    histograms: bool,
) -> Result<Vec<Histogram>> {
    let tensors = net.tensors.len();
    let engine = crate::builder::fp32_engine(net, batch, true)?;
    if let Some(why) = unsupported(&engine) {
        crate::bail!(Unsupported, "{why}");
    }
    if let Some(b) = engine.bindings.iter().find(|b| b.dtype != DataType::Float) {
        crate::bail!(Unsupported, "tensor '{}' is not FP32", b.name);
    }
    let engine = Arc::new(engine);
    let net = &engine.network;
    let mut ctx = ExecutionContext::with_device(Arc::clone(&engine), Device::Cuda)?;
    let sizes: Vec<usize> = engine
        .bindings
        .iter()
        .map(|b| batch * volume(&b.shape))
        .collect();
    let bufs: Vec<DeviceBuffer> = sizes
        .iter()
        .map(|&n| DeviceBuffer::alloc((n * 4).max(4)))
        .collect::<Result<_>>()?;
    let ptrs: Vec<u64> = bufs.iter().map(DeviceBuffer::ptr).collect();
    let absmax = DeviceBuffer::from_slice(&vec![0u32; tensors])?;
    let bins = DeviceBuffer::from_slice(&vec![0u64; tensors * SLOTS])?;
    let sms = gpu_or_err()?.multiprocessors;
    let mut ranges = vec![0f32; tensors];
    for pass in 0..1 + histograms as usize {
        let kernel = if pass == 0 {
            "calib_absmax"
        } else {
            "calib_histogram"
        };
        for inputs in batches {
            for (b, buf) in engine.bindings.iter().zip(&bufs) {
                if let Some(i) = net.inputs.iter().position(|&t| t == b.tensor) {
                    buf.upload(&inputs[i])?;
                }
            }
            // SAFETY: every binding is a buffer of `batch` items; execute waits for the run.
            unsafe { ctx.execute_device(batch, &ptrs) }?;
            for ((b, &x), &n) in engine.bindings.iter().zip(&ptrs).zip(&sizes) {
                let t = b.tensor;
                let args = CalibArgs {
                    x,
                    absmax: absmax.ptr() + 4 * t as u64,
                    bins: bins.ptr() + (8 * SLOTS * t) as u64,
                    n: n as i64,
                    range: ranges[t],
                };
                let step = Step::new(kernel, &args, Grid::Flat { per_item: n as u64 }, false)?;
                // SAFETY: the block holds live buffers of the sizes it states; the default
                // stream orders the launch after the run that wrote `x`.
                unsafe { step.launch(1, &|_| 0, sms, std::ptr::null_mut()) }?;
            }
        }
        if pass == 0 {
            let mut bits = vec![0u32; tensors];
            absmax.download(&mut bits)?;
            ranges = bits.into_iter().map(f32::from_bits).collect();
        }
    }
    // SAFETY: the default stream.
    unsafe { synchronize(0) }?;
    let mut counts = vec![0u64; tensors * SLOTS];
    bins.download(&mut counts)?;
    Ok((0..tensors)
        .map(|t| {
            let c = &counts[t * SLOTS..][..SLOTS];
            Histogram {
                absmax: ranges[t],
                zeros: c[NUM_BINS],
                bins: c[..NUM_BINS].to_vec(),
            }
        })
        .collect())
}
