//! The CPU backend: one prepared kernel per engine layer.
//!
//! Contract with the engine (src/engine): all activations are batch-major `f32` buffers
//! (`[batch, ..shape]`, C order); INT32 tensors (top-k indices, gather indices) hold their integer
//! values as `f32` (exact below 2^24). An input whose `batch` is 1 while the layer runs a larger
//! batch is broadcast across the batch (constants). Weights are packed once in [`CpuLayer::new`];
//! `run` does not allocate on the hot path beyond what `scratch` holds.

mod activation;
mod concat;
mod conv;
mod conv_int8;
mod deconv;
mod direct;
mod eltwise;
mod fc;
mod fc_int8;
mod gather;
mod gemm;
mod igemm;
mod im2col;
mod isa;
mod lrn;
mod matmul;
mod padding;
mod plugin;
mod pool;
mod quant;
mod reduce;
mod scale;
mod shuffle;
mod slice;
mod softmax;
mod strided;
mod topk;
mod unary;
mod unit_plane;

use crate::error::Result;
use crate::network::LayerKind;
use crate::types::{ActivationType, DataType, ElementWiseOperation, Shape, UnaryOperation, volume};
use rayon::prelude::*;

pub use isa::{Int8Isa, int8_isa, kernel_name as int8_kernel_name, set_int8_isa};
pub use quant::Int8Gemm;

/// The INT8 values of a tensor stored INT8 in an `f32` region of `len` slots: its first `len`
/// bytes (see `quant.rs`).
pub fn i8_values(region: &[f32]) -> &[i8] {
    &quant::i8_view(region)[..region.len()]
}

/// How a layer works on INT8 data (the engine decides which layers do, `engine::int8`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Int8Mode {
    /// A convolution or fully connected layer with INT8 weights and an INT32-accumulating kernel.
    Gemm(Int8Gemm),
    /// Max pooling or ReLU on an INT8 input, giving an INT8 output on the same scale: exact,
    /// since both commute with quantization.
    Passthrough,
}

/// What a convolution applies to each item's output before storing it: the layers the engine
/// fused into it (engine/fusion.rs).
#[derive(Clone, Copy, Default)]
pub struct Absorbed<'a> {
    relu: bool,
    pool: Option<&'a pool::Pool>,
}

/// A read-only input of a layer.
pub struct In<'a> {
    pub data: &'a [f32],
    /// 1 for batch-invariant tensors, else the run's batch size.
    pub batch: usize,
    pub shape: &'a [usize],
}

/// An output of a layer, always `batch * volume(shape)` elements.
pub struct Out<'a> {
    pub data: &'a mut [f32],
    pub shape: &'a [usize],
}

impl In<'_> {
    /// Sub-tensor `item` of `batch * outer` equal pieces of `len` elements, where a
    /// batch-invariant input serves every batch item with its own pieces.
    fn item_of(&self, item: usize, outer: usize, len: usize) -> &[f32] {
        &self.data[self.index_of(item, outer) * len..][..len]
    }

    /// Which stored piece serves `item` (see [`In::item_of`]).
    fn index_of(&self, item: usize, outer: usize) -> usize {
        if self.batch == 1 { item % outer } else { item }
    }
}

enum Kernel {
    Conv(conv::Conv),
    ConvInt8(conv_int8::ConvInt8),
    Deconv(deconv::Deconv),
    Pool(pool::Pool),
    Fc(fc::Fc),
    FcInt8(fc_int8::FcInt8),
    PoolInt8(pool::Pool),
    ReluInt8,
    Activation(ActivationType, f32, f32),
    Prelu,
    Lrn(lrn::Lrn),
    Scale(scale::Scale),
    Softmax(softmax::Softmax),
    Concat(usize),
    ElementWise(ElementWiseOperation),
    Unary(UnaryOperation),
    Padding(padding::Padding),
    Shuffle(shuffle::Shuffle),
    Constant(Vec<f32>),
    Identity,
    Slice(slice::Slice),
    Reduce(reduce::Reduce),
    TopK(topk::TopK),
    MatMul(matmul::MatMul),
    Gather(gather::Gather),
    Select,
    Plugin(crate::network::plugin::PluginLayer),
}

