//! Compiles an engine into kernel launches: where each tensor lives and in which storage type,
//! which layers fuse, and the weights each launch reads (uploaded once per executor).
//!
//! Storage follows the CPU's numerics (engine/context.rs): an FP16 layer's outputs hold half
//! values, so they are stored as half; a tensor read only by INT8 layers is stored as INT8 on its
//! scale's grid, which is what each of those layers would quantize it to; everything else is FP32.
//! Convolution and fully connected layers absorb a following activation (their only consumer).
//! Plugin layers read and write FP32: conversion steps sit around them where a neighbour's
//! storage differs (plan/plugin.rs).

mod chain;
mod layers;
mod plugin;

use std::mem::offset_of;

use super::args::*;
use super::igemm::{self, Reduction, Tiling};
use super::memory::{DeviceBuffer, Source};
use super::resident::{self, Resident};
use super::step::{self, Grid, Loc, Step};
use crate::engine::{Engine, Precision, Tactic};
use crate::error::{Error, Result};
use crate::network::shape::{conv_geometry, pool_geometry};
use crate::network::{LayerId, LayerKind, Network, PoolParams, TensorId};
use crate::types::{ActivationType, DataType, volume};

/// fc_rows.cu's geometry (FCR_ROWS, FCR_WARPS there): the rows one launch takes, its warps per
/// block (one output column each); and the shared memory its staged rows may take (the kernel
/// adds 2 KiB for a fused softmax; 48 KiB is the default limit).
const FC_ROWS: usize = 8;
const FC_ROWS_WARPS: u32 = 8;
const FC_ROWS_SHARED: usize = 40 * 1024;

/// Whether fc_rows.cu takes an FC layer of depth `kdim` and `outer` rows per item: the largest
/// batch it takes (at most [`FC_ROWS`] rows, staged within [`FC_ROWS_SHARED`]), the rows its
/// shared memory is sized for and the bytes of one row; None where not even batch 1 fits.
fn fc_rows_fit(kdim: usize, outer: usize, q: bool, invariant: bool) -> Option<(u64, usize, usize)> {
    let row_bytes = kdim * if q { 1 } else { 4 };
    let rows = FC_ROWS.min(FC_ROWS_SHARED / row_bytes.max(1));
    let most = if invariant {
        (outer <= rows) as usize
    } else {
        rows / outer.max(1)
    };
    (most > 0).then_some((most as u64, rows, row_bytes))
}

/// Rows of fc_mma.cu's tiles.
const FC_MMA_ROWS: usize = 128;

/// How a tensor's values are stored on the device (the tags of kernels/common.cu).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Store {
    F32,
    F16,
    /// INT8 values `q` meaning `q * scale`.
    I8(f32),
    /// FP32 storage of half values (an FP16 layer writing an FP32 output binding).
    F32Half,
    /// An INT32 binding (indices).
    I32,
}

impl Store {
    fn tag(self) -> i32 {
        match self {
            Store::F32 => 0,
            Store::F16 => 1,
            Store::I8(_) => 2,
            Store::F32Half => 3,
            Store::I32 => 4,
        }
    }

    fn scale(self) -> f32 {
        if let Store::I8(s) = self { s } else { 1.0 }
    }

    /// Bytes of a stored value.
    fn size(self) -> usize {
        match self {
            Store::F32 | Store::F32Half | Store::I32 => 4,
            Store::F16 => 2,
            Store::I8(_) => 1,
        }
    }

    /// The suffix of the compile-time typed kernels (conv.cu, fc.cu); they have no F32Half or I32.
    fn typed(self) -> Option<&'static str> {
        match self {
            Store::F32 => Some("f32"),
            Store::F16 => Some("f16"),
            Store::I8(_) => Some("i8"),
            Store::F32Half | Store::I32 => None,
        }
    }
}

/// An engine ready to launch: steps in order and the buffers they read.
pub struct Plan {
    pub steps: Vec<Step>,
    /// Runs of at most this batch launch these steps instead (plan/chain.rs).
    pub small: Option<(usize, Vec<Step>)>,
    pub buffers: Vec<DeviceBuffer>,
    /// Bytes of split-reduction workspace among the buffers (within the engine's maximum).
    pub workspace: usize,
    /// Bytes the launches would split into with no maximum (more than `workspace` when the
    /// maximum held some launches to fewer splits).
    pub workspace_wanted: usize,
}

/// Why the CUDA backend cannot run `engine` (the context then runs it on the CPU), or None.
pub fn unsupported(engine: &Engine) -> Option<String> {
    let net = &engine.network;
    for &l in &engine.order {
        let layer = &net.layers[l];
        let ok = match &layer.kind {
            LayerKind::Convolution(_)
            | LayerKind::Pooling(_)
            | LayerKind::FullyConnected { .. }
            | LayerKind::Activation { .. }
            | LayerKind::Lrn { .. }
            | LayerKind::Scale { .. }
            | LayerKind::SoftMax { .. }
            | LayerKind::Concatenation { .. }
            | LayerKind::Unary { .. }
            | LayerKind::Padding { .. }
            | LayerKind::Constant { .. }
            | LayerKind::Identity
            | LayerKind::Shuffle(_)
            | LayerKind::Slice { .. }
            | LayerKind::Gather { .. }
            | LayerKind::Reduce { .. }
            | LayerKind::TopK { .. }
            | LayerKind::MatrixMultiply { .. }
            | LayerKind::Deconvolution(_)
            | LayerKind::Plugin(_) => true,
            LayerKind::ElementWise { .. } | LayerKind::ParametricRelu | LayerKind::Select => {
                net.tensors[layer.outputs[0]].shape.len() < 8
            }
            _ => false,
        };
        if !ok {
            return Some(format!(
                "layer '{}' ({}) has no CUDA kernel yet",
                layer.name,
                layer.kind.type_name()
            ));
        }
    }
    for b in &engine.bindings {
        let ok = match b.dtype {
            DataType::Float | DataType::Half | DataType::Int32 => true,
            DataType::Int8 | DataType::Bool => b.is_input,
        };
        if !ok {
            return Some(format!(
                "binding '{}' of type {:?} is not supported on CUDA yet",
                b.name, b.dtype
            ));
        }
    }
    None
}

struct Builder<'a> {
    engine: &'a Engine,
    net: &'a Network,
    store: Vec<Store>,
    locs: Vec<Option<Loc>>,
    buffers: Vec<DeviceBuffer>,
    steps: Vec<Step>,
    /// The split workspace's buffers, reserved (empty) by the first launch that splits and
    /// allocated once every launch has said how many partial tiles it holds.
    split_ws: Option<(Loc, Loc)>,
    /// Partial tiles the workspace holds: the builder's maximum workspace, and what the launches
    /// need within it.
    split_cap: u64,
    split_need: u64,
    /// Partial tiles the launches would hold with no maximum.
    split_wanted: u64,
    /// The plugins' workspace (one, shared: steps on one stream never overlap), reserved by the
    /// first plugin that asks for one, and the most bytes one asks for.
    plugin_ws: Option<Loc>,
    plugin_ws_bytes: usize,
    sms: u32,
    /// Bytes of shared memory a block may opt in to.
    shared_per_block: usize,
    source: Source,
}

impl Plan {
    /// The launches of a run of `batch` items.
    pub fn steps_for(&self, batch: usize) -> &[Step] {
        match &self.small {
            Some((most, steps)) if batch <= *most => steps,
            _ => &self.steps,
        }
    }
}

/// Whether plans may take chain.cu's two launches for small batches: unless a family is forced
/// on every layer (which the tests and benchmarks use to measure that family) or
/// `INFER8_CUDA_CHAIN=0`.
pub fn chain_enabled() -> bool {
    forced().is_none() && std::env::var("INFER8_CUDA_CHAIN").map_or(true, |v| v != "0")
}

