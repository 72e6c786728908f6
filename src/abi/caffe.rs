//! The Caffe parser library (`nvcaffeparser1`): `ICaffeParser`, `IBlobNameToTensor`,
//! `IBinaryProtoBlob` and the parser's three exports (two of them C++-mangled). The core parser adds
//! layers to the core network; the network object creates their ABI objects on first request.
//! As in TensorRT, the parser logs through the process logger (the builder's).

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::Path;
use std::ptr::NonNull;

use super::boundary::{Object, c_str, enum_arg, function, method, non_null, release, unsupported};
use super::dims::Dims;
use super::logger::process_logger;
use super::network::NetworkObj;
use super::plugin_factory::CaffeFactories;
use super::tensor::TensorObj;
use crate::error::Result;
use crate::logger::SharedLogger;
use crate::parser::caffe::{BinaryProtoBlob, BlobNameToTensor, CaffeParser};
use crate::types::DataType;

type This = *mut CaffeParserObj;
type BlobMap = *const BlobMapObj;
type Blob = *mut BinaryProtoObj;

vtable! {
    "ICaffeParser" => struct ICaffeParserVtbl {
        parse: unsafe extern "C" fn(This, *const c_char, *const c_char, *mut NetworkObj, i32) -> BlobMap,
        parseBuffers: unsafe extern "C" fn(This, *const c_char, usize, *const c_char, usize, *mut NetworkObj, i32) -> BlobMap,
        parseBinaryProto: unsafe extern "C" fn(This, *const c_char) -> Blob,
        setProtobufBufferSize: unsafe extern "C" fn(This, usize),
        setPluginFactory: unsafe extern "C" fn(This, *mut c_void),
        setPluginFactoryExt: unsafe extern "C" fn(This, *mut c_void),
        destroy: unsafe extern "C" fn(This),
        setPluginFactoryV2: unsafe extern "C" fn(This, *mut c_void),
        setPluginNamespace: unsafe extern "C" fn(This, *const c_char),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
        setErrorRecorder: unsafe extern "C" fn(This, *mut c_void),
        getErrorRecorder: unsafe extern "C" fn(This) -> *mut c_void,
    }
}

vtable! {
    "IBlobNameToTensor" => struct IBlobNameToTensorVtbl {
        find: unsafe extern "C" fn(BlobMap, *const c_char) -> *mut TensorObj,
        dtor_complete as "~D1": unsafe extern "C" fn(BlobMap),
        dtor_deleting as "~D0": unsafe extern "C" fn(BlobMap),
    }
}

vtable! {
    "IBinaryProtoBlob" => struct IBinaryProtoBlobVtbl {
        getData: unsafe extern "C" fn(Blob) -> *const c_void,
        getDimensions: unsafe extern "C" fn(Blob) -> Dims,
        getDataType: unsafe extern "C" fn(Blob) -> i32,
        destroy: unsafe extern "C" fn(Blob),
        dtor_complete as "~D1": unsafe extern "C" fn(Blob),
        dtor_deleting as "~D0": unsafe extern "C" fn(Blob),
    }
}

#[repr(C)]
pub struct CaffeParserObj {
    vtable: &'static ICaffeParserVtbl,
    parser: CaffeParser,
    /// The results of `parse`, owned by the parser ("goes away when the parser does"). Raw
    /// pointers: C++ holds them while the parser is borrowed for other calls.
    blob_maps: Vec<NonNull<BlobMapObj>>,
    /// Whether a plugin factory was set (they are not consulted yet).
    /// The application's plugin factories, consulted for every layer.
    plugins: CaffeFactories,
}

impl Object for CaffeParserObj {
    fn logger(&self) -> SharedLogger {
        process_logger()
    }
}

impl Drop for CaffeParserObj {
    fn drop(&mut self) {
        for m in self.blob_maps.drain(..) {
            // SAFETY: made by `Box::leak` in `finish`, freed only here.
            drop(unsafe { Box::from_raw(m.as_ptr()) });
        }
    }
}

#[repr(C)]
pub struct BlobMapObj {
    vtable: &'static IBlobNameToTensorVtbl,
    map: BlobNameToTensor,
    network: *mut NetworkObj,
}

impl Object for BlobMapObj {
    fn logger(&self) -> SharedLogger {
        process_logger()
    }
}

#[repr(C)]
pub struct BinaryProtoObj {
    vtable: &'static IBinaryProtoBlobVtbl,
    blob: BinaryProtoBlob,
}

impl Object for BinaryProtoObj {
    fn logger(&self) -> SharedLogger {
        process_logger()
    }
}

fn network_arg<'a>(network: *mut NetworkObj) -> Result<&'a mut NetworkObj> {
    if !NetworkObj::is_network(network) {
        crate::bail!(
            InvalidArgument,
            "argument `network` is null or not a network created by infer8"
        );
    }
    // SAFETY: checked to be one of our network objects; the application owns it.
    Ok(unsafe { &mut *network })
}

