//! The engine file: `INFER8EN`, format version, payload length, FNV-1a checksum, payload
//! (little-endian). The payload holds what defines an engine (network with converted weights, max
//! batch, precisions, scales); bindings, order and memory plan are re-derived and re-checked on load
//! by [`Engine::assemble`], so a file cannot smuggle in an inconsistent plan.
//!
//! Plugin layers (types 10 and 23) hold the plugin's own bytes; an `IPluginV2` layer also the
//! creator's name, version and namespace. Reading one needs a [`PluginResolver`] (the application's
//! `IPluginFactory` or the plugin registry); files without plugin layers read as before.

use super::{BindingProfile, Engine, Precision, Tactic};
use crate::error::{Error, Result};
use crate::network::plugin::{NoPlugins, PluginLayer, PluginOrigin, PluginResolver};
use crate::network::*;
use crate::types::*;

const MAGIC: &[u8; 8] = b"INFER8EN";
/// 2: the explicit-batch flag follows the network name. 3: the dynamic inputs' ranges follow the
/// scales (version 2 files, which have none, are still read). 4: the builder's maximum workspace
/// and the workspace the CUDA plan needs follow the ranges, then each layer's timed CUDA tactic
/// (older files read as unlimited, 0 and none).
const FORMAT_VERSION: u32 = 4;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.usize(b.len());
        self.0.extend_from_slice(b);
    }
    fn usizes(&mut self, v: &[usize]) {
        self.usize(v.len());
        v.iter().for_each(|&x| self.usize(x));
    }
    fn i64s(&mut self, v: &[i64]) {
        self.usize(v.len());
        v.iter().for_each(|&x| self.i64(x));
    }
    fn hw(&mut self, v: [usize; 2]) {
        self.usize(v[0]);
        self.usize(v[1]);
    }
    fn opt_dtype(&mut self, v: Option<DataType>) {
        self.i32(v.map_or(-1, |d| d as i32));
    }
    fn weights(&mut self, w: &Weights) {
        self.opt_dtype(w.dtype);
        self.usize(w.values.len());
        w.values.iter().for_each(|&v| self.f32(v));
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            crate::bail!(
                Format,
                "engine file is truncated at payload byte {}",
                self.pos
            );
        }
        self.pos += n;
        Ok(&self.data[self.pos - n..self.pos])
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| fmt_err("u64"))?,
        ))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| fmt_err("i32"))?,
        ))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_bits(self.i32()? as u32))
    }
    fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => crate::bail!(
                Format,
                "engine file has an invalid flag value {v} at byte {}",
                self.pos
            ),
        }
    }
    fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| fmt_err("size"))
    }
    /// A count of elements of `elem` bytes each, checked against the bytes left before allocating.
    fn count(&mut self, elem: usize) -> Result<usize> {
        let n = self.usize()?;
        if n.checked_mul(elem)
            .is_none_or(|b| b > self.data.len() - self.pos)
        {
            crate::bail!(
                Format,
                "engine file declares {n} elements at byte {}, more than the file holds",
                self.pos
            );
        }
        Ok(n)
    }
    /// A dimension or layer parameter: TensorRT's are C++ `int`s, and keeping them in that range
    /// keeps shape arithmetic on hostile values from overflowing.
    fn int(&mut self) -> Result<usize> {
        let v = self.u64()?;
        usize::try_from(v)
            .ok()
            .filter(|&v| v <= i32::MAX as usize)
            .ok_or_else(|| {
                Error::Format(format!(
                    "engine file has an out-of-range value {v} at byte {}",
                    self.pos - 8
                ))
            })
    }
    fn signed_int(&mut self) -> Result<i64> {
        let v = self.i64()?;
        if v.unsigned_abs() > i32::MAX as u64 {
            crate::bail!(
                Format,
                "engine file has an out-of-range value {v} at byte {}",
                self.pos - 8
            );
        }
        Ok(v)
    }
    fn str(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| fmt_err("name (not UTF-8)"))
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.count(1)?;
        self.take(n)
    }
    fn usizes(&mut self) -> Result<Vec<usize>> {
        let n = self.count(8)?;
        (0..n).map(|_| self.int()).collect()
    }
    fn i64s(&mut self) -> Result<Vec<i64>> {
        let n = self.count(8)?;
        (0..n).map(|_| self.signed_int()).collect()
    }
    fn hw(&mut self) -> Result<[usize; 2]> {
        Ok([self.int()?, self.int()?])
    }
    fn enum_<T>(&mut self, what: &str, f: fn(i32) -> Option<T>) -> Result<T> {
        let v = self.i32()?;
        f(v).ok_or_else(|| Error::Format(format!("engine file has an invalid {what} value {v}")))
    }
    fn opt_dtype(&mut self) -> Result<Option<DataType>> {
        match self.i32()? {
            -1 => Ok(None),
            v => DataType::from_i32(v)
                .map(Some)
                .ok_or_else(|| fmt_err("data type")),
        }
    }
    fn weights(&mut self) -> Result<Weights> {
        let dtype = self.opt_dtype()?;
        let n = self.count(4)?;
        let values = (0..n).map(|_| self.f32()).collect::<Result<_>>()?;
        Ok(Weights { dtype, values })
    }
}

