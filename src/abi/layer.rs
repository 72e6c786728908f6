//! `nvinfer1::ILayer` and the object behind every layer interface. Each layer kind has its own
//! vtable, which starts with ILayer's 16 slots and the destructor pair and goes on with the
//! subclass's slots (`layers/`), so an `IConvolutionLayer*` and the `ILayer*` of `getLayer` are the
//! same address, as single inheritance makes them in C++.

use std::ffi::{CString, c_char, c_void};

use super::boundary::{Object, c_str, enum_arg, index, method};
use super::layers;
use super::network::NetworkObj;
use super::tensor::TensorObj;
use crate::error::{Error, Result};
use crate::logger::SharedLogger;
use crate::network::{Layer, LayerId, LayerKind};
use crate::types::DataType;

pub type This = *mut LayerObj;

vtable! {
    "ILayer" => struct ILayerVtbl {
        getType: unsafe extern "C" fn(This) -> i32,
        setName: unsafe extern "C" fn(This, *const c_char),
        getName: unsafe extern "C" fn(This) -> *const c_char,
        getNbInputs: unsafe extern "C" fn(This) -> i32,
        getInput: unsafe extern "C" fn(This, i32) -> *mut TensorObj,
        getNbOutputs: unsafe extern "C" fn(This) -> i32,
        getOutput: unsafe extern "C" fn(This, i32) -> *mut TensorObj,
        setInput: unsafe extern "C" fn(This, i32, *mut TensorObj),
        setPrecision: unsafe extern "C" fn(This, i32),
        getPrecision: unsafe extern "C" fn(This) -> i32,
        precisionIsSet: unsafe extern "C" fn(This) -> bool,
        resetPrecision: unsafe extern "C" fn(This),
        setOutputType: unsafe extern "C" fn(This, i32, i32),
        getOutputType: unsafe extern "C" fn(This, i32) -> i32,
        outputTypeIsSet: unsafe extern "C" fn(This, i32) -> bool,
        resetOutputType: unsafe extern "C" fn(This, i32),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
    }
}

vtable! {
    /// Layers without methods of their own (`IIdentityLayer`, `IParametricReLULayer`).
    "ILayer (no own methods)" => struct PlainLayerVtbl : ILayerVtbl {}
}

#[repr(C)]
pub struct LayerObj {
    /// One of the per-kind vtables, each starting with an [`ILayerVtbl`].
    vtable: *const c_void,
    network: *mut NetworkObj,
    id: LayerId,
    /// The C++ interface name, for messages.
    iface: &'static str,
    logger: SharedLogger,
    name: CString,
}

impl Object for LayerObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl LayerObj {
    pub(super) fn new(
        network: *mut NetworkObj,
        id: LayerId,
        kind: &LayerKind,
        logger: SharedLogger,
    ) -> LayerObj {
        let (vtable, iface) = layers::vtable_of(kind);
        LayerObj {
            vtable,
            network,
            id,
            iface,
            logger,
            name: CString::default(),
        }
    }

    /// Whether `p` is a layer object of this library.
    pub(super) fn is_layer(p: *const LayerObj) -> bool {
        // SAFETY: only the vptr is read; every ILayer starts with one.
        !p.is_null() && layers::is_layer_vtable(unsafe { (*p).vtable })
    }

    fn net(&self) -> &'static mut NetworkObj {
        // SAFETY: the layer object lives as long as its boxed network (which frees it) and is used
        // by one thread at a time, TensorRT's rule for network definitions.
        unsafe { &mut *self.network }
    }
}

fn func_name(this: This, m: &str) -> String {
    // SAFETY: a non-null `this` is one of our layers (C++ reached us through its vtable).
    let iface = unsafe { this.as_ref() }.map_or("ILayer", |l| l.iface);
    format!("{iface}::{m}")
}

fn with<R>(
    m: &str,
    this: This,
    default: R,
    f: impl FnOnce(&mut LayerObj, &mut NetworkObj) -> Result<R>,
) -> R {
    method(&func_name(this, m), this, default, |l| {
        let net = l.net();
        f(l, net)
    })
}

fn core<'a>(l: &LayerObj, net: &'a mut NetworkObj) -> &'a mut Layer {
    &mut net.core.layers[l.id]
}

/// Reads the parameters of the layer behind `this`.
pub fn read<R>(m: &str, this: This, default: R, f: impl FnOnce(&LayerKind) -> Result<R>) -> R {
    with(m, this, default, |l, net| f(&net.core.layers[l.id].kind))
}

/// Reads the shape of the layer's first input.
pub fn read_input<R>(m: &str, this: This, default: R, f: impl FnOnce(&[usize]) -> Result<R>) -> R {
    with(m, this, default, |l, net| {
        let first = net.core.layers[l.id].inputs.first();
        f(first.map_or(&[][..], |&t| net.core.tensors[t].shape.as_slice()))
    })
}

/// Changes the parameters of the layer behind `this` (`f` also sees the first input's shape), then
/// re-infers the network's shapes. On error nothing changes.
pub fn edit<R>(
    m: &str,
    this: This,
    default: R,
    f: impl FnOnce(&mut LayerKind, &[usize]) -> Result<R>,
) -> R {
    with(m, this, default, |l, net| {
        let layer = &net.core.layers[l.id];
        let input = layer
            .inputs
            .first()
            .map(|&t| net.core.tensors[t].shape.clone())
            .unwrap_or_default();
        let mut kind = layer.kind.clone();
        let r = f(&mut kind, &input)?;
        net.core.layers[l.id].kind = kind;
        net.reinfer();
        Ok(r)
    })
}

