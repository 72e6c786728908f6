//! Runs an engine on the GPU for one execution context: its own weights and activation arena,
//! and a CUDA graph per batch size, captured at the first enqueue of that batch size (and again
//! when the bindings change) and replayed on the caller's stream; an engine with plugin layers
//! launches step by step instead, calling each plugin's enqueue.

use std::collections::HashMap;

use cudarc::driver::result as drv;
use cudarc::driver::sys;

use super::memory::{DeviceBuffer, Source};
use super::plan::{self, Plan};
use super::step::{Loc, Step};
use super::{Gpu, cuda_err, gpu_or_err};
use crate::engine::Engine;
use crate::error::{Error, Result};

struct Captured {
    bindings: Vec<u64>,
    exec: sys::CUgraphExec,
}

pub struct Executor {
    gpu: &'static Gpu,
    plan: Plan,
    arena: DeviceBuffer,
    max_batch: usize,
    /// Graphs are recorded on this private stream: capture is not allowed on the legacy default
    /// stream the caller may pass, and recording launches nothing.
    capture_stream: sys::CUstream,
    graphs: HashMap<usize, Captured>,
    use_graphs: bool,
}

// SAFETY: the raw handles (stream, graph execs) belong to the primary context and may be used
// from any thread; a context (hence its executor) is used by one thread at a time.
unsafe impl Send for Executor {}

impl Executor {
    /// The device state of one context of `engine`: every buffer from `source` (the driver, or
    /// the application's `IGpuAllocator`).
    pub fn new(engine: &Engine, source: &Source) -> Result<Executor> {
        Self::with_plan(engine, source, plan::chain_enabled())
    }

    /// As [`Self::new`], with the layer-by-layer plan at every batch: what tactic timing measures.
    pub(super) fn layer_by_layer(engine: &Engine) -> Result<Executor> {
        Self::with_plan(engine, &None, false)
    }

    fn with_plan(engine: &Engine, source: &Source, chain: bool) -> Result<Executor> {
        let gpu = gpu_or_err()?;
        gpu.ctx
            .bind_to_thread()
            .map_err(cuda_err("binding the context"))?;
        let plan = plan::build(engine, source, chain)?;
        let arena =
            DeviceBuffer::alloc_from(engine.plan.arena_len * engine.max_batch_size * 4, source)?;
        let capture_stream = drv::stream::create(drv::stream::StreamKind::NonBlocking)
            .map_err(cuda_err("creating the capture stream"))?;
        // INFER8_CUDA_GRAPHS=0 launches each kernel directly (debugging, compute-sanitizer). A
        // plugin's enqueue is host code that must run at every enqueue (a graph would replay only
        // what it queued once), so plans with plugins launch step by step too.
        let use_graphs = std::env::var("INFER8_CUDA_GRAPHS")
            .map(|v| v != "0")
            .unwrap_or(true)
            && !plan.steps.iter().any(Step::is_plugin);
        Ok(Executor {
            gpu,
            plan,
            arena,
            max_batch: engine.max_batch_size,
            capture_stream,
            graphs: HashMap::new(),
            use_graphs,
        })
    }

    /// Kernel launches of a run of `batch` items (after fusion).
    pub fn nb_launches(&self, batch: usize) -> usize {
        self.plan.steps_for(batch).len()
    }