fn weight_type(v: i32) -> Result<DataType> {
    enum_arg(v, DataType::from_i32, "DataType")
}

impl CaffeParserObj {
    /// Gives the parse result its ABI object.
    fn finish(
        &mut self,
        result: Result<BlobNameToTensor>,
        network: &mut NetworkObj,
    ) -> Result<BlobMap> {
        let map = result?;
        network.sync();
        let obj = Box::leak(Box::new(BlobMapObj {
            vtable: &BLOB_MAP_VTABLE,
            map,
            network,
        }));
        self.blob_maps.push(NonNull::from(&mut *obj));
        Ok(obj)
    }
}

unsafe extern "C" fn parse(
    this: This,
    deploy: *const c_char,
    model: *const c_char,
    network: *mut NetworkObj,
    wt: i32,
) -> BlobMap {
    method("ICaffeParser::parse", this, std::ptr::null(), |p| {
        // SAFETY: C strings per the interface; the model may be null (weights are then generated).
        let deploy = unsafe { c_str(deploy, "deploy") }?;
        let model = if model.is_null() {
            None
        } else {
            Some(unsafe { c_str(model, "model") }?)
        };
        let net = network_arg(network)?;
        let result = p.parser.parse_with_plugins(
            Path::new(&deploy),
            model.as_deref().map(Path::new),
            &mut net.core,
            weight_type(wt)?,
            &mut p.plugins.consult(),
        );
        p.finish(result, net)
    })
}

unsafe extern "C" fn parse_buffers(
    this: This,
    deploy: *const c_char,
    deploy_len: usize,
    model: *const c_char,
    model_len: usize,
    network: *mut NetworkObj,
    wt: i32,
) -> BlobMap {
    method("ICaffeParser::parseBuffers", this, std::ptr::null(), |p| {
        non_null(deploy, "deployBuffer")?;
        // SAFETY: the buffers hold the given lengths per the interface; the model may be null.
        let deploy = unsafe { std::slice::from_raw_parts(deploy.cast::<u8>(), deploy_len) };
        let model = (!model.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(model.cast::<u8>(), model_len) });
        let net = network_arg(network)?;
        let result = p.parser.parse_buffers_with_plugins(
            deploy,
            model,
            &mut net.core,
            weight_type(wt)?,
            &mut p.plugins.consult(),
        );
        p.finish(result, net)
    })
}

unsafe extern "C" fn parse_binary_proto(this: This, file: *const c_char) -> Blob {
    method(
        "ICaffeParser::parseBinaryProto",
        this,
        std::ptr::null_mut(),
        |p| {
            // SAFETY: a C string per the interface.
            let file = unsafe { c_str(file, "fileName") }?;
            let blob = p.parser.parse_binary_proto(Path::new(&file))?;
            Ok(Box::into_raw(Box::new(BinaryProtoObj {
                vtable: &BLOB_VTABLE,
                blob,
            })))
        },
    )
}

unsafe extern "C" fn set_protobuf_buffer_size(this: This, size: usize) {
    method("ICaffeParser::setProtobufBufferSize", this, (), |p| {
        p.parser.set_protobuf_buffer_size(size);
        Ok(())
    })
}

unsafe extern "C" fn set_plugin_factory(this: This, factory: *mut c_void) {
    method("ICaffeParser::setPluginFactory", this, (), |p| {
        p.plugins.v1 = (!factory.is_null()).then_some(factory);
        p.plugins.ext = false;
        Ok(())
    })
}

unsafe extern "C" fn set_plugin_factory_ext(this: This, factory: *mut c_void) {
    method("ICaffeParser::setPluginFactoryExt", this, (), |p| {
        p.plugins.v1 = (!factory.is_null()).then_some(factory);
        p.plugins.ext = true;
        Ok(())
    })
}

unsafe extern "C" fn set_plugin_factory_v2(this: This, factory: *mut c_void) {
    method("ICaffeParser::setPluginFactoryV2", this, (), |p| {
        p.plugins.v2 = (!factory.is_null()).then_some(factory);
        Ok(())
    })
}

/// The namespace the V2 factory's `createPlugin` is given.
unsafe extern "C" fn set_plugin_namespace(this: This, namespace: *const c_char) {
    method("ICaffeParser::setPluginNamespace", this, (), |p| {
        // SAFETY: a C string per the interface.
        let namespace = unsafe { c_str(namespace, "libNamespace") }?;
        p.plugins.namespace = CString::new(namespace).unwrap_or_default();
        Ok(())
    })
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by `createCaffeParser`; the caller gives it up.
    unsafe { release("ICaffeParser::destroy", this) }
}

unsafe extern "C" fn set_error_recorder(this: This, _: *mut c_void) {
    method("ICaffeParser::setErrorRecorder", this, (), |_| {
        unsupported("IErrorRecorder (errors go to the ILogger)")
    })
}

