//! An execution context: the per-thread state to run an engine (activation arena, prepared kernels,
//! profiler). TensorRT's rule holds: one context is used by one thread at a time; an engine is shared.

use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;

use super::{Engine, Precision};
use crate::backend::cpu::{CpuLayer, In, Out};
use crate::backend::{Device, DeviceAllocator};
use crate::error::{Error, Result};
use crate::network::TensorId;
use crate::types::{DataType, Shape, volume};

/// `IProfiler`: told the time of every layer after each run.
pub trait Profiler: Send {
    fn report_layer_time(&mut self, layer_name: &str, ms: f32);
}

/// One binding's memory for a run, in binding order: inputs are read, outputs written.
pub enum HostBinding<'a> {
    Input(&'a [u8]),
    Output(&'a mut [u8]),
}

pub struct ExecutionContext {
    /// The engine this context runs: the built one, or it re-planned for the dimensions set on
    /// its dynamic inputs.
    engine: Arc<Engine>,
    /// The engine as built (at its profile's maximum), the base of every re-plan.
    built: Arc<Engine>,
    /// Per binding: the dimensions `set_input_shape` gave a dynamic input.
    input_shapes: Vec<Option<Shape>>,
    /// Prepared kernels, in execution order.
    kernels: Vec<CpuLayer>,
    /// Which steps run fused (`engine::fusion`).
    fusion: super::fusion::Fusion,
    arena: Vec<f32>,
    scratch: Vec<f32>,
    /// Network inputs converted to f32 (non-FP32 bindings, FP16 rounding), by input position.
    staging: Vec<Vec<f32>>,
    /// Per tensor: the scale of its INT8 storage, where the CPU keeps it INT8 (`engine::int8`).
    int8_storage: Vec<Option<f32>>,
    /// Real values of an INT8-stored tensor, for the observer of [`ExecutionContext::run`].
    dequantized: Vec<f32>,
    profiler: Option<Box<dyn Profiler>>,
    pub name: String,
    pub debug_sync: bool,
    /// Where `enqueue_device` and `execute` run (`run`, which shows every tensor, always runs
    /// on the CPU).
    device: Device,
    #[cfg(feature = "cuda")]
    cuda: CudaState,
    /// Device copies of `execute`'s host bindings on a CUDA context, sized for the max batch.
    #[cfg(feature = "cuda")]
    device_bindings: Vec<crate::backend::cuda::DeviceBuffer>,
    /// Where device buffers come from: the driver, or the application's `IGpuAllocator`.
    #[cfg(feature = "cuda")]
    device_memory: crate::backend::cuda::Source,
}

/// The CUDA side of a context, prepared at its first device run (contexts made for calibration
/// never run on the device and so never pay for it).
#[cfg(feature = "cuda")]
enum CudaState {
    Unprepared,
    Ready(Box<crate::backend::cuda::Executor>),
    /// The engine has a layer or binding the CUDA backend lacks: the CPU runs it, through copies.
    Host,
}

/// Calibration's hook: shown each computed tensor (all items of the run, real values).
type Observer<'a> = dyn FnMut(TensorId, &[f32]) + 'a;

/// The bytes of an f32 slice, for [`HostBinding::Input`].
pub fn f32_bytes(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding; the byte view covers exactly the same memory.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

fn as_f32(bytes: &[u8]) -> Option<&[f32]> {
    // SAFETY: every bit pattern is a valid f32; align_to only yields the aligned middle part.
    let (head, body, tail) = unsafe { bytes.align_to::<f32>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

fn as_f32_mut(bytes: &mut [u8]) -> Option<&mut [f32]> {
    // SAFETY: as above; f32 has no invalid bit patterns.
    let (head, body, tail) = unsafe { bytes.align_to_mut::<f32>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

/// Reads `n` elements of `dtype` into f32.
fn decode(bytes: &[u8], dtype: DataType, out: &mut Vec<f32>) {
    out.clear();
    match dtype {
        DataType::Float => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
        ),
        DataType::Half => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_ne_bytes([c[0], c[1]]).to_f32()),
        ),
        DataType::Int32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) as f32),
        ),
        DataType::Int8 | DataType::Bool => out.extend(bytes.iter().map(|&b| b as i8 as f32)),
    }
}

