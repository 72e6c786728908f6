//! `nvinfer1::INetworkDefinition` over the core [`Network`]. The network object owns one tensor and
//! one layer object per core id; objects are created lazily (see [`NetworkObj::sync`]) so layers
//! added behind the ABI's back (by the Caffe parser, which works on the core network) get objects
//! the first time C++ asks for them.

use std::ffi::{CString, c_char, c_void};
use std::ptr::NonNull;

use super::boundary::{Object, c_str, enum_arg, index, method, positive, release, unsupported};
use super::dims::{Dims, RawWeights};
use super::layer::LayerObj;
use super::plugin_layer;
use super::tensor::TensorObj;
use crate::error::{Error, Result};
use crate::logger::{Severity, SharedLogger};
use crate::network::{
    ConvParams, FillParams, LayerId, LayerKind, Network, PoolParams, ResizeParams, ShuffleParams,
    TensorId,
};
use crate::types::*;

type This = *mut NetworkObj;
type Tensor = *mut TensorObj;
type Layer = *mut LayerObj;

vtable! {
    /// Returns the layer's default output size; the only formula infer8 computes with.
    "IOutputDimensionsFormula" => struct IOutputDimensionsFormulaVtbl {
        compute: unsafe extern "C" fn(*const FormulaObj, Dims, Dims, Dims, Dims, Dims, *const c_char) -> Dims,
        dtor_complete as "~D1": unsafe extern "C" fn(*const FormulaObj),
        dtor_deleting as "~D0": unsafe extern "C" fn(*const FormulaObj),
    }
}

vtable! {
    "INetworkDefinition" => struct INetworkDefinitionVtbl {
        addInput: unsafe extern "C" fn(This, *const c_char, i32, Dims) -> Tensor,
        markOutput: unsafe extern "C" fn(This, Tensor),
        addConvolution: unsafe extern "C" fn(This, Tensor, i32, Dims, RawWeights, RawWeights) -> Layer,
        addFullyConnected: unsafe extern "C" fn(This, Tensor, i32, RawWeights, RawWeights) -> Layer,
        addActivation: unsafe extern "C" fn(This, Tensor, i32) -> Layer,
        addPooling: unsafe extern "C" fn(This, Tensor, i32, Dims) -> Layer,
        addLRN: unsafe extern "C" fn(This, Tensor, i32, f32, f32, f32) -> Layer,
        addScale: unsafe extern "C" fn(This, Tensor, i32, RawWeights, RawWeights, RawWeights) -> Layer,
        addSoftMax: unsafe extern "C" fn(This, Tensor) -> Layer,
        addConcatenation: unsafe extern "C" fn(This, *const Tensor, i32) -> Layer,
        addDeconvolution: unsafe extern "C" fn(This, Tensor, i32, Dims, RawWeights, RawWeights) -> Layer,
        addElementWise: unsafe extern "C" fn(This, Tensor, Tensor, i32) -> Layer,
        addRNN: unsafe extern "C" fn(This, Tensor, i32, usize, i32, i32, i32, i32, RawWeights, RawWeights) -> Layer,
        addPlugin: unsafe extern "C" fn(This, *const Tensor, i32, *mut c_void) -> Layer,
        addUnary: unsafe extern "C" fn(This, Tensor, i32) -> Layer,
        addPadding: unsafe extern "C" fn(This, Tensor, Dims, Dims) -> Layer,
        addShuffle: unsafe extern "C" fn(This, Tensor) -> Layer,
        setPoolingOutputDimensionsFormula: unsafe extern "C" fn(This, *const FormulaObj),
        getPoolingOutputDimensionsFormula: unsafe extern "C" fn(This) -> *const FormulaObj,
        setConvolutionOutputDimensionsFormula: unsafe extern "C" fn(This, *const FormulaObj),
        getConvolutionOutputDimensionsFormula: unsafe extern "C" fn(This) -> *const FormulaObj,
        setDeconvolutionOutputDimensionsFormula: unsafe extern "C" fn(This, *const FormulaObj),
        getDeconvolutionOutputDimensionsFormula: unsafe extern "C" fn(This) -> *const FormulaObj,
        getNbLayers: unsafe extern "C" fn(This) -> i32,
        getLayer: unsafe extern "C" fn(This, i32) -> Layer,
        getNbInputs: unsafe extern "C" fn(This) -> i32,
        getInput: unsafe extern "C" fn(This, i32) -> Tensor,
        getNbOutputs: unsafe extern "C" fn(This) -> i32,
        getOutput: unsafe extern "C" fn(This, i32) -> Tensor,
        destroy: unsafe extern "C" fn(This),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        addReduce: unsafe extern "C" fn(This, Tensor, i32, u32, bool) -> Layer,
        addTopK: unsafe extern "C" fn(This, Tensor, i32, i32, u32) -> Layer,
        addGather: unsafe extern "C" fn(This, Tensor, Tensor, i32) -> Layer,
        addRaggedSoftMax: unsafe extern "C" fn(This, Tensor, Tensor) -> Layer,
        addMatrixMultiply: unsafe extern "C" fn(This, Tensor, i32, Tensor, i32) -> Layer,
        addMatrixMultiply2 as "addMatrixMultiply#2": unsafe extern "C" fn(This, Tensor, bool, Tensor, bool) -> Layer,
        addConstant: unsafe extern "C" fn(This, Dims, RawWeights) -> Layer,
        addRNNv2: unsafe extern "C" fn(This, Tensor, i32, i32, i32, i32) -> Layer,
        addPluginExt: unsafe extern "C" fn(This, *const Tensor, i32, *mut c_void) -> Layer,
        addIdentity: unsafe extern "C" fn(This, Tensor) -> Layer,
        removeTensor: unsafe extern "C" fn(This, Tensor),
        unmarkOutput: unsafe extern "C" fn(This, Tensor),
        addPluginV2: unsafe extern "C" fn(This, *const Tensor, i32, *mut c_void) -> Layer,
        addSlice: unsafe extern "C" fn(This, Tensor, Dims, Dims, Dims) -> Layer,
        setName: unsafe extern "C" fn(This, *const c_char),
        getName: unsafe extern "C" fn(This) -> *const c_char,
        addShape: unsafe extern "C" fn(This, Tensor) -> Layer,
        hasImplicitBatchDimension: unsafe extern "C" fn(This) -> bool,
        markOutputForShapes: unsafe extern "C" fn(This, Tensor) -> bool,
        unmarkOutputForShapes: unsafe extern "C" fn(This, Tensor) -> bool,
        addParametricReLU: unsafe extern "C" fn(This, Tensor, Tensor) -> Layer,
        addConvolutionNd: unsafe extern "C" fn(This, Tensor, i32, Dims, RawWeights, RawWeights) -> Layer,
        addPoolingNd: unsafe extern "C" fn(This, Tensor, i32, Dims) -> Layer,
        addDeconvolutionNd: unsafe extern "C" fn(This, Tensor, i32, Dims, RawWeights, RawWeights) -> Layer,
        addScaleNd: unsafe extern "C" fn(This, Tensor, i32, RawWeights, RawWeights, RawWeights, i32) -> Layer,
        addResize: unsafe extern "C" fn(This, Tensor) -> Layer,
        hasExplicitPrecision: unsafe extern "C" fn(This) -> bool,
        addLoop: unsafe extern "C" fn(This) -> *mut c_void,
        addSelect: unsafe extern "C" fn(This, Tensor, Tensor, Tensor) -> Layer,
        addFill: unsafe extern "C" fn(This, Dims, i32) -> Layer,
        addPaddingNd: unsafe extern "C" fn(This, Tensor, Dims, Dims) -> Layer,
    }
}

