//! Running a service: wire traits, the runner, and the glue generated code plugs into.
//!
//! A service is a `Configuration` message with wires. The code generator
//! (`harness_build::Builder`) writes the message's Rust type, `WiresIn`, `WiresOut`
//! and an implementation of [`Wiring`]; `#[harness::main]` turns `setup` into a `main`
//! that calls [`Runner::run`]:
//!
//! 1. parse `SERVICE CONFIG.yaml [--merge FILE] [--patch FILE] [--grace-period SECONDS]`;
//! 2. load and validate the configuration with [`crate::config`], exactly as
//!    `harness check` does;
//! 3. connect the [`InputWire`]s concurrently, retrying unreachable peers
//!    ([`RetryPolicy`]);
//! 4. call `setup(config, wires_in)`, which returns the [`OutputWire`]s;
//! 5. serve the outputs concurrently until the first SIGINT/SIGTERM, or until one fails;
//! 6. drain for at most the grace period ([`DEFAULT_GRACE_PERIOD`]), close the inputs in
//!    reverse order, exit 0 (1 if an output failed; 128+N at once on a second signal N).
//!
//! A start that fails (invalid configuration, unreachable database after the retries,
//! port in use) prints one line, `error: …`, and exits 1. Logs go through `tracing`.

mod errors;
pub mod health;
pub mod logs;
mod runner;
mod service;
mod signals;
mod wire;
mod wiring;

pub use errors::{ErrorChain, LoadError, RunError, panic_message};
pub use runner::{DEFAULT_GRACE_PERIOD, EXIT_FAILURE, EXIT_USAGE, Runner, load_config};
pub use service::CLOSE_TIMEOUT;
pub use wire::{
    BoxError, CloseFuture, InputWire, OutputWire, Shutdown, ShutdownTrigger, WireError,
};
pub use wiring::{InputSlot, Inputs, OutputSlot, Outputs, RetryPolicy, StartError, Wiring};

/// Re-exports for generated code; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use tokio::try_join;
}
