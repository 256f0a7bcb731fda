//! The runtime side of harness: bundled protos, the configuration spec of a service,
//! loading its YAML (with secrets merged or patched in), and validating it.

#[cfg(feature = "compile")]
pub mod check;
pub mod config;
pub mod path;
pub mod proto;
#[cfg(feature = "compile")]
pub mod protos;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod socket;
pub mod spec;
pub mod validate;

/// How long the outputs may drain after the first SIGINT/SIGTERM before they are cut off:
/// 30 seconds. The runtime uses it, and `harness kube-gen` derives the pod's
/// `terminationGracePeriodSeconds` from it; it lives outside the `runtime` feature so the
/// command line reads the same value without building the runtime.
pub const DEFAULT_GRACE_PERIOD: std::time::Duration = std::time::Duration::from_secs(30);
