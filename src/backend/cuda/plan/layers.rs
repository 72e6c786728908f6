//! Steps of the layers that rearrange, reduce or multiply whole tensors: Shuffle, Slice and Gather
//! (kernels/layout.cu), Reduce and TopK (reduce.cu), MatrixMultiply and Deconvolution
//! (matmul.cu). Each mirrors the index math of its backend/cpu counterpart and computes in FP32
//! on whatever storage the plan gives its tensors.

use std::mem::offset_of;

use super::Builder;
use crate::backend::cuda::args::*;
use crate::backend::cuda::step::{Grid, Step};
use crate::error::{Error, Result};
use crate::network::matmul::MatmulGeometry;
use crate::network::shape::{conv_geometry, shuffle_shapes};
use crate::network::{ConvParams, LayerId, ShuffleParams, TensorId};
use crate::types::{MatrixOperation, volume};

/// Element strides of a C-order tensor.
fn c_strides(shape: &[usize]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as i64;
    }
    s
}

/// The dimensions and strides of the transpose whose output dimension `i` is input dimension
/// `perm[i]` (backend/cpu/strided.rs `Plan::transpose`); an empty `perm` keeps the order.
fn transpose(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<i64>) {
    let s = c_strides(shape);
    if perm.is_empty() {
        return (shape.to_vec(), s);
    }
    (
        perm.iter().map(|&p| shape[p]).collect(),
        perm.iter().map(|&p| s[p]).collect(),
    )
}

/// `v` as a kernel's array of up to 8 dimensions.
fn fixed<T: Copy + Default, U: Copy + TryInto<T>>(v: &[U]) -> Result<[T; 8]> {
    let mut a = [T::default(); 8];
    if v.len() > a.len() {
        crate::bail!(
            Unsupported,
            "{} dimensions exceed the CUDA kernels' 8",
            v.len()
        );
    }
    for (a, &v) in a.iter_mut().zip(v) {
        *a = v
            .try_into()
            .map_err(|_| Error::Unsupported("a dimension exceeds 32 bits".into()))?;
    }
    Ok(a)
}

/// Output elements in C order over `dims` read `base + Σ index · strides` of the input, or, with
/// `mid`, a position in the C order over `mid.0` that its strides map to the input.
struct Strided {
    dims: Vec<usize>,
    strides: Vec<i64>,
    base: i64,
    mid: Option<(Vec<usize>, Vec<i64>)>,
}

