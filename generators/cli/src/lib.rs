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
