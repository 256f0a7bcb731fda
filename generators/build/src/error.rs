//! [`Error`]: why code generation failed.

use std::fmt;
use std::io;
use std::path::PathBuf;

use harness_core::protos::CompileError;
use harness_core::spec::SpecError;

/// Why code generation failed. Its text names the proto file and, when one is at fault,
/// the field.
///
/// `Debug` prints the same text as `Display`: a `build.rs` whose `main` returns
/// `Result<(), Box<dyn Error>>` shows the error through `Debug`, and the user must read
/// the message, not a struct dump.
#[derive(thiserror::Error)]
pub enum Error {
    #[error("OUT_DIR is not set: call Builder::compile from build.rs, or set Builder::out_dir")]
    NoOutDir,
    #[error("{}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Compile(#[from] CompileError),
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{proto}: package `{package}` is reserved for the bundled protos")]
    ReservedPackage { proto: String, package: String },
    #[error(
        "{location}: (harness.wire) type {rust_type:?} is not a Rust path ({source}); it names the type of the wire, e.g. \"harness_wires::http::Server\""
    )]
    WireType {
        /// `FILE:LINE:COLUMN: MESSAGE.FIELD`, or without the position when unknown.
        location: String,
        rust_type: String,
        #[source]
        source: syn::Error,
    },
    #[error("{proto}: {source}")]
    Prost {
        proto: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{proto}: the generated code does not parse ({source}); this is a bug of harness-build"
    )]
    Unparsable {
        proto: String,
        #[source]
        source: syn::Error,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
