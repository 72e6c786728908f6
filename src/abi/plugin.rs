//! The plugin side of libnvinfer / libnvinfer_plugin: `getPluginRegistry()` (a real registry, empty
//! until the application registers creators) and `initLibNvInferPlugins` (infer8 ships no plugins).

use std::ffi::{CStr, c_char, c_void};
use std::sync::{Arc, Mutex};

use super::boundary::{Object, c_str, function, non_null, shared_method, unsupported};
use super::logger::{CppLogger, process_logger};
use crate::error::Result;
use crate::logger::{Severity, SharedLogger};

type This = *const RegistryObj;
type Creator = *mut c_void;

vtable! {
    "IPluginRegistry" => struct IPluginRegistryVtbl {
        registerCreator: unsafe extern "C" fn(This, Creator, *const c_char) -> bool,
        getPluginCreatorList: unsafe extern "C" fn(This, *mut i32) -> *const Creator,
        getPluginCreator: unsafe extern "C" fn(This, *const c_char, *const c_char, *const c_char) -> Creator,
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
    }
}

vtable! {
    /// Implemented by the application (or a plugin library); the registry reads its name and version.
    "IPluginCreator" => struct IPluginCreatorVtbl {
        getTensorRTVersion: unsafe extern "C" fn(Creator) -> i32,
        getPluginName: unsafe extern "C" fn(Creator) -> *const c_char,
        getPluginVersion: unsafe extern "C" fn(Creator) -> *const c_char,
        getFieldNames: unsafe extern "C" fn(Creator) -> *const c_void,
        createPlugin: unsafe extern "C" fn(Creator, *const c_char, *const c_void) -> *mut c_void,
        deserializePlugin: unsafe extern "C" fn(Creator, *const c_char, *const c_void, usize) -> *mut c_void,
        setPluginNamespace: unsafe extern "C" fn(Creator, *const c_char),
        getPluginNamespace: unsafe extern "C" fn(Creator) -> *const c_char,
        dtor_complete as "~D1": unsafe extern "C" fn(Creator),
        dtor_deleting as "~D0": unsafe extern "C" fn(Creator),
    }
}

struct Entry {
    creator: Creator,
    name: String,
    version: String,
    namespace: String,
}

#[derive(Default)]
struct Creators {
    entries: Vec<Entry>,
    /// What `getPluginCreatorList` returns; valid until the next registration.
    list: Vec<Creator>,
}

// SAFETY: the creators are registered for the whole process and TensorRT calls them from any
// thread; the registry only stores and returns their pointers (under the mutex).
unsafe impl Send for Creators {}

#[repr(C)]
pub struct RegistryObj {
    vtable: &'static IPluginRegistryVtbl,
    creators: Mutex<Creators>,
}

impl Object for RegistryObj {
    /// The registry is process-wide: it reports through the process logger.
    fn logger(&self) -> SharedLogger {
        process_logger()
    }
}

