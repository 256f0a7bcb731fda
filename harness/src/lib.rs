//! Config-driven services.
//!
//! A service declares its settings, the connections it needs (input wires) and what it
//! serves (output wires) in one annotated protobuf message, `Configuration`. Its `build.rs`
//! generates the Rust types and the wiring:
//!
//! ```ignore
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     harness_build::compile("proto/status.proto")?;
//!     Ok(())
//! }
//! ```
//!
//! and `main.rs` holds only the business logic:
//!
//! ```ignore
//! harness::include_service!();
//!
//! #[harness::main]
//! async fn setup(config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
//!     let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
//!     Ok(WiresOut { server: harness_wires::http::Server::new(app) })
//! }
//! ```
//!
//! `#[harness::main]` writes `main`: it parses `CONFIG.yaml [--merge FILE] [--patch FILE]`,
//! loads and validates the configuration, connects the inputs, calls `setup`, serves the
//! outputs and shuts down gracefully on SIGINT/SIGTERM. See [`runtime`] for the details
//! and for writing your own wire.

/// Turns `async fn setup(config: Configuration, wires: WiresIn) -> Result<WiresOut, E>`
/// into the service's `main`, which runs it with [`runtime::Runner`].
///
/// `E` is any error convertible into `Box<dyn Error + Send + Sync>` (`anyhow::Error`
/// included); a failing `setup` exits 1 with its message.
pub use harness_macros::main;

/// The runner, the wire traits and the glue the generated code plugs into.
pub use harness_core::runtime;

/// Host and port of a wire's socket (`harness.net.Socket`, `harness.grpc.Endpoint`, a
/// connection URL), read with the same rules as `harness check` and `harness kube-gen`.
pub use harness_core::socket;

/// Facts shared by the runtime and the manifests: the health path, the syslog socket,
/// the drain time.
pub use harness_core::contract;

/// Rust types of the bundled protos (`harness.*`, `validate.*`), shared by every service
/// and wire.
pub use harness_core::proto;

/// The prost the generated types derive with.
pub use prost;
/// The well-known types (`google.protobuf.*`) the generated types use.
pub use prost_types;

/// Includes the code `build.rs` generated (`$OUT_DIR/harness_service.rs`): the prost types
/// of the service's proto, `Configuration` at the include site, `WiresIn`, `WiresOut`,
/// and `FILE_DESCRIPTOR_SET`.
#[macro_export]
macro_rules! include_service {
    () => {
        include!(concat!(env!("OUT_DIR"), "/harness_service.rs"));
    };
}