/// How a convolution runs on the CPU; either gives the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKernel {
    /// im2col, then the GEMM (FP32) or the integer GEMM (INT8).
    Im2colGemm,
    /// Straight from the input plane, for shallow reductions (`direct.rs`).
    Direct,
}

/// A layer ready to run on the CPU: parameters checked, weights packed.
pub struct CpuLayer {
    name: &'static str,
    inputs: Vec<Shape>,
    outputs: Vec<Shape>,
    kernel: Kernel,
}

impl CpuLayer {
    /// `inputs` and `outputs` are the non-batch shapes the engine inferred.
    pub fn new(kind: &LayerKind, inputs: &[&[usize]], outputs: &[&[usize]]) -> Result<CpuLayer> {
        Self::with_int8(kind, inputs, outputs, None)
    }

    /// A layer that runs on INT8 data as `int8` says (`None`: in FP32).
    pub fn with_int8(
        kind: &LayerKind,
        inputs: &[&[usize]],
        outputs: &[&[usize]],
        int8: Option<Int8Mode>,
    ) -> Result<CpuLayer> {
        Self::build(kind, inputs, outputs, int8, true)
    }

    /// [`CpuLayer::with_int8`] with a convolution on im2col + GEMM even where the direct kernel
    /// applies: what tests compare the direct kernel's bits with.
    #[doc(hidden)]
    pub fn with_int8_im2col(
        kind: &LayerKind,
        inputs: &[&[usize]],
        outputs: &[&[usize]],
        int8: Option<Int8Mode>,
    ) -> Result<CpuLayer> {
        Self::build(kind, inputs, outputs, int8, false)
    }

    /// Which kernel a convolution layer runs; `None` for other layers.
    pub fn conv_kernel(&self) -> Option<ConvKernel> {
        let direct = match &self.kernel {
            Kernel::Conv(k) => k.is_direct(),
            Kernel::ConvInt8(k) => k.is_direct(),
            _ => return None,
        };
        Some(if direct {
            ConvKernel::Direct
        } else {
            ConvKernel::Im2colGemm
        })
    }

    /// `direct`: whether a convolution may take the direct kernel.
    fn build(
        kind: &LayerKind,
        inputs: &[&[usize]],
        outputs: &[&[usize]],
        int8: Option<Int8Mode>,
        direct: bool,
    ) -> Result<CpuLayer> {
        let name = kind.type_name();
        let expected = crate::network::shape::infer(
            kind,
            &inputs
                .iter()
                .enumerate()
                .map(|(i, s)| crate::network::TensorDesc {
                    shape: s.to_vec(),
                    dtype: input_type(kind, i),
                })
                .collect::<Vec<_>>(),
        )
        .map_err(|e| crate::error::Error::Network(format!("{name}: {e}")))?;
        if expected.len() != outputs.len()
            || expected.iter().zip(outputs).any(|(e, o)| e.shape != *o)
        {
            crate::bail!(
                Network,
                "{name}: output shapes {outputs:?} do not match the inputs {inputs:?}"
            );
        }
        let x = inputs.first().copied().unwrap_or(&[]);
        let kernel = match (kind, int8) {
            (_, None) => Self::kernel(kind, x, inputs, outputs, direct)?,
            (LayerKind::Convolution(p), Some(Int8Mode::Gemm(m))) => {
                Kernel::ConvInt8(conv_int8::ConvInt8::new(p, x, m, direct)?)
            }
            (
                LayerKind::FullyConnected {
                    nb_outputs,
                    kernel,
                    bias,
                },
                Some(Int8Mode::Gemm(m)),
            ) => Kernel::FcInt8(fc_int8::FcInt8::new(
                *nb_outputs,
                &kernel.values,
                &bias.values,
                x,
                m,
            )?),
            (LayerKind::Pooling(p), Some(Int8Mode::Passthrough))
                if p.kind == crate::types::PoolingType::Max =>
            {
                Kernel::PoolInt8(pool::Pool::new(p, x)?)
            }
            (
                LayerKind::Activation {
                    kind: ActivationType::Relu,
                    ..
                },
                Some(Int8Mode::Passthrough),
            ) => Kernel::ReluInt8,
            (_, Some(m)) => crate::bail!(Unsupported, "{name}: no INT8 kernel for {m:?}"),
        };
        Ok(CpuLayer {
            name,
            inputs: inputs.iter().map(|s| s.to_vec()).collect(),
            outputs: outputs.iter().map(|s| s.to_vec()).collect(),
            kernel,
        })
    }

