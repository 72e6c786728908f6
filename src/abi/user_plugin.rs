//! The application's plugin objects (`IPlugin`, `IPluginExt`, `IPluginV2`, `IPluginV2Ext`,
//! `IPluginV2IOExt`) as the core's [`Plugin`]: every call goes through the user's vtable by slot,
//! and what the user returns is checked before the core sees it.
//!
//! Ownership follows TensorRT: objects the application hands to the network or a factory stay the
//! application's; an engine runs its own `clone()` of an `IPluginV2` (destroyed with the engine)
//! and the application's own `IPlugin`/`IPluginExt` object. An initialized object is terminated
//! when the engine holding it goes away.

use std::any::Any;
use std::ffi::{CStr, c_char, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::dims::Dims;
use crate::error::{Error, Result};
use crate::network::plugin::{Plugin, PluginOrigin};
use crate::types::Shape;

type User = *mut c_void;

vtable! {
    "IPlugin" => struct IPluginVtbl {
        getNbOutputs: unsafe extern "C" fn(User) -> i32,
        getOutputDimensions: unsafe extern "C" fn(User, i32, *const Dims, i32) -> Dims,
        configure: unsafe extern "C" fn(User, *const Dims, i32, *const Dims, i32, i32),
        initialize: unsafe extern "C" fn(User) -> i32,
        terminate: unsafe extern "C" fn(User),
        getWorkspaceSize: unsafe extern "C" fn(User, i32) -> usize,
        enqueue: unsafe extern "C" fn(User, i32, *const *const c_void, *mut *mut c_void, *mut c_void, *mut c_void) -> i32,
        getSerializationSize: unsafe extern "C" fn(User) -> usize,
        serialize: unsafe extern "C" fn(User, *mut c_void),
        dtor_complete as "~D1": unsafe extern "C" fn(User),
        dtor_deleting as "~D0": unsafe extern "C" fn(User),
    }
}

vtable! {
    "IPluginExt" => struct IPluginExtVtbl : IPluginVtbl {
        getTensorRTVersion: unsafe extern "C" fn(User) -> i32,
        supportsFormat: unsafe extern "C" fn(User, i32, u8) -> bool,
        configureWithFormat: unsafe extern "C" fn(User, *const Dims, i32, *const Dims, i32, i32, u8, i32),
    }
}

vtable! {
    "IPluginV2" => struct IPluginV2Vtbl {
        getTensorRTVersion: unsafe extern "C" fn(User) -> i32,
        getPluginType: unsafe extern "C" fn(User) -> *const c_char,
        getPluginVersion: unsafe extern "C" fn(User) -> *const c_char,
        getNbOutputs: unsafe extern "C" fn(User) -> i32,
        getOutputDimensions: unsafe extern "C" fn(User, i32, *const Dims, i32) -> Dims,
        supportsFormat: unsafe extern "C" fn(User, i32, u8) -> bool,
        configureWithFormat: unsafe extern "C" fn(User, *const Dims, i32, *const Dims, i32, i32, u8, i32),
        initialize: unsafe extern "C" fn(User) -> i32,
        terminate: unsafe extern "C" fn(User),
        getWorkspaceSize: unsafe extern "C" fn(User, i32) -> usize,
        enqueue: unsafe extern "C" fn(User, i32, *const *const c_void, *mut *mut c_void, *mut c_void, *mut c_void) -> i32,
        getSerializationSize: unsafe extern "C" fn(User) -> usize,
        serialize: unsafe extern "C" fn(User, *mut c_void),
        destroy: unsafe extern "C" fn(User),
        clone: unsafe extern "C" fn(User) -> User,
        setPluginNamespace: unsafe extern "C" fn(User, *const c_char),
        getPluginNamespace: unsafe extern "C" fn(User) -> *const c_char,
        dtor_complete as "~D1": unsafe extern "C" fn(User),
        dtor_deleting as "~D0": unsafe extern "C" fn(User),
    }
}

vtable! {
    /// `clone` keeps slot 14 (a covariant return through a primary base needs no new slot).
    "IPluginV2Ext" => struct IPluginV2ExtVtbl : IPluginV2Vtbl {
        getOutputDataType: unsafe extern "C" fn(User, i32, *const i32, i32) -> i32,
        isOutputBroadcastAcrossBatch: unsafe extern "C" fn(User, i32, *const bool, i32) -> bool,
        canBroadcastInputAcrossBatch: unsafe extern "C" fn(User, i32) -> bool,
        configurePlugin: unsafe extern "C" fn(User, *const Dims, i32, *const Dims, i32, *const i32, *const i32, *const bool, *const bool, u8, i32),
        attachToContext: unsafe extern "C" fn(User, *mut c_void, *mut c_void, *mut c_void),
        detachFromContext: unsafe extern "C" fn(User),
    }
}

vtable! {
    "IPluginV2IOExt" => struct IPluginV2IOExtVtbl : IPluginV2ExtVtbl {
        configurePluginIO as "configurePlugin#2": unsafe extern "C" fn(User, *const PluginTensorDesc, i32, *const PluginTensorDesc, i32),
        supportsFormatCombination: unsafe extern "C" fn(User, i32, *const PluginTensorDesc, i32, i32) -> bool,
    }
}

/// `nvinfer1::PluginTensorDesc` (6.0): 80 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PluginTensorDesc {
    dims: Dims,
    type_: i32,
    format: i32,
    scale: f32,
}