#[repr(C)]
pub struct NetworkObj {
    vtable: &'static INetworkDefinitionVtbl,
    pub(super) core: Network,
    logger: SharedLogger,
    // Raw pointers, not `Box`es: C++ holds these objects' addresses and calls them while the network
    // is borrowed elsewhere, so the network must not claim unique ownership of their memory.
    tensors: Vec<NonNull<TensorObj>>,
    layers: Vec<NonNull<LayerObj>>,
    name: CString,
}

impl Object for NetworkObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl Drop for NetworkObj {
    fn drop(&mut self) {
        for t in self.tensors.drain(..) {
            // SAFETY: created by `Box::leak` in `sync`, freed only here.
            drop(unsafe { Box::from_raw(t.as_ptr()) });
        }
        for l in self.layers.drain(..) {
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(l.as_ptr()) });
        }
    }
}

impl NetworkObj {
    /// `explicit_batch`: made by `createNetworkV2(1U << kEXPLICIT_BATCH)`.
    pub(super) fn create(logger: SharedLogger, explicit_batch: bool) -> This {
        Box::into_raw(Box::new(NetworkObj {
            vtable: &VTABLE,
            core: Network {
                explicit_batch,
                ..Network::new()
            },
            logger,
            tensors: Vec::new(),
            layers: Vec::new(),
            name: CString::default(),
        }))
    }

    /// Whether `p` is a network object of this library (the first word is our vtable).
    pub(super) fn is_network(p: *const NetworkObj) -> bool {
        // SAFETY: only the vptr is read; any INetworkDefinition starts with one.
        !p.is_null() && std::ptr::eq(unsafe { (*p).vtable }, &VTABLE)
    }

    /// Creates the objects of tensors and layers that the core network gained since the last call.
    pub(super) fn sync(&mut self) {
        let me: This = self;
        for id in self.tensors.len()..self.core.tensors.len() {
            self.tensors
                .push(NonNull::from(Box::leak(Box::new(TensorObj::new(
                    me,
                    id,
                    self.logger.clone(),
                )))));
        }
        for id in self.layers.len()..self.core.layers.len() {
            let obj = LayerObj::new(me, id, &self.core.layers[id].kind, self.logger.clone());
            self.layers.push(NonNull::from(Box::leak(Box::new(obj))));
        }
    }

    pub(super) fn tensor_ptr(&mut self, t: TensorId) -> Tensor {
        self.sync();
        self.tensors
            .get(t)
            .map_or(std::ptr::null_mut(), |p| p.as_ptr())
    }

    pub(super) fn layer_ptr(&mut self, l: LayerId) -> Layer {
        self.sync();
        self.layers
            .get(l)
            .map_or(std::ptr::null_mut(), |p| p.as_ptr())
    }

