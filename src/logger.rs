//! Where messages go. The C++ and C front ends wrap the user's logger in a [`Logger`]; Rust users and
//! the command line use [`StderrLogger`].

use std::sync::Arc;

/// TensorRT's `ILogger::Severity`, same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum Severity {
    InternalError = 0,
    Error = 1,
    Warning = 2,
    Info = 3,
    Verbose = 4,
}

pub trait Logger: Send + Sync {
    fn log(&self, severity: Severity, msg: &str);
}

pub type SharedLogger = Arc<dyn Logger>;

/// Prints messages up to a chosen severity to stderr.
pub struct StderrLogger {
    pub max_severity: Severity,
}

impl Logger for StderrLogger {
    fn log(&self, severity: Severity, msg: &str) {
        if severity <= self.max_severity {
            eprintln!("[infer8] {severity:?}: {msg}");
        }
    }
}

/// A logger that drops everything; for internal engines (calibration) whose messages would repeat.
pub struct NullLogger;

impl Logger for NullLogger {
    fn log(&self, _: Severity, _: &str) {}
}