unsafe extern "C" fn get_type(this: This) -> i32 {
    read("getType", this, -1, |k| Ok(k.layer_type() as i32))
}

unsafe extern "C" fn set_name(this: This, name: *const c_char) {
    with("setName", this, (), |l, net| {
        // SAFETY: a C string per the interface.
        core(l, net).name = unsafe { c_str(name, "name") }?;
        Ok(())
    })
}

unsafe extern "C" fn get_name(this: This) -> *const c_char {
    with("getName", this, std::ptr::null(), |l, net| {
        let name = net.core.layers[l.id].name.clone();
        Ok(super::boundary::cache_c_string(&mut l.name, &name))
    })
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

unsafe extern "C" fn get_nb_inputs(this: This) -> i32 {
    with("getNbInputs", this, 0, |l, net| {
        Ok(count(net.core.layers[l.id].inputs.len()))
    })
}

unsafe extern "C" fn get_input(this: This, i: i32) -> *mut TensorObj {
    with("getInput", this, std::ptr::null_mut(), |l, net| {
        let inputs = &net.core.layers[l.id].inputs;
        let t = inputs[index(i, inputs.len(), "input index")?];
        Ok(net.tensor_ptr(t))
    })
}

unsafe extern "C" fn get_nb_outputs(this: This) -> i32 {
    with("getNbOutputs", this, 0, |l, net| {
        Ok(count(net.core.layers[l.id].outputs.len()))
    })
}

unsafe extern "C" fn get_output(this: This, i: i32) -> *mut TensorObj {
    with("getOutput", this, std::ptr::null_mut(), |l, net| {
        let outputs = &net.core.layers[l.id].outputs;
        let t = outputs[index(i, outputs.len(), "output index")?];
        Ok(net.tensor_ptr(t))
    })
}

unsafe extern "C" fn set_input(this: This, i: i32, tensor: *mut TensorObj) {
    with("setInput", this, (), |l, net| {
        let t = net.tensor_arg(tensor, "tensor")?;
        let i = index(i, net.core.layers[l.id].inputs.len(), "input index")?;
        net.core.set_layer_input(l.id, i, t)?;
        net.reinfer();
        Ok(())
    })
}

fn dtype(v: i32) -> Result<DataType> {
    enum_arg(v, DataType::from_i32, "DataType")
}

unsafe extern "C" fn set_precision(this: This, v: i32) {
    with("setPrecision", this, (), |l, net| {
        core(l, net).precision = Some(dtype(v)?);
        Ok(())
    })
}

unsafe extern "C" fn get_precision(this: This) -> i32 {
    with("getPrecision", this, DataType::Float as i32, |l, net| {
        Ok(net.core.layers[l.id].precision.unwrap_or(DataType::Float) as i32)
    })
}

unsafe extern "C" fn precision_is_set(this: This) -> bool {
    with("precisionIsSet", this, false, |l, net| {
        Ok(net.core.layers[l.id].precision.is_some())
    })
}

unsafe extern "C" fn reset_precision(this: This) {
    with("resetPrecision", this, (), |l, net| {
        core(l, net).precision = None;
        Ok(())
    })
}

fn output_index(layer: &Layer, i: i32) -> Result<usize> {
    index(i, layer.outputs.len(), "output index")
}

unsafe extern "C" fn set_output_type(this: This, i: i32, v: i32) {
    with("setOutputType", this, (), |l, net| {
        let layer = core(l, net);
        let i = output_index(layer, i)?;
        layer.output_types[i] = Some(dtype(v)?);
        Ok(())
    })
}

unsafe extern "C" fn get_output_type(this: This, i: i32) -> i32 {
    with("getOutputType", this, DataType::Float as i32, |l, net| {
        let layer = &net.core.layers[l.id];
        let i = output_index(layer, i)?;
        Ok(layer.output_types[i].unwrap_or(net.core.tensors[layer.outputs[i]].dtype) as i32)
    })
}

unsafe extern "C" fn output_type_is_set(this: This, i: i32) -> bool {
    with("outputTypeIsSet", this, false, |l, net| {
        let layer = &net.core.layers[l.id];
        Ok(layer.output_types[output_index(layer, i)?].is_some())
    })
}

unsafe extern "C" fn reset_output_type(this: This, i: i32) {
    with("resetOutputType", this, (), |l, net| {
        let layer = core(l, net);
        let i = output_index(layer, i)?;
        layer.output_types[i] = None;
        Ok(())
    })
}

/// Layers belong to their network: `delete` on one is a caller error that must not free it.
unsafe extern "C" fn dtor(this: This) {
    with("~ILayer", this, (), |_, _| -> Result<()> {
        Err(Error::InvalidArgument(
            "layers are owned by their network and cannot be deleted".into(),
        ))
    })
}

/// The ILayer part shared by every layer vtable.
pub const BASE: ILayerVtbl = ILayerVtbl {
    getType: get_type,
    setName: set_name,
    getName: get_name,
    getNbInputs: get_nb_inputs,
    getInput: get_input,
    getNbOutputs: get_nb_outputs,
    getOutput: get_output,
    setInput: set_input,
    setPrecision: set_precision,
    getPrecision: get_precision,
    precisionIsSet: precision_is_set,
    resetPrecision: reset_precision,
    setOutputType: set_output_type,
    getOutputType: get_output_type,
    outputTypeIsSet: output_type_is_set,
    resetOutputType: reset_output_type,
    dtor_complete: dtor,
    dtor_deleting: dtor,
};

pub static PLAIN: PlainLayerVtbl = PlainLayerVtbl { base: BASE };