fn creator_string(
    creator: Creator,
    slot: fn(&IPluginCreatorVtbl) -> unsafe extern "C" fn(Creator) -> *const c_char,
) -> Result<String> {
    // SAFETY: `creator` is an IPluginCreator (registerCreator's argument); slots 1 and 2 return
    // C strings owned by it.
    let p = unsafe { slot(*creator.cast::<&IPluginCreatorVtbl>())(creator) };
    non_null(p, "plugin creator name or version")?;
    // SAFETY: non-null C string, see above.
    Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

unsafe extern "C" fn register_creator(
    this: This,
    creator: Creator,
    namespace: *const c_char,
) -> bool {
    shared_method("IPluginRegistry::registerCreator", this, false, |r| {
        non_null(creator, "creator")?;
        // SAFETY: a C string per the interface.
        let namespace = unsafe { c_str(namespace, "pluginNamespace") }?;
        let name = creator_string(creator, |v| v.getPluginName)?;
        let version = creator_string(creator, |v| v.getPluginVersion)?;
        let mut c = r.creators.lock().unwrap_or_else(|e| e.into_inner());
        if c.entries
            .iter()
            .any(|e| e.name == name && e.version == version && e.namespace == namespace)
        {
            r.logger().log(Severity::Warning, &format!("plugin creator {name} version {version} is already registered in namespace '{namespace}'"));
            return Ok(false);
        }
        c.entries.push(Entry {
            creator,
            name,
            version,
            namespace,
        });
        c.list = c.entries.iter().map(|e| e.creator).collect();
        Ok(true)
    })
}

unsafe extern "C" fn get_plugin_creator_list(this: This, count: *mut i32) -> *const Creator {
    shared_method(
        "IPluginRegistry::getPluginCreatorList",
        this,
        std::ptr::null(),
        |r| {
            non_null(count, "numCreators")?;
            let c = r.creators.lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: checked non-null; an int out-parameter per the interface.
            unsafe { *count = i32::try_from(c.list.len()).unwrap_or(i32::MAX) };
            Ok(if c.list.is_empty() {
                std::ptr::null()
            } else {
                c.list.as_ptr()
            })
        },
    )
}

unsafe extern "C" fn get_plugin_creator(
    this: This,
    name: *const c_char,
    version: *const c_char,
    namespace: *const c_char,
) -> Creator {
    shared_method(
        "IPluginRegistry::getPluginCreator",
        this,
        std::ptr::null_mut(),
        |_| {
            // SAFETY: C strings per the interface; the namespace defaults to "" in the header.
            let (name, version) =
                unsafe { (c_str(name, "pluginType")?, c_str(version, "pluginVersion")?) };
            let namespace = if namespace.is_null() {
                String::new()
            } else {
                unsafe { c_str(namespace, "pluginNamespace") }?
            };
            Ok(find_creator(&name, &version, &namespace).unwrap_or(std::ptr::null_mut()))
        },
    )
}

/// The registered creator of a plugin type, version and namespace (what an engine file names).
pub(super) fn find_creator(name: &str, version: &str, namespace: &str) -> Option<Creator> {
    let c = REGISTRY.creators.lock().unwrap_or_else(|e| e.into_inner());
    c.entries
        .iter()
        .find(|e| e.name == name && e.version == version && e.namespace == namespace)
        .map(|e| e.creator)
}

/// `IPluginCreator::deserializePlugin(layerName, data, length)`: the plugin, or null.
pub(super) fn deserialize_plugin(creator: Creator, layer: &CStr, data: &[u8]) -> *mut c_void {
    // SAFETY: a registered IPluginCreator (registerCreator's argument, alive for the process);
    // `layer` and `data` are valid for the call.
    unsafe {
        ((*creator.cast::<&IPluginCreatorVtbl>()).deserializePlugin)(
            creator,
            layer.as_ptr(),
            data.as_ptr().cast(),
            data.len(),
        )
    }
}

/// The registry is a process singleton: deleting it does nothing.
unsafe extern "C" fn dtor(this: This) {
    shared_method("IPluginRegistry::~IPluginRegistry", this, (), |_| {
        crate::bail!(
            InvalidArgument,
            "the plugin registry belongs to the library and cannot be deleted"
        )
    })
}

unsafe extern "C" fn set_error_recorder(this: This, _: *mut c_void) {
    shared_method("IPluginRegistry::setErrorRecorder", this, (), |_| {
        unsupported("IErrorRecorder (errors go to the ILogger)")
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    shared_method(
        "IPluginRegistry::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |_| Ok(std::ptr::null_mut()),
    )
}

static VTABLE: IPluginRegistryVtbl = IPluginRegistryVtbl {
    registerCreator: register_creator,
    getPluginCreatorList: get_plugin_creator_list,
    getPluginCreator: get_plugin_creator,
    dtor_complete: dtor,
    dtor_deleting: dtor,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
};

static REGISTRY: RegistryObj = RegistryObj {
    vtable: &VTABLE,
    creators: Mutex::new(Creators {
        entries: Vec::new(),
        list: Vec::new(),
    }),
};

/// `extern "C" nvinfer1::IPluginRegistry* getPluginRegistry()`.
#[unsafe(no_mangle)]
pub extern "C" fn getPluginRegistry() -> *mut c_void {
    function("getPluginRegistry", std::ptr::null_mut(), || {
        Ok((&REGISTRY as This).cast_mut().cast())
    })
}

/// `extern "C" bool initLibNvInferPlugins(void* logger, const char* libNamespace)`: infer8 has no
/// built-in plugins, so there is nothing to register; the call succeeds and says so.
///
/// # Safety
/// `logger` must be null or a live `nvinfer1::ILogger`; `libNamespace` null or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn initLibNvInferPlugins(
    logger: *mut c_void,
    namespace: *const c_char,
) -> bool {
    function("initLibNvInferPlugins", false, || {
        // SAFETY: per the contract above.
        let namespace = if namespace.is_null() {
            String::new()
        } else {
            unsafe { c_str(namespace, "libNamespace") }?
        };
        let log: SharedLogger = match unsafe { CppLogger::new(logger) } {
            Some(l) => Arc::new(l),
            None => process_logger(),
        };
        log.log(Severity::Info, &format!("initLibNvInferPlugins: infer8 has no built-in plugins; none registered in namespace '{namespace}'"));
        Ok(true)
    })
}