/// The launches and device buffers of `engine`, the buffers from `source`; with `chain`, the
/// small-batch launches of plan/chain.rs where the network takes them.
pub fn build(engine: &Engine, source: &Source, chain: bool) -> Result<Plan> {
    if let Some(why) = unsupported(engine) {
        return Err(Error::Unsupported(why));
    }
    let net = &engine.network;
    let n = net.tensors.len();
    let mut consumers: Vec<Vec<LayerId>> = vec![Vec::new(); n];
    for &l in &engine.order {
        for &t in &net.layers[l].inputs {
            consumers[t].push(l);
        }
    }
    let is_output = |t: TensorId| net.outputs.contains(&t);

    // Layers absorbed by the convolution or FC layer before them: an activation, then (after a
    // convolution) a max pooling, each the only consumer of what precedes it.
    let mut fused = vec![Fused::default(); net.layers.len()];
    let mut absorbed = vec![false; net.layers.len()];
    let sole = |t: TensorId| match consumers[t][..] {
        [c] if !is_output(t) => Some(c),
        _ => None,
    };
    for &l in &engine.order {
        let layer = &net.layers[l];
        let is_conv = matches!(layer.kind, LayerKind::Convolution(_));
        if !is_conv && !matches!(layer.kind, LayerKind::FullyConnected { .. }) {
            continue;
        }
        let mut t = layer.outputs[0];
        if let Some(c) =
            sole(t).filter(|&c| matches!(net.layers[c].kind, LayerKind::Activation { .. }))
        {
            fused[l].act = Some(c);
            absorbed[c] = true;
            t = net.layers[c].outputs[0];
        }
        if let Some(c) = sole(t).filter(|&c| is_conv && poolable(net, c)) {
            fused[l].pool = Some(c);
            absorbed[c] = true;
        }
        if let Some(c) = sole(t).filter(|&c| !is_conv && row_softmax(net, c, &layer.kind)) {
            fused[l].softmax = Some(c);
            absorbed[c] = true;
        }
    }
    // The layer whose kernel writes each tensor (a fused activation's output: the conv/FC).
    let mut writer: Vec<Option<LayerId>> = vec![None; n];
    for &l in &engine.order {
        if absorbed[l] {
            continue;
        }
        let outs = match fused[l].last() {
            Some(a) => &net.layers[a].outputs,
            None => &net.layers[l].outputs,
        };
        for &t in outs {
            writer[t] = Some(l);
        }
    }

    let fp16_inputs = engine.precisions.contains(&Precision::Half);
    // FP16 implicit GEMMs and shallow kernels round what they read to half themselves, as the
    // CPU rounds FP16 engines' inputs: such an input needs no conversion step.
    let half_readers_only = |t: TensorId| {
        consumers[t].iter().all(|&c| {
            engine.precisions[c] == Precision::Half
                && (on_igemm(engine, c, &fused[c]) || on_shallow(engine, c, &fused[c]))
        })
    };
    // Shallow kernels read each input value once per job and quantize it as they stage it: an
    // input only they read is not quantized in a step of its own.
    let shallow_only = |t: TensorId| {
        consumers[t]
            .iter()
            .all(|&c| on_shallow(engine, c, &fused[c]))
    };
    let all_int8 = |t: TensorId| {
        !consumers[t].is_empty()
            && consumers[t]
                .iter()
                .all(|&c| engine.precisions[c] == Precision::Int8)
    };
    let store: Vec<Store> = (0..n)
        .map(|t| {
            let producer = net.tensors[t].producer.map(|(p, _)| p);
            let half = producer.is_some_and(|p| engine.precisions[p] == Precision::Half);
            let binding = engine.bindings.iter().find(|b| b.tensor == t);
            match binding {
                Some(b) if b.is_input => match (b.dtype, engine.scales[t]) {
                    (DataType::Half, _) => Store::F16,
                    // Bool inputs hold 0 and 1 in a byte, as the CPU reads them.
                    (DataType::Int8 | DataType::Bool, _) => Store::I8(1.0),
                    (DataType::Int32, _) => Store::I32,
                    _ if fp16_inputs && !half_readers_only(t) => Store::F16,
                    // Quantized once up front rather than at each of the reads an INT8
                    // convolution makes of every input value.
                    (_, Some(s)) if all_int8(t) && !shallow_only(t) => Store::I8(s),
                    _ => Store::F32,
                },
                Some(b) if b.dtype == DataType::Half => Store::F16,
                Some(b) if b.dtype == DataType::Int32 => Store::I32,
                Some(_) if half => Store::F32Half,
                Some(_) => Store::F32,
                None => match engine.scales[t] {
                    Some(s) if all_int8(t) => Store::I8(s),
                    _ if half => Store::F16,
                    _ => Store::F32,
                },
            }
        })
        .collect();

    let mut b = Builder {
        engine,
        net,
        store,
        locs: vec![None; n],
        buffers: Vec::new(),
        steps: Vec::new(),
        split_ws: None,
        split_cap: 0,
        split_need: 0,
        split_wanted: 0,
        plugin_ws: None,
        plugin_ws_bytes: 0,
        sms: super::gpu_or_err()?.multiprocessors,
        shared_per_block: super::gpu_or_err()?.shared_per_block,
        source: source.clone(),
    };
    b.split_cap = step::parts_within(engine.max_workspace_size, b.sms);

    // Inputs: read in place, or converted first: to half where the CPU rounds them (FP16
    // engines), to INT8 where only INT8 layers read them.
    for (i, bind) in engine
        .bindings
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_input)
    {
        let t = bind.tensor;
        let size = match b.store[t] {
            Store::F16 => 2,
            Store::I8(_) => 1,
            _ => 0,
        };
        if bind.dtype == DataType::Float && size > 0 {
            let vol = volume(&bind.shape);
            let items = if net.tensors[t].broadcast_across_batch {
                1
            } else {
                engine.max_batch_size
            };
            let loc = b.buffer(DeviceBuffer::alloc_from(items * vol * size, source)?);
            b.locs[t] = Some(loc);
            let invariant = net.tensors[t].broadcast_across_batch;
            let from = (Loc::Binding(i), Store::F32);
            b.steps
                .push(convert(from, (loc, b.store[t]), vol, invariant, invariant)?);
        } else {
            b.locs[t] = Some(Loc::Binding(i));
        }
    }
    // Outputs written by their producer straight into the binding, unless they need a copy.
    let mut copies = Vec::new();
    for (i, bind) in engine
        .bindings
        .iter()
        .enumerate()
        .filter(|(_, b)| !b.is_input)
    {
        let t = bind.tensor;
        let gemm_writer = writer[t].is_some_and(|w| {
            matches!(
                net.layers[w].kind,
                LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
            )
        });
        let typed_writer =
            writer[t].is_some_and(|w| gemm_writer && !on_igemm(engine, w, &fused[w]));
        // A broadcast output is replicated per item; conv.cu and fc.cu cannot store FP32-held
        // half (igemm.cu can), and none of them stores INT32.
        let needs_copy = net.tensors[t].broadcast_across_batch
            || (typed_writer && b.store[t] == Store::F32Half)
            || (gemm_writer && b.store[t] == Store::I32);
        let direct = !needs_copy;
        if direct {
            b.locs[t] = Some(Loc::Binding(i));
        } else {
            b.store[t] = match b.store[t] {
                Store::F32Half => Store::F16,
                Store::I32 => Store::F32,
                s => s,
            };
            copies.push((i, t));
        }
    }
    for t in 0..n {
        if b.locs[t].is_none() {
            b.locs[t] = engine.plan.offsets[t].map(Loc::Arena);
        }
    }

    for &l in &engine.order {
        if !absorbed[l] {
            b.layer(l, fused[l])?;
        }
    }
    for (i, t) in copies {
        let bind = &engine.bindings[i];
        let vol = volume(&bind.shape);
        let wrap = if net.tensors[t].broadcast_across_batch {
            1
        } else {
            0
        };
        let yt = match bind.dtype {
            DataType::Half => Store::F16,
            DataType::Int32 => Store::I32,
            _ => Store::F32,
        };
        let args = CopyArgs {
            x_wrap: wrap,
            len: vol as i32,
            row: vol as i32,
            xt: b.store[t].tag(),
            yt: yt.tag(),
            xs: b.store[t].scale(),
            ys: 1.0,
            ..Default::default()
        };
        let x = b.loc(t)?;
        b.steps.push(
            Step::new(
                "copy_rows",
                &args,
                Grid::Flat {
                    per_item: vol as u64,
                },
                false,
            )?
            .ptr(offset_of!(CopyArgs, x), x)
            .ptr(offset_of!(CopyArgs, y), Loc::Binding(i))
            .count(offset_of!(CopyArgs, rows), 1),
        );
    }
    let most = engine.max_batch_size.min(chain::MOST_ITEMS);
    let small = if chain {
        chain::steps(&mut b, &fused, &absorbed, most)?.map(|steps| (most, steps))
    } else {
        None
    };
    let workspace = b.allocate_split_workspace()? + b.allocate_plugin_workspace()?;
    Ok(Plan {
        steps: b.steps,
        small,
        buffers: b.buffers,
        workspace,
        workspace_wanted: b.split_wanted as usize * step::PART_BYTES + b.plugin_ws_bytes,
    })
}

/// A step copying `vol` values per item from `x` to `y`, each a location and its storage:
/// pointwise.cu's map as a copy, which converts between storage types. A batch-invariant source
/// (`x_invariant`) is read again for every item; an `invariant` step writes one item.
fn convert(
    (x, xs): (Loc, Store),
    (y, ys): (Loc, Store),
    vol: usize,
    x_invariant: bool,
    invariant: bool,
) -> Result<Step> {
    let args = MapArgs {
        op: 3,
        x_n: vol as i64,
        xt: xs.tag(),
        yt: ys.tag(),
        xs: xs.scale(),
        ys: ys.scale(),
        ..Default::default()
    };
    let step = Step::new(
        "map",
        &args,
        Grid::Flat {
            per_item: vol as u64,
        },
        invariant,
    )?
    .ptr(offset_of!(MapArgs, x), x)
    .ptr(offset_of!(MapArgs, y), y)
    .count(offset_of!(MapArgs, n), vol as i64);
    Ok(if x_invariant {
        step
    } else {
        step.count(offset_of!(MapArgs, x_n), vol as i64)
    })
}