fn encode(values: &[f32], dtype: DataType, out: &mut [u8]) {
    match dtype {
        DataType::Float => {
            for (c, v) in out.chunks_exact_mut(4).zip(values) {
                c.copy_from_slice(&v.to_ne_bytes());
            }
        }
        DataType::Half => {
            for (c, v) in out.chunks_exact_mut(2).zip(values) {
                c.copy_from_slice(&half::f16::from_f32(*v).to_ne_bytes());
            }
        }
        DataType::Int32 => {
            for (c, v) in out.chunks_exact_mut(4).zip(values) {
                c.copy_from_slice(&(*v as i32).to_ne_bytes());
            }
        }
        DataType::Int8 | DataType::Bool => {
            for (c, v) in out.iter_mut().zip(values) {
                *c = v.round().clamp(-128.0, 127.0) as i8 as u8;
            }
        }
    }
}

/// FP16 storage: values take the nearest half-precision value (round to nearest even).
pub fn round_to_half(values: &mut [f32]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx") && is_x86_feature_detected!("f16c") {
        // SAFETY: AVX and F16C detected.
        done = unsafe { round_to_half_f16c(values) };
    }
    for v in &mut values[done..] {
        *v = half::f16::from_f32(*v).to_f32();
    }
}

/// [`round_to_half`] eight values at a time (`vcvtps2ph` rounds to nearest even, as `half`
/// does); returns how many values it rounded.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c")]
fn round_to_half_f16c(values: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    let mut chunks = values.chunks_exact_mut(8);
    for c in &mut chunks {
        // SAFETY: each chunk is exactly eight f32.
        unsafe {
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(c.as_ptr()));
            _mm256_storeu_ps(c.as_mut_ptr(), _mm256_cvtph_ps(h));
        }
    }
    values.len() / 8 * 8
}

impl ExecutionContext {
    /// A context on the process's device (`backend::selected()`).
    pub fn new(engine: Arc<Engine>) -> Result<ExecutionContext> {
        Self::with_device(engine, crate::backend::selected())
    }

    /// A context whose `enqueue_device` runs on `device` (tests compare both in one process).
    pub fn with_device(engine: Arc<Engine>, device: Device) -> Result<ExecutionContext> {
        let device = if cfg!(feature = "cuda") {
            device
        } else {
            Device::Cpu
        };
        let net = &engine.network;
        let int8 = super::int8::plan(&engine);
        let mut kernels = Vec::with_capacity(engine.order.len());
        let mut scratch_len = 0;
        for &l in &engine.order {
            let layer = &net.layers[l];
            let ins: Vec<&[usize]> = layer
                .inputs
                .iter()
                .map(|&t| net.tensors[t].shape.as_slice())
                .collect();
            let outs: Vec<&[usize]> = layer
                .outputs
                .iter()
                .map(|&t| net.tensors[t].shape.as_slice())
                .collect();
            let k = CpuLayer::with_int8(&layer.kind, &ins, &outs, int8.modes[l])
                .map_err(|e| Error::Runtime(format!("layer '{}': {e}", layer.name)))?;
            scratch_len = scratch_len.max(k.scratch_len(engine.max_batch_size));
            kernels.push(k);
        }
        let fusion = super::fusion::plan(&engine, &kernels, &int8.storage);
        Ok(ExecutionContext {
            fusion,
            int8_storage: int8.storage,
            dequantized: Vec::new(),
            // A CUDA context needs host activations only if the CPU must stand in: allocated then.
            arena: if device == Device::Cpu {
                vec![0.0; engine.plan.arena_len * engine.max_batch_size]
            } else {
                Vec::new()
            },
            scratch: vec![0.0; scratch_len],
            staging: vec![Vec::new(); net.inputs.len()],
            kernels,
            built: Arc::clone(&engine),
            input_shapes: vec![None; engine.bindings.len()],
            engine,
            profiler: None,
            name: String::new(),
            debug_sync: false,
            device,
            #[cfg(feature = "cuda")]
            cuda: CudaState::Unprepared,
            #[cfg(feature = "cuda")]
            device_bindings: Vec::new(),
            #[cfg(feature = "cuda")]
            device_memory: None,
        })
    }