    /// Launches `batch` items asynchronously on `stream`.
    ///
    /// # Safety
    /// `bindings` must be device pointers valid for `batch` items of each binding until the
    /// work on `stream` completes; `stream` must be a stream of the primary context (or 0).
    pub unsafe fn enqueue(&mut self, batch: usize, bindings: &[u64], stream: u64) -> Result<()> {
        if batch == 0 || batch > self.max_batch {
            crate::bail!(
                InvalidArgument,
                "batch size {batch} is outside 1..={}",
                self.max_batch
            );
        }
        self.gpu
            .ctx
            .bind_to_thread()
            .map_err(cuda_err("binding the context"))?;
        let stream = stream as sys::CUstream;
        // A caller that records our work into its own graph gets the kernels themselves.
        let capturing = {
            let mut status = sys::CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE;
            // SAFETY: a valid stream (caller's contract) and an out-parameter.
            unsafe { sys::cuStreamIsCapturing(stream, &mut status) }
                .result()
                .map_err(cuda_err("cuStreamIsCapturing"))?;
            status != sys::CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE
        };
        if !self.use_graphs || capturing {
            // SAFETY: forwarded contract.
            return unsafe { self.launch_all(batch, bindings, stream) };
        }
        let stale = self
            .graphs
            .get(&batch)
            .is_none_or(|g| g.bindings != bindings);
        if stale {
            // SAFETY: forwarded contract; nothing runs during capture.
            let exec = unsafe { self.capture(batch, bindings) }?;
            if let Some(old) = self.graphs.insert(
                batch,
                Captured {
                    bindings: bindings.to_vec(),
                    exec,
                },
            ) {
                // SAFETY: the old exec is no longer referenced; launches already queued keep
                // their own copy of the work (the driver defers destruction).
                let _ = unsafe { drv::graph::exec_destroy(old.exec) };
            }
        }
        let exec = self
            .graphs
            .get(&batch)
            .map(|g| g.exec)
            .ok_or_else(|| Error::Runtime("graph cache".into()))?;
        // SAFETY: an instantiated graph of this context.
        unsafe { drv::graph::launch(exec, stream) }.map_err(cuda_err("cuGraphLaunch"))
    }

    unsafe fn capture(&mut self, batch: usize, bindings: &[u64]) -> Result<sys::CUgraphExec> {
        let s = self.capture_stream;
        // SAFETY: our own stream; relaxed mode so that other threads' CUDA calls are unaffected.
        unsafe {
            drv::stream::begin_capture(s, sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_RELAXED)
        }
        .map_err(cuda_err("cuStreamBeginCapture"))?;
        // SAFETY: forwarded contract.
        let launched = unsafe { self.launch_all(batch, bindings, s) };
        // SAFETY: capture was begun on `s` above; it must end even when a launch failed.
        let graph = unsafe { drv::stream::end_capture(s) }.map_err(cuda_err("cuStreamEndCapture"));
        let graph = match (launched, graph) {
            (Ok(()), Ok(g)) => g,
            (Err(e), Ok(g)) => {
                // SAFETY: the graph just captured, owned here.
                let _ = unsafe { drv::graph::destroy(g) };
                return Err(e);
            }
            (_, Err(e)) => return Err(e),
        };
        // SAFETY: a valid graph; it is destroyed once instantiated (the exec is independent).
        let exec = unsafe { drv::graph::instantiate(graph, sys::CUgraphInstantiate_flags(0)) };
        // SAFETY: as above.
        let _ = unsafe { drv::graph::destroy(graph) };
        exec.map_err(cuda_err("cuGraphInstantiate"))
    }

    /// Launches `batch` items step by step on `stream` with an event pair around each, waits,
    /// and gives each step's label and milliseconds (`IProfiler`; slower than a graph replay).
    ///
    /// # Safety
    /// As for [`Self::enqueue`].
    pub unsafe fn profile(
        &mut self,
        batch: usize,
        bindings: &[u64],
        stream: u64,
    ) -> Result<Vec<(String, f32)>> {
        // SAFETY: forwarded contract.
        let times = unsafe { self.time_steps(batch, bindings, stream, 1) }?;
        Ok(self
            .plan
            .steps_for(batch)
            .iter()
            .map(|s| s.label.clone())
            .zip(times)
            .collect())
    }

    /// The launches of the plan, in order.
    pub(super) fn steps(&self) -> &[Step] {
        &self.plan.steps
    }