fn fmt_err(what: &str) -> Error {
    Error::Format(format!("engine file has an invalid {what}"))
}

fn write_conv(w: &mut Writer, c: &ConvParams) {
    w.usize(c.nb_output_maps);
    for v in [
        c.kernel,
        c.stride,
        c.pre_padding,
        c.post_padding,
        c.dilation,
    ] {
        w.hw(v);
    }
    w.usize(c.groups);
    w.i32(c.padding_mode as i32);
    w.weights(&c.kernel_weights);
    w.weights(&c.bias);
}

fn read_conv(r: &mut Reader) -> Result<ConvParams> {
    Ok(ConvParams {
        nb_output_maps: r.int()?,
        kernel: r.hw()?,
        stride: r.hw()?,
        pre_padding: r.hw()?,
        post_padding: r.hw()?,
        dilation: r.hw()?,
        groups: r.int()?,
        padding_mode: r.enum_("padding mode", PaddingMode::from_i32)?,
        kernel_weights: r.weights()?,
        bias: r.weights()?,
    })
}

/// The plugin's bytes (`serialize`) are the only part that can fail: it is application code.
fn write_kind(w: &mut Writer, k: &LayerKind) -> Result<()> {
    w.i32(k.layer_type() as i32);
    match k {
        LayerKind::Convolution(c) | LayerKind::Deconvolution(c) => write_conv(w, c),
        LayerKind::Pooling(p) => {
            w.i32(p.kind as i32);
            for v in [p.window, p.stride, p.pre_padding, p.post_padding] {
                w.hw(v);
            }
            w.i32(p.padding_mode as i32);
            w.f32(p.blend_factor);
            w.u8(p.average_count_excludes_padding as u8);
        }
        LayerKind::FullyConnected {
            nb_outputs,
            kernel,
            bias,
        } => {
            w.usize(*nb_outputs);
            w.weights(kernel);
            w.weights(bias);
        }
        LayerKind::Activation { kind, alpha, beta } => {
            w.i32(*kind as i32);
            w.f32(*alpha);
            w.f32(*beta);
        }
        LayerKind::ParametricRelu | LayerKind::Identity | LayerKind::Select => {}
        // Lowered by the builder before an engine exists; `read_kind` refuses their tags.
        LayerKind::Resize(_) | LayerKind::Shape | LayerKind::Fill(_) => {}
        LayerKind::Lrn {
            window,
            alpha,
            beta,
            k,
        } => {
            w.usize(*window);
            w.f32(*alpha);
            w.f32(*beta);
            w.f32(*k);
        }
        LayerKind::Scale {
            mode,
            shift,
            scale,
            power,
        } => {
            w.i32(*mode as i32);
            w.weights(shift);
            w.weights(scale);
            w.weights(power);
        }
        LayerKind::SoftMax { axes } => w.u64(*axes as u64),
        LayerKind::Concatenation { axis } => w.usize(*axis),
        LayerKind::ElementWise { op } => w.i32(*op as i32),
        LayerKind::Unary { op } => w.i32(*op as i32),
        LayerKind::Padding { pre, post } => w.i64s(&[pre[0], pre[1], post[0], post[1]]),
        LayerKind::Shuffle(s) => {
            w.usizes(&s.first_transpose);
            w.u8(s.reshape.is_some() as u8);
            w.i64s(s.reshape.as_deref().unwrap_or(&[]));
            w.usizes(&s.second_transpose);
        }
        LayerKind::Constant { dims, weights } => {
            w.usizes(dims);
            w.weights(weights);
        }
        LayerKind::Slice {
            start,
            size,
            stride,
        } => {
            w.i64s(start);
            w.usizes(size);
            w.i64s(stride);
        }
        LayerKind::Reduce {
            op,
            axes,
            keep_dims,
        } => {
            w.i32(*op as i32);
            w.u64(*axes as u64);
            w.u8(*keep_dims as u8);
        }
        LayerKind::TopK { op, k, axes } => {
            w.i32(*op as i32);
            w.usize(*k);
            w.u64(*axes as u64);
        }
        LayerKind::MatrixMultiply { op0, op1 } => {
            w.i32(*op0 as i32);
            w.i32(*op1 as i32);
        }
        LayerKind::Gather { axis } => w.usize(*axis),
        LayerKind::Plugin(p) => {
            if let PluginOrigin::Registry {
                name,
                version,
                namespace,
            } = &p.origin
            {
                w.str(name);
                w.str(version);
                w.str(namespace);
            }
            w.bytes(&p.plugin.serialize()?);
        }
    }
    Ok(())
}