    /// Takes the context's device memory (weights, activations, scratch, staging) from the
    /// application's allocator, as TensorRT does with `IGpuAllocator`. It applies to device state
    /// made afterwards, that is from the first device run on; the CPU backend has no use for it.
    pub fn set_device_allocator(&mut self, allocator: Option<Arc<dyn DeviceAllocator>>) {
        #[cfg(feature = "cuda")]
        {
            self.device_memory = allocator;
        }
        #[cfg(not(feature = "cuda"))]
        let _ = allocator;
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn built_engine(&self) -> &Arc<Engine> {
        &self.built
    }

    /// Sets the dimensions of input `binding` (`setBindingDimensions`): a dynamic input's must lie
    /// in its range, a fixed input's must be its own.
    pub fn set_input_shape(&mut self, binding: usize, shape: Shape) -> Result<()> {
        let b = &self.built.bindings[binding];
        if !b.is_input {
            crate::bail!(
                InvalidArgument,
                "binding {binding} ('{}') is an output",
                b.name
            );
        }
        match self.built.profile.iter().find(|r| r.binding == binding) {
            Some(r) => r.check(&shape, &b.name)?,
            None if shape != b.shape => crate::bail!(
                InvalidArgument,
                "binding {binding} ('{}') has fixed dimensions {:?}",
                b.name,
                b.shape
            ),
            None => return Ok(()),
        }
        self.input_shapes[binding] = Some(shape);
        Ok(())
    }

    /// The dimensions set on input `binding`, if it is dynamic and they were set.
    pub fn input_shape(&self, binding: usize) -> Option<&Shape> {
        self.input_shapes[binding].as_ref()
    }

    /// The first dynamic input without dimensions, if any.
    pub fn unset_input(&self) -> Option<&str> {
        self.built
            .profile
            .iter()
            .find(|r| self.input_shapes[r.binding].is_none())
            .map(|r| self.built.bindings[r.binding].name.as_str())
    }

    /// Re-plans the context when the dimensions set differ from those it runs (TensorRT's
    /// contract: every dynamic input has them before a run). Profiler, name and debug flag stay.
    pub fn prepare_shapes(&mut self) -> Result<()> {
        if self.built.profile.is_empty() {
            return Ok(());
        }
        if let Some(name) = self.unset_input() {
            crate::bail!(
                InvalidArgument,
                "input '{name}' has dynamic dimensions: setBindingDimensions must give them before a run"
            );
        }
        let shapes: Vec<(usize, Shape)> = self
            .built
            .profile
            .iter()
            .filter_map(|r| Some((r.binding, self.input_shapes[r.binding].clone()?)))
            .collect();
        if shapes
            .iter()
            .all(|(b, s)| self.engine.bindings[*b].shape == *s)
        {
            return Ok(());
        }
        let engine = Arc::new(self.built.reshaped(&shapes)?);
        let mut fresh = ExecutionContext::with_device(engine, self.device)?;
        fresh.built = Arc::clone(&self.built);
        fresh.input_shapes = std::mem::take(&mut self.input_shapes);
        fresh.profiler = self.profiler.take();
        fresh.name = std::mem::take(&mut self.name);
        fresh.debug_sync = self.debug_sync;
        *self = fresh;
        Ok(())
    }

    pub fn set_profiler(&mut self, profiler: Option<Box<dyn Profiler>>) {
        self.profiler = profiler;
    }

    pub fn has_profiler(&self) -> bool {
        self.profiler.is_some()
    }

    /// Runs `batch` items. `bindings` follow the engine's binding order. On a CUDA context the
    /// bindings travel through device buffers the context keeps.
    pub fn execute(&mut self, batch: usize, bindings: &mut [HostBinding]) -> Result<()> {
        self.prepare_shapes()?;
        #[cfg(feature = "cuda")]
        if self.device == Device::Cuda {
            return self.execute_staged(batch, bindings);
        }
        self.run_observed(batch, bindings, None)
    }

    #[cfg(feature = "cuda")]
    fn execute_staged(&mut self, batch: usize, bindings: &mut [HostBinding]) -> Result<()> {
        use crate::backend::cuda::{self, DeviceBuffer};
        let engine = Arc::clone(&self.engine);
        if bindings.len() != engine.bindings.len() {
            crate::bail!(
                InvalidArgument,
                "{} bindings given, the engine has {}",
                bindings.len(),
                engine.bindings.len()
            );
        }
        if self.device_bindings.is_empty() {
            self.device_bindings = (0..engine.bindings.len())
                .map(|i| {
                    DeviceBuffer::alloc_from(
                        self.binding_bytes(i, engine.max_batch_size),
                        &self.device_memory,
                    )
                })
                .collect::<Result<_>>()?;
        }
        for (i, b) in bindings.iter().enumerate() {
            let have = match b {
                HostBinding::Input(d) => d.len(),
                HostBinding::Output(d) => d.len(),
            };
            let need = self.binding_bytes(i, batch.min(engine.max_batch_size));
            if have < need {
                crate::bail!(
                    InvalidArgument,
                    "binding {i} ('{}') has {have} bytes, {need} needed",
                    engine.bindings[i].name
                );
            }
            if let HostBinding::Input(d) = b {
                self.device_bindings[i].upload(&d[..need])?;
            }
        }
        let ptrs: Vec<u64> = self.device_bindings.iter().map(DeviceBuffer::ptr).collect();
        // SAFETY: our buffers hold max-batch items of each binding; the default stream is
        // waited for before the outputs are read.
        unsafe {
            self.enqueue_device(batch, &ptrs, 0, None)?;
            cuda::synchronize(0)?;
        }
        for (i, b) in bindings.iter_mut().enumerate() {
            if let HostBinding::Output(d) = b {
                let need = self.binding_bytes(i, batch);
                self.device_bindings[i].download(&mut d[..need])?;
            }
        }
        Ok(())
    }

    /// Runs and shows every computed tensor (all of `batch` items, real values) to `observe`:
    /// calibration's hook.
    pub fn run(
        &mut self,
        batch: usize,
        bindings: &mut [HostBinding],
        observe: &mut dyn FnMut(TensorId, &[f32]),
    ) -> Result<()> {
        self.run_observed(batch, bindings, Some(observe))
    }

    fn run_observed(
        &mut self,
        batch: usize,
        bindings: &mut [HostBinding],
        mut observe: Option<&mut Observer>,
    ) -> Result<()> {
        let engine = Arc::clone(&self.engine);
        let net = &engine.network;
        if batch == 0 || batch > engine.max_batch_size {
            crate::bail!(
                InvalidArgument,
                "batch size {batch} is outside 1..={} (the engine's maximum batch size)",
                engine.max_batch_size
            );
        }
        if bindings.len() != engine.bindings.len() {
            crate::bail!(
                InvalidArgument,
                "{} bindings given, the engine has {}",
                bindings.len(),
                engine.bindings.len()
            );
        }
        let fp16_inputs = engine.precisions.contains(&Precision::Half);
        for (binding, b) in engine.bindings.iter().zip(bindings.iter()) {
            let need = batch * volume(&binding.shape) * binding.dtype.size();
            match (binding.is_input, b) {
                (true, HostBinding::Input(data)) if data.len() >= need => {
                    let slot = net
                        .inputs
                        .iter()
                        .position(|&t| t == binding.tensor)
                        .unwrap_or(0);
                    let direct = binding.dtype == DataType::Float
                        && !fp16_inputs
                        && as_f32(&data[..need]).is_some();
                    if direct {
                        self.staging[slot].clear();
                    } else {
                        decode(&data[..need], binding.dtype, &mut self.staging[slot]);
                        if fp16_inputs {
                            round_to_half(&mut self.staging[slot]);
                        }
                    }
                }
                (false, HostBinding::Output(data)) if data.len() >= need => {}
                _ => crate::bail!(
                    InvalidArgument,
                    "binding '{}' must be an {} of at least {need} bytes for batch {batch}",
                    binding.name,
                    if binding.is_input { "input" } else { "output" }
                ),
            }
        }

        let need = engine.plan.arena_len * engine.max_batch_size;
        if self.arena.len() < need {
            self.arena.resize(need, 0.0);
        }
        let arena = self.arena.as_mut_ptr();
        let arena_len = self.arena.len();
        // The memory plan keeps the regions of a layer's inputs and outputs disjoint, and binding
        // memory is separate from the arena, so the slices below never alias a written one.
        let region = |t: TensorId, items: usize| -> Option<(*mut f32, usize)> {
            let off = engine.plan.offsets[t]?;
            let len = volume(&net.tensors[t].shape) * items;
            (off * batch + len <= arena_len).then(|| (unsafe { arena.add(off * batch) }, len))
        };
        // Calibration observes every tensor, so it runs the layers apart.
        let fuse = observe.is_none();
        for (step, &l) in engine.order.iter().enumerate() {
            if fuse && self.fusion.absorbed[step] {
                continue;
            }
            let layer = &net.layers[l];
            let start = Instant::now();
            let items = |t: TensorId| items_of(net, t, batch);
            let mut ins: SmallVec<[In; 4]> = SmallVec::new();
            for &t in &layer.inputs {
                let data: &[f32] = if let Some(slot) = net.inputs.iter().position(|&i| i == t) {
                    if self.staging[slot].is_empty() {
                        let b = engine
                            .bindings
                            .iter()
                            .position(|b| b.tensor == t)
                            .unwrap_or(0);
                        let HostBinding::Input(bytes) = &bindings[b] else {
                            unreachable!("checked above")
                        };
                        as_f32(&bytes[..batch * volume(&net.tensors[t].shape) * 4]).unwrap_or(&[])
                    } else {
                        &self.staging[slot]
                    }
                } else {
                    let (p, len) = region(t, items(t)).ok_or_else(|| {
                        Error::Runtime(format!("tensor '{}' has no memory", net.tensors[t].name))
                    })?;
                    // SAFETY: in bounds (checked by `region`), disjoint from this layer's outputs.
                    unsafe { std::slice::from_raw_parts(p, len) }
                };
                ins.push(In {
                    data,
                    batch: items(t),
                    shape: &net.tensors[t].shape,
                });
            }
            let run_batch = if layer
                .outputs
                .iter()
                .all(|&t| net.tensors[t].broadcast_across_batch)
            {
                1
            } else {
                batch
            };
            let fused = self.fusion.writes[step].filter(|_| fuse);
            let absorbs = self.fusion.absorbs[step];
            let written = match &fused {
                Some(t) => std::slice::from_ref(t),
                None => &layer.outputs[..],
            };
            let mut outs: SmallVec<[Out; 2]> = SmallVec::new();
            for &t in written {
                let (p, len) = region(t, run_batch).ok_or_else(|| {
                    Error::Runtime(format!("tensor '{}' has no memory", net.tensors[t].name))
                })?;
                // SAFETY: in bounds, disjoint from every other live region.
                outs.push(Out {
                    data: unsafe { std::slice::from_raw_parts_mut(p, len) },
                    shape: &net.tensors[t].shape,
                });
            }
            let relu = fused.is_some() && absorbs.relu.is_some();
            let pool = absorbs
                .pool
                .filter(|_| fused.is_some())
                .map(|p| &self.kernels[p]);
            self.kernels[step]
                .run_fused(run_batch, &ins, &mut outs, &mut self.scratch, relu, pool)
                .map_err(|e| Error::Runtime(format!("layer '{}': {e}", layer.name)))?;
            for (o, &t) in outs.iter_mut().zip(written) {
                let int8 = self.int8_storage[t];
                if engine.precisions[l] == Precision::Half && int8.is_none() {
                    round_to_half(o.data);
                }
                let Some(observe) = observe.as_mut() else {
                    continue;
                };
                match int8 {
                    Some(scale) => {
                        let q = crate::backend::cpu::i8_values(o.data);
                        self.dequantized.clear();
                        self.dequantized.extend(q.iter().map(|&v| v as f32 * scale));
                        observe(t, &self.dequantized);
                    }
                    None => observe(t, o.data),
                }
            }
            if let Some(p) = self.profiler.as_mut() {
                let label = match &self.fusion.labels[step] {
                    Some(label) if fused.is_some() => label,
                    _ => &layer.name,
                };
                p.report_layer_time(label, start.elapsed().as_secs_f32() * 1e3);
            }
        }

        for (binding, b) in engine.bindings.iter().zip(bindings.iter_mut()) {
            let HostBinding::Output(dst) = b else {
                continue;
            };
            let t = binding.tensor;
            let (p, len) = region(t, items_of(net, t, batch)).ok_or_else(|| {
                Error::Runtime(format!("output '{}' has no memory", binding.name))
            })?;
            // SAFETY: in bounds; the arena is not written any more in this run.
            let src = unsafe { std::slice::from_raw_parts(p as *const f32, len) };
            let per_item = volume(&binding.shape);
            let need = batch * per_item * binding.dtype.size();
            let dst = &mut dst[..need];
            if binding.dtype == DataType::Float
                && len == batch * per_item
                && let Some(d) = as_f32_mut(dst)
            {
                d.copy_from_slice(src);
                continue;
            }
            // Batch-invariant outputs are replicated for every item.
            let item_bytes = per_item * binding.dtype.size();
            for i in 0..batch {
                let from = if len == per_item { 0 } else { i * per_item };
                encode(
                    &src[from..from + per_item],
                    binding.dtype,
                    &mut dst[i * item_bytes..(i + 1) * item_bytes],
                );
            }
        }
        Ok(())
    }
}

fn items_of(net: &crate::network::Network, t: TensorId, batch: usize) -> usize {
    if net.tensors[t].broadcast_across_batch {
        1
    } else {
        batch
    }
}

/// Device execution: the entry points of TensorRT's `enqueue` and `execute`, whose bindings are
/// device pointers on CUDA and host pointers on the CPU (DESIGN.md decision 2).
impl ExecutionContext {
    /// Runs `batch` items with raw bindings (engine binding order), asynchronously on `stream`
    /// (a `CUstream`/`cudaStream_t`, 0 for the default stream) when the device is CUDA; on the
    /// CPU it runs synchronously and `stream` is unused. `input_consumed`, a `CUevent`, is
    /// recorded once the inputs may be overwritten (CUDA only).
    ///
    /// # Safety
    /// Each binding must point to `batch` items of its binding (`volume × dtype size` bytes
    /// each), device memory of the primary context on CUDA, host memory on the CPU; they must
    /// stay valid until the work on `stream` completes.
    pub unsafe fn enqueue_device(
        &mut self,
        batch: usize,
        bindings: &[u64],
        stream: u64,
        input_consumed: Option<u64>,
    ) -> Result<()> {
        self.check_raw(batch, bindings)?;
        match self.device {
            // SAFETY: forwarded contract.
            Device::Cpu => unsafe { self.run_host_pointers(batch, bindings) },
            // SAFETY: forwarded contract.
            Device::Cuda => unsafe { self.enqueue_cuda(batch, bindings, stream, input_consumed) },
        }
    }