    /// The core id of an `ITensor&` argument, which must be one of this network's tensors.
    pub(super) fn tensor_arg(&self, p: Tensor, arg: &str) -> Result<TensorId> {
        if p.is_null() {
            crate::bail!(InvalidArgument, "argument `{arg}` is null");
        }
        if !TensorObj::is_tensor(p) {
            crate::bail!(
                InvalidArgument,
                "argument `{arg}` is not a tensor created by infer8"
            );
        }
        // SAFETY: checked to be one of our tensor objects.
        let t = unsafe { &*p };
        if !std::ptr::eq(t.network, self) {
            crate::bail!(
                InvalidArgument,
                "argument `{arg}` belongs to another network"
            );
        }
        Ok(t.id)
    }

    pub(super) fn add(&mut self, kind: LayerKind, inputs: &[TensorId]) -> Result<Layer> {
        let l = self.core.add_layer(kind, inputs)?;
        Ok(self.layer_ptr(l))
    }

    /// Re-infers shapes after a change. A network may pass through inconsistent states while it is
    /// being edited (a kernel set before the padding that makes it fit); the builder reports what is
    /// still wrong, so here it is only a warning.
    pub(super) fn reinfer(&mut self) {
        if let Err(e) = self.core.refresh_shapes() {
            self.logger.log(
                Severity::Warning,
                &format!("the network's shapes are not consistent yet: {e}"),
            );
        }
    }

    /// The default softmax / concatenation axis: "the number of non-batch axes minus three", or 0.
    fn default_axis(&self, t: TensorId) -> usize {
        self.core.tensors[t].shape.len().saturating_sub(3)
    }
}

/// Runs `f` on the network; for functions adding layers, `f` returns the new layer.
fn with<R>(func: &str, this: This, default: R, f: impl FnOnce(&mut NetworkObj) -> Result<R>) -> R {
    method(func, this, default, f)
}

fn null_layer() -> Layer {
    std::ptr::null_mut()
}

// SAFETY (all weight reads below): `Weights` arguments come from C++ callers, whose `values` point
// at `count` elements per the interface contract; `RawWeights::read` checks the rest.

unsafe extern "C" fn add_input(this: This, name: *const c_char, dtype: i32, dims: Dims) -> Tensor {
    with(
        "INetworkDefinition::addInput",
        this,
        std::ptr::null_mut(),
        |n| {
            // SAFETY: a C string per the interface.
            let name = unsafe { c_str(name, "name") }?;
            let dtype = enum_arg(dtype, DataType::from_i32, "DataType")?;
            let declared = dims.signed_values("dimensions")?;
            let t = n.core.add_input_declared(&name, dtype, &declared)?;
            Ok(n.tensor_ptr(t))
        },
    )
}

unsafe extern "C" fn mark_output(this: This, tensor: Tensor) {
    with("INetworkDefinition::markOutput", this, (), |n| {
        n.core.mark_output(n.tensor_arg(tensor, "tensor")?)
    })
}

fn conv_params(
    nb_output_maps: i32,
    kernel: [usize; 2],
    w: RawWeights,
    b: RawWeights,
) -> Result<ConvParams> {
    let k = positive(nb_output_maps, "nbOutputMaps")?;
    // SAFETY: see the note above `add_input`.
    let (w, b) = unsafe {
        (
            w.read("kernelWeights", false)?,
            b.read("biasWeights", false)?,
        )
    };
    Ok(ConvParams::new(k, kernel, w, b))
}

unsafe extern "C" fn add_convolution(
    this: This,
    input: Tensor,
    k: i32,
    kernel: Dims,
    w: RawWeights,
    b: RawWeights,
) -> Layer {
    with(
        "INetworkDefinition::addConvolution",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let p = conv_params(k, kernel.hw_values("kernelSize", 1)?, w, b)?;
            n.add(LayerKind::Convolution(p), &[x])
        },
    )
}

unsafe extern "C" fn add_fully_connected(
    this: This,
    input: Tensor,
    k: i32,
    w: RawWeights,
    b: RawWeights,
) -> Layer {
    with(
        "INetworkDefinition::addFullyConnected",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let nb_outputs = positive(k, "nbOutputs")?;
            // SAFETY: see the note above `add_input`.
            let (kernel, bias) = unsafe {
                (
                    w.read("kernelWeights", false)?,
                    b.read("biasWeights", false)?,
                )
            };
            n.add(
                LayerKind::FullyConnected {
                    nb_outputs,
                    kernel,
                    bias,
                },
                &[x],
            )
        },
    )
}

unsafe extern "C" fn add_activation(this: This, input: Tensor, kind: i32) -> Layer {
    with(
        "INetworkDefinition::addActivation",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let kind = enum_arg(kind, ActivationType::from_i32, "ActivationType")?;
            n.add(
                LayerKind::Activation {
                    kind,
                    alpha: 0.0,
                    beta: 0.0,
                },
                &[x],
            )
        },
    )
}

unsafe extern "C" fn add_pooling(this: This, input: Tensor, kind: i32, window: Dims) -> Layer {
    with("INetworkDefinition::addPooling", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let kind = enum_arg(kind, PoolingType::from_i32, "PoolingType")?;
        n.add(
            LayerKind::Pooling(PoolParams::new(kind, window.hw_values("windowSize", 1)?)),
            &[x],
        )
    })
}

unsafe extern "C" fn add_lrn(
    this: This,
    input: Tensor,
    window: i32,
    alpha: f32,
    beta: f32,
    k: f32,
) -> Layer {
    with("INetworkDefinition::addLRN", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let window = positive(window, "window")?;
        n.add(
            LayerKind::Lrn {
                window,
                alpha,
                beta,
                k,
            },
            &[x],
        )
    })
}

