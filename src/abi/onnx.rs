//! `nvonnxparser::IParser` and `IParserError` (TensorRT 7's `NvOnnxParser.h`, parser version
//! 0.1.0) over [`crate::parser::OnnxParser`], and the exported `createNvOnnxParser_INTERNAL`.

use std::ffi::{CString, c_char, c_void};
use std::path::Path;

use super::boundary::{Object, c_str, function, index, method, non_null, release, unsupported};
use super::builder::user_logger;
use super::network::NetworkObj;
use crate::error::Result;
use crate::logger::{Severity, SharedLogger};
use crate::parser::onnx::{OnnxParser, ParserError};

type This = *mut OnnxParserObj;
type ErrorPtr = *const ParserErrorObj;

vtable! {
    "IParser" => struct IParserVtbl {
        parse: unsafe extern "C" fn(This, *const c_void, usize) -> bool,
        parseFromFile: unsafe extern "C" fn(This, *const c_char, i32) -> bool,
        supportsModel: unsafe extern "C" fn(This, *const c_void, usize, *mut c_void) -> bool,
        parseWithWeightDescriptors: unsafe extern "C" fn(This, *const c_void, usize, u32, *const c_void) -> bool,
        supportsOperator: unsafe extern "C" fn(This, *const c_char) -> bool,
        destroy: unsafe extern "C" fn(This),
        getNbErrors: unsafe extern "C" fn(This) -> i32,
        getError: unsafe extern "C" fn(This, i32) -> ErrorPtr,
        clearErrors: unsafe extern "C" fn(This),
        dtor_complete as "~D1": unsafe extern "C" fn(This),
        dtor_deleting as "~D0": unsafe extern "C" fn(This),
    }
}

vtable! {
    "IParserError" => struct IParserErrorVtbl {
        code: unsafe extern "C" fn(ErrorPtr) -> i32,
        desc: unsafe extern "C" fn(ErrorPtr) -> *const c_char,
        file: unsafe extern "C" fn(ErrorPtr) -> *const c_char,
        line: unsafe extern "C" fn(ErrorPtr) -> i32,
        func: unsafe extern "C" fn(ErrorPtr) -> *const c_char,
        node: unsafe extern "C" fn(ErrorPtr) -> i32,
        dtor_complete as "~D1": unsafe extern "C" fn(ErrorPtr),
        dtor_deleting as "~D0": unsafe extern "C" fn(ErrorPtr),
    }
}

/// `NV_ONNX_PARSER_VERSION` of TensorRT 7.0's header (0.1.0).
const PARSER_VERSION: i32 = 100;

/// One error as C++ sees it: the strings live as long as the error.
#[repr(C)]
pub struct ParserErrorObj {
    vtable: &'static IParserErrorVtbl,
    error: ParserError,
    desc: CString,
    file: CString,
    func: CString,
}

impl ParserErrorObj {
    fn new(error: ParserError) -> Box<ParserErrorObj> {
        let c = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
        Box::new(ParserErrorObj {
            vtable: &ERROR_VTABLE,
            desc: c(&error.desc),
            file: c(error.file),
            func: c(error.func),
            error,
        })
    }
}

#[repr(C)]
pub struct OnnxParserObj {
    vtable: &'static IParserVtbl,
    parser: OnnxParser,
    network: *mut NetworkObj,
    logger: SharedLogger,
    /// Errors of the parses so far, as handed out by `getError` (valid until `clearErrors`).
    /// Boxed: C++ holds their addresses across later parses, which grow the vector.
    #[allow(clippy::vec_box)]
    errors: Vec<Box<ParserErrorObj>>,
    /// The last `supportsModel`'s runs of nodes (indices, supported), read by the header's
    /// wrapper through [`infer8_onnx_parser_subgraph`].
    subgraphs: Vec<(Vec<usize>, bool)>,
}

impl Object for OnnxParserObj {
    fn logger(&self) -> SharedLogger {
        self.logger.clone()
    }
}

impl OnnxParserObj {
    fn network(&mut self) -> Result<&mut NetworkObj> {
        if !NetworkObj::is_network(self.network) {
            crate::bail!(
                InvalidArgument,
                "the parser's network is not a network created by infer8"
            );
        }
        // SAFETY: checked to be one of our networks; the application keeps it alive while parsing.
        Ok(unsafe { &mut *self.network })
    }

    /// Runs one parse, then gives the network's new layers and tensors their C++ objects and
    /// the new errors theirs.
    fn run(
        &mut self,
        parse: impl FnOnce(&mut OnnxParser, &mut NetworkObj, &SharedLogger) -> bool,
    ) -> Result<bool> {
        let logger = self.logger.clone();
        let net = self.network()?;
        // SAFETY: `net` is the application's network, distinct from `self`.
        let net: *mut NetworkObj = net;
        let ok = parse(&mut self.parser, unsafe { &mut *net }, &logger);
        unsafe { &mut *net }.sync();
        // Earlier errors keep their objects (C++ may hold them until clearErrors).
        let known = self.errors.len();
        self.errors.extend(
            self.parser
                .errors()
                .iter()
                .skip(known)
                .cloned()
                .map(ParserErrorObj::new),
        );
        Ok(ok)
    }
}

