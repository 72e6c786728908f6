//! Engine files.