fn scale_kind(
    mode: i32,
    shift: RawWeights,
    scale: RawWeights,
    power: RawWeights,
) -> Result<LayerKind> {
    let mode = enum_arg(mode, ScaleMode::from_i32, "ScaleMode")?;
    // SAFETY: see the note above `add_input`.
    unsafe {
        Ok(LayerKind::Scale {
            mode,
            shift: shift.read("shift", false)?,
            scale: scale.read("scale", false)?,
            power: power.read("power", false)?,
        })
    }
}

unsafe extern "C" fn add_scale(
    this: This,
    input: Tensor,
    mode: i32,
    shift: RawWeights,
    scale: RawWeights,
    power: RawWeights,
) -> Layer {
    with("INetworkDefinition::addScale", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        n.add(scale_kind(mode, shift, scale, power)?, &[x])
    })
}

unsafe extern "C" fn add_softmax(this: This, input: Tensor) -> Layer {
    with("INetworkDefinition::addSoftMax", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let axes = 1u32 << n.default_axis(x);
        n.add(LayerKind::SoftMax { axes }, &[x])
    })
}

/// An `ITensor* const*` array of `count` tensors of this network.
pub(super) fn tensor_array(
    n: &NetworkObj,
    inputs: *const Tensor,
    count: i32,
) -> Result<Vec<TensorId>> {
    let count = positive(count, "nbInputs")?;
    if inputs.is_null() {
        crate::bail!(InvalidArgument, "argument `inputs` is null");
    }
    (0..count)
        .map(|i| {
            // SAFETY: `inputs` points at `count` pointers per the interface.
            let p = unsafe { *inputs.add(i) };
            n.tensor_arg(p, &format!("inputs[{i}]"))
        })
        .collect()
}

unsafe extern "C" fn add_concatenation(this: This, inputs: *const Tensor, count: i32) -> Layer {
    with(
        "INetworkDefinition::addConcatenation",
        this,
        null_layer(),
        |n| {
            let ids = tensor_array(n, inputs, count)?;
            let axis = n.default_axis(ids[0]);
            n.add(LayerKind::Concatenation { axis }, &ids)
        },
    )
}

unsafe extern "C" fn add_deconvolution(
    this: This,
    input: Tensor,
    k: i32,
    kernel: Dims,
    w: RawWeights,
    b: RawWeights,
) -> Layer {
    with(
        "INetworkDefinition::addDeconvolution",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let p = conv_params(k, kernel.hw_values("kernelSize", 1)?, w, b)?;
            n.add(LayerKind::Deconvolution(p), &[x])
        },
    )
}

unsafe extern "C" fn add_element_wise(this: This, a: Tensor, b: Tensor, op: i32) -> Layer {
    with(
        "INetworkDefinition::addElementWise",
        this,
        null_layer(),
        |n| {
            let (a, b) = (n.tensor_arg(a, "input1")?, n.tensor_arg(b, "input2")?);
            let op = enum_arg(op, ElementWiseOperation::from_i32, "ElementWiseOperation")?;
            n.add(LayerKind::ElementWise { op }, &[a, b])
        },
    )
}

unsafe extern "C" fn add_rnn(
    this: This,
    _: Tensor,
    _: i32,
    _: usize,
    _: i32,
    _: i32,
    _: i32,
    _: i32,
    _: RawWeights,
    _: RawWeights,
) -> Layer {
    with("INetworkDefinition::addRNN", this, null_layer(), |_| {
        unsupported("the RNN layer")
    })
}

unsafe extern "C" fn add_plugin(
    this: This,
    inputs: *const Tensor,
    nb: i32,
    p: *mut c_void,
) -> Layer {
    with("INetworkDefinition::addPlugin", this, null_layer(), |n| {
        plugin_layer::add(n, inputs, nb, p, plugin_layer::Added::Plugin)
    })
}

unsafe extern "C" fn add_unary(this: This, input: Tensor, op: i32) -> Layer {
    with("INetworkDefinition::addUnary", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let op = enum_arg(op, UnaryOperation::from_i32, "UnaryOperation")?;
        n.add(LayerKind::Unary { op }, &[x])
    })
}

fn signed_hw(d: &Dims, what: &str) -> Result<[i64; 2]> {
    match d.signed_values(what)?[..] {
        [h, w] => Ok([h, w]),
        _ => crate::bail!(
            InvalidArgument,
            "{what} must have 2 dimensions (height, width), got {}",
            d.nb_dims
        ),
    }
}

unsafe extern "C" fn add_padding(this: This, input: Tensor, pre: Dims, post: Dims) -> Layer {
    with("INetworkDefinition::addPadding", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let (pre, post) = (
            signed_hw(&pre, "prePadding")?,
            signed_hw(&post, "postPadding")?,
        );
        n.add(LayerKind::Padding { pre, post }, &[x])
    })
}

unsafe extern "C" fn add_shuffle(this: This, input: Tensor) -> Layer {
    with("INetworkDefinition::addShuffle", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let identity = ShuffleParams {
            first_transpose: Vec::new(),
            reshape: None,
            second_transpose: Vec::new(),
        };
        n.add(LayerKind::Shuffle(identity), &[x])
    })
}

