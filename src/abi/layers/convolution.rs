//! `IConvolutionLayer` and `IDeconvolutionLayer`: the same parameters (and the same functions),
//! laid out in each interface's slot order (deconvolution has no 5.1 dilation slots).

use super::super::boundary::{enum_arg, positive};
use super::super::dims::{Dims, RawWeights};
use super::super::layer::{BASE, ILayerVtbl, This, edit, read};
use crate::error::Result;
use crate::network::{ConvParams, LayerKind};
use crate::types::PaddingMode;

vtable! {
    "IConvolutionLayer" => struct IConvolutionLayerVtbl : ILayerVtbl {
        setKernelSize: unsafe extern "C" fn(This, Dims),
        getKernelSize: unsafe extern "C" fn(This) -> Dims,
        setNbOutputMaps: unsafe extern "C" fn(This, i32),
        getNbOutputMaps: unsafe extern "C" fn(This) -> i32,
        setStride: unsafe extern "C" fn(This, Dims),
        getStride: unsafe extern "C" fn(This) -> Dims,
        setPadding: unsafe extern "C" fn(This, Dims),
        getPadding: unsafe extern "C" fn(This) -> Dims,
        setNbGroups: unsafe extern "C" fn(This, i32),
        getNbGroups: unsafe extern "C" fn(This) -> i32,
        setKernelWeights: unsafe extern "C" fn(This, RawWeights),
        getKernelWeights: unsafe extern "C" fn(This) -> RawWeights,
        setBiasWeights: unsafe extern "C" fn(This, RawWeights),
        getBiasWeights: unsafe extern "C" fn(This) -> RawWeights,
        setDilation: unsafe extern "C" fn(This, Dims),
        getDilation: unsafe extern "C" fn(This) -> Dims,
        setPrePadding: unsafe extern "C" fn(This, Dims),
        getPrePadding: unsafe extern "C" fn(This) -> Dims,
        setPostPadding: unsafe extern "C" fn(This, Dims),
        getPostPadding: unsafe extern "C" fn(This) -> Dims,
        setPaddingMode: unsafe extern "C" fn(This, i32),
        getPaddingMode: unsafe extern "C" fn(This) -> i32,
        setKernelSizeNd: unsafe extern "C" fn(This, Dims),
        getKernelSizeNd: unsafe extern "C" fn(This) -> Dims,
        setStrideNd: unsafe extern "C" fn(This, Dims),
        getStrideNd: unsafe extern "C" fn(This) -> Dims,
        setPaddingNd: unsafe extern "C" fn(This, Dims),
        getPaddingNd: unsafe extern "C" fn(This) -> Dims,
        setDilationNd: unsafe extern "C" fn(This, Dims),
        getDilationNd: unsafe extern "C" fn(This) -> Dims,
    }
}

vtable! {
    "IDeconvolutionLayer" => struct IDeconvolutionLayerVtbl : ILayerVtbl {
        setKernelSize: unsafe extern "C" fn(This, Dims),
        getKernelSize: unsafe extern "C" fn(This) -> Dims,
        setNbOutputMaps: unsafe extern "C" fn(This, i32),
        getNbOutputMaps: unsafe extern "C" fn(This) -> i32,
        setStride: unsafe extern "C" fn(This, Dims),
        getStride: unsafe extern "C" fn(This) -> Dims,
        setPadding: unsafe extern "C" fn(This, Dims),
        getPadding: unsafe extern "C" fn(This) -> Dims,
        setNbGroups: unsafe extern "C" fn(This, i32),
        getNbGroups: unsafe extern "C" fn(This) -> i32,
        setKernelWeights: unsafe extern "C" fn(This, RawWeights),
        getKernelWeights: unsafe extern "C" fn(This) -> RawWeights,
        setBiasWeights: unsafe extern "C" fn(This, RawWeights),
        getBiasWeights: unsafe extern "C" fn(This) -> RawWeights,
        setPrePadding: unsafe extern "C" fn(This, Dims),
        getPrePadding: unsafe extern "C" fn(This) -> Dims,
        setPostPadding: unsafe extern "C" fn(This, Dims),
        getPostPadding: unsafe extern "C" fn(This) -> Dims,
        setPaddingMode: unsafe extern "C" fn(This, i32),
        getPaddingMode: unsafe extern "C" fn(This) -> i32,
        setKernelSizeNd: unsafe extern "C" fn(This, Dims),
        getKernelSizeNd: unsafe extern "C" fn(This) -> Dims,
        setStrideNd: unsafe extern "C" fn(This, Dims),
        getStrideNd: unsafe extern "C" fn(This) -> Dims,
        setPaddingNd: unsafe extern "C" fn(This, Dims),
        getPaddingNd: unsafe extern "C" fn(This) -> Dims,
        setDilationNd: unsafe extern "C" fn(This, Dims),
        getDilationNd: unsafe extern "C" fn(This) -> Dims,
    }
}