    /// Launches each step `launches` times back to back between an event pair (the plan's order,
    /// `batch` items, on `stream`), waits, and gives each step's mean milliseconds per launch.
    /// Repeating a step is harmless: no step reads what it writes, and split launches leave their
    /// tile counters at zero.
    ///
    /// # Safety
    /// As for [`Self::enqueue`].
    pub(super) unsafe fn time_steps(
        &mut self,
        batch: usize,
        bindings: &[u64],
        stream: u64,
        launches: u32,
    ) -> Result<Vec<f32>> {
        if batch == 0 || batch > self.max_batch {
            crate::bail!(
                InvalidArgument,
                "batch size {batch} is outside 1..={}",
                self.max_batch
            );
        }
        self.gpu
            .ctx
            .bind_to_thread()
            .map_err(cuda_err("binding the context"))?;
        let stream = stream as sys::CUstream;
        let steps = self.plan.steps_for(batch);
        let events = Events::new(steps.len() + 1)?;
        let arena = self.arena.ptr();
        let buffers = &self.plan.buffers;
        let resolve = |loc: Loc| match loc {
            Loc::Arena(off) => arena + (off * batch * 4) as u64,
            Loc::Binding(i) => bindings.get(i).copied().unwrap_or(0),
            Loc::Buffer(i) => buffers.get(i).map_or(0, DeviceBuffer::ptr),
        };
        // SAFETY: our events on the caller's stream; launches as in launch_all.
        unsafe {
            events.record(0, stream)?;
            for (i, step) in steps.iter().enumerate() {
                for _ in 0..launches.max(1) {
                    step.launch(batch, &resolve, self.gpu.multiprocessors, stream)?;
                }
                events.record(i + 1, stream)?;
            }
            events.wait_last()?;
        }
        let mut times = Vec::with_capacity(steps.len());
        for i in 0..steps.len() {
            // SAFETY: both events completed (the last one was waited for, in stream order).
            times.push(unsafe { events.elapsed(i) }? / launches.max(1) as f32);
        }
        Ok(times)
    }

    unsafe fn launch_all(
        &self,
        batch: usize,
        bindings: &[u64],
        stream: sys::CUstream,
    ) -> Result<()> {
        let arena = self.arena.ptr();
        let buffers = &self.plan.buffers;
        let resolve = |loc: Loc| match loc {
            Loc::Arena(off) => arena + (off * batch * 4) as u64,
            Loc::Binding(i) => bindings.get(i).copied().unwrap_or(0),
            Loc::Buffer(i) => buffers.get(i).map_or(0, DeviceBuffer::ptr),
        };
        for step in self.plan.steps_for(batch) {
            // SAFETY: arena regions are sized by the memory plan for up to max_batch items;
            // bindings and buffers by the caller's contract and the plan.
            unsafe { step.launch(batch, &resolve, self.gpu.multiprocessors, stream) }?;
        }
        Ok(())
    }
}

/// Timing events, destroyed on drop.
struct Events(Vec<sys::CUevent>);

impl Events {
    fn new(n: usize) -> Result<Events> {
        let mut events = Events(Vec::with_capacity(n));
        for _ in 0..n {
            let mut e = std::ptr::null_mut();
            // SAFETY: an out-parameter; default flags keep timing on.
            unsafe { sys::cuEventCreate(&mut e, 0) }
                .result()
                .map_err(cuda_err("cuEventCreate"))?;
            events.0.push(e);
        }
        Ok(events)
    }

    /// # Safety
    /// `stream` must be a stream of the primary context, or 0.
    unsafe fn record(&self, i: usize, stream: sys::CUstream) -> Result<()> {
        // SAFETY: our event, the caller's stream.
        unsafe { sys::cuEventRecord(self.0[i], stream) }
            .result()
            .map_err(cuda_err("cuEventRecord"))
    }

    /// # Safety
    /// The last event must have been recorded.
    unsafe fn wait_last(&self) -> Result<()> {
        let last = *self
            .0
            .last()
            .ok_or_else(|| Error::Runtime("no events".into()))?;
        // SAFETY: a recorded event of ours.
        unsafe { sys::cuEventSynchronize(last) }
            .result()
            .map_err(cuda_err("cuEventSynchronize"))
    }

    /// Milliseconds between events `i` and `i + 1`.
    ///
    /// # Safety
    /// Both events must have completed.
    unsafe fn elapsed(&self, i: usize) -> Result<f32> {
        let mut ms = 0f32;
        // SAFETY: completed events of ours.
        unsafe { sys::cuEventElapsedTime_v2(&mut ms, self.0[i], self.0[i + 1]) }
            .result()
            .map_err(cuda_err("cuEventElapsedTime"))?;
        Ok(ms)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        for &e in &self.0 {
            // SAFETY: events created by `new`, destroyed once.
            let _ = unsafe { sys::cuEventDestroy_v2(e) };
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let _ = self.gpu.ctx.bind_to_thread();
        for (_, g) in self.graphs.drain() {
            // SAFETY: execs created by this executor, destroyed once.
            let _ = unsafe { drv::graph::exec_destroy(g.exec) };
        }
        // SAFETY: our own stream; pending work (none: capture only) completes first.
        let _ = unsafe { drv::stream::destroy(self.capture_stream) };
    }
}