    /// The synchronous form of [`Self::enqueue_device`] (TensorRT's `execute`): the default
    /// stream, waited for.
    ///
    /// # Safety
    /// As for [`Self::enqueue_device`].
    pub unsafe fn execute_device(&mut self, batch: usize, bindings: &[u64]) -> Result<()> {
        // SAFETY: forwarded contract.
        unsafe { self.enqueue_device(batch, bindings, 0, None) }?;
        #[cfg(feature = "cuda")]
        if self.device == Device::Cuda {
            // SAFETY: the default stream.
            unsafe { crate::backend::cuda::synchronize(0) }?;
        }
        Ok(())
    }

    fn check_raw(&self, batch: usize, bindings: &[u64]) -> Result<()> {
        if batch == 0 || batch > self.engine.max_batch_size {
            crate::bail!(
                InvalidArgument,
                "batch size {batch} is outside 1..={} (the engine's maximum batch size)",
                self.engine.max_batch_size
            );
        }
        if bindings.len() != self.engine.bindings.len() {
            crate::bail!(
                InvalidArgument,
                "{} bindings given, the engine has {}",
                bindings.len(),
                self.engine.bindings.len()
            );
        }
        if let Some(b) = self
            .engine
            .bindings
            .iter()
            .zip(bindings)
            .find(|(_, p)| **p == 0)
        {
            crate::bail!(InvalidArgument, "binding '{}' is a null pointer", b.0.name);
        }
        Ok(())
    }