fn conv(k: &mut LayerKind) -> Result<&mut ConvParams> {
    params!(k, LayerKind::Convolution(c) | LayerKind::Deconvolution(c) => c)
}

fn conv_ref(k: &LayerKind) -> Result<&ConvParams> {
    params!(k, LayerKind::Convolution(c) | LayerKind::Deconvolution(c) => c)
}

/// Setter and getter of one `DimsHW` field; `min` is the smallest allowed value.
macro_rules! hw_field {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $first:ident $(, $field:ident)*; $min:expr) => {
        unsafe extern "C" fn $set(this: This, v: Dims) {
            edit($set_name, this, (), |k, _| {
                let hw = v.hw_values($set_name, $min)?;
                let c = conv(k)?;
                c.$first = hw;
                $(c.$field = hw;)*
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> Dims {
            read($get_name, this, Dims::default(), |k| Dims::hw(conv_ref(k)?.$first))
        }
    };
}

hw_field!(set_kernel_size, get_kernel_size, "setKernelSize", "getKernelSize", kernel; 1);
hw_field!(set_stride, get_stride, "setStride", "getStride", stride; 1);
hw_field!(set_padding, get_padding, "setPadding", "getPadding", pre_padding, post_padding; 0);
hw_field!(set_dilation, get_dilation, "setDilation", "getDilation", dilation; 1);
hw_field!(set_pre_padding, get_pre_padding, "setPrePadding", "getPrePadding", pre_padding; 0);
hw_field!(set_post_padding, get_post_padding, "setPostPadding", "getPostPadding", post_padding; 0);
// The Nd forms take `Dims`; with two spatial dimensions they are the 5.1 calls (3D is rejected by
// the two-value check).
hw_field!(set_kernel_size_nd, get_kernel_size_nd, "setKernelSizeNd", "getKernelSizeNd", kernel; 1);
hw_field!(set_stride_nd, get_stride_nd, "setStrideNd", "getStrideNd", stride; 1);
hw_field!(set_padding_nd, get_padding_nd, "setPaddingNd", "getPaddingNd", pre_padding, post_padding; 0);
hw_field!(set_dilation_nd, get_dilation_nd, "setDilationNd", "getDilationNd", dilation; 1);

unsafe extern "C" fn set_nb_output_maps(this: This, v: i32) {
    edit("setNbOutputMaps", this, (), |k, _| {
        conv(k)?.nb_output_maps = positive(v, "nbOutputMaps")?;
        Ok(())
    })
}

unsafe extern "C" fn get_nb_output_maps(this: This) -> i32 {
    read("getNbOutputMaps", this, 0, |k| {
        Ok(conv_ref(k)?.nb_output_maps as i32)
    })
}

unsafe extern "C" fn set_nb_groups(this: This, v: i32) {
    edit("setNbGroups", this, (), |k, _| {
        conv(k)?.groups = positive(v, "nbGroups")?;
        Ok(())
    })
}

unsafe extern "C" fn get_nb_groups(this: This) -> i32 {
    read("getNbGroups", this, 0, |k| Ok(conv_ref(k)?.groups as i32))
}

unsafe extern "C" fn set_kernel_weights(this: This, w: RawWeights) {
    edit("setKernelWeights", this, (), |k, _| {
        // SAFETY: C++ weights point at `count` values per the interface.
        conv(k)?.kernel_weights = unsafe { w.read("kernelWeights", false) }?;
        Ok(())
    })
}

unsafe extern "C" fn get_kernel_weights(this: This) -> RawWeights {
    read("getKernelWeights", this, RawWeights::EMPTY, |k| {
        Ok(RawWeights::of(&conv_ref(k)?.kernel_weights))
    })
}

unsafe extern "C" fn set_bias_weights(this: This, w: RawWeights) {
    edit("setBiasWeights", this, (), |k, _| {
        // SAFETY: as in `set_kernel_weights`.
        conv(k)?.bias = unsafe { w.read("biasWeights", false) }?;
        Ok(())
    })
}

unsafe extern "C" fn get_bias_weights(this: This) -> RawWeights {
    read("getBiasWeights", this, RawWeights::EMPTY, |k| {
        Ok(RawWeights::of(&conv_ref(k)?.bias))
    })
}

unsafe extern "C" fn set_padding_mode(this: This, v: i32) {
    edit("setPaddingMode", this, (), |k, _| {
        conv(k)?.padding_mode = enum_arg(v, PaddingMode::from_i32, "PaddingMode")?;
        Ok(())
    })
}

unsafe extern "C" fn get_padding_mode(this: This) -> i32 {
    read("getPaddingMode", this, 0, |k| {
        Ok(conv_ref(k)?.padding_mode as i32)
    })
}

pub static CONVOLUTION: IConvolutionLayerVtbl = IConvolutionLayerVtbl {
    base: BASE,
    setKernelSize: set_kernel_size,
    getKernelSize: get_kernel_size,
    setNbOutputMaps: set_nb_output_maps,
    getNbOutputMaps: get_nb_output_maps,
    setStride: set_stride,
    getStride: get_stride,
    setPadding: set_padding,
    getPadding: get_padding,
    setNbGroups: set_nb_groups,
    getNbGroups: get_nb_groups,
    setKernelWeights: set_kernel_weights,
    getKernelWeights: get_kernel_weights,
    setBiasWeights: set_bias_weights,
    getBiasWeights: get_bias_weights,
    setDilation: set_dilation,
    getDilation: get_dilation,
    setPrePadding: set_pre_padding,
    getPrePadding: get_pre_padding,
    setPostPadding: set_post_padding,
    getPostPadding: get_post_padding,
    setPaddingMode: set_padding_mode,
    getPaddingMode: get_padding_mode,
    setKernelSizeNd: set_kernel_size_nd,
    getKernelSizeNd: get_kernel_size_nd,
    setStrideNd: set_stride_nd,
    getStrideNd: get_stride_nd,
    setPaddingNd: set_padding_nd,
    getPaddingNd: get_padding_nd,
    setDilationNd: set_dilation_nd,
    getDilationNd: get_dilation_nd,
};

pub static DECONVOLUTION: IDeconvolutionLayerVtbl = IDeconvolutionLayerVtbl {
    base: BASE,
    setKernelSize: set_kernel_size,
    getKernelSize: get_kernel_size,
    setNbOutputMaps: set_nb_output_maps,
    getNbOutputMaps: get_nb_output_maps,
    setStride: set_stride,
    getStride: get_stride,
    setPadding: set_padding,
    getPadding: get_padding,
    setNbGroups: set_nb_groups,
    getNbGroups: get_nb_groups,
    setKernelWeights: set_kernel_weights,
    getKernelWeights: get_kernel_weights,
    setBiasWeights: set_bias_weights,
    getBiasWeights: get_bias_weights,
    setPrePadding: set_pre_padding,
    getPrePadding: get_pre_padding,
    setPostPadding: set_post_padding,
    getPostPadding: get_post_padding,
    setPaddingMode: set_padding_mode,
    getPaddingMode: get_padding_mode,
    setKernelSizeNd: set_kernel_size_nd,
    getKernelSizeNd: get_kernel_size_nd,
    setStrideNd: set_stride_nd,
    getStrideNd: get_stride_nd,
    setPaddingNd: set_padding_nd,
    getPaddingNd: get_padding_nd,
    setDilationNd: set_dilation_nd,
    getDilationNd: get_dilation_nd,
};