    fn kernel(
        kind: &LayerKind,
        x: &[usize],
        inputs: &[&[usize]],
        outputs: &[&[usize]],
        direct: bool,
    ) -> Result<Kernel> {
        Ok(match kind {
            LayerKind::Convolution(p) => Kernel::Conv(conv::Conv::new(p, x, direct)?),
            LayerKind::Deconvolution(p) => Kernel::Deconv(deconv::Deconv::new(p, x)?),
            LayerKind::Pooling(p) => Kernel::Pool(pool::Pool::new(p, x)?),
            LayerKind::FullyConnected {
                nb_outputs,
                kernel,
                bias,
            } => Kernel::Fc(fc::Fc::new(*nb_outputs, &kernel.values, &bias.values, x)?),
            LayerKind::Activation { kind, alpha, beta } => Kernel::Activation(*kind, *alpha, *beta),
            LayerKind::ParametricRelu => Kernel::Prelu,
            LayerKind::Lrn {
                window,
                alpha,
                beta,
                k,
            } => Kernel::Lrn(lrn::Lrn::new(*window, *alpha, *beta, *k, x)),
            LayerKind::Scale {
                mode,
                shift,
                scale,
                power,
            } => Kernel::Scale(scale::Scale::new(
                *mode,
                &shift.values,
                &scale.values,
                &power.values,
                x,
            )),
            LayerKind::SoftMax { axes } => Kernel::Softmax(softmax::Softmax::new(*axes, x)),
            LayerKind::Concatenation { axis } => Kernel::Concat(*axis),
            LayerKind::ElementWise { op } => Kernel::ElementWise(*op),
            LayerKind::Unary { op } => Kernel::Unary(*op),
            LayerKind::Padding { pre, .. } => {
                Kernel::Padding(padding::Padding::new(*pre, x, outputs[0]))
            }
            LayerKind::Shuffle(p) => Kernel::Shuffle(shuffle::Shuffle::new(p, x)?),
            LayerKind::Constant { weights, .. } => Kernel::Constant(weights.values.clone()),
            LayerKind::Identity => Kernel::Identity,
            LayerKind::Slice {
                start,
                size,
                stride,
            } => Kernel::Slice(slice::Slice::new(start, size, stride, x)),
            LayerKind::Reduce { op, axes, .. } => {
                Kernel::Reduce(reduce::Reduce::new(*op, *axes, x))
            }
            LayerKind::TopK { op, k, axes } => Kernel::TopK(topk::TopK::new(*op, *k, *axes, x)),
            LayerKind::MatrixMultiply { op0, op1 } => {
                Kernel::MatMul(matmul::MatMul::new(*op0, *op1, x, inputs[1], outputs[0]))
            }
            LayerKind::Gather { axis } => Kernel::Gather(gather::Gather::new(*axis, x)),
            LayerKind::Select => Kernel::Select,
            LayerKind::Resize(_) | LayerKind::Shape | LayerKind::Fill(_) => crate::bail!(
                Network,
                "{}: the builder lowers this layer; an engine cannot hold it",
                kind.type_name()
            ),
            LayerKind::Plugin(p) => Kernel::Plugin(p.clone()),
        })
    }

