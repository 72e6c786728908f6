//! Plugin layers through the C++ ABI: `INetworkDefinition::addPlugin`, `addPluginExt`,
//! `addPluginV2` (called from `network.rs`) and the `IPluginLayer` / `IPluginV2Layer` interfaces.

use std::ffi::c_void;
use std::sync::Arc;

use super::layer::{BASE, ILayerVtbl, This, read};
use super::network::{NetworkObj, tensor_array};
use super::tensor::TensorObj;
use super::user_plugin::{Generation, UserPlugin};
use crate::error::{Error, Result};
use crate::network::LayerKind;
use crate::network::plugin::PluginLayer;

vtable! {
    "IPluginLayer" => struct IPluginLayerVtbl : ILayerVtbl {
        getPlugin: unsafe extern "C" fn(This) -> *mut c_void,
    }
}

vtable! {
    "IPluginV2Layer" => struct IPluginV2LayerVtbl : ILayerVtbl {
        getPlugin: unsafe extern "C" fn(This) -> *mut c_void,
    }
}

/// The interface `addPlugin*` was called with.
#[derive(Clone, Copy)]
pub(super) enum Added {
    Plugin,
    PluginExt,
    PluginV2,
}

/// Adds the application's `plugin` (the network keeps using the application's object) on
/// `nb_inputs` tensors of `inputs`.
pub(super) fn add(
    n: &mut NetworkObj,
    inputs: *const *mut TensorObj,
    nb_inputs: i32,
    plugin: *mut c_void,
    added: Added,
) -> Result<*mut super::layer::LayerObj> {
    let ids = tensor_array(n, inputs, nb_inputs)?;
    if plugin.is_null() {
        crate::bail!(InvalidArgument, "argument `plugin` is null");
    }
    let generation = match added {
        Added::Plugin => Generation::V1,
        Added::PluginExt => Generation::Ext,
        // SAFETY: an `IPluginV2&` per the interface.
        Added::PluginV2 => unsafe { Generation::of_v2(plugin) }?,
    };
    // SAFETY: the application keeps its plugin alive while the network uses it (TensorRT's rule).
    let user = unsafe { UserPlugin::new(plugin, generation, false) }?;
    n.add(LayerKind::Plugin(PluginLayer::new(Arc::new(user))?), &ids)
}

/// The application's object behind a plugin layer.
unsafe extern "C" fn get_plugin(this: This) -> *mut c_void {
    read("getPlugin", this, std::ptr::null_mut(), |k| {
        let LayerKind::Plugin(p) = k else {
            return Err(Error::Runtime(
                "the layer object does not match its layer kind".into(),
            ));
        };
        p.plugin
            .as_any()
            .downcast_ref::<UserPlugin>()
            .map(UserPlugin::object)
            .ok_or_else(|| Error::Runtime("the layer's plugin is not a C++ object".into()))
    })
}

pub static PLUGIN: IPluginLayerVtbl = IPluginLayerVtbl {
    base: BASE,
    getPlugin: get_plugin,
};

pub static PLUGIN_V2: IPluginV2LayerVtbl = IPluginV2LayerVtbl {
    base: BASE,
    getPlugin: get_plugin,
};
