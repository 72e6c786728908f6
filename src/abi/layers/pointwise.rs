//! Layers with scalar or weight parameters: `IFullyConnectedLayer`, `IActivationLayer`,
//! `ILRNLayer`, `IScaleLayer`, `ISoftMaxLayer`, `IConcatenationLayer`, `IElementWiseLayer`,
//! `IUnaryLayer`.

use super::super::boundary::{enum_arg, positive};
use super::super::dims::RawWeights;
use super::super::layer::{BASE, ILayerVtbl, This, edit, read, read_input};
use crate::error::{Error, Result};
use crate::network::LayerKind;
use crate::types::{ActivationType, ElementWiseOperation, ScaleMode, UnaryOperation, Weights};

vtable! {
    "IFullyConnectedLayer" => struct IFullyConnectedLayerVtbl : ILayerVtbl {
        setNbOutputChannels: unsafe extern "C" fn(This, i32),
        getNbOutputChannels: unsafe extern "C" fn(This) -> i32,
        setKernelWeights: unsafe extern "C" fn(This, RawWeights),
        getKernelWeights: unsafe extern "C" fn(This) -> RawWeights,
        setBiasWeights: unsafe extern "C" fn(This, RawWeights),
        getBiasWeights: unsafe extern "C" fn(This) -> RawWeights,
    }
}

vtable! {
    "IActivationLayer" => struct IActivationLayerVtbl : ILayerVtbl {
        setActivationType: unsafe extern "C" fn(This, i32),
        getActivationType: unsafe extern "C" fn(This) -> i32,
        setAlpha: unsafe extern "C" fn(This, f32),
        setBeta: unsafe extern "C" fn(This, f32),
        getAlpha: unsafe extern "C" fn(This) -> f32,
        getBeta: unsafe extern "C" fn(This) -> f32,
    }
}

vtable! {
    "ILRNLayer" => struct ILRNLayerVtbl : ILayerVtbl {
        setWindowSize: unsafe extern "C" fn(This, i32),
        getWindowSize: unsafe extern "C" fn(This) -> i32,
        setAlpha: unsafe extern "C" fn(This, f32),
        getAlpha: unsafe extern "C" fn(This) -> f32,
        setBeta: unsafe extern "C" fn(This, f32),
        getBeta: unsafe extern "C" fn(This) -> f32,
        setK: unsafe extern "C" fn(This, f32),
        getK: unsafe extern "C" fn(This) -> f32,
    }
}

vtable! {
    "IScaleLayer" => struct IScaleLayerVtbl : ILayerVtbl {
        setMode: unsafe extern "C" fn(This, i32),
        getMode: unsafe extern "C" fn(This) -> i32,
        setShift: unsafe extern "C" fn(This, RawWeights),
        getShift: unsafe extern "C" fn(This) -> RawWeights,
        setScale: unsafe extern "C" fn(This, RawWeights),
        getScale: unsafe extern "C" fn(This) -> RawWeights,
        setPower: unsafe extern "C" fn(This, RawWeights),
        getPower: unsafe extern "C" fn(This) -> RawWeights,
        getChannelAxis: unsafe extern "C" fn(This) -> i32,
    }
}

vtable! {
    "ISoftMaxLayer" => struct ISoftMaxLayerVtbl : ILayerVtbl {
        setAxes: unsafe extern "C" fn(This, u32),
        getAxes: unsafe extern "C" fn(This) -> u32,
    }
}

vtable! {
    "IConcatenationLayer" => struct IConcatenationLayerVtbl : ILayerVtbl {
        setAxis: unsafe extern "C" fn(This, i32),
        getAxis: unsafe extern "C" fn(This) -> i32,
    }
}

vtable! {
    "IElementWiseLayer" => struct IElementWiseLayerVtbl : ILayerVtbl {
        setOperation: unsafe extern "C" fn(This, i32),
        getOperation: unsafe extern "C" fn(This) -> i32,
    }
}

vtable! {
    "IUnaryLayer" => struct IUnaryLayerVtbl : ILayerVtbl {
        setOperation: unsafe extern "C" fn(This, i32),
        getOperation: unsafe extern "C" fn(This) -> i32,
    }
}

/// Reads caller weights (FP32 or FP16).
fn weights(w: RawWeights, what: &str) -> Result<Weights> {
    // SAFETY: C++ weights point at `count` values per the interface.
    unsafe { w.read(what, false) }
}

// ---- IFullyConnectedLayer

unsafe extern "C" fn fc_set_nb_output_channels(this: This, v: i32) {
    edit("setNbOutputChannels", this, (), |k, _| {
        *params!(k, LayerKind::FullyConnected { nb_outputs, .. } => nb_outputs)? =
            positive(v, "nbOutputs")?;
        Ok(())
    })
}

unsafe extern "C" fn fc_get_nb_output_channels(this: This) -> i32 {
    read("getNbOutputChannels", this, 0, |k| {
        Ok(*params!(k, LayerKind::FullyConnected { nb_outputs, .. } => nb_outputs)? as i32)
    })
}