    /// Bytes of `batch` items of binding `i`.
    fn binding_bytes(&self, i: usize, batch: usize) -> usize {
        let b = &self.engine.bindings[i];
        batch * volume(&b.shape) * b.dtype.size()
    }

    /// # Safety
    /// Host pointers valid for `batch` items of each binding.
    unsafe fn run_host_pointers(&mut self, batch: usize, bindings: &[u64]) -> Result<()> {
        let engine = Arc::clone(&self.engine);
        let mut views: Vec<HostBinding> = Vec::with_capacity(bindings.len());
        for (i, (b, &p)) in engine.bindings.iter().zip(bindings).enumerate() {
            let n = self.binding_bytes(i, batch);
            // SAFETY: the caller guarantees `n` valid bytes; inputs are only read, and the
            // engine's bindings are distinct buffers (as TensorRT requires).
            views.push(unsafe {
                if b.is_input {
                    HostBinding::Input(std::slice::from_raw_parts(p as *const u8, n))
                } else {
                    HostBinding::Output(std::slice::from_raw_parts_mut(p as *mut u8, n))
                }
            });
        }
        self.execute(batch, &mut views)
    }

    #[cfg(feature = "cuda")]
    unsafe fn enqueue_cuda(
        &mut self,
        batch: usize,
        bindings: &[u64],
        stream: u64,
        input_consumed: Option<u64>,
    ) -> Result<()> {
        use crate::backend::cuda;
        if matches!(self.cuda, CudaState::Unprepared) {
            self.cuda = match cuda::unsupported(&self.engine) {
                Some(_) => CudaState::Host,
                None => CudaState::Ready(Box::new(cuda::Executor::new(
                    &self.engine,
                    &self.device_memory,
                )?)),
            };
        }
        match &mut self.cuda {
            // An IProfiler gets each launch's time: step by step, waited for, as TensorRT did.
            CudaState::Ready(exec) if self.profiler.is_some() => {
                // SAFETY: forwarded contract.
                let times = unsafe { exec.profile(batch, bindings, stream) }?;
                if let Some(p) = self.profiler.as_mut() {
                    for (label, ms) in times {
                        p.report_layer_time(&label, ms);
                    }
                }
            }
            // SAFETY: forwarded contract.
            CudaState::Ready(exec) => unsafe { exec.enqueue(batch, bindings, stream) }?,
            // SAFETY: forwarded contract.
            _ => unsafe { self.run_through_host(batch, bindings, stream) }?,
        }
        if let Some(event) = input_consumed {
            // SAFETY: the caller's event and stream.
            unsafe { cuda::record_event(event, stream) }?;
        }
        Ok(())
    }