impl Builder<'_> {
    fn shape(&self, t: TensorId) -> &[usize] {
        &self.net.tensors[t].shape
    }

    /// The first input and output of layer `l`, and whether its outputs are batch-invariant.
    fn io(&self, l: LayerId) -> Result<(TensorId, TensorId, bool)> {
        let layer = &self.net.layers[l];
        let (Some(&x), Some(&y)) = (layer.inputs.first(), layer.outputs.first()) else {
            crate::bail!(Runtime, "layer '{}' has no input or output", layer.name);
        };
        let invariant = layer
            .outputs
            .iter()
            .all(|&t| self.net.tensors[t].broadcast_across_batch);
        Ok((x, y, invariant))
    }

    /// Shuffle: the second transpose maps output positions into the reshaped tensor, which is
    /// the first transpose's output reinterpreted; the first transpose maps that to the input.
    pub(super) fn shuffle(&mut self, l: LayerId, p: &ShuffleParams) -> Result<Step> {
        let (x, ..) = self.io(l)?;
        let s = self.shape(x).to_vec();
        let (_, reshaped, _) = shuffle_shapes(p, &s).map_err(Error::Network)?;
        let (dims, strides) = transpose(&reshaped, &p.second_transpose);
        let kept = p.first_transpose.iter().enumerate().all(|(i, &d)| i == d);
        let g = Strided {
            dims,
            strides,
            base: 0,
            mid: (!kept).then(|| transpose(&s, &p.first_transpose)),
        };
        self.strided(l, &g)
    }

    pub(super) fn slice(
        &mut self,
        l: LayerId,
        start: &[i64],
        size: &[usize],
        stride: &[i64],
    ) -> Result<Step> {
        let (x, ..) = self.io(l)?;
        let s = c_strides(self.shape(x));
        let g = Strided {
            dims: size.to_vec(),
            strides: s.iter().zip(stride).map(|(a, b)| a * b).collect(),
            base: s.iter().zip(start).map(|(a, b)| a * b).sum(),
            mid: None,
        };
        self.strided(l, &g)
    }

    fn strided(&mut self, l: LayerId, g: &Strided) -> Result<Step> {
        let (x, out, invariant) = self.io(l)?;
        let per_item = volume(self.shape(out));
        let (mid_dims, mid_strides) = g.mid.clone().unwrap_or_default();
        let args = StridedArgs {
            per_item: per_item as i64,
            x_item: volume(self.shape(x)) as i64,
            x_wrap: self.wrap(x, 1),
            base: g.base,
            rank: g.dims.len() as i32,
            mid_rank: mid_dims.len() as i32,
            dims: fixed(&g.dims)?,
            mid_dims: fixed(&mid_dims)?,
            strides: fixed(&g.strides)?,
            mid_strides: fixed(&mid_strides)?,
            xt: self.store[x].tag(),
            yt: self.store[out].tag(),
            xs: self.store[x].scale(),
            ys: self.store[out].scale(),
            ..Default::default()
        };
        let grid = Grid::Flat {
            per_item: per_item as u64,
        };
        Ok(Step::new("strided", &args, grid, invariant)?
            .count(offset_of!(StridedArgs, n), per_item as i64)
            .ptr(offset_of!(StridedArgs, x), self.loc(x)?)
            .ptr(offset_of!(StridedArgs, y), self.loc(out)?))
    }

    pub(super) fn gather(&mut self, l: LayerId, axis: usize) -> Result<Step> {
        let (x, out, invariant) = self.io(l)?;
        let idx = self.net.layers[l].inputs[1];
        let s = self.shape(x);
        let (outer, len, inner) = (volume(&s[..axis]), s[axis], volume(&s[axis + 1..]));
        let nidx = volume(self.shape(idx));
        let args = GatherArgs {
            x_wrap: self.wrap(x, 1),
            idx_wrap: self.wrap(idx, 1),
            outer: outer as i32,
            len: len as i32,
            inner: inner as i32,
            nidx: nidx as i32,
            xt: self.store[x].tag(),
            it: self.store[idx].tag(),
            yt: self.store[out].tag(),
            xs: self.store[x].scale(),
            is: self.store[idx].scale(),
            ys: self.store[out].scale(),
            ..Default::default()
        };
        let per_item = outer * nidx * inner;
        let grid = Grid::Flat {
            per_item: per_item as u64,
        };
        Ok(Step::new("gather", &args, grid, invariant)?
            .count(offset_of!(GatherArgs, n), per_item as i64)
            .ptr(offset_of!(GatherArgs, x), self.loc(x)?)
            .ptr(offset_of!(GatherArgs, idx), self.loc(idx)?)
            .ptr(offset_of!(GatherArgs, y), self.loc(out)?))
    }

    pub(super) fn reduce(&mut self, l: LayerId, op: i32, axes: u32) -> Result<Step> {
        let (x, out, invariant) = self.io(l)?;
        let s = self.shape(x).to_vec();
        let strides = c_strides(&s);
        let reduced = |d: usize| axes >> d & 1 == 1;
        let pick = |r: bool| -> (Vec<usize>, Vec<i64>) {
            (0..s.len())
                .filter(|&d| reduced(d) == r)
                .map(|d| (s[d], strides[d]))
                .unzip()
        };
        let ((kdims, kstrides), (rdims, rstrides)) = (pick(false), pick(true));
        let per_item = volume(&kdims);
        let args = ReduceArgs {
            x_wrap: self.wrap(x, 1),
            x_item: volume(&s) as i64,
            per_item: per_item as i64,
            count: volume(&rdims) as i64,
            op,
            kept: kdims.len() as i32,
            reduced: rdims.len() as i32,
            kdims: fixed(&kdims)?,
            rdims: fixed(&rdims)?,
            kstrides: fixed(&kstrides)?,
            rstrides: fixed(&rstrides)?,
            xt: self.store[x].tag(),
            yt: self.store[out].tag(),
            xs: self.store[x].scale(),
            ys: self.store[out].scale(),
            ..Default::default()
        };
        let grid = Grid::Flat {
            per_item: per_item as u64,
        };
        Ok(Step::new("reduce", &args, grid, invariant)?
            .count(offset_of!(ReduceArgs, n), per_item as i64)
            .ptr(offset_of!(ReduceArgs, x), self.loc(x)?)
            .ptr(offset_of!(ReduceArgs, y), self.loc(out)?))
    }

    pub(super) fn topk(&mut self, l: LayerId, max: bool, k: usize, axes: u32) -> Result<Step> {
        let (x, values, invariant) = self.io(l)?;
        let indices = self.net.layers[l].outputs[1];
        let s = self.shape(x);
        let axis = axes.trailing_zeros() as usize;
        let (outer, n, inner) = (volume(&s[..axis]), s[axis], volume(&s[axis + 1..]));
        let args = TopkArgs {
            x_wrap: self.wrap(x, outer),
            n: n as i32,
            inner: inner as i32,
            k: k as i32,
            max: max as i32,
            xt: self.store[x].tag(),
            vt: self.store[values].tag(),
            it: self.store[indices].tag(),
            xs: self.store[x].scale(),
            vs: self.store[values].scale(),
            is: self.store[indices].scale(),
            ..Default::default()
        };
        let grid = Grid::Flat {
            per_item: (outer * n * inner) as u64,
        };
        Ok(Step::new("topk", &args, grid, invariant)?
            .count(offset_of!(TopkArgs, rows), outer as i64)
            .ptr(offset_of!(TopkArgs, x), self.loc(x)?)
            .ptr(offset_of!(TopkArgs, values), self.loc(values)?)
            .ptr(offset_of!(TopkArgs, indices), self.loc(indices)?))
    }

    pub(super) fn matmul(
        &mut self,
        l: LayerId,
        op0: MatrixOperation,
        op1: MatrixOperation,
    ) -> Result<Step> {
        let (a, out, invariant) = self.io(l)?;
        let b = self.net.layers[l].inputs[1];
        let g = MatmulGeometry::new(op0, op1, self.shape(a), self.shape(b), self.shape(out));
        let (m, k, n, lead) = (g.m, g.k, g.n, &g.lead[..]);
        // Per lead dimension, the operand's stride (0 where it repeats), and its item's length.
        let operand = |own: &[usize], size: usize, invariant: bool| {
            let mut strides = vec![0i64; own.len()];
            let mut step = 1;
            for d in (0..own.len()).rev() {
                if own[d] != 1 {
                    strides[d] = (step * size) as i64;
                }
                step *= own[d];
            }
            let item = if invariant { 0 } else { step * size };
            (strides, item as i64)
        };
        let inv = |t: TensorId| self.net.tensors[t].broadcast_across_batch;
        let (sa_, a_item) = operand(&g.a.lead, m * k, inv(a));
        let (sb_, b_item) = operand(&g.b.lead, k * n, inv(b));
        let (a_rs, a_cs, b_rs, b_cs) = (g.a.rs, g.a.cs, g.b.rs, g.b.cs);
        let per_item = volume(lead) * m * n;
        let args = MatmulArgs {
            a_item,
            b_item,
            rank: lead.len() as i32,
            lead: fixed(lead)?,
            sa: fixed(&sa_)?,
            sb: fixed(&sb_)?,
            m: m as i32,
            cols: n as i32,
            k: k as i32,
            a_rs: a_rs as i32,
            a_cs: a_cs as i32,
            b_rs: b_rs as i32,
            b_cs: b_cs as i32,
            at: self.store[a].tag(),
            bt: self.store[b].tag(),
            yt: self.store[out].tag(),
            as_: self.store[a].scale(),
            bs: self.store[b].scale(),
            ys: self.store[out].scale(),
            ..Default::default()
        };
        let grid = Grid::Flat {
            per_item: per_item as u64,
        };
        Ok(Step::new("matmul", &args, grid, invariant)?
            .count(offset_of!(MatmulArgs, n), per_item as i64)
            .ptr(offset_of!(MatmulArgs, a), self.loc(a)?)
            .ptr(offset_of!(MatmulArgs, b), self.loc(b)?)
            .ptr(offset_of!(MatmulArgs, y), self.loc(out)?))
    }

    pub(super) fn deconv(&mut self, l: LayerId, p: &ConvParams) -> Result<Step> {
        let (x, out, invariant) = self.io(l)?;
        let s = self.shape(x);
        let r = s.len();
        if r < 3 {
            crate::bail!(
                Network,
                "deconvolution input {s:?} needs at least 3 dimensions"
            );
        }
        let (c, h, w) = (s[r - 3], s[r - 2], s[r - 1]);
        let outer = volume(&s[..r - 3]);
        let g = conv_geometry(p, [h, w], true).map_err(Error::Network)?;
        let (k, groups) = (p.nb_output_maps, p.groups);
        if groups == 0 || c % groups != 0 || k % groups != 0 {
            crate::bail!(
                Network,
                "deconvolution: {c} channels and {k} maps do not split into {groups} groups"
            );
        }
        if p.kernel_weights.len() != c * k / groups * p.kernel[0] * p.kernel[1] {
            crate::bail!(
                Network,
                "deconvolution: {} weights for {c} channels and {k} maps",
                p.kernel_weights.len()
            );
        }
        let args = DeconvArgs {
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
            groups: groups as i32,
            xt: self.store[x].tag(),
            yt: self.store[out].tag(),
            xs: self.store[x].scale(),
            ys: self.store[out].scale(),
            ..Default::default()
        };
        let bias = if p.bias.values.is_empty() {
            vec![0.0; k]
        } else {
            p.bias.values.clone()
        };
        let (wl, bl) = (self.upload(&p.kernel_weights.values)?, self.upload(&bias)?);
        let grid = Grid::Flat {
            per_item: (outer * k * g[0].out * g[1].out) as u64,
        };
        Ok(Step::new("deconv", &args, grid, invariant)?
            .count(offset_of!(DeconvArgs, items), outer as i64)
            .ptr(offset_of!(DeconvArgs, x), self.loc(x)?)
            .ptr(offset_of!(DeconvArgs, y), self.loc(out)?)
            .ptr(offset_of!(DeconvArgs, w), wl)
            .ptr(offset_of!(DeconvArgs, bias), bl))
    }
}