unsafe extern "C" fn fc_set_kernel_weights(this: This, w: RawWeights) {
    edit("setKernelWeights", this, (), |k, _| {
        *params!(k, LayerKind::FullyConnected { kernel, .. } => kernel)? =
            weights(w, "kernelWeights")?;
        Ok(())
    })
}

unsafe extern "C" fn fc_get_kernel_weights(this: This) -> RawWeights {
    read("getKernelWeights", this, RawWeights::EMPTY, |k| {
        Ok(RawWeights::of(
            params!(k, LayerKind::FullyConnected { kernel, .. } => kernel)?,
        ))
    })
}

unsafe extern "C" fn fc_set_bias_weights(this: This, w: RawWeights) {
    edit("setBiasWeights", this, (), |k, _| {
        *params!(k, LayerKind::FullyConnected { bias, .. } => bias)? = weights(w, "biasWeights")?;
        Ok(())
    })
}

unsafe extern "C" fn fc_get_bias_weights(this: This) -> RawWeights {
    read("getBiasWeights", this, RawWeights::EMPTY, |k| {
        Ok(RawWeights::of(
            params!(k, LayerKind::FullyConnected { bias, .. } => bias)?,
        ))
    })
}

pub static FULLY_CONNECTED: IFullyConnectedLayerVtbl = IFullyConnectedLayerVtbl {
    base: BASE,
    setNbOutputChannels: fc_set_nb_output_channels,
    getNbOutputChannels: fc_get_nb_output_channels,
    setKernelWeights: fc_set_kernel_weights,
    getKernelWeights: fc_get_kernel_weights,
    setBiasWeights: fc_set_bias_weights,
    getBiasWeights: fc_get_bias_weights,
};

// ---- IActivationLayer

unsafe extern "C" fn act_set_type(this: This, v: i32) {
    edit("setActivationType", this, (), |k, _| {
        *params!(k, LayerKind::Activation { kind, .. } => kind)? =
            enum_arg(v, ActivationType::from_i32, "ActivationType")?;
        Ok(())
    })
}

unsafe extern "C" fn act_get_type(this: This) -> i32 {
    read("getActivationType", this, 0, |k| {
        Ok(*params!(k, LayerKind::Activation { kind, .. } => kind)? as i32)
    })
}

