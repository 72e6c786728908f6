//! `IPoolingLayer`.

use super::super::boundary::enum_arg;
use super::super::dims::Dims;
use super::super::layer::{BASE, ILayerVtbl, This, edit, read};
use crate::error::Result;
use crate::network::{LayerKind, PoolParams};
use crate::types::{PaddingMode, PoolingType};

vtable! {
    "IPoolingLayer" => struct IPoolingLayerVtbl : ILayerVtbl {
        setPoolingType: unsafe extern "C" fn(This, i32),
        getPoolingType: unsafe extern "C" fn(This) -> i32,
        setWindowSize: unsafe extern "C" fn(This, Dims),
        getWindowSize: unsafe extern "C" fn(This) -> Dims,
        setStride: unsafe extern "C" fn(This, Dims),
        getStride: unsafe extern "C" fn(This) -> Dims,
        setPadding: unsafe extern "C" fn(This, Dims),
        getPadding: unsafe extern "C" fn(This) -> Dims,
        setBlendFactor: unsafe extern "C" fn(This, f32),
        getBlendFactor: unsafe extern "C" fn(This) -> f32,
        setAverageCountExcludesPadding: unsafe extern "C" fn(This, bool),
        getAverageCountExcludesPadding: unsafe extern "C" fn(This) -> bool,
        setPrePadding: unsafe extern "C" fn(This, Dims),
        getPrePadding: unsafe extern "C" fn(This) -> Dims,
        setPostPadding: unsafe extern "C" fn(This, Dims),
        getPostPadding: unsafe extern "C" fn(This) -> Dims,
        setPaddingMode: unsafe extern "C" fn(This, i32),
        getPaddingMode: unsafe extern "C" fn(This) -> i32,
        setWindowSizeNd: unsafe extern "C" fn(This, Dims),
        getWindowSizeNd: unsafe extern "C" fn(This) -> Dims,
        setStrideNd: unsafe extern "C" fn(This, Dims),
        getStrideNd: unsafe extern "C" fn(This) -> Dims,
        setPaddingNd: unsafe extern "C" fn(This, Dims),
        getPaddingNd: unsafe extern "C" fn(This) -> Dims,
    }
}

fn pool(k: &mut LayerKind) -> Result<&mut PoolParams> {
    params!(k, LayerKind::Pooling(p) => p)
}

fn pool_ref(k: &LayerKind) -> Result<&PoolParams> {
    params!(k, LayerKind::Pooling(p) => p)
}

/// Setter and getter of one `DimsHW` field (the Nd forms are the same with two dimensions).
macro_rules! hw_field {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $first:ident $(, $field:ident)*; $min:expr) => {
        unsafe extern "C" fn $set(this: This, v: Dims) {
            edit($set_name, this, (), |k, _| {
                let hw = v.hw_values($set_name, $min)?;
                let p = pool(k)?;
                p.$first = hw;
                $(p.$field = hw;)*
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> Dims {
            read($get_name, this, Dims::default(), |k| Dims::hw(pool_ref(k)?.$first))
        }
    };
}

hw_field!(set_window_size, get_window_size, "setWindowSize", "getWindowSize", window; 1);
hw_field!(set_stride, get_stride, "setStride", "getStride", stride; 1);
hw_field!(set_padding, get_padding, "setPadding", "getPadding", pre_padding, post_padding; 0);
hw_field!(set_pre_padding, get_pre_padding, "setPrePadding", "getPrePadding", pre_padding; 0);
hw_field!(set_post_padding, get_post_padding, "setPostPadding", "getPostPadding", post_padding; 0);
hw_field!(set_window_size_nd, get_window_size_nd, "setWindowSizeNd", "getWindowSizeNd", window; 1);
hw_field!(set_stride_nd, get_stride_nd, "setStrideNd", "getStrideNd", stride; 1);
hw_field!(set_padding_nd, get_padding_nd, "setPaddingNd", "getPaddingNd", pre_padding, post_padding; 0);

unsafe extern "C" fn set_pooling_type(this: This, v: i32) {
    edit("setPoolingType", this, (), |k, _| {
        pool(k)?.kind = enum_arg(v, PoolingType::from_i32, "PoolingType")?;
        Ok(())
    })
}

unsafe extern "C" fn get_pooling_type(this: This) -> i32 {
    read("getPoolingType", this, 0, |k| Ok(pool_ref(k)?.kind as i32))
}

unsafe extern "C" fn set_blend_factor(this: This, v: f32) {
    edit("setBlendFactor", this, (), |k, _| {
        if !(0.0..=1.0).contains(&v) {
            crate::bail!(InvalidArgument, "blend factor {v} is outside [0, 1]");
        }
        pool(k)?.blend_factor = v;
        Ok(())
    })
}

unsafe extern "C" fn get_blend_factor(this: This) -> f32 {
    read("getBlendFactor", this, 0.0, |k| {
        Ok(pool_ref(k)?.blend_factor)
    })
}

unsafe extern "C" fn set_average_count_excludes_padding(this: This, v: bool) {
    edit("setAverageCountExcludesPadding", this, (), |k, _| {
        pool(k)?.average_count_excludes_padding = v;
        Ok(())
    })
}

unsafe extern "C" fn get_average_count_excludes_padding(this: This) -> bool {
    read("getAverageCountExcludesPadding", this, true, |k| {
        Ok(pool_ref(k)?.average_count_excludes_padding)
    })
}

unsafe extern "C" fn set_padding_mode(this: This, v: i32) {
    edit("setPaddingMode", this, (), |k, _| {
        pool(k)?.padding_mode = enum_arg(v, PaddingMode::from_i32, "PaddingMode")?;
        Ok(())
    })
}

unsafe extern "C" fn get_padding_mode(this: This) -> i32 {
    read("getPaddingMode", this, 0, |k| {
        Ok(pool_ref(k)?.padding_mode as i32)
    })
}

pub static POOLING: IPoolingLayerVtbl = IPoolingLayerVtbl {
    base: BASE,
    setPoolingType: set_pooling_type,
    getPoolingType: get_pooling_type,
    setWindowSize: set_window_size,
    getWindowSize: get_window_size,
    setStride: set_stride,
    getStride: get_stride,
    setPadding: set_padding,
    getPadding: get_padding,
    setBlendFactor: set_blend_factor,
    getBlendFactor: get_blend_factor,
    setAverageCountExcludesPadding: set_average_count_excludes_padding,
    getAverageCountExcludesPadding: get_average_count_excludes_padding,
    setPrePadding: set_pre_padding,
    getPrePadding: get_pre_padding,
    setPostPadding: set_post_padding,
    getPostPadding: get_post_padding,
    setPaddingMode: set_padding_mode,
    getPaddingMode: get_padding_mode,
    setWindowSizeNd: set_window_size_nd,
    getWindowSizeNd: get_window_size_nd,
    setStrideNd: set_stride_nd,
    getStrideNd: get_stride_nd,
    setPaddingNd: set_padding_nd,
    getPaddingNd: get_padding_nd,
};