/// The library's default formulas (`IOutputDimensionsFormula`), shared by every network.
#[repr(C)]
pub struct FormulaObj {
    vtable: &'static IOutputDimensionsFormulaVtbl,
    deconvolution: bool,
}

unsafe extern "C" fn formula_compute(
    this: *const FormulaObj,
    input: Dims,
    kernel: Dims,
    stride: Dims,
    padding: Dims,
    dilation: Dims,
    _layer_name: *const c_char,
) -> Dims {
    // SAFETY: `this` is one of the two static formulas when non-null.
    let deconvolution = unsafe { this.as_ref() }.is_some_and(|f| f.deconvolution);
    super::boundary::function("IOutputDimensionsFormula::compute", Dims::default(), || {
        let [i, k, s, p, d] = [
            (input, "inputDims"),
            (kernel, "kernelSize"),
            (stride, "stride"),
            (padding, "padding"),
            (dilation, "dilation"),
        ]
        .map(|(v, what)| v.hw_values(what, 0).map(|hw| hw.map(|x| x as i64)));
        let (i, k, s, p, d) = (i?, k?, s?, p?, d?);
        let mut out = [0i64; 2];
        for a in 0..2 {
            let extent = (k[a] - 1) * d[a].max(1) + 1;
            out[a] = if deconvolution {
                (i[a] - 1) * s[a] + extent - 2 * p[a]
            } else if s[a] > 0 {
                (i[a] + 2 * p[a] - extent) / s[a] + 1
            } else {
                crate::bail!(InvalidArgument, "stride must be positive")
            };
        }
        Ok(Dims::from_values(&[out[0] as i32, out[1] as i32]))
    })
}

/// The formulas are static: deleting one does nothing.
unsafe extern "C" fn formula_dtor(_: *const FormulaObj) {}

static FORMULA_VTABLE: IOutputDimensionsFormulaVtbl = IOutputDimensionsFormulaVtbl {
    compute: formula_compute,
    dtor_complete: formula_dtor,
    dtor_deleting: formula_dtor,
};
static WINDOW_FORMULA: FormulaObj = FormulaObj {
    vtable: &FORMULA_VTABLE,
    deconvolution: false,
};
static DECONV_FORMULA: FormulaObj = FormulaObj {
    vtable: &FORMULA_VTABLE,
    deconvolution: true,
};

/// Custom formulas would have to be called during shape inference; infer8 offers `PaddingMode`
/// (which superseded them in 5.1) instead. Null or the default formula restore the default.
fn set_formula(f: *const FormulaObj) -> Result<()> {
    if f.is_null() || std::ptr::eq(f, &WINDOW_FORMULA) || std::ptr::eq(f, &DECONV_FORMULA) {
        Ok(())
    } else {
        unsupported("a custom IOutputDimensionsFormula (use setPaddingMode)")
    }
}

unsafe extern "C" fn set_pooling_formula(this: This, f: *const FormulaObj) {
    with(
        "INetworkDefinition::setPoolingOutputDimensionsFormula",
        this,
        (),
        |_| set_formula(f),
    )
}

unsafe extern "C" fn get_pooling_formula(this: This) -> *const FormulaObj {
    with(
        "INetworkDefinition::getPoolingOutputDimensionsFormula",
        this,
        &WINDOW_FORMULA,
        |_| Ok(&WINDOW_FORMULA),
    )
}

unsafe extern "C" fn set_convolution_formula(this: This, f: *const FormulaObj) {
    with(
        "INetworkDefinition::setConvolutionOutputDimensionsFormula",
        this,
        (),
        |_| set_formula(f),
    )
}

unsafe extern "C" fn get_convolution_formula(this: This) -> *const FormulaObj {
    with(
        "INetworkDefinition::getConvolutionOutputDimensionsFormula",
        this,
        &WINDOW_FORMULA,
        |_| Ok(&WINDOW_FORMULA),
    )
}

unsafe extern "C" fn set_deconvolution_formula(this: This, f: *const FormulaObj) {
    with(
        "INetworkDefinition::setDeconvolutionOutputDimensionsFormula",
        this,
        (),
        |_| set_formula(f),
    )
}

unsafe extern "C" fn get_deconvolution_formula(this: This) -> *const FormulaObj {
    with(
        "INetworkDefinition::getDeconvolutionOutputDimensionsFormula",
        this,
        &DECONV_FORMULA,
        |_| Ok(&DECONV_FORMULA),
    )
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

unsafe extern "C" fn get_nb_layers(this: This) -> i32 {
    with("INetworkDefinition::getNbLayers", this, 0, |n| {
        Ok(count(n.core.layers.len()))
    })
}

unsafe extern "C" fn get_layer(this: This, i: i32) -> Layer {
    with("INetworkDefinition::getLayer", this, null_layer(), |n| {
        let l = index(i, n.core.layers.len(), "layer index")?;
        Ok(n.layer_ptr(l))
    })
}

unsafe extern "C" fn get_nb_inputs(this: This) -> i32 {
    with("INetworkDefinition::getNbInputs", this, 0, |n| {
        Ok(count(n.core.inputs.len()))
    })
}

unsafe extern "C" fn get_input(this: This, i: i32) -> Tensor {
    with(
        "INetworkDefinition::getInput",
        this,
        std::ptr::null_mut(),
        |n| {
            let t = n.core.inputs[index(i, n.core.inputs.len(), "input index")?];
            Ok(n.tensor_ptr(t))
        },
    )
}

unsafe extern "C" fn get_nb_outputs(this: This) -> i32 {
    with("INetworkDefinition::getNbOutputs", this, 0, |n| {
        Ok(count(n.core.outputs.len()))
    })
}

unsafe extern "C" fn get_output(this: This, i: i32) -> Tensor {
    with(
        "INetworkDefinition::getOutput",
        this,
        std::ptr::null_mut(),
        |n| {
            let t = n.core.outputs[index(i, n.core.outputs.len(), "output index")?];
            Ok(n.tensor_ptr(t))
        },
    )
}

/// `destroy()` and both destructor slots (C++ `delete`) release the network with its tensors and
/// layers.
unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by this library; the caller gives it up.
    unsafe { release("INetworkDefinition::destroy", this) }
}