/// `DataType::kFLOAT`, and `PluginFormat::kNCHW` / `TensorFormat::kLINEAR`: the only type and
/// format infer8 gives a plugin.
const FLOAT: i32 = 0;
const LINEAR: u8 = 0;

/// The interface the application's object implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    V1,
    Ext,
    V2,
    V2Ext,
    V2IoExt,
}

impl Generation {
    /// An `IPluginV2*`'s subclass, from the tag its `getTensorRTVersion()` puts in the top byte.
    ///
    /// # Safety
    /// `obj` must be a live `IPluginV2`.
    pub unsafe fn of_v2(obj: User) -> Result<Generation> {
        // SAFETY: per the contract above; slot 0 is inline in the header, so always present.
        let version = unsafe { (vt::<IPluginV2Vtbl>(obj).getTensorRTVersion)(obj) };
        match version >> 24 {
            0 => Ok(Generation::V2),
            1 => Ok(Generation::V2Ext),
            2 => Ok(Generation::V2IoExt),
            3 => crate::bail!(
                Unsupported,
                "IPluginV2DynamicExt plugins need dynamic shapes, which infer8 does not support"
            ),
            tag => crate::bail!(
                InvalidArgument,
                "the plugin's getTensorRTVersion() {version:#x} names no IPluginV2 interface (tag {tag})"
            ),
        }
    }

    fn is_v2(self) -> bool {
        !matches!(self, Generation::V1 | Generation::Ext)
    }
}

/// The vtable of a user object, read as interface `T`.
///
/// # Safety
/// `obj` must be a live object implementing `T` (or a subclass).
unsafe fn vt<T>(obj: User) -> &'static T {
    // SAFETY: per the contract above: the first word of a polymorphic C++ object is its vptr.
    unsafe { *obj.cast::<&'static T>() }
}

/// `IPluginV2::destroy` on an object the library owns but could not wrap.
///
/// # Safety
/// `obj` must be a live `IPluginV2` the library owns; it is gone afterwards.
pub unsafe fn destroy_v2(obj: User) {
    // SAFETY: per the contract above.
    unsafe { (vt::<IPluginV2Vtbl>(obj).destroy)(obj) }
}

/// `IPluginV2Ext` overrides `clone` in place (slot 14), as the header declares it.
pub fn override_slots() -> Vec<(&'static str, &'static str, usize)> {
    let slot = std::mem::offset_of!(IPluginV2Vtbl, clone) / std::mem::size_of::<usize>();
    vec![("IPluginV2Ext", "clone", slot)]
}

pub struct UserPlugin {
    obj: User,
    generation: Generation,
    /// An engine's `clone()`: destroyed with it.
    owned: bool,
    initialized: AtomicBool,
    workspace: AtomicUsize,
}

// SAFETY: TensorRT shares one plugin object between an engine's execution contexts, which may run
// on different threads; the application's object must allow that (TensorRT's contract), and this
// wrapper adds only atomics.
unsafe impl Send for UserPlugin {}
// SAFETY: as above.
unsafe impl Sync for UserPlugin {}

