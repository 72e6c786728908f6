//! Layers that move or select data: `IPaddingLayer`, `IShuffleLayer`, `IConstantLayer`,
//! `ISliceLayer`, `IReduceLayer`, `ITopKLayer`, `IMatrixMultiplyLayer`, `IGatherLayer`.

use super::super::boundary::{enum_arg, index, positive, unsupported};
use super::super::dims::{Dims, Permutation, RawWeights};
use super::super::layer::{BASE, ILayerVtbl, This, edit, read};
use crate::error::{Error, Result};
use crate::network::{LayerKind, ShuffleParams};
use crate::types::{MatrixOperation, ReduceOperation, TopKOperation};

vtable! {
    "IPaddingLayer" => struct IPaddingLayerVtbl : ILayerVtbl {
        setPrePadding: unsafe extern "C" fn(This, Dims),
        getPrePadding: unsafe extern "C" fn(This) -> Dims,
        setPostPadding: unsafe extern "C" fn(This, Dims),
        getPostPadding: unsafe extern "C" fn(This) -> Dims,
        setPrePaddingNd: unsafe extern "C" fn(This, Dims),
        getPrePaddingNd: unsafe extern "C" fn(This) -> Dims,
        setPostPaddingNd: unsafe extern "C" fn(This, Dims),
        getPostPaddingNd: unsafe extern "C" fn(This) -> Dims,
    }
}

vtable! {
    "IShuffleLayer" => struct IShuffleLayerVtbl : ILayerVtbl {
        setFirstTranspose: unsafe extern "C" fn(This, Permutation),
        getFirstTranspose: unsafe extern "C" fn(This) -> Permutation,
        setReshapeDimensions: unsafe extern "C" fn(This, Dims),
        getReshapeDimensions: unsafe extern "C" fn(This) -> Dims,
        setSecondTranspose: unsafe extern "C" fn(This, Permutation),
        getSecondTranspose: unsafe extern "C" fn(This) -> Permutation,
        setZeroIsPlaceholder: unsafe extern "C" fn(This, bool),
        getZeroIsPlaceholder: unsafe extern "C" fn(This) -> bool,
    }
}

vtable! {
    "IConstantLayer" => struct IConstantLayerVtbl : ILayerVtbl {
        setWeights: unsafe extern "C" fn(This, RawWeights),
        getWeights: unsafe extern "C" fn(This) -> RawWeights,
        setDimensions: unsafe extern "C" fn(This, Dims),
        getDimensions: unsafe extern "C" fn(This) -> Dims,
    }
}

vtable! {
    "ISliceLayer" => struct ISliceLayerVtbl : ILayerVtbl {
        setStart: unsafe extern "C" fn(This, Dims),
        getStart: unsafe extern "C" fn(This) -> Dims,
        setSize: unsafe extern "C" fn(This, Dims),
        getSize: unsafe extern "C" fn(This) -> Dims,
        setStride: unsafe extern "C" fn(This, Dims),
        getStride: unsafe extern "C" fn(This) -> Dims,
        setMode: unsafe extern "C" fn(This, i32),
        getMode: unsafe extern "C" fn(This) -> i32,
    }
}

vtable! {
    "IReduceLayer" => struct IReduceLayerVtbl : ILayerVtbl {
        setOperation: unsafe extern "C" fn(This, i32),
        getOperation: unsafe extern "C" fn(This) -> i32,
        setReduceAxes: unsafe extern "C" fn(This, u32),
        getReduceAxes: unsafe extern "C" fn(This) -> u32,
        setKeepDimensions: unsafe extern "C" fn(This, bool),
        getKeepDimensions: unsafe extern "C" fn(This) -> bool,
    }
}

vtable! {
    "ITopKLayer" => struct ITopKLayerVtbl : ILayerVtbl {
        setOperation: unsafe extern "C" fn(This, i32),
        getOperation: unsafe extern "C" fn(This) -> i32,
        setK: unsafe extern "C" fn(This, i32),
        getK: unsafe extern "C" fn(This) -> i32,
        setReduceAxes: unsafe extern "C" fn(This, u32),
        getReduceAxes: unsafe extern "C" fn(This) -> u32,
    }
}

