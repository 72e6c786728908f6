//! The application's plugin factories: the Caffe parser's (`nvcaffeparser1::IPluginFactory`,
//! `IPluginFactoryExt`, `IPluginFactoryV2`), which make plugin layers from a model's layers, and
//! the runtime's (`nvinfer1::IPluginFactory`), which with the plugin registry re-creates them from
//! an engine file.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use super::dims::RawWeights;
use super::plugin::find_creator;
use super::user_plugin::{Generation, UserPlugin};
use crate::error::{Error, Result};
use crate::network::plugin::{Plugin, PluginLayer, PluginOrigin, PluginResolver};
use crate::parser::caffe::PluginFactory;
use crate::types::Weights;

type User = *mut c_void;

vtable! {
    /// TensorRT 5.1 declares no destructor here (6.0 added one, moving `IPluginFactoryExt`'s
    /// slots by two); infer8's header follows 5.1.
    "IPluginFactory" => struct IPluginFactoryVtbl {
        isPlugin: unsafe extern "C" fn(User, *const c_char) -> bool,
        createPlugin: unsafe extern "C" fn(User, *const c_char, *const RawWeights, i32) -> User,
    }
}

vtable! {
    "IPluginFactoryExt" => struct IPluginFactoryExtVtbl : IPluginFactoryVtbl {
        getVersion: unsafe extern "C" fn(User) -> i32,
        isPluginExt: unsafe extern "C" fn(User, *const c_char) -> bool,
    }
}

vtable! {
    "IPluginFactoryV2" => struct IPluginFactoryV2Vtbl {
        isPluginV2: unsafe extern "C" fn(User, *const c_char) -> bool,
        createPlugin: unsafe extern "C" fn(User, *const c_char, *const RawWeights, i32, *const c_char) -> User,
    }
}

vtable! {
    /// `nvinfer1::IPluginFactory` (named apart from the Caffe parser's factory of the same name).
    "IRuntimePluginFactory" => struct IRuntimePluginFactoryVtbl {
        createPlugin: unsafe extern "C" fn(User, *const c_char, *const c_void, usize) -> User,
        dtor_complete as "~D1": unsafe extern "C" fn(User),
        dtor_deleting as "~D0": unsafe extern "C" fn(User),
    }
}

/// The user object's vtable as interface `T`.
///
/// # Safety
/// `obj` must be a live object implementing `T`.
unsafe fn vt<T>(obj: User) -> &'static T {
    // SAFETY: per the contract above.
    unsafe { *obj.cast::<&'static T>() }
}

/// A name for C++ (`NUL`s, impossible in a parsed name, become `?`).
fn c_name(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// The factories set on a Caffe parser, and the parser's storage for the weights it hands them.
#[derive(Default)]
pub(super) struct CaffeFactories {
    /// `setPluginFactory` / `setPluginFactoryExt`.
    pub v1: Option<User>,
    /// Whether `v1` is an `IPluginFactoryExt`.
    pub ext: bool,
    /// `setPluginFactoryV2`.
    pub v2: Option<User>,
    /// `setPluginNamespace`: passed to `IPluginFactoryV2::createPlugin`.
    pub namespace: CString,
    /// Every blob given to a factory, with the `Weights` array that pointed at it: plugins may keep
    /// the pointers, so they live as long as the parser (as in TensorRT).
    weights: Vec<(Vec<Weights>, Box<[RawWeights]>)>,
}

/// The parser's view of [`CaffeFactories`] for one parse: remembers which factory claimed a layer.
pub(super) struct Consult<'a> {
    factories: &'a mut CaffeFactories,
    claimed: Option<Generation>,
}

impl CaffeFactories {
    pub fn consult(&mut self) -> Consult<'_> {
        Consult {
            factories: self,
            claimed: None,
        }
    }
}