fn int(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::InvalidArgument(format!("{what} {v} does not fit an int")))
}

fn dims_of(shapes: &[Shape]) -> Result<Vec<Dims>> {
    shapes.iter().map(|s| Dims::from_shape(s)).collect()
}

/// A C string the plugin returned (type, version, namespace); `None` for null.
///
/// # Safety
/// A non-null `p` must be NUL-terminated.
unsafe fn user_string(p: *const c_char) -> Option<String> {
    // SAFETY: per the contract above.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl UserPlugin {
    /// Wraps the application's object, which must be a live object of `generation`'s interface for
    /// as long as the wrapper lives (owned: until the wrapper destroys it).
    ///
    /// # Safety
    /// As above.
    pub unsafe fn new(obj: User, generation: Generation, owned: bool) -> Result<UserPlugin> {
        if obj.is_null() {
            crate::bail!(InvalidArgument, "the plugin is null");
        }
        Ok(UserPlugin {
            obj,
            generation,
            owned,
            initialized: AtomicBool::new(false),
            workspace: AtomicUsize::new(0),
        })
    }

    /// The application's object (`IPluginLayer::getPlugin`).
    pub fn object(&self) -> User {
        self.obj
    }

    // SAFETY (all vtable reads below): `obj` is a live object of `generation` (see `new`), and each
    // accessor is only used for generations that implement the interface.
    fn v1(&self) -> &'static IPluginVtbl {
        unsafe { vt(self.obj) }
    }
    fn ext(&self) -> &'static IPluginExtVtbl {
        unsafe { vt(self.obj) }
    }
    fn v2(&self) -> &'static IPluginV2Vtbl {
        unsafe { vt(self.obj) }
    }
    fn v2_ext(&self) -> &'static IPluginV2ExtVtbl {
        unsafe { vt(self.obj) }
    }
    fn io_ext(&self) -> &'static IPluginV2IOExtVtbl {
        unsafe { vt(self.obj) }
    }

    fn output_dims(&self, index: usize, inputs: &[Dims]) -> Result<Dims> {
        let f = if self.generation.is_v2() {
            self.v2().getOutputDimensions
        } else {
            self.v1().getOutputDimensions
        };
        // SAFETY: `inputs` holds `inputs.len()` Dims for the call's duration.
        Ok(unsafe {
            f(
                self.obj,
                int(index, "output index")?,
                inputs.as_ptr(),
                int(inputs.len(), "input count")?,
            )
        })
    }

    /// `supportsFormat(kFLOAT, kNCHW)`, for the generations that answer it (IOExt overrides it to
    /// say false and is asked `supportsFormatCombination` instead; `IPlugin` has neither).
    fn check_float_linear(&self) -> Result<()> {
        let f = match self.generation {
            Generation::V1 | Generation::V2IoExt => return Ok(()),
            Generation::Ext => self.ext().supportsFormat,
            _ => self.v2().supportsFormat,
        };
        // SAFETY: a plain call on the live object.
        if !unsafe { f(self.obj, FLOAT, LINEAR) } {
            crate::bail!(
                Unsupported,
                "the plugin does not support FP32 in linear (NCHW) format (supportsFormat), the only one infer8 runs plugins in"
            );
        }
        Ok(())
    }

    /// IPluginV2Ext: every output must be FP32 (`getOutputDataType`).
    fn check_float_outputs(&self, nb_inputs: usize, nb_outputs: usize) -> Result<()> {
        let types = vec![FLOAT; nb_inputs];
        for i in 0..nb_outputs {
            // SAFETY: `types` holds one DataType per input.
            let t = unsafe {
                (self.v2_ext().getOutputDataType)(
                    self.obj,
                    int(i, "output index")?,
                    types.as_ptr(),
                    int(nb_inputs, "input count")?,
                )
            };
            if t != FLOAT {
                crate::bail!(
                    Unsupported,
                    "the plugin's output {i} has data type {t} (getOutputDataType); plugin layers run in FP32"
                );
            }
        }
        Ok(())
    }

    fn configure_io_ext(&self, ins: &[Dims], outs: &[Dims]) -> Result<()> {
        let desc = |dims: &Dims| PluginTensorDesc {
            dims: *dims,
            type_: FLOAT,
            format: i32::from(LINEAR),
            scale: 1.0,
        };
        let all: Vec<PluginTensorDesc> = ins.iter().chain(outs).map(desc).collect();
        let (n_in, n_out) = (
            int(ins.len(), "input count")?,
            int(outs.len(), "output count")?,
        );
        for pos in 0..all.len() {
            // SAFETY: `all` holds the inputs' then the outputs' descriptions.
            if !unsafe {
                (self.io_ext().supportsFormatCombination)(
                    self.obj,
                    int(pos, "position")?,
                    all.as_ptr(),
                    n_in,
                    n_out,
                )
            } {
                crate::bail!(
                    Unsupported,
                    "the plugin does not support FP32 linear tensors at position {pos} (supportsFormatCombination), the only format infer8 runs plugins in"
                );
            }
        }
        let (i, o) = all.split_at(ins.len());
        // SAFETY: as above.
        unsafe { (self.io_ext().configurePluginIO)(self.obj, i.as_ptr(), n_in, o.as_ptr(), n_out) };
        Ok(())
    }
}