/// A plugin layer of the file, re-created by `plugins`.
fn read_plugin(
    r: &mut Reader,
    layer: &str,
    v2: bool,
    plugins: &mut dyn PluginResolver,
) -> Result<LayerKind> {
    let origin = if v2 {
        PluginOrigin::Registry {
            name: r.str()?,
            version: r.str()?,
            namespace: r.str()?,
        }
    } else {
        PluginOrigin::Factory
    };
    let data = r.bytes()?;
    let plugin = plugins.resolve(layer, &origin, data)?;
    let p = PluginLayer::new(plugin)
        .map_err(|e| Error::Runtime(format!("plugin layer '{layer}': {e}")))?;
    if p.is_v2() != v2 {
        crate::bail!(
            Runtime,
            "plugin layer '{layer}': the re-created plugin is of another generation than the one serialized"
        );
    }
    Ok(LayerKind::Plugin(p))
}

fn read_kind(r: &mut Reader, layer: &str, plugins: &mut dyn PluginResolver) -> Result<LayerKind> {
    let axes = |r: &mut Reader| u32::try_from(r.u64()?).map_err(|_| fmt_err("axes mask"));
    Ok(match r.enum_("layer type", LayerType::from_i32)? {
        LayerType::Convolution => LayerKind::Convolution(read_conv(r)?),
        LayerType::Deconvolution => LayerKind::Deconvolution(read_conv(r)?),
        LayerType::Pooling => LayerKind::Pooling(PoolParams {
            kind: r.enum_("pooling type", PoolingType::from_i32)?,
            window: r.hw()?,
            stride: r.hw()?,
            pre_padding: r.hw()?,
            post_padding: r.hw()?,
            padding_mode: r.enum_("padding mode", PaddingMode::from_i32)?,
            blend_factor: r.f32()?,
            average_count_excludes_padding: r.bool()?,
        }),
        LayerType::FullyConnected => LayerKind::FullyConnected {
            nb_outputs: r.int()?,
            kernel: r.weights()?,
            bias: r.weights()?,
        },
        LayerType::Activation => LayerKind::Activation {
            kind: r.enum_("activation type", ActivationType::from_i32)?,
            alpha: r.f32()?,
            beta: r.f32()?,
        },
        LayerType::ParametricRelu => LayerKind::ParametricRelu,
        LayerType::Identity => LayerKind::Identity,
        LayerType::Select => LayerKind::Select,
        LayerType::Lrn => LayerKind::Lrn {
            window: r.int()?,
            alpha: r.f32()?,
            beta: r.f32()?,
            k: r.f32()?,
        },
        LayerType::Scale => LayerKind::Scale {
            mode: r.enum_("scale mode", ScaleMode::from_i32)?,
            shift: r.weights()?,
            scale: r.weights()?,
            power: r.weights()?,
        },
        LayerType::SoftMax => LayerKind::SoftMax { axes: axes(r)? },
        LayerType::Concatenation => LayerKind::Concatenation { axis: r.int()? },
        LayerType::ElementWise => LayerKind::ElementWise {
            op: r.enum_("element-wise operation", ElementWiseOperation::from_i32)?,
        },
        LayerType::Unary => LayerKind::Unary {
            op: r.enum_("unary operation", UnaryOperation::from_i32)?,
        },
        LayerType::Padding => {
            let v = r.i64s()?;
            let [a, b, c, d] = v[..] else {
                return Err(fmt_err("padding"));
            };
            LayerKind::Padding {
                pre: [a, b],
                post: [c, d],
            }
        }
        LayerType::Shuffle => {
            let first_transpose = r.usizes()?;
            let has_reshape = r.bool()?;
            let reshape = r.i64s()?;
            LayerKind::Shuffle(ShuffleParams {
                first_transpose,
                reshape: has_reshape.then_some(reshape),
                second_transpose: r.usizes()?,
            })
        }
        LayerType::Constant => LayerKind::Constant {
            dims: r.usizes()?,
            weights: r.weights()?,
        },
        LayerType::Slice => LayerKind::Slice {
            start: r.i64s()?,
            size: r.usizes()?,
            stride: r.i64s()?,
        },
        LayerType::Reduce => LayerKind::Reduce {
            op: r.enum_("reduce operation", ReduceOperation::from_i32)?,
            axes: axes(r)?,
            keep_dims: r.bool()?,
        },
        LayerType::TopK => LayerKind::TopK {
            op: r.enum_("top-k operation", TopKOperation::from_i32)?,
            k: r.int()?,
            axes: axes(r)?,
        },
        LayerType::MatrixMultiply => LayerKind::MatrixMultiply {
            op0: r.enum_("matrix operation", MatrixOperation::from_i32)?,
            op1: r.enum_("matrix operation", MatrixOperation::from_i32)?,
        },
        LayerType::Gather => LayerKind::Gather { axis: r.int()? },
        LayerType::Plugin => read_plugin(r, layer, false, plugins)?,
        LayerType::PluginV2 => read_plugin(r, layer, true, plugins)?,
        other => crate::bail!(
            Format,
            "engine file holds a {other:?} layer, which this version cannot run"
        ),
    })
}

