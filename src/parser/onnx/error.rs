//! `nvonnxparser::IParserError`: a code, a description, the node index, and where in the parser
//! the error was raised (TensorRT's parser reports its own file, line and function).

use std::panic::Location;

/// `nvonnxparser::ErrorCode`, same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorCode {
    Success = 0,
    InternalError = 1,
    MemAllocFailed = 2,
    ModelDeserializeFailed = 3,
    InvalidValue = 4,
    InvalidGraph = 5,
    InvalidNode = 6,
    UnsupportedGraph = 7,
    UnsupportedNode = 8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParserError {
    pub code: ErrorCode,
    pub desc: String,
    /// Index of the graph node at fault, -1 when the error is not about one node.
    pub node: i32,
    pub file: &'static str,
    pub line: u32,
    pub func: &'static str,
}

impl ParserError {
    #[track_caller]
    pub fn new(code: ErrorCode, desc: impl Into<String>) -> Self {
        let at = Location::caller();
        ParserError {
            code,
            desc: desc.into(),
            node: -1,
            file: at.file(),
            line: at.line(),
            func: "",
        }
    }
}

pub type PResult<T> = std::result::Result<T, ParserError>;

/// `bad!(InvalidNode, "...")` builds a [`ParserError`] at the caller's location.
macro_rules! bad {
    ($code:ident, $($arg:tt)*) => {
        $crate::parser::onnx::error::ParserError::new(
            $crate::parser::onnx::error::ErrorCode::$code,
            format!($($arg)*),
        )
    };
}
pub(crate) use bad;

impl From<crate::error::Error> for ParserError {
    #[track_caller]
    fn from(e: crate::error::Error) -> Self {
        let code = match e {
            crate::error::Error::Unsupported(_) => ErrorCode::UnsupportedNode,
            _ => ErrorCode::InvalidNode,
        };
        ParserError::new(code, e.to_string())
    }
}