unsafe extern "C" fn add_reduce(
    this: This,
    input: Tensor,
    op: i32,
    axes: u32,
    keep_dims: bool,
) -> Layer {
    with("INetworkDefinition::addReduce", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let op = enum_arg(op, ReduceOperation::from_i32, "ReduceOperation")?;
        n.add(
            LayerKind::Reduce {
                op,
                axes,
                keep_dims,
            },
            &[x],
        )
    })
}

unsafe extern "C" fn add_top_k(this: This, input: Tensor, op: i32, k: i32, axes: u32) -> Layer {
    with("INetworkDefinition::addTopK", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let op = enum_arg(op, TopKOperation::from_i32, "TopKOperation")?;
        n.add(
            LayerKind::TopK {
                op,
                k: positive(k, "k")?,
                axes,
            },
            &[x],
        )
    })
}

unsafe extern "C" fn add_gather(this: This, data: Tensor, indices: Tensor, axis: i32) -> Layer {
    with("INetworkDefinition::addGather", this, null_layer(), |n| {
        let (d, i) = (
            n.tensor_arg(data, "data")?,
            n.tensor_arg(indices, "indices")?,
        );
        let axis = usize::try_from(axis)
            .map_err(|_| Error::InvalidArgument(format!("axis {axis} is negative")))?;
        n.add(LayerKind::Gather { axis }, &[d, i])
    })
}

unsafe extern "C" fn add_ragged_softmax(this: This, _: Tensor, _: Tensor) -> Layer {
    with(
        "INetworkDefinition::addRaggedSoftMax",
        this,
        null_layer(),
        |_| unsupported("the ragged softmax layer"),
    )
}

fn matrix_multiply(
    n: &mut NetworkObj,
    a: Tensor,
    op0: MatrixOperation,
    b: Tensor,
    op1: MatrixOperation,
) -> Result<Layer> {
    let (a, b) = (n.tensor_arg(a, "input0")?, n.tensor_arg(b, "input1")?);
    n.add(LayerKind::MatrixMultiply { op0, op1 }, &[a, b])
}

unsafe extern "C" fn add_matrix_multiply(
    this: This,
    a: Tensor,
    op0: i32,
    b: Tensor,
    op1: i32,
) -> Layer {
    with(
        "INetworkDefinition::addMatrixMultiply",
        this,
        null_layer(),
        |n| {
            let op0 = enum_arg(op0, MatrixOperation::from_i32, "MatrixOperation")?;
            let op1 = enum_arg(op1, MatrixOperation::from_i32, "MatrixOperation")?;
            matrix_multiply(n, a, op0, b, op1)
        },
    )
}

fn transpose(t: bool) -> MatrixOperation {
    if t {
        MatrixOperation::Transpose
    } else {
        MatrixOperation::None
    }
}

unsafe extern "C" fn add_matrix_multiply2(
    this: This,
    a: Tensor,
    t0: bool,
    b: Tensor,
    t1: bool,
) -> Layer {
    with(
        "INetworkDefinition::addMatrixMultiply",
        this,
        null_layer(),
        |n| matrix_multiply(n, a, transpose(t0), b, transpose(t1)),
    )
}

unsafe extern "C" fn add_constant(this: This, dims: Dims, weights: RawWeights) -> Layer {
    with("INetworkDefinition::addConstant", this, null_layer(), |n| {
        let dims = dims.sizes("dimensions", 1)?;
        // SAFETY: see the note above `add_input`.
        let weights = unsafe { weights.read("weights", true) }?;
        n.add(LayerKind::Constant { dims, weights }, &[])
    })
}

unsafe extern "C" fn add_rnn_v2(this: This, _: Tensor, _: i32, _: i32, _: i32, _: i32) -> Layer {
    with("INetworkDefinition::addRNNv2", this, null_layer(), |_| {
        unsupported("the RNNv2 layer")
    })
}

unsafe extern "C" fn add_plugin_ext(
    this: This,
    inputs: *const Tensor,
    nb: i32,
    p: *mut c_void,
) -> Layer {
    with(
        "INetworkDefinition::addPluginExt",
        this,
        null_layer(),
        |n| plugin_layer::add(n, inputs, nb, p, plugin_layer::Added::PluginExt),
    )
}

unsafe extern "C" fn add_identity(this: This, input: Tensor) -> Layer {
    with("INetworkDefinition::addIdentity", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        n.add(LayerKind::Identity, &[x])
    })
}