    #[cfg(not(feature = "cuda"))]
    unsafe fn enqueue_cuda(&mut self, _: usize, _: &[u64], _: u64, _: Option<u64>) -> Result<()> {
        crate::bail!(Unsupported, "this build has no CUDA backend")
    }

    /// A CUDA context whose engine the GPU cannot run yet: copy the inputs to the host, run the
    /// CPU backend, copy the outputs back (synchronous).
    ///
    /// # Safety
    /// Device pointers valid for `batch` items of each binding.
    #[cfg(feature = "cuda")]
    unsafe fn run_through_host(
        &mut self,
        batch: usize,
        bindings: &[u64],
        stream: u64,
    ) -> Result<()> {
        use crate::backend::cuda;
        // SAFETY: the caller's stream: earlier work writing the inputs must finish first.
        unsafe { cuda::synchronize(stream) }?;
        let engine = Arc::clone(&self.engine);
        let mut host: Vec<Vec<u8>> = Vec::with_capacity(bindings.len());
        for (i, (b, &p)) in engine.bindings.iter().zip(bindings).enumerate() {
            let mut buf = vec![0u8; self.binding_bytes(i, batch)];
            if b.is_input {
                // SAFETY: the caller guarantees the input's bytes.
                unsafe { cuda::copy_to_host(p, &mut buf) }?;
            }
            host.push(buf);
        }
        let mut views: Vec<HostBinding> = engine
            .bindings
            .iter()
            .zip(host.iter_mut())
            .map(|(b, buf)| {
                if b.is_input {
                    HostBinding::Input(buf)
                } else {
                    HostBinding::Output(buf)
                }
            })
            .collect();
        self.run_observed(batch, &mut views, None)?;
        for ((b, &p), buf) in engine.bindings.iter().zip(bindings).zip(&host) {
            if !b.is_input {
                // SAFETY: the caller guarantees the output's bytes.
                unsafe { cuda::copy(p, buf.as_ptr() as u64, buf.len()) }?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// The F16C path rounds exactly as `half` does: ties, half subnormals, overflow, NaN.
    #[test]
    fn round_to_half_matches_half() {
        let mut values: Vec<f32> = (0..4099u32)
            .map(|i| f32::from_bits(0x3380_0000u32.wrapping_add(i.wrapping_mul(0x0011_1111))))
            .chain([
                1.0 + 1.0 / 2048.0,
                65519.0,
                65520.0,
                1e-8,
                -5.96e-8,
                f32::INFINITY,
            ])
            .flat_map(|v| [v, -v])
            .collect();
        values.push(f32::NAN);
        let want: Vec<f32> = values
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32())
            .collect();
        super::round_to_half(&mut values);
        for (g, w) in values.iter().zip(&want) {
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "{g} vs {w}"
            );
        }
    }
}
