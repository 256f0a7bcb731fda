//! The runtime side of harness: bundled protos, the configuration spec of a service,
//! loading its YAML (with secrets merged or patched in), and validating it.

#[cfg(feature = "compile")]
pub mod check;
pub mod config;
pub mod contract;
pub mod path;
pub mod proto;
#[cfg(feature = "compile")]
pub mod protos;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod socket;
pub mod spec;
pub mod validate;

pub use contract::DEFAULT_GRACE_PERIOD;
