//! Code generation for a harness service's `build.rs`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     harness_build::compile("proto/status.proto")?;
//!     Ok(())
//! }
//! ```
//!
//! [`compile`] is [`Builder::new`]`().compile(proto)`; the [`Builder`] adds import
//! directories, the protos of services this one calls, and a gRPC service generator.
//! An error's text (through `Display` and `Debug` alike) names the proto file, the line
//! and column, and the field at fault.

mod builder;
#[cfg(test)]
mod bundled;
mod error;
mod tree;
mod wiring;

pub use builder::{Builder, Generated};
pub use error::Error;

/// Name of the file written in `OUT_DIR`, included by `harness::include_service!()`.
pub const SERVICE_FILE: &str = "harness_service.rs";
/// Name of the encoded `FileDescriptorSet` written beside it.
pub const DESCRIPTOR_FILE: &str = "harness_service.bin";

/// Generates the configuration types and wiring of the service whose `Configuration` is
/// in `proto`, into `$OUT_DIR` for `harness::include_service!()`.
pub fn compile(proto: impl AsRef<std::path::Path>) -> Result<(), Error> {
    Builder::new().compile(proto)
}