/// Setter and getter of one f32 field of a layer kind.
macro_rules! f32_field {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $variant:ident, $field:ident) => {
        unsafe extern "C" fn $set(this: This, v: f32) {
            edit($set_name, this, (), |k, _| {
                *params!(k, LayerKind::$variant { $field, .. } => $field)? = v;
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> f32 {
            read($get_name, this, 0.0, |k| Ok(*params!(k, LayerKind::$variant { $field, .. } => $field)?))
        }
    };
}

f32_field!(
    act_set_alpha,
    act_get_alpha,
    "setAlpha",
    "getAlpha",
    Activation,
    alpha
);
f32_field!(
    act_set_beta,
    act_get_beta,
    "setBeta",
    "getBeta",
    Activation,
    beta
);

pub static ACTIVATION: IActivationLayerVtbl = IActivationLayerVtbl {
    base: BASE,
    setActivationType: act_set_type,
    getActivationType: act_get_type,
    setAlpha: act_set_alpha,
    setBeta: act_set_beta,
    getAlpha: act_get_alpha,
    getBeta: act_get_beta,
};

// ---- ILRNLayer

unsafe extern "C" fn lrn_set_window_size(this: This, v: i32) {
    edit("setWindowSize", this, (), |k, _| {
        *params!(k, LayerKind::Lrn { window, .. } => window)? = positive(v, "windowSize")?;
        Ok(())
    })
}

unsafe extern "C" fn lrn_get_window_size(this: This) -> i32 {
    read("getWindowSize", this, 0, |k| {
        Ok(*params!(k, LayerKind::Lrn { window, .. } => window)? as i32)
    })
}

f32_field!(
    lrn_set_alpha,
    lrn_get_alpha,
    "setAlpha",
    "getAlpha",
    Lrn,
    alpha
);
f32_field!(lrn_set_beta, lrn_get_beta, "setBeta", "getBeta", Lrn, beta);
f32_field!(lrn_set_k, lrn_get_k, "setK", "getK", Lrn, k);

pub static LRN: ILRNLayerVtbl = ILRNLayerVtbl {
    base: BASE,
    setWindowSize: lrn_set_window_size,
    getWindowSize: lrn_get_window_size,
    setAlpha: lrn_set_alpha,
    getAlpha: lrn_get_alpha,
    setBeta: lrn_set_beta,
    getBeta: lrn_get_beta,
    setK: lrn_set_k,
    getK: lrn_get_k,
};

// ---- IScaleLayer

unsafe extern "C" fn scale_set_mode(this: This, v: i32) {
    edit("setMode", this, (), |k, _| {
        *params!(k, LayerKind::Scale { mode, .. } => mode)? =
            enum_arg(v, ScaleMode::from_i32, "ScaleMode")?;
        Ok(())
    })
}

unsafe extern "C" fn scale_get_mode(this: This) -> i32 {
    read("getMode", this, 0, |k| {
        Ok(*params!(k, LayerKind::Scale { mode, .. } => mode)? as i32)
    })
}

/// Setter and getter of one weights field of the scale layer.
macro_rules! scale_weights {
    ($set:ident, $get:ident, $set_name:literal, $get_name:literal, $field:ident) => {
        unsafe extern "C" fn $set(this: This, w: RawWeights) {
            edit($set_name, this, (), |k, _| {
                *params!(k, LayerKind::Scale { $field, .. } => $field)? = weights(w, stringify!($field))?;
                Ok(())
            })
        }
        unsafe extern "C" fn $get(this: This) -> RawWeights {
            read($get_name, this, RawWeights::EMPTY, |k| Ok(RawWeights::of(params!(k, LayerKind::Scale { $field, .. } => $field)?)))
        }
    };
}

scale_weights!(
    scale_set_shift,
    scale_get_shift,
    "setShift",
    "getShift",
    shift
);
scale_weights!(
    scale_set_scale,
    scale_get_scale,
    "setScale",
    "getScale",
    scale
);
scale_weights!(
    scale_set_power,
    scale_get_power,
    "setPower",
    "getPower",
    power
);

/// kCHANNEL scales "the third to last dimension": axis 0 of a CHW input.
unsafe extern "C" fn scale_get_channel_axis(this: This) -> i32 {
    read_input("getChannelAxis", this, 0, |input| {
        Ok(input.len().saturating_sub(3) as i32)
    })
}

pub static SCALE: IScaleLayerVtbl = IScaleLayerVtbl {
    base: BASE,
    setMode: scale_set_mode,
    getMode: scale_get_mode,
    setShift: scale_set_shift,
    getShift: scale_get_shift,
    setScale: scale_set_scale,
    getScale: scale_get_scale,
    setPower: scale_set_power,
    getPower: scale_get_power,
    getChannelAxis: scale_get_channel_axis,
};

// ---- ISoftMaxLayer

unsafe extern "C" fn softmax_set_axes(this: This, v: u32) {
    edit("setAxes", this, (), |k, _| {
        *params!(k, LayerKind::SoftMax { axes } => axes)? = v;
        Ok(())
    })
}

unsafe extern "C" fn softmax_get_axes(this: This) -> u32 {
    read("getAxes", this, 0, |k| {
        Ok(*params!(k, LayerKind::SoftMax { axes } => axes)?)
    })
}

pub static SOFTMAX: ISoftMaxLayerVtbl = ISoftMaxLayerVtbl {
    base: BASE,
    setAxes: softmax_set_axes,
    getAxes: softmax_get_axes,
};

// ---- IConcatenationLayer

unsafe extern "C" fn concat_set_axis(this: This, v: i32) {
    edit("setAxis", this, (), |k, _| {
        *params!(k, LayerKind::Concatenation { axis } => axis)? = usize::try_from(v)
            .map_err(|_| Error::InvalidArgument(format!("axis {v} is negative")))?;
        Ok(())
    })
}

unsafe extern "C" fn concat_get_axis(this: This) -> i32 {
    read("getAxis", this, 0, |k| {
        Ok(*params!(k, LayerKind::Concatenation { axis } => axis)? as i32)
    })
}

pub static CONCATENATION: IConcatenationLayerVtbl = IConcatenationLayerVtbl {
    base: BASE,
    setAxis: concat_set_axis,
    getAxis: concat_get_axis,
};

// ---- IElementWiseLayer, IUnaryLayer

unsafe extern "C" fn ew_set_operation(this: This, v: i32) {
    edit("setOperation", this, (), |k, _| {
        *params!(k, LayerKind::ElementWise { op } => op)? =
            enum_arg(v, ElementWiseOperation::from_i32, "ElementWiseOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn ew_get_operation(this: This) -> i32 {
    read("getOperation", this, 0, |k| {
        Ok(*params!(k, LayerKind::ElementWise { op } => op)? as i32)
    })
}

pub static ELEMENT_WISE: IElementWiseLayerVtbl = IElementWiseLayerVtbl {
    base: BASE,
    setOperation: ew_set_operation,
    getOperation: ew_get_operation,
};

unsafe extern "C" fn unary_set_operation(this: This, v: i32) {
    edit("setOperation", this, (), |k, _| {
        *params!(k, LayerKind::Unary { op } => op)? =
            enum_arg(v, UnaryOperation::from_i32, "UnaryOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn unary_get_operation(this: This) -> i32 {
    read("getOperation", this, 0, |k| {
        Ok(*params!(k, LayerKind::Unary { op } => op)? as i32)
    })
}

pub static UNARY: IUnaryLayerVtbl = IUnaryLayerVtbl {
    base: BASE,
    setOperation: unary_set_operation,
    getOperation: unary_get_operation,
};