unsafe extern "C" fn parse(this: This, model: *const c_void, size: usize) -> bool {
    method("IParser::parse", this, false, |p| {
        non_null(model, "serialized_onnx_model")?;
        // SAFETY: the caller passes `size` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(model.cast::<u8>(), size) };
        p.run(|parser, net, log| parser.parse(bytes, &mut net.core, "ONNX model buffer", &**log))
    })
}

unsafe extern "C" fn parse_from_file(this: This, path: *const c_char, verbosity: i32) -> bool {
    method("IParser::parseFromFile", this, false, |p| {
        // SAFETY: a NUL-terminated file name per the interface.
        let path = unsafe { c_str(path, "onnxModelFile") }?;
        let ok = p.run(|parser, net, log| {
            parser.parse_from_file(Path::new(&path), &mut net.core, &**log)
        })?;
        if ok && verbosity >= Severity::Info as i32 {
            p.logger
                .log(Severity::Info, &format!("ONNX parser: parsed {path}"));
        }
        Ok(ok)
    })
}

/// The sub-graph collection is a C++ `std::vector`, which Rust cannot fill portably. infer8's
/// header passes null here (its inline `supportsModel` then reads the runs of nodes through
/// [`infer8_onnx_parser_subgraph`] and fills the vector in C++); a program built against
/// NVIDIA's header passes its vector, which is left unchanged (the runs are logged).
unsafe extern "C" fn supports_model(
    this: This,
    model: *const c_void,
    size: usize,
    collection: *mut c_void,
) -> bool {
    method("IParser::supportsModel", this, false, |p| {
        non_null(model, "serialized_onnx_model")?;
        // SAFETY: the caller passes `size` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(model.cast::<u8>(), size) };
        let (ok, groups) = p.parser.supports_model(bytes);
        if !collection.is_null() {
            for (nodes, supported) in &groups {
                p.logger.log(
                    Severity::Verbose,
                    &format!("ONNX parser: nodes {nodes:?} supported: {supported}"),
                );
            }
            p.logger.log(
                Severity::Warning,
                "IParser::supportsModel: the SubGraphCollection_t of a program built against another NvOnnxParser.h is left unchanged (see the verbose log)",
            );
        }
        p.subgraphs = groups;
        Ok(ok)
    })
}

unsafe extern "C" fn parse_with_weight_descriptors(
    this: This,
    _: *const c_void,
    _: usize,
    _: u32,
    _: *const c_void,
) -> bool {
    method("IParser::parseWithWeightDescriptors", this, false, |_| {
        unsupported("parseWithWeightDescriptors (ONNXIFI weight descriptors)")
    })
}

unsafe extern "C" fn supports_operator(this: This, op: *const c_char) -> bool {
    method("IParser::supportsOperator", this, false, |_| {
        // SAFETY: a NUL-terminated operator name per the interface.
        let op = unsafe { c_str(op, "op_name") }?;
        Ok(OnnxParser::supports_operator(&op))
    })
}

unsafe extern "C" fn destroy(this: This) {
    // SAFETY: `this` was handed out boxed by `createNvOnnxParser_INTERNAL`; the caller gives it up.
    unsafe { release("IParser::destroy", this) }
}

unsafe extern "C" fn get_nb_errors(this: This) -> i32 {
    method("IParser::getNbErrors", this, 0, |p| {
        Ok(p.errors.len() as i32)
    })
}

unsafe extern "C" fn get_error(this: This, i: i32) -> ErrorPtr {
    method("IParser::getError", this, std::ptr::null(), |p| {
        let i = index(i, p.errors.len(), "error index")?;
        Ok(&*p.errors[i] as ErrorPtr)
    })
}

unsafe extern "C" fn clear_errors(this: This) {
    method("IParser::clearErrors", this, (), |p| {
        p.parser.clear_errors();
        p.errors.clear();
        Ok(())
    })
}

static VTABLE: IParserVtbl = IParserVtbl {
    parse,
    parseFromFile: parse_from_file,
    supportsModel: supports_model,
    parseWithWeightDescriptors: parse_with_weight_descriptors,
    supportsOperator: supports_operator,
    destroy,
    getNbErrors: get_nb_errors,
    getError: get_error,
    clearErrors: clear_errors,
    dtor_complete: destroy,
    dtor_deleting: destroy,
};

/// Reads one field of an error; a null error answers `default`.
fn error_field<R>(func: &str, e: ErrorPtr, default: R, f: impl FnOnce(&ParserErrorObj) -> R) -> R {
    function(func, default, || {
        non_null(e, "this")?;
        // SAFETY: a non-null error is one `getError` handed out, alive until `clearErrors`.
        Ok(f(unsafe { &*e }))
    })
}