/// The engine file of an engine without plugin layers (those the builder of the command line and
/// the C API make).
///
/// # Panics
/// If a plugin layer fails to serialize: use [`try_to_bytes`] for engines that may hold one.
pub fn to_bytes(engine: &Engine) -> Vec<u8> {
    try_to_bytes(engine).expect("only plugin layers fail to serialize")
}

/// The engine file; fails when a plugin layer's `serialize` does.
pub fn try_to_bytes(engine: &Engine) -> Result<Vec<u8>> {
    let net = &engine.network;
    let mut w = Writer::default();
    w.usize(engine.max_batch_size);
    w.str(&net.name);
    w.u8(net.explicit_batch as u8);
    w.usize(net.tensors.len());
    for t in &net.tensors {
        w.str(&t.name);
        w.usizes(&t.shape);
        w.i32(t.dtype as i32);
        w.u8(t.broadcast_across_batch as u8);
        w.i32(t.location as i32);
    }
    w.usizes(&net.inputs);
    w.usizes(&net.outputs);
    w.usize(net.layers.len());
    for (l, p) in net.layers.iter().zip(&engine.precisions) {
        w.str(&l.name);
        write_kind(&mut w, &l.kind)
            .map_err(|e| Error::Runtime(format!("plugin layer '{}': {e}", l.name)))?;
        w.usizes(&l.inputs);
        w.usizes(&l.outputs);
        w.u8(*p as u8);
    }
    for s in &engine.scales {
        w.f32(s.unwrap_or(0.0));
    }
    w.usize(engine.profile.len());
    for r in &engine.profile {
        w.usize(r.binding);
        w.i64s(&r.declared);
        for d in [&r.min, &r.opt, &r.max] {
            w.usizes(d);
        }
    }
    w.usize(engine.max_workspace_size);
    w.usize(engine.workspace_size);
    for t in &engine.tactics {
        w.u8(t.map_or(0, |t| t as u8));
    }
    let payload = w.0;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Reads an engine file; a plugin layer in it is an error (see [`from_bytes_with`]).
pub fn from_bytes(data: &[u8]) -> Result<Engine> {
    from_bytes_with(data, &mut NoPlugins)
}

/// Reads an engine file, re-creating its plugin layers through `plugins`, and initializes them.
pub fn from_bytes_with(data: &[u8], plugins: &mut dyn PluginResolver) -> Result<Engine> {
    if data.len() < HEADER_LEN || &data[..8] != MAGIC {
        crate::bail!(
            Format,
            "not an infer8 engine file (bad magic or shorter than the {HEADER_LEN}-byte header)"
        );
    }
    let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if !(2..=FORMAT_VERSION).contains(&version) {
        crate::bail!(
            Format,
            "engine file format version {version} is not supported (this library reads 2 to {FORMAT_VERSION})"
        );
    }
    let len = u64::from_le_bytes(data[12..20].try_into().map_err(|_| fmt_err("header"))?);
    let sum = u64::from_le_bytes(data[20..28].try_into().map_err(|_| fmt_err("header"))?);
    let payload = &data[HEADER_LEN..];
    if payload.len() as u64 != len {
        crate::bail!(
            Format,
            "engine file is {} bytes, its header says {}",
            data.len(),
            // The header is untrusted: its length may be anything up to u64::MAX.
            len.saturating_add(HEADER_LEN as u64)
        );
    }
    if fnv1a(payload) != sum {
        crate::bail!(Format, "engine file checksum mismatch: the file is corrupt");
    }
    let mut r = Reader {
        data: payload,
        pos: 0,
    };
    let max_batch = r.int()?;
    let mut net = Network {
        name: r.str()?,
        explicit_batch: r.bool()?,
        ..Network::default()
    };
    let nt = r.count(1)?;
    for _ in 0..nt {
        net.tensors.push(Tensor {
            name: r.str()?,
            shape: r.usizes()?,
            dtype: r.enum_("data type", DataType::from_i32)?,
            producer: None,
            dynamic_range: None,
            broadcast_across_batch: r.bool()?,
            location: r.enum_("tensor location", TensorLocation::from_i32)?,
        });
    }
    let check = |ids: &[usize]| ids.iter().all(|&t| t < nt);
    net.inputs = r.usizes()?;
    net.outputs = r.usizes()?;
    let nl = r.count(1)?;
    let mut precisions = Vec::with_capacity(nl);
    for id in 0..nl {
        let name = r.str()?;
        let kind = read_kind(&mut r, &name, plugins)?;
        let inputs = r.usizes()?;
        let outputs = r.usizes()?;
        if !check(&inputs) || !check(&outputs) || outputs.len() != kind.nb_outputs() {
            crate::bail!(
                Format,
                "engine file: layer '{name}' refers to tensors that do not exist"
            );
        }
        for (i, &o) in outputs.iter().enumerate() {
            if net.tensors[o].producer.replace((id, i)).is_some() || net.inputs.contains(&o) {
                crate::bail!(Format, "engine file: tensor {o} has two producers");
            }
        }
        precisions.push(match r.u8()? {
            0 => Precision::Float,
            1 => Precision::Half,
            2 => Precision::Int8,
            v => crate::bail!(
                Format,
                "engine file: layer '{name}' has an invalid precision {v}"
            ),
        });
        let nb = outputs.len();
        net.layers.push(Layer {
            name,
            kind,
            inputs,
            outputs,
            precision: None,
            output_types: vec![None; nb],
        });
    }
    if !check(&net.inputs) || !check(&net.outputs) {
        crate::bail!(
            Format,
            "engine file: an input or output refers to a tensor that does not exist"
        );
    }
    let scales = (0..nt)
        .map(|_| r.f32().map(|s| (s > 0.0).then_some(s)))
        .collect::<Result<Vec<_>>>()?;
    let mut profile = Vec::new();
    if version >= 3 {
        for _ in 0..r.count(8)? {
            profile.push(BindingProfile {
                binding: r.int()?,
                declared: r.i64s()?,
                min: r.usizes()?,
                opt: r.usizes()?,
                max: r.usizes()?,
            });
        }
    }
    let (mut max_workspace, mut workspace) = (usize::MAX, 0);
    let mut tactics = vec![None; nl];
    if version >= 4 {
        max_workspace = r.usize()?;
        workspace = r.usize()?;
        if workspace > max_workspace {
            crate::bail!(
                Format,
                "engine file: workspace {workspace} exceeds its maximum {max_workspace}"
            );
        }
        for (l, t) in tactics.iter_mut().enumerate() {
            let v = r.u8()?;
            let conv_or_fc = matches!(
                net.layers[l].kind,
                LayerKind::Convolution(_) | LayerKind::FullyConnected { .. }
            );
            *t = match Tactic::from_u8(v) {
                Some(tactic) if conv_or_fc => Some(tactic),
                None if v == 0 => None,
                _ => crate::bail!(
                    Format,
                    "engine file: layer '{}' has an invalid tactic {v}",
                    net.layers[l].name
                ),
            };
        }
    }
    if r.pos != payload.len() {
        crate::bail!(
            Format,
            "engine file has {} unexpected trailing bytes",
            payload.len() - r.pos
        );
    }
    let mut engine = Engine::assemble(net, max_batch, precisions, scales)?;
    // The ranges are untrusted: each must name an input binding, whose built shape is its maximum.
    for r in &profile {
        let ok = engine
            .bindings
            .get(r.binding)
            .is_some_and(|b| b.is_input && b.shape == r.max && r.declared.len() == r.max.len())
            && r.check(&r.min, "").is_ok()
            && r.check(&r.opt, "").is_ok();
        if !ok {
            crate::bail!(
                Format,
                "engine file: the optimization profile of binding {} does not match the engine",
                r.binding
            );
        }
    }
    engine.profile = profile;
    engine.max_workspace_size = max_workspace;
    engine.workspace_size = workspace;
    engine.tactics = tactics;
    super::plugin::start(&engine, false)?;
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Engine {
        let mut net = Network::new();
        let x = net.add_input("data", DataType::Float, &[2, 5, 5]).unwrap();
        let conv = ConvParams::new(
            3,
            [3, 3],
            Weights::new((0..54).map(|i| i as f32 * 0.01).collect()),
            Weights::new(vec![0.1, 0.2, 0.3]),
        );
        let l = net.add_layer(LayerKind::Convolution(conv), &[x]).unwrap();
        let y = net.layers[l].outputs[0];
        net.mark_output(y).unwrap();
        let cfg = crate::builder::BuilderConfig {
            max_batch_size: 4,
            ..Default::default()
        };
        crate::builder::build_engine(&net, &cfg, None, &crate::logger::NullLogger).unwrap()
    }

    #[test]
    fn round_trip_is_identical() {
        let e = tiny();
        let bytes = to_bytes(&e);
        let back = from_bytes(&bytes).unwrap();
        assert_eq!(back, e);
        assert_eq!(to_bytes(&back), bytes);
    }

    #[test]
    fn workspace_sizes_round_trip() {
        let mut e = tiny();
        e.max_workspace_size = 1 << 20;
        e.workspace_size = 3 << 14;
        let back = from_bytes(&to_bytes(&e)).unwrap();
        assert_eq!(
            (back.max_workspace_size, back.workspace_size),
            (1 << 20, 3 << 14)
        );
        e.workspace_size = 2 << 20;
        let err = from_bytes(&to_bytes(&e)).unwrap_err().to_string();
        assert!(err.contains("exceeds its maximum"), "{err}");
    }

    /// A file as format 3 wrote it: the same payload without the two workspace sizes.
    fn as_version_3(v4: &[u8]) -> Vec<u8> {
        let layers = tiny().network.layers.len();
        let payload = &v4[HEADER_LEN..v4.len() - 16 - layers];
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&fnv1a(payload).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn tactics_round_trip_on_convolution_layers_only() {
        let mut e = tiny();
        e.tactics[0] = Some(Tactic::Shared);
        let bytes = to_bytes(&e);
        assert_eq!(from_bytes(&bytes).unwrap().tactics, [Some(Tactic::Shared)]);
        // The tactic byte is the payload's last: 4 is no tactic.
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() = 4;
        let sum = fnv1a(&bad[HEADER_LEN..]).to_le_bytes();
        bad[20..28].copy_from_slice(&sum);
        let err = from_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("invalid tactic 4"), "{err}");
    }

    #[test]
    fn version_3_files_read_with_an_unlimited_workspace() {
        let mut e = tiny();
        e.max_workspace_size = 1 << 20;
        let back = from_bytes(&as_version_3(&to_bytes(&e))).unwrap();
        assert_eq!(
            (back.max_workspace_size, back.workspace_size),
            (usize::MAX, 0)
        );
        assert_eq!(back.tactics, [None]);
        assert_eq!(back.network, e.network);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let bytes = to_bytes(&tiny());
        for n in 0..bytes.len() {
            assert!(
                from_bytes(&bytes[..n]).is_err(),
                "truncated to {n} bytes was accepted"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(from_bytes(&b).is_err(), "bit flip at byte {i} was accepted");
        }
    }
}