    /// Number of f32 scratch elements `run` needs at this batch size (im2col buffers and the like).
    pub fn scratch_len(&self, batch: usize) -> usize {
        match &self.kernel {
            Kernel::Conv(k) => k.scratch_len(batch),
            Kernel::ConvInt8(k) => k.scratch_len(batch),
            Kernel::FcInt8(k) => k.scratch_len(batch),
            Kernel::Deconv(k) => k.scratch_len(batch),
            Kernel::Fc(k) => k.scratch_len(batch),
            Kernel::Shuffle(k) => k.scratch_len(batch),
            Kernel::MatMul(k) => k.scratch_len(batch),
            // The plugin's workspace, asked for the maximum batch once (`Plugin::initialize`).
            Kernel::Plugin(p) => p
                .plugin
                .workspace_size()
                .div_ceil(std::mem::size_of::<f32>()),
            _ => 0,
        }
    }

    pub fn run(
        &self,
        batch: usize,
        inputs: &[In],
        outputs: &mut [Out],
        scratch: &mut [f32],
    ) -> Result<()> {
        self.run_fused(batch, inputs, outputs, scratch, false, None)
    }

    /// Whether [`CpuLayer::run_fused`] can apply a following ReLU itself: convolution and fully
    /// connected layers, in FP32 and INT8.
    pub fn fuses_relu(&self) -> bool {
        matches!(
            self.kernel,
            Kernel::Conv(_) | Kernel::ConvInt8(_) | Kernel::Fc(_) | Kernel::FcInt8(_)
        )
    }

    /// Whether [`CpuLayer::run_fused`] can apply the pooling layer `pool` itself: a convolution,
    /// in FP32 or INT8, and a 2x2 stride-2 unpadded max pooling.
    pub fn fuses_pool(&self, pool: &CpuLayer) -> bool {
        match (&self.kernel, &pool.kernel) {
            // Which storage each side uses must match; the engine's fusion plan checks that.
            (Kernel::Conv(_) | Kernel::ConvInt8(_), Kernel::Pool(p) | Kernel::PoolInt8(p)) => {
                p.is_max_2x2()
            }
            _ => false,
        }
    }

