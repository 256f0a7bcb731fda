//! The `harness` command. This library is the command's internals (the manifest
//! builders, the subcommands), public for its own tests and benchmarks; it is not a
//! stable API.

mod cli;
pub mod image;
pub mod kube;
pub mod scaffold;
pub mod schema;
pub mod system;
pub mod up;

pub use cli::main;

/// Installs rustls's process-wide crypto provider, which reqwest needs before it builds a
/// client: it is compiled without a default one, so that only ring (already used by the
/// wires) is compiled in. Installing it again is harmless.
pub(crate) fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
