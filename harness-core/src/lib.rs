//! The runtime side of harness: bundled protos, the configuration spec of a service,
//! loading its YAML (with secrets merged or patched in), and validating it.

pub mod check;
pub mod config;
pub mod path;
pub mod proto;
pub mod protos;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod spec;
pub mod validate;