impl PluginFactory for Consult<'_> {
    /// As TensorRT's parser: the V2 factory first, then `isPlugin` (and `isPluginExt` for an Ext
    /// factory, which chooses between the generations).
    fn is_plugin(&mut self, layer: &str) -> bool {
        let name = c_name(layer);
        let f = &self.factories;
        // SAFETY (each call): the application keeps the factories it set alive while parsing.
        self.claimed = match (f.v2, f.v1) {
            (Some(v2), _)
                if unsafe { (vt::<IPluginFactoryV2Vtbl>(v2).isPluginV2)(v2, name.as_ptr()) } =>
            {
                Some(Generation::V2)
            }
            (_, Some(v1))
                if unsafe { (vt::<IPluginFactoryVtbl>(v1).isPlugin)(v1, name.as_ptr()) } =>
            {
                let ext = f.ext
                    && unsafe { (vt::<IPluginFactoryExtVtbl>(v1).isPluginExt)(v1, name.as_ptr()) };
                Some(if ext { Generation::Ext } else { Generation::V1 })
            }
            _ => None,
        };
        self.claimed.is_some()
    }

    fn create(&mut self, layer: &str, blobs: Vec<Vec<f32>>) -> Result<PluginLayer> {
        let Some(claimed) = self.claimed.take() else {
            crate::bail!(Runtime, "no plugin factory claimed layer '{layer}'");
        };
        let blobs: Vec<Weights> = blobs.into_iter().map(Weights::new).collect();
        let raw: Box<[RawWeights]> = blobs.iter().map(RawWeights::of).collect();
        let (ptr, count) = (raw.as_ptr(), raw.len());
        let count = i32::try_from(count)
            .map_err(|_| Error::Format(format!("layer '{layer}' has too many blobs")))?;
        self.factories.weights.push((blobs, raw));
        let name = c_name(layer);
        let f = &self.factories;
        // SAFETY (each call): live factories (see `is_plugin`); `ptr` points at `count` Weights
        // kept with the parser.
        let obj = match (claimed, f.v1, f.v2) {
            (Generation::V2, _, Some(v2)) => unsafe {
                (vt::<IPluginFactoryV2Vtbl>(v2).createPlugin)(
                    v2,
                    name.as_ptr(),
                    ptr,
                    count,
                    f.namespace.as_ptr(),
                )
            },
            (_, Some(v1), _) => unsafe {
                (vt::<IPluginFactoryVtbl>(v1).createPlugin)(v1, name.as_ptr(), ptr, count)
            },
            _ => crate::bail!(Runtime, "the factory that claimed layer '{layer}' is gone"),
        };
        if obj.is_null() {
            crate::bail!(
                InvalidArgument,
                "the plugin factory's createPlugin returned null"
            );
        }
        let generation = match claimed {
            // SAFETY: an IPluginV2 per the factory's interface.
            Generation::V2 => unsafe { Generation::of_v2(obj) }?,
            g => g,
        };
        // SAFETY: the application owns what its factory made and keeps it alive while it is used.
        let plugin = unsafe { UserPlugin::new(obj, generation, false) }?;
        PluginLayer::new(Arc::new(plugin))
    }
}

/// Re-creates plugin layers for `IRuntime::deserializeCudaEngine`: `IPlugin`/`IPluginExt` through
/// the application's factory (null when none was given), `IPluginV2` through the registry.
pub(super) struct RuntimePlugins(pub User);

impl PluginResolver for RuntimePlugins {
    fn resolve(
        &mut self,
        layer: &str,
        origin: &PluginOrigin,
        data: &[u8],
    ) -> Result<Arc<dyn Plugin>> {
        let name = c_name(layer);
        let plugin = match origin {
            PluginOrigin::Factory => {
                if self.0.is_null() {
                    crate::bail!(
                        InvalidArgument,
                        "plugin layer '{layer}' needs the IPluginFactory that made it, and deserializeCudaEngine was given none"
                    );
                }
                // SAFETY: the caller's live factory; `data` is valid for the call.
                let obj = unsafe {
                    (vt::<IRuntimePluginFactoryVtbl>(self.0).createPlugin)(
                        self.0,
                        name.as_ptr(),
                        data.as_ptr().cast(),
                        data.len(),
                    )
                };
                if obj.is_null() {
                    crate::bail!(
                        Runtime,
                        "plugin layer '{layer}': the IPluginFactory's createPlugin returned null"
                    );
                }
                // An IPluginExt begins with IPlugin's slots, and a deserialized plugin is not
                // configured again, so the first generation's calls serve both. The factory keeps
                // what it made.
                // SAFETY: an IPlugin per the factory's interface.
                unsafe { UserPlugin::new(obj, Generation::V1, false) }?
            }
            PluginOrigin::Registry {
                name: ty,
                version,
                namespace,
            } => {
                let creator = find_creator(ty, version, namespace).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "plugin layer '{layer}': no plugin creator {ty} version {version} is registered in namespace '{namespace}'"
                    ))
                })?;
                let obj = super::plugin::deserialize_plugin(creator, &name, data);
                if obj.is_null() {
                    crate::bail!(
                        Runtime,
                        "plugin layer '{layer}': the creator's deserializePlugin returned null"
                    );
                }
                // SAFETY: an IPluginV2 made for the engine, which owns it from here.
                let generation = unsafe { Generation::of_v2(obj) };
                let generation = generation.inspect_err(|_| {
                    // SAFETY: ours to release.
                    unsafe { super::user_plugin::destroy_v2(obj) }
                })?;
                // SAFETY: as above.
                unsafe { UserPlugin::new(obj, generation, true) }?
            }
        };
        Ok(Arc::new(plugin))
    }
}