vtable! {
    "IMatrixMultiplyLayer" => struct IMatrixMultiplyLayerVtbl : ILayerVtbl {
        setOperation: unsafe extern "C" fn(This, i32, i32),
        getOperation: unsafe extern "C" fn(This, i32) -> i32,
        setTranspose: unsafe extern "C" fn(This, i32, bool),
        getTranspose: unsafe extern "C" fn(This, i32) -> bool,
    }
}

vtable! {
    "IGatherLayer" => struct IGatherLayerVtbl : ILayerVtbl {
        setGatherAxis: unsafe extern "C" fn(This, i32),
        getGatherAxis: unsafe extern "C" fn(This) -> i32,
        setNbElementWiseDims: unsafe extern "C" fn(This, i32),
        getNbElementWiseDims: unsafe extern "C" fn(This) -> i32,
    }
}

fn dims_of_i64(v: &[i64]) -> Dims {
    Dims::from_values(&v.iter().map(|&x| x as i32).collect::<Vec<_>>())
}

fn hw_signed(d: &Dims, what: &str) -> Result<[i64; 2]> {
    match d.signed_values(what)?[..] {
        [h, w] => Ok([h, w]),
        _ => crate::bail!(
            InvalidArgument,
            "{what} must have 2 dimensions (height, width), got {}",
            d.nb_dims
        ),
    }
}

// ---- IPaddingLayer (the Nd forms take the same two values)