    /// [`CpuLayer::run`], then a ReLU on the output when `relu` (the layer [`fuses_relu`]), then
    /// the pooling layer `pool` on each item while it is in cache (the layer [`fuses_pool`]): the
    /// engine skips the absorbed layers, and `outputs` are the last one's. The values are those of
    /// the layers run apart, INT8 included: clamping to `[0, 127]` before rounding equals
    /// rounding then taking the ReLU, and pooling takes the same maxima of the same values.
    ///
    /// [`fuses_relu`]: CpuLayer::fuses_relu
    /// [`fuses_pool`]: CpuLayer::fuses_pool
    pub fn run_fused(
        &self,
        batch: usize,
        inputs: &[In],
        outputs: &mut [Out],
        scratch: &mut [f32],
        relu: bool,
        pool: Option<&CpuLayer>,
    ) -> Result<()> {
        if relu && !self.fuses_relu() {
            crate::bail!(Runtime, "{}: cannot apply a fused ReLU", self.name);
        }
        // The outputs are the last absorbed layer's.
        let expected = pool.map_or(&self.outputs, |p| &p.outputs);
        let pool_kernel = match pool {
            None => None,
            Some(p) if !self.fuses_pool(p) => {
                crate::bail!(Runtime, "{}: cannot apply a fused {}", self.name, p.name)
            }
            Some(CpuLayer {
                kernel: Kernel::Pool(p) | Kernel::PoolInt8(p),
                ..
            }) => Some(p),
            Some(_) => unreachable!("fuses_pool accepts pooling kernels only"),
        };
        let then = Absorbed {
            relu,
            pool: pool_kernel,
        };
        self.check(batch, inputs, outputs, expected, scratch)?;
        if batch == 0 {
            return Ok(());
        }
        if let Kernel::Constant(w) = &self.kernel {
            // The engine may hold a constant once or once per batch item.
            if !w.is_empty() {
                for o in outputs[0].data.chunks_exact_mut(w.len()) {
                    o.copy_from_slice(w);
                }
            }
            return Ok(());
        }
        if let Kernel::Plugin(p) = &self.kernel {
            return plugin::run(p, batch, inputs, outputs, scratch);
        }
        if let Kernel::TopK(k) = &self.kernel {
            let (values, indices) = outputs.split_at_mut(1);
            k.run(batch, &inputs[0], values[0].data, indices[0].data);
            return Ok(());
        }
        let y = &mut outputs[0];
        let x = &inputs[0];
        match &self.kernel {
            Kernel::Conv(k) => k.run(batch, x, y, scratch, then),
            Kernel::ConvInt8(k) => k.run(batch, x, y, scratch, then),
            Kernel::FcInt8(k) => k.run(batch, x, y, scratch, relu),
            Kernel::PoolInt8(k) => k.run_i8(batch, x, y)?,
            Kernel::ReluInt8 => {
                let n = x.batch * volume(x.shape);
                let (src, dst) = (quant::i8_view(x.data), quant::i8_view_mut(y.data));
                for (o, &v) in dst[..n].iter_mut().zip(&src[..n]) {
                    *o = v.max(0);
                }
                for b in 1..if x.batch == 1 { batch } else { 1 } {
                    dst.copy_within(..n, b * n);
                }
            }
            Kernel::Deconv(k) => k.run(batch, x, y, scratch),
            Kernel::Pool(k) => k.run(batch, x, y),
            Kernel::Fc(k) => k.run(batch, x, y, scratch, relu),
            Kernel::Activation(kind, alpha, beta) => pointwise(batch, x, y, |x, y| {
                activation::run(*kind, *alpha, *beta, x, y)
            }),
            Kernel::Prelu => eltwise::prelu(batch, x, &inputs[1], y),
            Kernel::Lrn(k) => k.run(batch, x, y),
            Kernel::Scale(k) => k.run(batch, x, y),
            Kernel::Softmax(k) => k.run(batch, x.data, x.batch, y.data),
            Kernel::Concat(axis) => concat::run(*axis, batch, inputs, y),
            Kernel::ElementWise(op) => eltwise::elementwise(*op, batch, x, &inputs[1], y),
            Kernel::Unary(op) => pointwise(batch, x, y, |x, y| unary::run(*op, x, y)),
            Kernel::Padding(k) => k.run(batch, x, y),
            Kernel::Shuffle(k) => k.run(batch, x, y, scratch),
            Kernel::Identity => pointwise(batch, x, y, |x, y| y.copy_from_slice(x)),
            Kernel::Slice(k) => k.run(batch, x, y),
            Kernel::Reduce(k) => k.run(batch, x, y),
            Kernel::MatMul(k) => k.run(batch, x, &inputs[1], y, scratch),
            Kernel::Gather(k) => k.run(batch, x, &inputs[1], y)?,
            Kernel::Select => eltwise::select(batch, x, &inputs[1], &inputs[2], y),
            Kernel::Constant(_) | Kernel::TopK(_) | Kernel::Plugin(_) => {}
        }
        Ok(())
    }