unsafe extern "C" fn get_error_recorder(this: This) -> *mut c_void {
    method(
        "ICaffeParser::getErrorRecorder",
        this,
        std::ptr::null_mut(),
        |_| Ok(std::ptr::null_mut()),
    )
}

static PARSER_VTABLE: ICaffeParserVtbl = ICaffeParserVtbl {
    parse,
    parseBuffers: parse_buffers,
    parseBinaryProto: parse_binary_proto,
    setProtobufBufferSize: set_protobuf_buffer_size,
    setPluginFactory: set_plugin_factory,
    setPluginFactoryExt: set_plugin_factory_ext,
    destroy,
    setPluginFactoryV2: set_plugin_factory_v2,
    setPluginNamespace: set_plugin_namespace,
    dtor_complete: destroy,
    dtor_deleting: destroy,
    setErrorRecorder: set_error_recorder,
    getErrorRecorder: get_error_recorder,
};

/// The tensor holding a blob, or null when the network has no such blob (a lookup, not an error).
unsafe extern "C" fn find(this: BlobMap, name: *const c_char) -> *mut TensorObj {
    super::boundary::shared_method("IBlobNameToTensor::find", this, std::ptr::null_mut(), |m| {
        non_null(name, "name")?;
        // SAFETY: a non-null C string per the interface.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        match m.map.find(&name) {
            // SAFETY: the network outlives the parse result (the application's contract).
            Some(t) => Ok(unsafe { &mut *m.network }.tensor_ptr(t)),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

/// The parse result belongs to the parser: deleting it does nothing.
unsafe extern "C" fn blob_map_dtor(this: BlobMap) {
    super::boundary::shared_method("IBlobNameToTensor::~IBlobNameToTensor", this, (), |_| {
        crate::bail!(
            InvalidArgument,
            "IBlobNameToTensor belongs to its parser and cannot be deleted"
        )
    })
}

static BLOB_MAP_VTABLE: IBlobNameToTensorVtbl = IBlobNameToTensorVtbl {
    find,
    dtor_complete: blob_map_dtor,
    dtor_deleting: blob_map_dtor,
};

unsafe extern "C" fn get_data(this: Blob) -> *const c_void {
    method("IBinaryProtoBlob::getData", this, std::ptr::null(), |b| {
        Ok(b.blob.data.as_ptr().cast())
    })
}

unsafe extern "C" fn get_dimensions(this: Blob) -> Dims {
    method(
        "IBinaryProtoBlob::getDimensions",
        this,
        Dims::default(),
        |b| Dims::nchw(b.blob.dims),
    )
}

unsafe extern "C" fn get_data_type(this: Blob) -> i32 {
    method(
        "IBinaryProtoBlob::getDataType",
        this,
        DataType::Float as i32,
        |_| Ok(DataType::Float as i32),
    )
}

unsafe extern "C" fn destroy_blob(this: Blob) {
    // SAFETY: `this` was handed out boxed by `parseBinaryProto`; the caller gives it up.
    unsafe { release("IBinaryProtoBlob::destroy", this) }
}

static BLOB_VTABLE: IBinaryProtoBlobVtbl = IBinaryProtoBlobVtbl {
    getData: get_data,
    getDimensions: get_dimensions,
    getDataType: get_data_type,
    destroy: destroy_blob,
    dtor_complete: destroy_blob,
    dtor_deleting: destroy_blob,
};

fn create() -> *mut c_void {
    function(
        "nvcaffeparser1::createCaffeParser",
        std::ptr::null_mut(),
        || {
            let obj = CaffeParserObj {
                vtable: &PARSER_VTABLE,
                parser: CaffeParser::new(),
                blob_maps: Vec::new(),
                plugins: CaffeFactories::default(),
            };
            Ok(Box::into_raw(Box::new(obj)).cast())
        },
    )
}

/// `nvcaffeparser1::createCaffeParser()` (a C++ function: TensorRT exports it mangled).
#[unsafe(export_name = "_ZN14nvcaffeparser117createCaffeParserEv")]
pub extern "C" fn create_caffe_parser() -> *mut c_void {
    create()
}

/// `extern "C" void* createNvCaffeParser_INTERNAL()`.
#[unsafe(no_mangle)]
pub extern "C" fn createNvCaffeParser_INTERNAL() -> *mut c_void {
    create()
}

/// `nvcaffeparser1::shutdownProtobufLibrary()`: TensorRT frees libprotobuf's globals here; the
/// Rust protobuf code keeps none, so there is nothing to free.
#[unsafe(export_name = "_ZN14nvcaffeparser123shutdownProtobufLibraryEv")]
pub extern "C" fn shutdown_protobuf_library() {
    function("nvcaffeparser1::shutdownProtobufLibrary", (), || Ok(()))
}