impl Plugin for UserPlugin {
    fn nb_outputs(&self) -> Result<usize> {
        let f = if self.generation.is_v2() {
            self.v2().getNbOutputs
        } else {
            self.v1().getNbOutputs
        };
        // SAFETY: a plain call on the live object.
        let n = unsafe { f(self.obj) };
        usize::try_from(n)
            .map_err(|_| Error::Network(format!("the plugin reports {n} outputs (getNbOutputs)")))
    }

    fn origin(&self) -> Result<PluginOrigin> {
        if !self.generation.is_v2() {
            return Ok(PluginOrigin::Factory);
        }
        let v = self.v2();
        // SAFETY: C strings owned by the plugin, read at once.
        let (name, version, namespace) = unsafe {
            (
                user_string((v.getPluginType)(self.obj)),
                user_string((v.getPluginVersion)(self.obj)),
                user_string((v.getPluginNamespace)(self.obj)),
            )
        };
        match (name, version) {
            (Some(name), Some(version)) => Ok(PluginOrigin::Registry {
                name,
                version,
                namespace: namespace.unwrap_or_default(),
            }),
            _ => crate::bail!(
                InvalidArgument,
                "the plugin's getPluginType() or getPluginVersion() returned null"
            ),
        }
    }

    fn output_shapes(&self, inputs: &[Shape]) -> Result<Vec<Shape>> {
        let ins = dims_of(inputs)?;
        (0..self.nb_outputs()?)
            .map(|i| self.output_dims(i, &ins)?.sizes("getOutputDimensions", 1))
            .collect()
    }

    fn for_engine(&self) -> Result<Arc<dyn Plugin>> {
        let (obj, owned) = if self.generation.is_v2() {
            // SAFETY: a plain call on the live object.
            let copy = unsafe { (self.v2().clone)(self.obj) };
            if copy.is_null() {
                crate::bail!(Runtime, "the plugin's clone() returned null");
            }
            (copy, true)
        } else {
            (self.obj, false)
        };
        // SAFETY: a clone has our object's interface; the older generations are the same object,
        // which the application keeps alive while engines use it (TensorRT's rule).
        Ok(Arc::new(unsafe {
            UserPlugin::new(obj, self.generation, owned)
        }?))
    }