    /// Buffers are the engine's; a mismatch is reported, never indexed out of bounds.
    fn check(
        &self,
        batch: usize,
        inputs: &[In],
        outputs: &[Out],
        expected: &[Vec<usize>],
        scratch: &[f32],
    ) -> Result<()> {
        let name = self.name;
        if inputs.len() != self.inputs.len() || outputs.len() != expected.len() {
            crate::bail!(
                Runtime,
                "{name}: got {} inputs and {} outputs, expected {} and {}",
                inputs.len(),
                outputs.len(),
                self.inputs.len(),
                expected.len()
            );
        }
        for (i, (x, s)) in inputs.iter().zip(&self.inputs).enumerate() {
            if x.shape != s.as_slice()
                || (x.batch != 1 && x.batch != batch)
                || x.data.len() < x.batch * volume(s)
            {
                crate::bail!(
                    Runtime,
                    "{name}: input {i} is {} x {:?} in {} values, expected {batch} (or 1) x {s:?}",
                    x.batch,
                    x.shape,
                    x.data.len()
                );
            }
        }
        let items = if matches!(self.kernel, Kernel::Constant(_)) {
            1
        } else {
            batch
        };
        for (i, (y, s)) in outputs.iter().zip(expected).enumerate() {
            if y.shape != s.as_slice() || y.data.len() < items * volume(s) {
                crate::bail!(
                    Runtime,
                    "{name}: output {i} has {} values for {:?}, expected {batch} x {s:?}",
                    y.data.len(),
                    y.shape
                );
            }
        }
        if scratch.len() < self.scratch_len(batch) {
            crate::bail!(
                Runtime,
                "{name}: scratch has {} values, needs {}",
                scratch.len(),
                self.scratch_len(batch)
            );
        }
        Ok(())
    }
}

/// Gather indices are INT32 tensors in the network; everything else the CPU sees is FP32.
fn input_type(kind: &LayerKind, index: usize) -> DataType {
    if matches!(kind, LayerKind::Gather { .. }) && index == 1 {
        DataType::Int32
    } else {
        DataType::Float
    }
}

/// Tasks to split `items` independent pieces of work into: one per thread at most.
fn tasks(items: usize) -> usize {
    rayon::current_num_threads().min(items).max(1)
}

/// Below this many multiply-adds a thread hand-off costs about as much as it saves: waking a
/// rayon worker takes tens of microseconds on a busy machine (measured with batch-1 LeNet,
/// whose layers stay under this and run on one thread). At 2^22, MTCNN det3's conv2 (8.1M) took
/// 0.29 ms on two threads against 0.18 on one, at batch 1 on the 2-core EPYC.
const PAR_MACS: usize = 1 << 24;

/// Like [`tasks`], but one task when `macs` multiply-adds are too little work to share.
fn tasks_for(units: usize, macs: usize) -> usize {
    if macs < PAR_MACS { 1 } else { tasks(units) }
}

/// Below this many output values a parallel split costs more than it saves.
const PAR_MIN: usize = 1 << 15;

/// Calls `f(row, out)` for each of `rows` rows of `row_len` values of `data`, in parallel when large.
fn par_rows(
    data: &mut [f32],
    rows: usize,
    row_len: usize,
    f: impl Fn(usize, &mut [f32]) + Sync + Send,
) {
    if row_len == 0 {
        return;
    }
    let data = &mut data[..rows * row_len];
    if rows * row_len < PAR_MIN {
        data.chunks_exact_mut(row_len)
            .enumerate()
            .for_each(|(r, o)| f(r, o));
    } else {
        let min = rows.div_ceil(tasks(rows));
        data.par_chunks_exact_mut(row_len)
            .with_min_len(min)
            .enumerate()
            .for_each(|(r, o)| f(r, o));
    }
}

/// `y[i] = f(x[i])`, in parallel when large.
fn par_map(x: &[f32], y: &mut [f32], f: impl Fn(f32) -> f32 + Sync + Send) {
    let y = &mut y[..x.len()];
    if x.len() < PAR_MIN {
        y.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
    } else {
        let chunk = x.len().div_ceil(tasks(x.len()));
        y.par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .for_each(|(o, i)| {
                o.iter_mut().zip(i).for_each(|(o, &v)| *o = f(v));
            });
    }
}

/// Runs a shape-preserving layer on the stored items of `x`, then copies them across the batch
/// when `x` is batch-invariant.
fn pointwise(batch: usize, x: &In, y: &mut Out, f: impl FnOnce(&[f32], &mut [f32])) {
    let n = x.batch * volume(x.shape);
    f(&x.data[..n], &mut y.data[..n]);
    if x.batch == 1 {
        for b in 1..batch {
            y.data.copy_within(..n, b * n);
        }
    }
}
