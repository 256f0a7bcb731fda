//! Build-time code generation for a service's `build.rs`: [`Builder`].
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     harness_generators::codegen::Builder::new().compile("proto/status.proto")?;
//!     Ok(())
//! }
//! ```

mod builder;
pub mod bundled;
mod tree;
mod wiring;

pub use builder::{Builder, DESCRIPTOR_FILE, Error, Generated, SERVICE_FILE};