    fn configure(&self, inputs: &[Shape], outputs: &[Shape], max_batch: usize) -> Result<()> {
        let (ins, outs) = (dims_of(inputs)?, dims_of(outputs)?);
        let (n_in, n_out) = (
            int(ins.len(), "input count")?,
            int(outs.len(), "output count")?,
        );
        let batch = int(max_batch, "maximum batch size")?;
        let (pi, po) = (ins.as_ptr(), outs.as_ptr());
        self.check_float_linear()?;
        // SAFETY (each call): the Dims arrays and type/flag arrays live across the call.
        match self.generation {
            Generation::V1 => unsafe {
                (self.v1().configure)(self.obj, pi, n_in, po, n_out, batch)
            },
            Generation::Ext => unsafe {
                (self.ext().configureWithFormat)(
                    self.obj, pi, n_in, po, n_out, FLOAT, LINEAR, batch,
                )
            },
            Generation::V2 => unsafe {
                (self.v2().configureWithFormat)(self.obj, pi, n_in, po, n_out, FLOAT, LINEAR, batch)
            },
            Generation::V2Ext => {
                self.check_float_outputs(ins.len(), outs.len())?;
                let (ti, to) = (vec![FLOAT; ins.len()], vec![FLOAT; outs.len()]);
                // Batch-invariant inputs are replicated for the plugin (`backend::cpu::plugin`).
                let (bi, bo) = (vec![false; ins.len()], vec![false; outs.len()]);
                unsafe {
                    (self.v2_ext().configurePlugin)(
                        self.obj,
                        pi,
                        n_in,
                        po,
                        n_out,
                        ti.as_ptr(),
                        to.as_ptr(),
                        bi.as_ptr(),
                        bo.as_ptr(),
                        LINEAR,
                        batch,
                    )
                }
            }
            Generation::V2IoExt => self.configure_io_ext(&ins, &outs)?,
        }
        Ok(())
    }

    fn initialize(&self, max_batch: usize) -> Result<()> {
        let (init, workspace) = if self.generation.is_v2() {
            (self.v2().initialize, self.v2().getWorkspaceSize)
        } else {
            (self.v1().initialize, self.v1().getWorkspaceSize)
        };
        // SAFETY: plain calls on the live object.
        let status = unsafe { init(self.obj) };
        if status != 0 {
            crate::bail!(Runtime, "the plugin's initialize() returned {status}");
        }
        self.initialized.store(true, Ordering::Release);
        // SAFETY: as above.
        let bytes = unsafe { workspace(self.obj, int(max_batch, "maximum batch size")?) };
        crate::limits::check(Some(bytes), 1, &"the plugin's workspace (getWorkspaceSize)")?;
        self.workspace.store(bytes, Ordering::Release);
        Ok(())
    }

    fn workspace_size(&self) -> usize {
        self.workspace.load(Ordering::Acquire)
    }

    unsafe fn enqueue(
        &self,
        batch: usize,
        inputs: &[*const f32],
        outputs: &[*mut f32],
        workspace: *mut u8,
        stream: u64,
    ) -> Result<()> {
        let f = if self.generation.is_v2() {
            self.v2().enqueue
        } else {
            self.v1().enqueue
        };
        let ins: Vec<*const c_void> = inputs.iter().map(|p| p.cast()).collect();
        let mut outs: Vec<*mut c_void> = outputs.iter().map(|p| p.cast()).collect();
        // SAFETY: the caller's contract (`network::plugin`).
        let status = unsafe {
            f(
                self.obj,
                int(batch, "batch size")?,
                ins.as_ptr(),
                outs.as_mut_ptr(),
                workspace.cast(),
                stream as *mut c_void,
            )
        };
        if status != 0 {
            crate::bail!(Runtime, "the plugin's enqueue() returned {status}");
        }
        Ok(())
    }

    fn serialize(&self) -> Result<Vec<u8>> {
        let (size, write) = if self.generation.is_v2() {
            (self.v2().getSerializationSize, self.v2().serialize)
        } else {
            (self.v1().getSerializationSize, self.v1().serialize)
        };
        // SAFETY: plain calls on the live object; the buffer holds the size it asked for.
        let n = unsafe { size(self.obj) };
        crate::limits::check(Some(n), 1, &"the plugin's getSerializationSize()")?;
        let mut bytes = vec![0u8; n];
        unsafe { write(self.obj, bytes.as_mut_ptr().cast()) };
        Ok(bytes)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for UserPlugin {
    fn drop(&mut self) {
        // SAFETY: the object is live until here (see `new`); an owned clone is ours to destroy.
        unsafe {
            if self.initialized.load(Ordering::Acquire) {
                if self.generation.is_v2() {
                    (self.v2().terminate)(self.obj);
                } else {
                    (self.v1().terminate)(self.obj);
                }
            }
            if self.owned {
                (self.v2().destroy)(self.obj);
            }
        }
    }
}