macro_rules! padding_field {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $field:ident) => {
        unsafe extern "C" fn $set(this: This, v: Dims) {
            edit($set_name, this, (), |k, _| {
                *params!(k, LayerKind::Padding { $field, .. } => $field)? = hw_signed(&v, $set_name)?;
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> Dims {
            read($get_name, this, Dims::default(), |k| Ok(dims_of_i64(params!(k, LayerKind::Padding { $field, .. } => $field)?)))
        }
    };
}

padding_field!(
    pad_set_pre,
    pad_get_pre,
    "setPrePadding",
    "getPrePadding",
    pre
);
padding_field!(
    pad_set_post,
    pad_get_post,
    "setPostPadding",
    "getPostPadding",
    post
);
padding_field!(
    pad_set_pre_nd,
    pad_get_pre_nd,
    "setPrePaddingNd",
    "getPrePaddingNd",
    pre
);
padding_field!(
    pad_set_post_nd,
    pad_get_post_nd,
    "setPostPaddingNd",
    "getPostPaddingNd",
    post
);

pub static PADDING: IPaddingLayerVtbl = IPaddingLayerVtbl {
    base: BASE,
    setPrePadding: pad_set_pre,
    getPrePadding: pad_get_pre,
    setPostPadding: pad_set_post,
    getPostPadding: pad_get_post,
    setPrePaddingNd: pad_set_pre_nd,
    getPrePaddingNd: pad_get_pre_nd,
    setPostPaddingNd: pad_set_post_nd,
    getPostPaddingNd: pad_get_post_nd,
};

// ---- IShuffleLayer

fn shuffle(k: &mut LayerKind) -> Result<&mut ShuffleParams> {
    params!(k, LayerKind::Shuffle(s) => s)
}

fn shuffle_ref(k: &LayerKind) -> Result<&ShuffleParams> {
    params!(k, LayerKind::Shuffle(s) => s)
}

unsafe extern "C" fn shuffle_set_first(this: This, p: Permutation) {
    edit("setFirstTranspose", this, (), |k, input| {
        shuffle(k)?.first_transpose = p.values(input.len(), "firstTranspose")?;
        Ok(())
    })
}

unsafe extern "C" fn shuffle_get_first(this: This) -> Permutation {
    read("getFirstTranspose", this, Permutation::default(), |k| {
        Ok(Permutation::of(&shuffle_ref(k)?.first_transpose))
    })
}

unsafe extern "C" fn shuffle_set_reshape(this: This, d: Dims) {
    edit("setReshapeDimensions", this, (), |k, _| {
        shuffle(k)?.reshape = Some(d.signed_values("reshapeDimensions")?);
        Ok(())
    })
}

/// Without a reshape, TensorRT answers `nbDims == -1`.
unsafe extern "C" fn shuffle_get_reshape(this: This) -> Dims {
    read("getReshapeDimensions", this, Dims::default(), |k| {
        Ok(shuffle_ref(k)?.reshape.as_deref().map_or(
            Dims {
                nb_dims: -1,
                ..Dims::default()
            },
            dims_of_i64,
        ))
    })
}

/// The second transpose applies to the reshaped tensor, whose rank is the reshape's when set.
unsafe extern "C" fn shuffle_set_second(this: This, p: Permutation) {
    edit("setSecondTranspose", this, (), |k, input| {
        let s = shuffle(k)?;
        let rank = s.reshape.as_ref().map_or(input.len(), Vec::len);
        s.second_transpose = p.values(rank, "secondTranspose")?;
        Ok(())
    })
}

unsafe extern "C" fn shuffle_get_second(this: This) -> Permutation {
    read("getSecondTranspose", this, Permutation::default(), |k| {
        Ok(Permutation::of(&shuffle_ref(k)?.second_transpose))
    })
}

/// A 0 in the reshape dimensions always copies the input dimension (TensorRT's default).
unsafe extern "C" fn shuffle_set_zero_is_placeholder(this: This, v: bool) {
    edit("setZeroIsPlaceholder", this, (), |_, _| {
        if v {
            Ok(())
        } else {
            unsupported("setZeroIsPlaceholder(false)")
        }
    })
}

unsafe extern "C" fn shuffle_get_zero_is_placeholder(this: This) -> bool {
    read("getZeroIsPlaceholder", this, true, |_| Ok(true))
}

pub static SHUFFLE: IShuffleLayerVtbl = IShuffleLayerVtbl {
    base: BASE,
    setFirstTranspose: shuffle_set_first,
    getFirstTranspose: shuffle_get_first,
    setReshapeDimensions: shuffle_set_reshape,
    getReshapeDimensions: shuffle_get_reshape,
    setSecondTranspose: shuffle_set_second,
    getSecondTranspose: shuffle_get_second,
    setZeroIsPlaceholder: shuffle_set_zero_is_placeholder,
    getZeroIsPlaceholder: shuffle_get_zero_is_placeholder,
};

// ---- IConstantLayer

unsafe extern "C" fn constant_set_weights(this: This, w: RawWeights) {
    edit("setWeights", this, (), |k, _| {
        // SAFETY: C++ weights point at `count` values per the interface.
        *params!(k, LayerKind::Constant { weights, .. } => weights)? =
            unsafe { w.read("weights", true) }?;
        Ok(())
    })
}

unsafe extern "C" fn constant_get_weights(this: This) -> RawWeights {
    read("getWeights", this, RawWeights::EMPTY, |k| {
        Ok(RawWeights::of(
            params!(k, LayerKind::Constant { weights, .. } => weights)?,
        ))
    })
}

unsafe extern "C" fn constant_set_dimensions(this: This, d: Dims) {
    edit("setDimensions", this, (), |k, _| {
        *params!(k, LayerKind::Constant { dims, .. } => dims)? = d.sizes("dimensions", 1)?;
        Ok(())
    })
}

unsafe extern "C" fn constant_get_dimensions(this: This) -> Dims {
    read("getDimensions", this, Dims::default(), |k| {
        Dims::from_shape(params!(k, LayerKind::Constant { dims, .. } => dims)?)
    })
}

pub static CONSTANT: IConstantLayerVtbl = IConstantLayerVtbl {
    base: BASE,
    setWeights: constant_set_weights,
    getWeights: constant_get_weights,
    setDimensions: constant_set_dimensions,
    getDimensions: constant_get_dimensions,
};

// ---- ISliceLayer

unsafe extern "C" fn slice_set_start(this: This, d: Dims) {
    edit("setStart", this, (), |k, _| {
        *params!(k, LayerKind::Slice { start, .. } => start)? = d.signed_values("start")?;
        Ok(())
    })
}

unsafe extern "C" fn slice_get_start(this: This) -> Dims {
    read("getStart", this, Dims::default(), |k| {
        Ok(dims_of_i64(
            params!(k, LayerKind::Slice { start, .. } => start)?,
        ))
    })
}

unsafe extern "C" fn slice_set_size(this: This, d: Dims) {
    edit("setSize", this, (), |k, _| {
        *params!(k, LayerKind::Slice { size, .. } => size)? = d.sizes("size", 1)?;
        Ok(())
    })
}

unsafe extern "C" fn slice_get_size(this: This) -> Dims {
    read("getSize", this, Dims::default(), |k| {
        Dims::from_shape(params!(k, LayerKind::Slice { size, .. } => size)?)
    })
}

unsafe extern "C" fn slice_set_stride(this: This, d: Dims) {
    edit("setStride", this, (), |k, _| {
        *params!(k, LayerKind::Slice { stride, .. } => stride)? = d.signed_values("stride")?;
        Ok(())
    })
}

unsafe extern "C" fn slice_get_stride(this: This) -> Dims {
    read("getStride", this, Dims::default(), |k| {
        Ok(dims_of_i64(
            params!(k, LayerKind::Slice { stride, .. } => stride)?,
        ))
    })
}

/// `SliceMode::kDEFAULT` (0) is the only mode: out-of-bounds slices are errors.
unsafe extern "C" fn slice_set_mode(this: This, v: i32) {
    edit("setMode", this, (), |_, _| match v {
        0 => Ok(()),
        1 => unsupported("SliceMode::kWRAP"),
        v => crate::bail!(InvalidArgument, "{v} is not a valid SliceMode"),
    })
}

unsafe extern "C" fn slice_get_mode(this: This) -> i32 {
    read("getMode", this, 0, |_| Ok(0))
}

pub static SLICE: ISliceLayerVtbl = ISliceLayerVtbl {
    base: BASE,
    setStart: slice_set_start,
    getStart: slice_get_start,
    setSize: slice_set_size,
    getSize: slice_get_size,
    setStride: slice_set_stride,
    getStride: slice_get_stride,
    setMode: slice_set_mode,
    getMode: slice_get_mode,
};

// ---- IReduceLayer

unsafe extern "C" fn reduce_set_operation(this: This, v: i32) {
    edit("setOperation", this, (), |k, _| {
        *params!(k, LayerKind::Reduce { op, .. } => op)? =
            enum_arg(v, ReduceOperation::from_i32, "ReduceOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn reduce_get_operation(this: This) -> i32 {
    read("getOperation", this, 0, |k| {
        Ok(*params!(k, LayerKind::Reduce { op, .. } => op)? as i32)
    })
}

unsafe extern "C" fn reduce_set_axes(this: This, v: u32) {
    edit("setReduceAxes", this, (), |k, _| {
        *params!(k, LayerKind::Reduce { axes, .. } => axes)? = v;
        Ok(())
    })
}

unsafe extern "C" fn reduce_get_axes(this: This) -> u32 {
    read("getReduceAxes", this, 0, |k| {
        Ok(*params!(k, LayerKind::Reduce { axes, .. } => axes)?)
    })
}

unsafe extern "C" fn reduce_set_keep(this: This, v: bool) {
    edit("setKeepDimensions", this, (), |k, _| {
        *params!(k, LayerKind::Reduce { keep_dims, .. } => keep_dims)? = v;
        Ok(())
    })
}

unsafe extern "C" fn reduce_get_keep(this: This) -> bool {
    read("getKeepDimensions", this, false, |k| {
        Ok(*params!(k, LayerKind::Reduce { keep_dims, .. } => keep_dims)?)
    })
}

pub static REDUCE: IReduceLayerVtbl = IReduceLayerVtbl {
    base: BASE,
    setOperation: reduce_set_operation,
    getOperation: reduce_get_operation,
    setReduceAxes: reduce_set_axes,
    getReduceAxes: reduce_get_axes,
    setKeepDimensions: reduce_set_keep,
    getKeepDimensions: reduce_get_keep,
};

// ---- ITopKLayer

unsafe extern "C" fn topk_set_operation(this: This, v: i32) {
    edit("setOperation", this, (), |k, _| {
        *params!(k, LayerKind::TopK { op, .. } => op)? =
            enum_arg(v, TopKOperation::from_i32, "TopKOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn topk_get_operation(this: This) -> i32 {
    read("getOperation", this, 0, |k| {
        Ok(*params!(k, LayerKind::TopK { op, .. } => op)? as i32)
    })
}

unsafe extern "C" fn topk_set_k(this: This, v: i32) {
    edit("setK", this, (), |kind, _| {
        *params!(kind, LayerKind::TopK { k, .. } => k)? = positive(v, "k")?;
        Ok(())
    })
}

unsafe extern "C" fn topk_get_k(this: This) -> i32 {
    read("getK", this, 0, |kind| {
        Ok(*params!(kind, LayerKind::TopK { k, .. } => k)? as i32)
    })
}

unsafe extern "C" fn topk_set_axes(this: This, v: u32) {
    edit("setReduceAxes", this, (), |k, _| {
        *params!(k, LayerKind::TopK { axes, .. } => axes)? = v;
        Ok(())
    })
}

unsafe extern "C" fn topk_get_axes(this: This) -> u32 {
    read("getReduceAxes", this, 0, |k| {
        Ok(*params!(k, LayerKind::TopK { axes, .. } => axes)?)
    })
}

pub static TOP_K: ITopKLayerVtbl = ITopKLayerVtbl {
    base: BASE,
    setOperation: topk_set_operation,
    getOperation: topk_get_operation,
    setK: topk_set_k,
    getK: topk_get_k,
    setReduceAxes: topk_set_axes,
    getReduceAxes: topk_get_axes,
};

// ---- IMatrixMultiplyLayer

fn operand(k: &mut LayerKind, i: i32) -> Result<&mut MatrixOperation> {
    let (op0, op1) = params!(k, LayerKind::MatrixMultiply { op0, op1 } => (op0, op1))?;
    Ok(if index(i, 2, "operand index")? == 0 {
        op0
    } else {
        op1
    })
}

fn operand_ref(k: &LayerKind, i: i32) -> Result<MatrixOperation> {
    let (op0, op1) = params!(k, LayerKind::MatrixMultiply { op0, op1 } => (*op0, *op1))?;
    Ok(if index(i, 2, "operand index")? == 0 {
        op0
    } else {
        op1
    })
}

unsafe extern "C" fn mm_set_operation(this: This, i: i32, v: i32) {
    edit("setOperation", this, (), |k, _| {
        *operand(k, i)? = enum_arg(v, MatrixOperation::from_i32, "MatrixOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn mm_get_operation(this: This, i: i32) -> i32 {
    read("getOperation", this, 0, |k| Ok(operand_ref(k, i)? as i32))
}

unsafe extern "C" fn mm_set_transpose(this: This, i: i32, v: bool) {
    edit("setTranspose", this, (), |k, _| {
        *operand(k, i)? = if v {
            MatrixOperation::Transpose
        } else {
            MatrixOperation::None
        };
        Ok(())
    })
}

unsafe extern "C" fn mm_get_transpose(this: This, i: i32) -> bool {
    read("getTranspose", this, false, |k| {
        Ok(operand_ref(k, i)? == MatrixOperation::Transpose)
    })
}

pub static MATRIX_MULTIPLY: IMatrixMultiplyLayerVtbl = IMatrixMultiplyLayerVtbl {
    base: BASE,
    setOperation: mm_set_operation,
    getOperation: mm_get_operation,
    setTranspose: mm_set_transpose,
    getTranspose: mm_get_transpose,
};

// ---- IGatherLayer

unsafe extern "C" fn gather_set_axis(this: This, v: i32) {
    edit("setGatherAxis", this, (), |k, _| {
        *params!(k, LayerKind::Gather { axis } => axis)? = usize::try_from(v)
            .map_err(|_| Error::InvalidArgument(format!("axis {v} is negative")))?;
        Ok(())
    })
}

unsafe extern "C" fn gather_get_axis(this: This) -> i32 {
    read("getGatherAxis", this, 0, |k| {
        Ok(*params!(k, LayerKind::Gather { axis } => axis)? as i32)
    })
}

/// Only the default (no element-wise dimensions) gather exists in infer8.
unsafe extern "C" fn gather_set_nb_element_wise_dims(this: This, v: i32) {
    edit("setNbElementWiseDims", this, (), |_, _| {
        if v == 0 {
            Ok(())
        } else {
            unsupported("element-wise gather dimensions")
        }
    })
}

unsafe extern "C" fn gather_get_nb_element_wise_dims(this: This) -> i32 {
    read("getNbElementWiseDims", this, 0, |_| Ok(0))
}

pub static GATHER: IGatherLayerVtbl = IGatherLayerVtbl {
    base: BASE,
    setGatherAxis: gather_set_axis,
    getGatherAxis: gather_get_axis,
    setNbElementWiseDims: gather_set_nb_element_wise_dims,
    getNbElementWiseDims: gather_get_nb_element_wise_dims,
};