/// Tensors are numbered densely in the core network (engines and the parser rely on it), so one
/// cannot be taken out; an unused tensor costs nothing, the builder prunes it.
unsafe extern "C" fn remove_tensor(this: This, tensor: Tensor) {
    with("INetworkDefinition::removeTensor", this, (), |n| {
        n.tensor_arg(tensor, "tensor")?;
        unsupported("removeTensor")
    })
}

unsafe extern "C" fn unmark_output(this: This, tensor: Tensor) {
    with("INetworkDefinition::unmarkOutput", this, (), |n| {
        n.core.unmark_output(n.tensor_arg(tensor, "tensor")?)
    })
}

unsafe extern "C" fn add_plugin_v2(
    this: This,
    inputs: *const Tensor,
    nb: i32,
    p: *mut c_void,
) -> Layer {
    with("INetworkDefinition::addPluginV2", this, null_layer(), |n| {
        plugin_layer::add(n, inputs, nb, p, plugin_layer::Added::PluginV2)
    })
}

unsafe extern "C" fn add_slice(
    this: This,
    input: Tensor,
    start: Dims,
    size: Dims,
    stride: Dims,
) -> Layer {
    with("INetworkDefinition::addSlice", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let kind = LayerKind::Slice {
            start: start.signed_values("start")?,
            size: size.sizes("size", 1)?,
            stride: stride.signed_values("stride")?,
        };
        n.add(kind, &[x])
    })
}

unsafe extern "C" fn set_name(this: This, name: *const c_char) {
    with("INetworkDefinition::setName", this, (), |n| {
        // SAFETY: a C string per the interface.
        n.core.name = unsafe { c_str(name, "name") }?;
        Ok(())
    })
}

unsafe extern "C" fn get_name(this: This) -> *const c_char {
    with("INetworkDefinition::getName", this, std::ptr::null(), |n| {
        Ok(super::boundary::cache_c_string(&mut n.name, &n.core.name))
    })
}

unsafe extern "C" fn add_shape(this: This, input: Tensor) -> Layer {
    with("INetworkDefinition::addShape", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        n.add(LayerKind::Shape, &[x])
    })
}

unsafe extern "C" fn has_implicit_batch_dimension(this: This) -> bool {
    with(
        "INetworkDefinition::hasImplicitBatchDimension",
        this,
        true,
        |n| Ok(!n.core.explicit_batch),
    )
}

unsafe extern "C" fn mark_output_for_shapes(this: This, _: Tensor) -> bool {
    with(
        "INetworkDefinition::markOutputForShapes",
        this,
        false,
        |_| unsupported("shape tensor outputs"),
    )
}

unsafe extern "C" fn unmark_output_for_shapes(this: This, _: Tensor) -> bool {
    with(
        "INetworkDefinition::unmarkOutputForShapes",
        this,
        false,
        |_| unsupported("shape tensor outputs"),
    )
}

unsafe extern "C" fn add_parametric_relu(this: This, input: Tensor, slope: Tensor) -> Layer {
    with(
        "INetworkDefinition::addParametricReLU",
        this,
        null_layer(),
        |n| {
            let (x, s) = (n.tensor_arg(input, "input")?, n.tensor_arg(slope, "slope")?);
            n.add(LayerKind::ParametricRelu, &[x, s])
        },
    )
}

/// The Nd variants of 6.0/7.0 with two spatial dimensions are the 5.1 layers; 3D ones are not
/// implemented.
fn nd_hw(d: &Dims, what: &str) -> Result<[usize; 2]> {
    if d.nb_dims != 2 {
        return unsupported(&format!(
            "{what} with {} spatial dimensions (only 2)",
            d.nb_dims
        ));
    }
    d.hw_values(what, 1)
}

unsafe extern "C" fn add_convolution_nd(
    this: This,
    input: Tensor,
    k: i32,
    kernel: Dims,
    w: RawWeights,
    b: RawWeights,
) -> Layer {
    with(
        "INetworkDefinition::addConvolutionNd",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let p = conv_params(k, nd_hw(&kernel, "kernelSize")?, w, b)?;
            n.add(LayerKind::Convolution(p), &[x])
        },
    )
}

unsafe extern "C" fn add_pooling_nd(this: This, input: Tensor, kind: i32, window: Dims) -> Layer {
    with(
        "INetworkDefinition::addPoolingNd",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let kind = enum_arg(kind, PoolingType::from_i32, "PoolingType")?;
            n.add(
                LayerKind::Pooling(PoolParams::new(kind, nd_hw(&window, "windowSize")?)),
                &[x],
            )
        },
    )
}

unsafe extern "C" fn add_deconvolution_nd(
    this: This,
    input: Tensor,
    k: i32,
    kernel: Dims,
    w: RawWeights,
    b: RawWeights,
) -> Layer {
    with(
        "INetworkDefinition::addDeconvolutionNd",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let p = conv_params(k, nd_hw(&kernel, "kernelSize")?, w, b)?;
            n.add(LayerKind::Deconvolution(p), &[x])
        },
    )
}

/// `addScaleNd` with the channel axis of `addScale` (third from last) is `addScale`.
unsafe extern "C" fn add_scale_nd(
    this: This,
    input: Tensor,
    mode: i32,
    shift: RawWeights,
    scale: RawWeights,
    power: RawWeights,
    channel_axis: i32,
) -> Layer {
    with("INetworkDefinition::addScaleNd", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let axis = n.default_axis(x);
        if usize::try_from(channel_axis).ok() != Some(axis) {
            return unsupported(&format!(
                "channelAxis {channel_axis} (only {axis}, the third dimension from the end)"
            ));
        }
        n.add(scale_kind(mode, shift, scale, power)?, &[x])
    })
}