unsafe extern "C" fn error_code(e: ErrorPtr) -> i32 {
    error_field("IParserError::code", e, 1, |e| e.error.code as i32)
}

unsafe extern "C" fn error_desc(e: ErrorPtr) -> *const c_char {
    error_field("IParserError::desc", e, std::ptr::null(), |e| {
        e.desc.as_ptr()
    })
}

unsafe extern "C" fn error_file(e: ErrorPtr) -> *const c_char {
    error_field("IParserError::file", e, std::ptr::null(), |e| {
        e.file.as_ptr()
    })
}

unsafe extern "C" fn error_line(e: ErrorPtr) -> i32 {
    error_field("IParserError::line", e, 0, |e| e.error.line as i32)
}

unsafe extern "C" fn error_func(e: ErrorPtr) -> *const c_char {
    error_field("IParserError::func", e, std::ptr::null(), |e| {
        e.func.as_ptr()
    })
}

unsafe extern "C" fn error_node(e: ErrorPtr) -> i32 {
    error_field("IParserError::node", e, -1, |e| e.error.node)
}

/// Errors belong to their parser: deleting one through its protected destructor is not allowed.
unsafe extern "C" fn error_dtor(_: ErrorPtr) {
    function("IParserError::~IParserError", (), || {
        crate::bail!(
            InvalidArgument,
            "IParserError objects are owned by their IParser"
        )
    })
}

static ERROR_VTABLE: IParserErrorVtbl = IParserErrorVtbl {
    code: error_code,
    desc: error_desc,
    file: error_file,
    line: error_line,
    func: error_func,
    node: error_node,
    dtor_complete: error_dtor,
    dtor_deleting: error_dtor,
};

/// `extern "C" void* createNvOnnxParser_INTERNAL(void* network, void* logger, int version)`,
/// what `nvonnxparser::createParser(network, logger)` calls.
///
/// # Safety
/// `network` must be an `INetworkDefinition` from infer8 and `logger` an `nvinfer1::ILogger`, both
/// outliving the parser.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn createNvOnnxParser_INTERNAL(
    network: *mut c_void,
    logger: *mut c_void,
    version: i32,
) -> *mut c_void {
    function("createNvOnnxParser_INTERNAL", std::ptr::null_mut(), || {
        let logger = user_logger(logger, version, "IParser (ONNX)")?;
        let network = network.cast::<NetworkObj>();
        if !NetworkObj::is_network(network) {
            crate::bail!(
                InvalidArgument,
                "argument `network` is null or not a network created by infer8"
            );
        }
        let p = OnnxParserObj {
            vtable: &VTABLE,
            parser: OnnxParser::new(),
            network,
            logger,
            errors: Vec::new(),
            subgraphs: Vec::new(),
        };
        Ok(Box::into_raw(Box::new(p)).cast())
    })
}

/// Sub-graph `index` of the last `supportsModel` of `parser`: its node indices (owned by the
/// parser until its next `supportsModel` or `destroy`) through `nodes`, whether it is supported
/// through `supported`, and its node count; -1 past the last one. Called by the inline
/// `IParser::supportsModel` of `include/NvOnnxParser.h`.
///
/// # Safety
/// `parser` must be NULL or an `IParser` from infer8; `nodes` and `supported` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_onnx_parser_subgraph(
    parser: *const c_void,
    index: i32,
    nodes: *mut *const usize,
    supported: *mut bool,
) -> i64 {
    const FUNC: &str = "infer8_onnx_parser_subgraph";
    let p = parser.cast_mut().cast::<OnnxParserObj>();
    // SAFETY: only the vptr of a non-null pointer is read; any IParser starts with one.
    if !p.is_null() && !std::ptr::eq(unsafe { (*p).vtable }, &VTABLE) {
        return function(FUNC, -1, || {
            crate::bail!(
                InvalidArgument,
                "argument `parser` is not an infer8 ONNX parser"
            )
        });
    }
    method(FUNC, p, -1, |o| {
        let (nodes, supported) = (non_null(nodes, "nodes")?, non_null(supported, "supported")?);
        let Some((list, ok)) = usize::try_from(index).ok().and_then(|i| o.subgraphs.get(i)) else {
            return Ok(-1);
        };
        // SAFETY: checked non-null; the caller's out-pointers per the contract above.
        unsafe {
            *nodes.cast_mut() = list.as_ptr();
            *supported.cast_mut() = *ok;
        }
        Ok(list.len() as i64)
    })
}

/// `extern "C" int getNvOnnxParserVersion()`.
#[unsafe(no_mangle)]
pub extern "C" fn getNvOnnxParserVersion() -> i32 {
    PARSER_VERSION
}