/// Layers fused into a convolution or FC kernel.
#[derive(Clone, Copy, Default)]
struct Fused {
    act: Option<LayerId>,
    pool: Option<LayerId>,
    softmax: Option<LayerId>,
}

impl Fused {
    /// The layer whose output the fused kernel writes.
    fn last(&self) -> Option<LayerId> {
        self.pool.or(self.softmax).or(self.act)
    }

    /// Layer `l` and what it absorbs, by name, for profiles.
    fn label(&self, net: &Network, l: LayerId) -> String {
        [Some(l), self.act, self.pool, self.softmax]
            .into_iter()
            .flatten()
            .map(|l| net.layers[l].name.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// A softmax over exactly the outputs of each row of an FC layer with at most 64 outputs (one
/// fc.cu tile holds a whole row).
fn row_softmax(net: &Network, l: LayerId, fc: &LayerKind) -> bool {
    let (LayerKind::SoftMax { axes }, LayerKind::FullyConnected { nb_outputs, .. }) =
        (&net.layers[l].kind, fc)
    else {
        return false;
    };
    let s = &net.tensors[net.layers[l].inputs[0]].shape;
    let axis = (axes.trailing_zeros() as usize).min(s.len().saturating_sub(1));
    let inner: usize = s[(axis + 1).min(s.len())..].iter().product();
    *nb_outputs <= 64 && s.get(axis) == Some(nb_outputs) && inner == 1
}

/// Max pooling whose windows all lie inside the input (no padding): conv.cu can fuse it.
fn poolable(net: &Network, l: LayerId) -> bool {
    let LayerKind::Pooling(p) = &net.layers[l].kind else {
        return false;
    };
    let s = &net.tensors[net.layers[l].inputs[0]].shape;
    if p.kind != crate::types::PoolingType::Max || s.len() < 3 {
        return false;
    }
    let hw = [s[s.len() - 2], s[s.len() - 1]];
    pool_geometry(p, hw).is_ok_and(|g| {
        (0..2).all(|d| {
            g[d].pre == 0 && g[d].post == 0 && (g[d].out - 1) * p.stride[d] + p.window[d] <= hw[d]
        })
    })
}

/// The kernel family of a convolution or FC layer (with what it absorbs), None for other layers:
/// `INFER8_CUDA_CONV` when set, else the tactic the builder timed, else igemm.cu's implicit GEMM;
/// a family that cannot take the layer falls back to conv.cu's shared-memory kernel where it
/// applies, else its direct kernel (fc.cu's tiles, recorded as `Shared`, for FC layers).
fn tactic_of(engine: &Engine, l: LayerId, fused: &Fused) -> Option<Tactic> {
    let net = &engine.network;
    let family = forced()
        .or(engine.tactics.get(l).copied().flatten())
        .unwrap_or(Tactic::Igemm);
    let layer = &net.layers[l];
    match &layer.kind {
        LayerKind::FullyConnected { .. } if family == Tactic::Igemm => Some(Tactic::Igemm),
        LayerKind::FullyConnected { .. } => Some(Tactic::Shared),
        LayerKind::Convolution(p) => {
            let s = &net.tensors[layer.inputs[0]].shape;
            let r = s.len();
            let red = Reduction {
                c: s[r - 3],
                h: s[r - 2],
                w: s[r - 1],
                kh: p.kernel[0],
                kw: p.kernel[1],
                dh: p.dilation[0],
                dw: p.dilation[1],
            };
            let pool = match fused.pool.map(|c| &net.layers[c].kind) {
                Some(LayerKind::Pooling(pp)) => Some(pp),
                _ => None,
            };
            let np = pool.map_or(1, |pp| pp.window[0] * pp.window[1]);
            let igemm = p.groups == 1 && red.fits() && igemm::GM.is_multiple_of(np);
            Some(if family == Tactic::Igemm && igemm {
                Tactic::Igemm
            } else if family != Tactic::Direct && shared_kernel(p, red.c * red.h * red.w, pool) {
                Tactic::Shared
            } else {
                Tactic::Direct
            })
        }
        _ => None,
    }
}

/// Whether layer `l` runs as igemm.cu's implicit GEMM (see [`tactic_of`]).
fn on_igemm(engine: &Engine, l: LayerId, fused: &Fused) -> bool {
    tactic_of(engine, l, fused) == Some(Tactic::Igemm)
}

/// Whether layer `l` runs as shallow.cu's kernel (see [`shallow_kernel`]).
fn on_shallow(engine: &Engine, l: LayerId, fused: &Fused) -> bool {
    let net = &engine.network;
    let layer = &net.layers[l];
    let LayerKind::Convolution(p) = &layer.kind else {
        return false;
    };
    let s = &net.tensors[layer.inputs[0]].shape;
    let (c, xlen) = (s[s.len() - 3], s[s.len() - 3..].iter().product());
    let pool = match fused.pool.map(|c| &net.layers[c].kind) {
        Some(LayerKind::Pooling(pp)) => Some(pp),
        _ => None,
    };
    tactic_of(engine, l, fused) == Some(Tactic::Shared)
        && shallow_kernel(p, c, xlen, pool).is_some()
}

/// The family `INFER8_CUDA_CONV` forces on every convolution and FC layer, over timed tactics:
/// `igemm`, `shared` (conv.cu's shared-memory kernel and fc.cu's tiles) or `direct` (conv.cu's
/// direct kernel, fc.cu's tiles). The non-igemm families stay as fallbacks for shapes igemm does
/// not take, as timing candidates, and as references in the tests.
pub(super) fn forced() -> Option<Tactic> {
    match std::env::var("INFER8_CUDA_CONV").as_deref() {
        Ok("igemm") => Some(Tactic::Igemm),
        Ok("shared") => Some(Tactic::Shared),
        Ok("direct") => Some(Tactic::Direct),
        _ => None,
    }
}

/// Whether conv.cu's shared-memory kernel applies: one group, the item's input within 48 KiB of
/// shared memory, pooling windows of at most 4 positions.
fn shared_kernel(p: &crate::network::ConvParams, xlen: usize, pool: Option<&PoolParams>) -> bool {
    p.groups == 1 && xlen * 4 <= 48 * 1024 && pool.is_none_or(|pp| pp.window[0] * pp.window[1] <= 4)
}

/// conv.cu's shallow variant of the shared-memory kernel, as (kernel size, pooling window):
/// square 3x3 or 5x5 kernels of stride 1, undilated and ungrouped, unpooled or with 2x2 pooling,
/// a reduction of at most 1040 (INT8 sums stay exact in FP32), and the weights (a float4 per
/// tap and 4 channels) with the item's `xlen` inputs within 48 KiB of shared memory.
fn shallow_kernel(
    p: &crate::network::ConvParams,
    c: usize,
    xlen: usize,
    pool: Option<&PoolParams>,
) -> Option<(usize, usize)> {
    let size = p.kernel[0];
    let window = pool.map_or(Some(1), |pp| (pp.window == [2, 2]).then_some(2))?;
    let depth = c * size * size;
    let smem = p.nb_output_maps.div_ceil(4) * (depth + 2) * 16 + xlen * 4;
    (p.kernel[1] == size
        && (size == 3 || size == 5)
        && p.stride == [1, 1]
        && p.dilation == [1, 1]
        && p.groups == 1
        && depth <= 1040
        && smem <= 48 * 1024)
        .then_some((size, window))
}

/// shallow.cu's tensor-core variant (`CONV_M`) of a layer the FMA variant takes, for FP16 and
/// INT8 layers: at most 32 output channels (4 n8 tiles), unpooled or under 2x2 pooling of stride
/// 2 (after an activation that never decreases), and at most 8 pairs of B fragment registers (n8
/// tiles x k16 steps of tap pairs), so that three blocks of 256 threads fit a multiprocessor's
/// registers.
struct ShallowMma {
    /// `_m{window}n{tiles}k{steps}`, appended to the typed kernel name.
    suffix: String,
    /// Shared-memory words of one staged item (two copies of its padded input) and of the rest
    /// (the table of 2x2 blocks); 16 bytes after the outputs take padding channels' stores.
    item_words: usize,
    fixed_words: usize,
    /// Bytes of one item's output.
    out_bytes: usize,
    /// Items per job: the most within [`SHALLOW_MMA_SMEM`], at most 16.
    items: usize,
}

/// Shared memory of a `CONV_M` block: three blocks per multiprocessor on the H100 and H200.
const SHALLOW_MMA_SMEM: usize = 72 * 1024;

impl ShallowMma {
    /// Shared-memory bytes for jobs of `items` items, laid out as the kernel does.
    fn bytes(&self, items: usize) -> usize {
        (items * self.item_words + self.fixed_words).next_multiple_of(4) * 4
            + (items * self.out_bytes).next_multiple_of(16)
            + 16
    }
}

/// The variant for the layer `a` describes (stride 1, undilated, one group: [`shallow_kernel`]'s
/// conditions), with outputs of `out_size` bytes, None where it does not apply.
fn shallow_mma(a: &ConvArgs, pool: Option<&PoolParams>, out_size: usize) -> Option<ShallowMma> {
    // Pooled, the kernel takes the maximum of the sums: exact when the epilogue never decreases.
    let window = match pool {
        None => 1,
        Some(pp)
            if pp.window == [2, 2]
                && pp.stride == [2, 2]
                && resident::nondecreasing(a.act, a.alpha, a.beta) =>
        {
            2
        }
        Some(_) => return None,
    };
    let [c, h, w, k, oh, ow, kh, kw, ph, pw] =
        [a.c, a.h, a.w_, a.k, a.oh, a.ow, a.kh, a.kw, a.ph, a.pw].map(|v| v as usize);
    let nt = k.div_ceil(8);
    let ks = (c * kh * kw.div_ceil(2)).div_ceil(8);
    if nt > 4 || nt * ks > 8 {
        return None;
    }
    // Mirrors shallow.cu's `staged_rows` and `staged_words`.
    let rows = (2 * oh.div_ceil(2) + kh - 1).max(h + ph);
    let words = (ow.div_ceil(2) + kw.div_ceil(2)).max((w + pw) / 2 + 1) | 1;
    let (blocks, plane) = if window == 2 {
        let n = (a.poh * a.pow_) as usize;
        (n, n)
    } else {
        (oh.div_ceil(2) * ow.div_ceil(2), oh * ow)
    };
    let mut m = ShallowMma {
        suffix: format!("_m{window}n{nt}k{ks}"),
        item_words: c * 2 * rows * words,
        fixed_words: blocks,
        out_bytes: k * plane * out_size,
        items: 1,
    };
    m.items = (1..=16).rev().find(|&ib| m.bytes(ib) <= SHALLOW_MMA_SMEM)?;
    Some(m)
}

/// Items the shallow variant stages per job: its threads take one (pooled) position of one item
/// each, so the count that best fills whole rounds of 256 threads, the smallest of equals (more
/// jobs for small batches), within shared memory next to the weights.
fn staged_items(plane: usize, item_bytes: usize, weight_bytes: usize) -> usize {
    let most = ((48 * 1024 - weight_bytes) / item_bytes).clamp(1, 16);
    let fill = |ib: usize| {
        let units = ib * plane;
        units as f64 / (units.div_ceil(256) * 256) as f64
    };
    (1..=most)
        .max_by(|&a, &b| fill(a).total_cmp(&fill(b)).then(b.cmp(&a)))
        .unwrap_or(1)
}

/// Activation code and parameters for a fused epilogue; -1 is none.
fn act_of(kind: Option<&LayerKind>) -> (i32, f32, f32) {
    match kind {
        Some(LayerKind::Activation { kind, alpha, beta }) => (*kind as i32, *alpha, *beta),
        _ => (-1, 0.0, 0.0),
    }
}

/// An INT8 layer's epilogue as the CPU's (backend/cpu/quant.rs `Int8Gemm::epilogue`): per channel
/// `accumulator * mul + add`. An INT8 output under no activation or ReLU (which commute with
/// quantization) comes out in its scale's units, requantized by storing with scale 1: `true`.
fn int8_epilogue(
    input_scale: f32,
    weight_scales: &[f32],
    bias: &[f32],
    out: Store,
    act: i32,
) -> (Vec<f32>, Vec<f32>, bool) {
    let unit = match out {
        Store::I8(o) if act < 0 || act == ActivationType::Relu as i32 => Some(o),
        _ => None,
    };
    let u = unit.unwrap_or(1.0);
    let (mul, add) = weight_scales
        .iter()
        .zip(bias)
        .map(|(&ws, &b)| (input_scale * ws / u, b / u))
        .unzip();
    (mul, add, unit.is_some())
}

/// Per-output-channel INT8 weights as the builder made them (values `q * s` with `s = amax / 127`):
/// the integers and each channel's scale, recovered from the channel's largest magnitude.
fn int8_weights(w: &[f32], channels: usize) -> (Vec<i8>, Vec<f32>) {
    let per = w.len() / channels.max(1);
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(channels);
    for chunk in w.chunks(per.max(1)) {
        let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = if amax > 0.0 { amax / 127.0 } else { 1.0 };
        q.extend(
            chunk
                .iter()
                .map(|&v| (v / s).round().clamp(-127.0, 127.0) as i8),
        );
        scales.push(s);
    }
    (q, scales)
}

impl Builder<'_> {
    fn buffer(&mut self, buf: DeviceBuffer) -> Loc {
        self.buffers.push(buf);
        Loc::Buffer(self.buffers.len() - 1)
    }

    fn upload<T: Copy>(&mut self, data: &[T]) -> Result<Loc> {
        Ok(self.buffer(DeviceBuffer::from_slice_in(data, &self.source)?))
    }

    fn loc(&self, t: TensorId) -> Result<Loc> {
        self.locs[t].ok_or_else(|| {
            Error::Runtime(format!(
                "tensor '{}' has no device memory",
                self.net.tensors[t].name
            ))
        })
    }

    /// Items of a tensor for a run of batch 1 (1 when it is batch-invariant, 1 otherwise too):
    /// the wrap of batch-invariant inputs, in units of `per_item` pieces.
    fn wrap(&self, t: TensorId, per_item: usize) -> i64 {
        if self.net.tensors[t].broadcast_across_batch {
            per_item as i64
        } else {
            0
        }
    }

    fn layer(&mut self, l: LayerId, fused: Fused) -> Result<()> {
        let net = self.net;
        let layer = &net.layers[l];
        let out = fused
            .last()
            .map_or(layer.outputs[0], |a| net.layers[a].outputs[0]);
        let invariant = layer
            .outputs
            .iter()
            .all(|&t| net.tensors[t].broadcast_across_batch);
        let x_t = layer.inputs.first().copied();
        let shape = |t: TensorId| net.tensors[t].shape.as_slice();
        let (ys, yt) = (self.store[out], self.store[out].tag());
        let q = self.engine.precisions[l] == Precision::Int8;
        let named = |e: String| Error::Runtime(format!("layer '{}': {e}", layer.name));
        let tactic = tactic_of(self.engine, l, &fused);
        let step = match &layer.kind {
            LayerKind::Convolution(p) => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let s = shape(x);
                let r = s.len();
                let (c, h, w) = (s[r - 3], s[r - 2], s[r - 1]);
                let outer: usize = s[..r - 3].iter().product();
                let g = conv_geometry(p, [h, w], false).map_err(named)?;
                let k = p.nb_output_maps;
                let (act, alpha, beta) = act_of(fused.act.map(|a| &net.layers[a].kind));
                let mut args = ConvArgs {
                    x_wrap: self.wrap(x, outer),
                    c: c as i32,
                    h: h as i32,
                    w_: w as i32,
                    k: k as i32,
                    oh: g[0].out as i32,
                    ow: g[1].out as i32,
                    kh: p.kernel[0] as i32,
                    kw: p.kernel[1] as i32,
                    sh: p.stride[0] as i32,
                    sw: p.stride[1] as i32,
                    ph: g[0].pre as i32,
                    pw: g[1].pre as i32,
                    dh: p.dilation[0] as i32,
                    dw: p.dilation[1] as i32,
                    groups: p.groups as i32,
                    act,
                    alpha,
                    beta,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                let mut plane = g[0].out * g[1].out;
                let pool = match fused.pool.map(|l| &net.layers[l].kind) {
                    Some(LayerKind::Pooling(pp)) => Some(pp),
                    _ => None,
                };
                if let Some(pp) = pool {
                    let pg = pool_geometry(pp, [g[0].out, g[1].out]).map_err(named)?;
                    args.pool_h = pp.window[0] as i32;
                    args.pool_w = pp.window[1] as i32;
                    args.pool_sh = pp.stride[0] as i32;
                    args.pool_sw = pp.stride[1] as i32;
                    args.poh = pg[0].out as i32;
                    args.pow_ = pg[1].out as i32;
                    plane = pg[0].out * pg[1].out;
                }
                let red = Reduction {
                    c,
                    h,
                    w,
                    kh: p.kernel[0],
                    kw: p.kernel[1],
                    dh: p.dilation[0],
                    dw: p.dilation[1],
                };
                if tactic == Some(Tactic::Igemm) {
                    let pooled = args.pool_h > 0;
                    let gemm = GemmArgs {
                        x_wrap: args.x_wrap,
                        sh: args.sh,
                        sw: args.sw,
                        ph: args.ph,
                        pw: args.pw,
                        poh: if pooled { args.poh } else { args.oh },
                        pow_: if pooled { args.pow_ } else { args.ow },
                        pool_h: args.pool_h.max(1),
                        pool_w: args.pool_w.max(1),
                        pool_sh: if pooled { args.pool_sh } else { 1 },
                        pool_sw: if pooled { args.pool_sw } else { 1 },
                        act,
                        alpha,
                        beta,
                        ..Default::default()
                    };
                    let (w, bias) = (p.kernel_weights.values.as_slice(), p.bias.values.as_slice());
                    self.gemm_step(l, x, out, gemm, &red, (w, bias, k), outer, invariant)?
                } else {
                    let weights = self.weights(
                        &p.kernel_weights.values,
                        &p.bias.values,
                        k,
                        q,
                        (x, out, act),
                        &mut args.qs,
                        &mut args.raw,
                        &mut args.ys,
                    )?;
                    let mut name = self.typed_name("conv", q, x, out)?;
                    let mut grid = Grid::Flat {
                        per_item: (outer * k * plane) as u64,
                    };
                    let mut smem = 0;
                    if tactic == Some(Tactic::Shared) {
                        grid = Grid::Blocks {
                            per_item: outer as u64,
                        };
                        smem = (c * h * w * 4) as u32;
                        match shallow_kernel(p, c, c * h * w, pool) {
                            Some((size, window)) => {
                                if self.engine.precisions[l] == Precision::Half
                                    && matches!(self.store[x], Store::F32)
                                    && matches!(self.loc(x)?, Loc::Binding(_))
                                {
                                    // An FP32 input binding of an FP16 layer, rounded to half
                                    // as the kernel stages it (see `half_readers_only`).
                                    name = name.replacen("_f32_", "_f32r_", 1);
                                }
                                let mma = (self.engine.precisions[l] != Precision::Float)
                                    .then(|| shallow_mma(&args, pool, self.store[out].size()))
                                    .flatten();
                                if let Some(m) = mma {
                                    name.push_str(&m.suffix);
                                    smem = m.bytes(m.items) as u32;
                                    grid = Grid::Staged {
                                        per_item: outer as u64,
                                        items: m.items as u64,
                                        splits: 1,
                                        items_at: offset_of!(ConvArgs, ib),
                                        per_sm: 3,
                                    };
                                } else {
                                    name.push_str(&format!("_t{size}{window}"));
                                    // A float4 per tap and 4 channels, then bias and scale.
                                    let wbytes = k.div_ceil(4) * (c * size * size + 2) * 16;
                                    let ib = staged_items(plane, c * h * w * 4, wbytes);
                                    smem = (wbytes + ib * c * h * w * 4) as u32;
                                    grid = Grid::Staged {
                                        per_item: outer as u64,
                                        items: ib as u64,
                                        splits: k.div_ceil(4) as u64,
                                        items_at: offset_of!(ConvArgs, ib),
                                        per_sm: 32,
                                    };
                                }
                            }
                            None => name.push_str("_s"),
                        }
                    }
                    let st = Step::new(&name, &args, grid, invariant)?
                        .shared(smem)?
                        .count(offset_of!(ConvArgs, items), outer as i64)
                        .ptr(offset_of!(ConvArgs, x), self.loc(x)?)
                        .ptr(offset_of!(ConvArgs, y), self.loc(out)?);
                    weights.apply(
                        st,
                        offset_of!(ConvArgs, w),
                        offset_of!(ConvArgs, wq),
                        offset_of!(ConvArgs, bias),
                        offset_of!(ConvArgs, wscale),
                    )
                }
            }
            LayerKind::FullyConnected {
                nb_outputs,
                kernel,
                bias,
            } => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let s = shape(x);
                let keep = s.len().saturating_sub(3);
                let kdim: usize = s[keep..].iter().product();
                let outer: usize = s[..keep].iter().product();
                let (act, alpha, beta) = act_of(fused.act.map(|a| &net.layers[a].kind));
                let mut args = FcArgs {
                    x_wrap: self.wrap(x, outer),
                    kdim: kdim as i32,
                    n: *nb_outputs as i32,
                    act,
                    alpha,
                    beta,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                args.softmax = fused.softmax.is_some() as i32;
                let fit = fc_rows_fit(kdim, outer, q, invariant);
                // fc.cu's and fc_rows.cu's weights, with the INT8 scales in `args` (igemm.cu
                // packs its own; a layer fc_rows.cu does not take needs none of these).
                let weights = if tactic != Some(Tactic::Igemm) || fit.is_some() {
                    Some(self.weights(
                        &kernel.values,
                        &bias.values,
                        *nb_outputs,
                        q,
                        (x, out, act),
                        &mut args.qs,
                        &mut args.raw,
                        &mut args.ys,
                    )?)
                } else {
                    None
                };
                // Every family but igemm runs fc.cu's tiles, on the weights uploaded above.
                let tiles = weights.as_ref().filter(|_| tactic != Some(Tactic::Igemm));
                let st = if let Some(weights) = tiles {
                    let name = self.typed_name("fc", q, x, out)?;
                    let grid = Grid::Tiles {
                        rows_per_item: outer as u64,
                        tile_rows: 64,
                        col_tiles: nb_outputs.div_ceil(64) as u32,
                    };
                    let st = Step::new(&name, &args, grid, invariant)?
                        .count(offset_of!(FcArgs, rows), outer as i64)
                        .ptr(offset_of!(FcArgs, x), self.loc(x)?)
                        .ptr(offset_of!(FcArgs, y), self.loc(out)?);
                    weights.apply(
                        st,
                        offset_of!(FcArgs, w),
                        offset_of!(FcArgs, wq),
                        offset_of!(FcArgs, bias),
                        offset_of!(FcArgs, wscale),
                    )
                } else {
                    let red = Reduction {
                        c: kdim,
                        h: 1,
                        w: 1,
                        kh: 1,
                        kw: 1,
                        dh: 1,
                        dw: 1,
                    };
                    let gemm = GemmArgs {
                        x_wrap: args.x_wrap,
                        sh: 1,
                        sw: 1,
                        poh: 1,
                        pow_: 1,
                        pool_h: 1,
                        pool_w: 1,
                        pool_sh: 1,
                        pool_sw: 1,
                        act,
                        alpha,
                        beta,
                        softmax: args.softmax,
                        dense: 1,
                        ..Default::default()
                    };
                    let wb = (
                        kernel.values.as_slice(),
                        bias.values.as_slice(),
                        *nb_outputs,
                    );
                    self.gemm_step(l, x, out, gemm, &red, wb, outer, invariant)?
                };
                match (fit, &weights) {
                    (Some((most, rows, row_bytes)), Some(w)) => {
                        let sizes = (rows, row_bytes);
                        let alt = self.fc_rows(args, w, (x, out), outer, sizes, q, invariant)?;
                        st.or_below(most, alt)
                    }
                    _ => st,
                }
            }
            LayerKind::Pooling(p) => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let s = shape(x);
                let r = s.len();
                let (h, w) = (s[r - 2], s[r - 1]);
                let planes: usize = s[..r - 2].iter().product();
                let g = pool_geometry(p, [h, w]).map_err(named)?;
                let args = PoolArgs {
                    x_wrap: self.wrap(x, planes),
                    h: h as i32,
                    w: w as i32,
                    oh: g[0].out as i32,
                    ow: g[1].out as i32,
                    wh: p.window[0] as i32,
                    ww: p.window[1] as i32,
                    sh: p.stride[0] as i32,
                    sw: p.stride[1] as i32,
                    ph: g[0].pre as i32,
                    pw: g[1].pre as i32,
                    posth: g[0].post as i32,
                    postw: g[1].post as i32,
                    kind: p.kind as i32,
                    blend: p.blend_factor,
                    exclude_padding: p.average_count_excludes_padding as i32,
                    xt: self.store[x].tag(),
                    yt,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                let per_item = (planes * g[0].out * g[1].out) as u64;
                Step::new("pool", &args, Grid::Flat { per_item }, invariant)?
                    .count(offset_of!(PoolArgs, planes), planes as i64)
                    .ptr(offset_of!(PoolArgs, x), self.loc(x)?)
                    .ptr(offset_of!(PoolArgs, y), self.loc(out)?)
            }
            LayerKind::SoftMax { axes } => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let s = shape(x);
                let axis = (axes.trailing_zeros() as usize).min(s.len().saturating_sub(1));
                let outer: usize = s[..axis].iter().product();
                let len = s.get(axis).copied().unwrap_or(1);
                let inner: usize = s[(axis + 1).min(s.len())..].iter().product();
                let args = SoftmaxArgs {
                    x_wrap: self.wrap(x, outer),
                    n: len as i32,
                    inner: inner as i32,
                    xt: self.store[x].tag(),
                    yt,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                Step::new(
                    "softmax",
                    &args,
                    Grid::Flat {
                        per_item: (outer * inner) as u64,
                    },
                    invariant,
                )?
                .count(offset_of!(SoftmaxArgs, rows), outer as i64)
                .ptr(offset_of!(SoftmaxArgs, x), self.loc(x)?)
                .ptr(offset_of!(SoftmaxArgs, y), self.loc(out)?)
            }
            LayerKind::Activation { .. }
            | LayerKind::Unary { .. }
            | LayerKind::Identity
            | LayerKind::Scale { .. } => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let vol = volume(shape(x));
                let mut args = MapArgs {
                    x_n: vol as i64,
                    xt: self.store[x].tag(),
                    yt,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                let mut coefs = None;
                match &layer.kind {
                    LayerKind::Activation { kind, alpha, beta } => {
                        (args.op, args.code, args.alpha, args.beta) =
                            (0, *kind as i32, *alpha, *beta);
                    }
                    LayerKind::Unary { op } => (args.op, args.code) = (1, *op as i32),
                    LayerKind::Scale {
                        mode,
                        shift,
                        scale,
                        power,
                    } => {
                        let s = shape(x);
                        let r = s.len();
                        let (run_len, n) = match mode {
                            crate::types::ScaleMode::Uniform => (vol, 1),
                            crate::types::ScaleMode::Channel => {
                                (s[r - 2..].iter().product(), s[r - 3])
                            }
                            crate::types::ScaleMode::Elementwise => (1, vol),
                        };
                        let or =
                            |w: &[f32], d: f32| if w.is_empty() { vec![d; n] } else { w.to_vec() };
                        let locs = [
                            self.upload(&or(&shift.values, 0.0))?,
                            self.upload(&or(&scale.values, 1.0))?,
                            self.upload(&or(&power.values, 1.0))?,
                        ];
                        coefs = Some(locs);
                        args.op = 2;
                        args.run_len = run_len.max(1) as i32;
                        args.coefs = n.max(1) as i32;
                        args.runs = (vol / run_len.max(1)).max(1) as i32;
                    }
                    _ => args.op = 3,
                }
                let bcast = net.tensors[x].broadcast_across_batch;
                let mut st = Step::new(
                    "map",
                    &args,
                    Grid::Flat {
                        per_item: vol as u64,
                    },
                    invariant,
                )?
                .count(offset_of!(MapArgs, n), vol as i64)
                .ptr(offset_of!(MapArgs, x), self.loc(x)?)
                .ptr(offset_of!(MapArgs, y), self.loc(out)?);
                if !bcast {
                    st = st.count(offset_of!(MapArgs, x_n), vol as i64);
                }
                if let Some([sh, sc, pw]) = coefs {
                    st = st
                        .ptr(offset_of!(MapArgs, shift), sh)
                        .ptr(offset_of!(MapArgs, scale), sc)
                        .ptr(offset_of!(MapArgs, power), pw);
                }
                st
            }
            LayerKind::ElementWise { .. } | LayerKind::ParametricRelu | LayerKind::Select => {
                // Select's inputs are the condition, then the two choices.
                let select = matches!(layer.kind, LayerKind::Select);
                let (a, bt) = (
                    layer.inputs[select as usize],
                    layer.inputs[select as usize + 1],
                );
                let oshape = shape(out);
                let rank = oshape.len() + 1;
                let mut dims = [1i32; 8];
                for (d, &v) in oshape.iter().enumerate() {
                    dims[d + 1] = v as i32;
                }
                let strides = |t: TensorId| -> [i64; 8] {
                    let sh = shape(t);
                    let mut s = [0i64; 8];
                    let mut step = 1i64;
                    for d in (1..rank).rev() {
                        s[d] = if sh[d - 1] == 1 && oshape[d - 1] != 1 {
                            0
                        } else {
                            step
                        };
                        step *= sh[d - 1] as i64;
                    }
                    s[0] = if net.tensors[t].broadcast_across_batch {
                        0
                    } else {
                        step
                    };
                    s
                };
                let op = match &layer.kind {
                    LayerKind::ElementWise { op } => *op as i32,
                    LayerKind::Select => 9,
                    _ => 8,
                };
                let mut args = BinArgs {
                    rank: rank as i32,
                    dims,
                    sa: strides(a),
                    sb: strides(bt),
                    op,
                    at: self.store[a].tag(),
                    bt: self.store[bt].tag(),
                    yt,
                    as_: self.store[a].scale(),
                    bs: self.store[bt].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                let cond = select.then_some(layer.inputs[0]);
                if let Some(c) = cond {
                    args.sc = strides(c);
                    args.ct = self.store[c].tag();
                    args.cs = self.store[c].scale();
                }
                let vol = volume(oshape);
                // dims[0] is the batch.
                let st = Step::new(
                    "binary",
                    &args,
                    Grid::Flat {
                        per_item: vol as u64,
                    },
                    invariant,
                )?
                .count(offset_of!(BinArgs, n), vol as i64)
                .count32(offset_of!(BinArgs, dims))
                .ptr(offset_of!(BinArgs, a), self.loc(a)?)
                .ptr(offset_of!(BinArgs, b), self.loc(bt)?)
                .ptr(offset_of!(BinArgs, y), self.loc(out)?);
                match cond {
                    Some(c) => st.ptr(offset_of!(BinArgs, c), self.loc(c)?),
                    None => st,
                }
            }
            LayerKind::Concatenation { axis } => {
                let oshape = shape(out);
                let inner: usize = oshape[axis + 1..].iter().product();
                let outer: usize = oshape[..*axis].iter().product();
                let row = oshape[*axis] * inner;
                let mut off = 0;
                let y = self.loc(out)?;
                let mut last = None;
                for &x in &layer.inputs {
                    let len = shape(x)[*axis] * inner;
                    let args = CopyArgs {
                        x_wrap: self.wrap(x, outer),
                        len: len as i32,
                        row: row as i32,
                        off: off as i32,
                        xt: self.store[x].tag(),
                        yt,
                        xs: self.store[x].scale(),
                        ys: ys.scale(),
                        ..Default::default()
                    };
                    let st = Step::new(
                        "copy_rows",
                        &args,
                        Grid::Flat {
                            per_item: (outer * len) as u64,
                        },
                        invariant,
                    )?
                    .count(offset_of!(CopyArgs, rows), outer as i64)
                    .ptr(offset_of!(CopyArgs, x), self.loc(x)?)
                    .ptr(offset_of!(CopyArgs, y), y);
                    if let Some(prev) = last.replace(st) {
                        self.steps.push(prev);
                    }
                    off += len;
                }
                last.ok_or_else(|| named("no input".into()))?
            }
            LayerKind::Padding { pre, .. } => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let (s, o) = (shape(x), shape(out));
                let (r, m) = (s.len(), o.len());
                let planes: usize = s[..r - 2].iter().product();
                let args = PadArgs {
                    x_wrap: self.wrap(x, planes),
                    h: s[r - 2] as i32,
                    w: s[r - 1] as i32,
                    oh: o[m - 2] as i32,
                    ow: o[m - 1] as i32,
                    pre_h: pre[0] as i32,
                    pre_w: pre[1] as i32,
                    xt: self.store[x].tag(),
                    yt,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                Step::new(
                    "pad",
                    &args,
                    Grid::Flat {
                        per_item: (planes * o[m - 2] * o[m - 1]) as u64,
                    },
                    invariant,
                )?
                .count(offset_of!(PadArgs, planes), planes as i64)
                .ptr(offset_of!(PadArgs, x), self.loc(x)?)
                .ptr(offset_of!(PadArgs, y), self.loc(out)?)
            }
            LayerKind::Lrn {
                window,
                alpha,
                beta,
                k,
            } => {
                let x = x_t.ok_or_else(|| named("no input".into()))?;
                let s = shape(x);
                let r = s.len();
                let outer: usize = s[..r - 3].iter().product();
                let (c, plane) = (s[r - 3], s[r - 2] * s[r - 1]);
                let args = LrnArgs {
                    x_wrap: self.wrap(x, outer),
                    c: c as i32,
                    plane: plane as i32,
                    window: *window as i32,
                    alpha: *alpha,
                    beta: *beta,
                    k: *k,
                    xt: self.store[x].tag(),
                    yt,
                    xs: self.store[x].scale(),
                    ys: ys.scale(),
                    ..Default::default()
                };
                Step::new(
                    "lrn",
                    &args,
                    Grid::Flat {
                        per_item: (outer * c * plane) as u64,
                    },
                    invariant,
                )?
                .count(offset_of!(LrnArgs, items), outer as i64)
                .ptr(offset_of!(LrnArgs, x), self.loc(x)?)
                .ptr(offset_of!(LrnArgs, y), self.loc(out)?)
            }
            LayerKind::Constant { weights, .. } => {
                // Constants are batch-invariant: the tensor is the uploaded buffer itself.
                let v = &weights.values;
                let loc = match ys {
                    Store::F16 => self.upload(
                        &v.iter()
                            .map(|&v| half::f16::from_f32(v).to_bits())
                            .collect::<Vec<u16>>(),
                    )?,
                    Store::I8(s) => self.upload(
                        &v.iter()
                            .map(|&v| (v / s).round().clamp(-127.0, 127.0) as i8)
                            .collect::<Vec<i8>>(),
                    )?,
                    Store::F32Half => self.upload(
                        &v.iter()
                            .map(|&v| half::f16::from_f32(v).to_f32())
                            .collect::<Vec<f32>>(),
                    )?,
                    Store::F32 => self.upload(v)?,
                    Store::I32 => {
                        self.upload(&v.iter().map(|&v| v as i32).collect::<Vec<i32>>())?
                    }
                };
                self.locs[out] = Some(loc);
                return Ok(());
            }
            LayerKind::Shuffle(p) => self.shuffle(l, p)?,
            LayerKind::Slice {
                start,
                size,
                stride,
            } => self.slice(l, start, size, stride)?,
            LayerKind::Gather { axis } => self.gather(l, *axis)?,
            LayerKind::Reduce { op, axes, .. } => self.reduce(l, *op as i32, *axes)?,
            LayerKind::TopK { op, k, axes } => {
                self.topk(l, *op == crate::types::TopKOperation::Max, *k, *axes)?
            }
            LayerKind::MatrixMultiply { op0, op1 } => self.matmul(l, *op0, *op1)?,
            LayerKind::Deconvolution(p) => self.deconv(l, p)?,
            LayerKind::Plugin(p) => return self.plugin(l, p),
            _ => return Err(named("no CUDA kernel".into())),
        };
        let mut step = step;
        step.tactic = tactic.map(|t| (l, t));
        step.label = fused.label(net, l);
        self.steps.push(step);
        Ok(())
    }

    /// A convolution or FC layer as igemm.cu's implicit GEMM. `gemm` holds the output geometry
    /// and the fused epilogue; this adds the input, the padded weights and the offset table.
    #[allow(clippy::too_many_arguments)]
    fn gemm_step(
        &mut self,
        l: LayerId,
        x: TensorId,
        out: TensorId,
        mut gemm: GemmArgs,
        red: &Reduction,
        (w, bias, n): (&[f32], &[f32], usize),
        outer: usize,
        invariant: bool,
    ) -> Result<Step> {
        let precision = self.engine.precisions[l];
        let (kdim, kpad) = (red.kdim(), red.kpad());
        if w.len() != n * kdim {
            crate::bail!(
                Runtime,
                "layer '{}': {} weights for {n} x {kdim}",
                self.net.layers[l].name,
                w.len()
            );
        }
        gemm.inside = red.inside(&gemm) as i32;
        gemm.c = red.c as i32;
        gemm.h = red.h as i32;
        gemm.w_ = red.w as i32;
        gemm.n = n as i32;
        gemm.kdim = kdim as i32;
        gemm.kpad = kpad as i32;
        let tiles = Tiling::of(precision, n);
        gemm.npad = tiles.npad() as i32;
        gemm.xs = self.store[x].scale();
        gemm.ys = self.store[out].scale();
        let bias_v = if bias.is_empty() {
            vec![0.0; n]
        } else {
            bias.to_vec()
        };
        let bias = self.upload(&tiles.pad_channels(&bias_v))?;
        let mut epilogue = None;
        let mut wscale = None;
        // FP16 and INT8 convolutions whose items fit in shared memory run on resident.cu, with
        // its own weights; everything else on igemm.cu.
        let res = Resident::of(
            precision,
            red,
            &gemm,
            n,
            self.store[out].size(),
            self.shared_per_block,
        )
        .filter(|_| resident::enabled());
        let mut res_w = None;
        let wbuf = match precision {
            Precision::Float => self.upload(&tiles.pack_f32(w, n, kdim, kpad))?,
            Precision::Half => {
                let h: Vec<u16> = w
                    .iter()
                    .map(|&v| half::f16::from_f32(v).to_bits())
                    .collect();
                if let Some(r) = &res {
                    res_w = Some(self.upload(&r.pack(&h, red, n))?);
                }
                self.upload(&igemm::pack_rows(&h, &tiles, kdim, kpad))?
            }
            Precision::Int8 => {
                let s = self.engine.scales[x].ok_or_else(|| {
                    Error::Runtime(format!(
                        "INT8 input '{}' has no scale",
                        self.net.tensors[x].name
                    ))
                })?;
                gemm.qs = s;
                gemm.raw =
                    matches!(self.store[x], Store::I8(xs) if xs.to_bits() == s.to_bits()) as i32;
                let (iw, scales) = int8_weights(w, n);
                wscale = Some(self.upload(&tiles.pad_channels(&scales))?);
                let (emul, eadd, units) =
                    int8_epilogue(s, &scales, &bias_v, self.store[out], gemm.act);
                if units {
                    gemm.ys = 1.0;
                }
                epilogue = Some((
                    self.upload(&tiles.pad_channels(&emul))?,
                    self.upload(&tiles.pad_channels(&eadd))?,
                ));
                if let Some(r) = &res {
                    res_w = Some(self.upload(&r.pack(&iw, red, n))?);
                }
                self.upload(&igemm::pack_rows(&iw, &tiles, kdim, kpad))?
            }
        };
        let ti = self.store[x].typed().unwrap_or("f32");
        let to = self.store[out].typed().unwrap_or("f32h");
        // What every launch of the layer reads and writes.
        let (xl, yl) = (self.loc(x)?, self.loc(out)?);
        let io = |st: Step, wbuf| {
            let mut st = st
                .count(offset_of!(GemmArgs, items), outer as i64)
                .ptr(offset_of!(GemmArgs, x), xl)
                .ptr(offset_of!(GemmArgs, y), yl)
                .ptr(offset_of!(GemmArgs, w), wbuf)
                .ptr(offset_of!(GemmArgs, bias), bias);
            if let Some(ws) = wscale {
                st = st.ptr(offset_of!(GemmArgs, wscale), ws);
            }
            if let Some((emul, eadd)) = epilogue {
                st = st
                    .ptr(offset_of!(GemmArgs, emul), emul)
                    .ptr(offset_of!(GemmArgs, eadd), eadd);
            }
            st
        };
        // The tensor-core kernels' precision in their names (FP16 or INT8).
        let mode = if precision == Precision::Int8 {
            "q"
        } else {
            "h"
        };
        let resident = if let (Some(r), Some(rw)) = (&res, res_w) {
            let grid = Grid::Staged {
                per_item: outer as u64,
                items: r.most_items() as u64,
                splits: 1,
                items_at: offset_of!(GemmArgs, ib),
                // resident.cu's launch bound.
                per_sm: 2,
            };
            let woff = self.upload(&r.offsets(red))?;
            let st = Step::new(
                &format!("resident_{mode}_{ti}_{to}"),
                &r.args(gemm),
                grid,
                invariant,
            )?
            .shared(r.shared(r.most_items()) as u32)?;
            Some(io(st, rw).ptr(offset_of!(GemmArgs, woff), woff))
        } else {
            None
        };
        // FC layers over many rows whose input is stored as the multiplication reads it (half;
        // INT8 on the layer's grid), in whole 16-byte words a row, in device memory of the
        // engine's own: fc_mma.cu copies the rows as they are.
        let esize = self.store[x].size();
        let fc_mma = gemm.dense != 0
            && !invariant
            && gemm.softmax == 0
            && resident::enabled()
            && !matches!(xl, Loc::Binding(_))
            && (kdim * esize).is_multiple_of(16)
            && match precision {
                Precision::Half => self.store[x] == Store::F16,
                Precision::Int8 => gemm.raw != 0,
                Precision::Float => false,
            };
        let fc_mma = if fc_mma {
            let grid = Grid::Gemm {
                rows_per_item: outer as u64,
                tile_rows: FC_MMA_ROWS as u32,
                col_tiles: tiles.col_tiles as u32,
                ksteps: (kpad / igemm::GK) as u32,
                splits_at: offset_of!(GemmArgs, splits),
                parts: 0,
            };
            // Four stages of 128 + 64 staged rows (48 or 80 bytes), or the epilogue's tile.
            let row = if esize == 1 { 48 } else { 80 };
            let smem = (4 * (FC_MMA_ROWS + 64) * row).max(FC_MMA_ROWS * 65 * 4);
            let st = Step::new(&format!("fc_mma_{mode}_{ti}_{to}"), &gemm, grid, false)?
                .shared(smem as u32)?;
            Some(io(st, wbuf))
        } else {
            None
        };
        let ktab = self.upload(&red.table())?;
        let np = (gemm.pool_h * gemm.pool_w) as usize;
        let rows_per_item = outer * (gemm.poh * gemm.pow_) as usize * np;
        let batches = if invariant {
            1
        } else {
            self.engine.max_batch_size as u64
        };
        let blocks = 3 * self.sms as u64;
        // The small runs' tiles, and their weights: packed again where the large tiles are 56
        // channels wide (a 64x64 tile's slots hold 64 channels).
        let small = match tiles.small(n) {
            Some(s) if s.cols == tiles.cols => Some((s, wbuf)),
            Some(s) => Some((s, self.upload(&s.pack_f32(w, n, kdim, kpad))?)),
            None => None,
        };
        let mut launch = |t: &Tiling, wbuf| -> Result<Step> {
            let name = t.kernel(precision, ti, to);
            let gemm = GemmArgs {
                npad: t.npad() as i32,
                ..gemm
            };
            let grid = |splits_at, parts| Grid::Gemm {
                rows_per_item: rows_per_item as u64,
                tile_rows: t.rows as u32,
                col_tiles: t.col_tiles as u32,
                ksteps: (kpad / igemm::GK) as u32,
                splits_at,
                parts,
            };
            let grid_here = grid(offset_of!(GemmArgs, splits), self.split_cap);
            let mut st = Step::new(&name, &gemm, grid_here, invariant)?;
            let need = step::parts_needed(&grid_here, batches, self.sms);
            let unlimited = grid(0, step::parts_within(usize::MAX, self.sms));
            self.split_wanted = self
                .split_wanted
                .max(step::parts_needed(&unlimited, batches, self.sms));
            // A launch that never splits leaves both pointers null: igemm.cu reads them only to
            // split.
            if need > 0 {
                let (part, counters) = self.split_workspace(need)?;
                st = st
                    .ptr(offset_of!(GemmArgs, part), part)
                    .ptr(offset_of!(GemmArgs, counters), counters);
            }
            Ok(io(st, wbuf).ptr(offset_of!(GemmArgs, ktab), ktab))
        };
        let st = launch(&tiles, wbuf)?;
        if let Some(fc) = fc_mma {
            // Runs of fewer than two blocks an SM stay on igemm.cu, whose split reductions
            // fill the GPU (a 128-row tile holds a batch of 100 whole).
            let blocks = 2 * self.sms as usize;
            let most = (blocks * FC_MMA_ROWS).div_ceil(tiles.col_tiles) / outer.max(1);
            return Ok(fc.or_below(most as u64, st));
        }
        if let Some(res) = resident {
            // A job's eight warps take two 16-row tiles at a time, and a job stages fewer than
            // four items until every SM has four jobs (step.rs `Staged`): runs of up to 12 items
            // an SM leave most warps idle there and go to igemm.cu (LeNet conv2 at batch 1 and
            // 100 on an H200: 47-49 µs there, 13.7-19.1 on igemm.cu).
            let most = (12 * self.sms as usize).div_ceil(outer.max(1)) as u64;
            return Ok(res.or_below(most, st));
        }
        match small {
            // Runs whose large tiles would be fewer than a wave of three blocks per SM.
            Some((t, w)) => {
                let most = tiles.batches_below(rows_per_item, blocks);
                Ok(st.or_below(most, launch(&t, w)?))
            }
            _ => Ok(st),
        }
    }

    /// The partial tiles and tile counters of split reductions (step.rs `split`), shared by
    /// every igemm launch (launches on one stream never overlap), for a launch holding up to
    /// `parts` partial tiles.
    fn split_workspace(&mut self, parts: u64) -> Result<(Loc, Loc)> {
        self.split_need = self.split_need.max(parts);
        if let Some(w) = self.split_ws {
            return Ok(w);
        }
        let part = self.buffer(DeviceBuffer::alloc_from(0, &None)?);
        let counters = self.buffer(DeviceBuffer::alloc_from(0, &None)?);
        self.split_ws = Some((part, counters));
        Ok((part, counters))
    }

    /// Allocates the reserved split workspace at the size the launches need; gives its bytes.
    /// Counters start at zero (one per tile: a split launch has at most half as many tiles as
    /// partial tiles).
    fn allocate_split_workspace(&mut self) -> Result<usize> {
        let Some((Loc::Buffer(part), Loc::Buffer(counters))) = self.split_ws else {
            return Ok(0);
        };
        let parts = self.split_need as usize;
        self.buffers[part] = DeviceBuffer::alloc_from(parts * igemm::PART_WORDS * 4, &self.source)?;
        self.buffers[counters] = DeviceBuffer::from_slice_in(&vec![0i32; parts], &self.source)?;
        Ok(parts * step::PART_BYTES)
    }

    /// fc_rows.cu's launch of an FC layer (see [`fc_rows_fit`]) for runs of at most `most` items.
    #[allow(clippy::too_many_arguments)]
    fn fc_rows(
        &self,
        mut args: FcArgs,
        weights: &Weights,
        (x, out): (TensorId, TensorId),
        outer: usize,
        (rows, row_bytes): (usize, usize),
        q: bool,
        invariant: bool,
    ) -> Result<Step> {
        args.xt = self.store[x].tag();
        args.yt = self.store[out].tag();
        let blocks = if args.softmax != 0 {
            1
        } else {
            (args.n as u32).div_ceil(FC_ROWS_WARPS)
        };
        let name = if q { "fc_rows_q" } else { "fc_rows_f" };
        let st = Step::new(name, &args, Grid::Fixed { blocks }, invariant)?
            .count(offset_of!(FcArgs, rows), outer as i64)
            .ptr(offset_of!(FcArgs, x), self.loc(x)?)
            .ptr(offset_of!(FcArgs, y), self.loc(out)?)
            .shared((rows * row_bytes).next_multiple_of(16) as u32)?;
        Ok(weights.apply(
            st,
            offset_of!(FcArgs, w),
            offset_of!(FcArgs, wq),
            offset_of!(FcArgs, bias),
            offset_of!(FcArgs, wscale),
        ))
    }

    fn typed_name(&self, base: &str, q: bool, x: TensorId, y: TensorId) -> Result<String> {
        let ti = self.store[x].typed().unwrap_or("f32");
        let to = self.store[y].typed().ok_or_else(|| {
            Error::Runtime(format!("{base}: no kernel writes FP32-held half values"))
        })?;
        Ok(format!("{base}_{}_{ti}_{to}", if q { "q" } else { "f" }))
    }

    /// Uploads a conv/FC layer's weights: FP32 values, or INT8 integers with per-channel scales;
    /// sets the INT8 input scale and whether the input is already on that grid.
    #[allow(clippy::too_many_arguments)]
    fn weights(
        &mut self,
        w: &[f32],
        bias: &[f32],
        channels: usize,
        q: bool,
        (x, out, act): (TensorId, TensorId, i32),
        qs: &mut f32,
        raw: &mut i32,
        ys: &mut f32,
    ) -> Result<Weights> {
        let bias = if bias.is_empty() {
            vec![0.0; channels]
        } else {
            bias.to_vec()
        };
        if !q {
            return Ok(Weights {
                w: Some(self.upload(w)?),
                wq: None,
                wscale: None,
                bias: self.upload(&bias)?,
            });
        }
        let s = self.engine.scales[x].ok_or_else(|| {
            Error::Runtime(format!(
                "INT8 input '{}' has no scale",
                self.net.tensors[x].name
            ))
        })?;
        *qs = s;
        *raw = matches!(self.store[x], Store::I8(xs) if xs.to_bits() == s.to_bits()) as i32;
        let (iw, scales) = int8_weights(w, channels);
        // `wscale` and `bias` carry the epilogue factors.
        let (mul, add, units) = int8_epilogue(s, &scales, &bias, self.store[out], act);
        if units {
            *ys = 1.0;
        }
        Ok(Weights {
            w: None,
            wq: Some(self.upload(&iw)?),
            wscale: Some(self.upload(&mul)?),
            bias: self.upload(&add)?,
        })
    }
}

struct Weights {
    w: Option<Loc>,
    wq: Option<Loc>,
    wscale: Option<Loc>,
    bias: Loc,
}

impl Weights {
    fn apply(&self, mut st: Step, w: usize, wq: usize, bias: usize, wscale: usize) -> Step {
        for (off, loc) in [(w, self.w), (wq, self.wq), (wscale, self.wscale)] {
            if let Some(loc) = loc {
                st = st.ptr(off, loc);
            }
        }
        st.ptr(bias, self.bias)
    }
}

#[cfg(test)]
mod tests {
    use super::{ConvArgs, PoolParams, shallow_mma, staged_items};
    use crate::types::PoolingType;

    #[test]
    fn shallow_mma_tiles_and_jobs() {
        // LeNet's conv1, INT8 out, pooled: 28 rows of 15 words per copy, 144 blocks, 2880 bytes
        // of output per item; 11 items are 69232 bytes, 12 would pass 72 KiB.
        let mut a = ConvArgs {
            c: 1,
            h: 28,
            w_: 28,
            k: 20,
            oh: 24,
            ow: 24,
            kh: 5,
            kw: 5,
            poh: 12,
            pow_: 12,
            ..Default::default()
        };
        let pool = PoolParams::new(PoolingType::Max, [2, 2]);
        let m = shallow_mma(&a, Some(&pool), 1).unwrap();
        assert_eq!(
            (m.suffix.as_str(), m.item_words, m.items),
            ("_m2n3k2", 840, 11)
        );
        assert_eq!(m.bytes(11), 69232);
        // Unpooled with FP16 outputs: 144 blocks of 4 positions, 23040 bytes of output per item.
        let m = shallow_mma(&a, None, 2).unwrap();
        assert_eq!(
            (m.suffix.as_str(), m.fixed_words, m.items),
            ("_m1n3k2", 144, 2)
        );
        // Pooling of stride 1, and more than 32 channels, stay on the FMA variant.
        let mut overlapping = pool.clone();
        overlapping.stride = [1, 1];
        assert!(shallow_mma(&a, Some(&overlapping), 1).is_none());
        a.k = 33;
        assert!(shallow_mma(&a, None, 1).is_none());
    }

    #[test]
    fn staged_items_fill_whole_rounds_of_threads() {
        // LeNet's conv1 pooled: 7 items are 1008 positions, 98% of four rounds of 256 threads.
        assert_eq!(staged_items(144, 28 * 28 * 4, 5 * 27 * 16), 7);
        assert_eq!(staged_items(256, 64, 0), 1);
        // Shared memory holds one item only.
        assert_eq!(staged_items(100, 40 * 1024, 4096), 1);
    }
}