/// TensorRT's defaults: nearest, corners not aligned, output the input's size until set.
unsafe extern "C" fn add_resize(this: This, input: Tensor) -> Layer {
    with("INetworkDefinition::addResize", this, null_layer(), |n| {
        let x = n.tensor_arg(input, "input")?;
        let p = ResizeParams {
            output: None,
            scales: None,
            mode: ResizeMode::Nearest,
            align_corners: false,
        };
        n.add(LayerKind::Resize(p), &[x])
    })
}

unsafe extern "C" fn has_explicit_precision(this: This) -> bool {
    with(
        "INetworkDefinition::hasExplicitPrecision",
        this,
        false,
        |_| Ok(false),
    )
}

unsafe extern "C" fn add_loop(this: This) -> *mut c_void {
    with(
        "INetworkDefinition::addLoop",
        this,
        std::ptr::null_mut(),
        |_| unsupported("loops"),
    )
}

unsafe extern "C" fn add_select(this: This, cond: Tensor, then: Tensor, other: Tensor) -> Layer {
    with("INetworkDefinition::addSelect", this, null_layer(), |n| {
        let inputs = [
            n.tensor_arg(cond, "condition")?,
            n.tensor_arg(then, "thenInput")?,
            n.tensor_arg(other, "elseInput")?,
        ];
        n.add(LayerKind::Select, &inputs)
    })
}

/// TensorRT's defaults for both operations: alpha 0, beta 1.
unsafe extern "C" fn add_fill(this: This, dims: Dims, op: i32) -> Layer {
    with("INetworkDefinition::addFill", this, null_layer(), |n| {
        let p = FillParams {
            dims: dims.sizes("dimensions", 1)?,
            op: enum_arg(op, FillOperation::from_i32, "FillOperation")?,
            alpha: 0.0,
            beta: 1.0,
        };
        n.add(LayerKind::Fill(p), &[])
    })
}

unsafe extern "C" fn add_padding_nd(this: This, input: Tensor, pre: Dims, post: Dims) -> Layer {
    with(
        "INetworkDefinition::addPaddingNd",
        this,
        null_layer(),
        |n| {
            let x = n.tensor_arg(input, "input")?;
            let (pre, post) = (
                signed_hw(&pre, "prePadding")?,
                signed_hw(&post, "postPadding")?,
            );
            n.add(LayerKind::Padding { pre, post }, &[x])
        },
    )
}

static VTABLE: INetworkDefinitionVtbl = INetworkDefinitionVtbl {
    addInput: add_input,
    markOutput: mark_output,
    addConvolution: add_convolution,
    addFullyConnected: add_fully_connected,
    addActivation: add_activation,
    addPooling: add_pooling,
    addLRN: add_lrn,
    addScale: add_scale,
    addSoftMax: add_softmax,
    addConcatenation: add_concatenation,
    addDeconvolution: add_deconvolution,
    addElementWise: add_element_wise,
    addRNN: add_rnn,
    addPlugin: add_plugin,
    addUnary: add_unary,
    addPadding: add_padding,
    addShuffle: add_shuffle,
    setPoolingOutputDimensionsFormula: set_pooling_formula,
    getPoolingOutputDimensionsFormula: get_pooling_formula,
    setConvolutionOutputDimensionsFormula: set_convolution_formula,
    getConvolutionOutputDimensionsFormula: get_convolution_formula,
    setDeconvolutionOutputDimensionsFormula: set_deconvolution_formula,
    getDeconvolutionOutputDimensionsFormula: get_deconvolution_formula,
    getNbLayers: get_nb_layers,
    getLayer: get_layer,
    getNbInputs: get_nb_inputs,
    getInput: get_input,
    getNbOutputs: get_nb_outputs,
    getOutput: get_output,
    destroy,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    addReduce: add_reduce,
    addTopK: add_top_k,
    addGather: add_gather,
    addRaggedSoftMax: add_ragged_softmax,
    addMatrixMultiply: add_matrix_multiply,
    addMatrixMultiply2: add_matrix_multiply2,
    addConstant: add_constant,
    addRNNv2: add_rnn_v2,
    addPluginExt: add_plugin_ext,
    addIdentity: add_identity,
    removeTensor: remove_tensor,
    unmarkOutput: unmark_output,
    addPluginV2: add_plugin_v2,
    addSlice: add_slice,
    setName: set_name,
    getName: get_name,
    addShape: add_shape,
    hasImplicitBatchDimension: has_implicit_batch_dimension,
    markOutputForShapes: mark_output_for_shapes,
    unmarkOutputForShapes: unmark_output_for_shapes,
    addParametricReLU: add_parametric_relu,
    addConvolutionNd: add_convolution_nd,
    addPoolingNd: add_pooling_nd,
    addDeconvolutionNd: add_deconvolution_nd,
    addScaleNd: add_scale_nd,
    addResize: add_resize,
    hasExplicitPrecision: has_explicit_precision,
    addLoop: add_loop,
    addSelect: add_select,
    addFill: add_fill,
    addPaddingNd: add_padding_nd,
};
