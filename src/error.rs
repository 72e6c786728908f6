//! One error type for the whole library. Messages name the file, layer, field or argument at fault:
//! they reach the user through their `ILogger`, which is all a TensorRT program ever sees.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A caller-supplied argument is invalid (null, out of range, wrong enum value).
    InvalidArgument(String),
    /// A network, layer or tensor is malformed (impossible shape, missing input, cycle).
    Network(String),
    /// A model, engine, cache or batch file is malformed.
    Format(String),
    /// A request the library cannot satisfy (unsupported layer, precision, device).
    Unsupported(String),
    /// Execution failed (bad bindings, batch size, device error).
    Runtime(String),
    Io(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m)
            | Error::Network(m)
            | Error::Format(m)
            | Error::Unsupported(m)
            | Error::Runtime(m)
            | Error::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

/// `bail!(Network, "layer {} ...", name)` returns early with the given error kind.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::$kind(format!($($arg)*)))
    };
}
