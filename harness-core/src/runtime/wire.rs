//! The two kinds of wire, and what the runner hands them.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::watch;

use super::errors::ErrorChain;

/// Any error a wire reports.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A future the runner keeps to close an input wire after every output stopped.
pub type CloseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A connection the service needs, built from its configuration message `C` before
/// `setup` runs: a database pool, a client channel…
///
/// One wire type may accept several configuration messages by implementing the trait once
/// per message (`harness_wires::postgres::Pool` takes `harness.postgres.Pool` and
/// `harness.postgres.DSN`). Pairing a wire with a message it does not implement the trait
/// for is a compile error naming both.
///
/// # Lifecycle
///
/// 1. [`connect`](InputWire::connect) builds the wire. Inputs connect concurrently; an
///    error made with [`WireError::connect`] is retried with backoff by the runner, any
///    other error stops the start at once.
/// 2. [`close`](InputWire::close) is called right after `connect`, before the wire is
///    moved into `WiresIn`: it returns a future the runner awaits later, after every
///    output stopped, inputs in reverse order. It usually captures a clone of a handle.
///
/// # Writing your own wire
///
/// ```
/// use harness_core::runtime::{InputWire, WireError};
/// use harness_core::proto::harness::redis::Connection;
///
/// /// Where the service's cache lives; `(harness.wire).input.type = "my_crate::Cache"`.
/// pub struct Cache {
///     pub address: String,
/// }
///
/// impl InputWire<Connection> for Cache {
///     async fn connect(config: &Connection) -> Result<Self, WireError> {
///         let socket = config
///             .address
///             .as_ref()
///             .ok_or_else(|| WireError::config("address is not set"))?;
///         // A real wire opens its connection here and returns `WireError::connect(e)`
///         // when the peer is unreachable, so that the runner retries.
///         Ok(Cache { address: format!("{}:{}", socket.host, socket.port) })
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let config = Connection {
///     address: Some(harness_core::proto::harness::net::Socket { host: "127.0.0.1".into(), port: 6379 }),
///     ..Default::default()
/// };
/// let cache = Cache::connect(&config).await.unwrap();
/// assert_eq!(cache.address, "127.0.0.1:6379");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an input wire that `{C}` configures",
    label = "the wire type named by `(harness.wire).input.type`",
    note = "`{Self}` must implement `InputWire<{C}>`: check that the proto field's message is one this wire accepts, or that the wire type string names the right wire"
)]
pub trait InputWire<C>: Sized + Send + 'static {
    /// Builds the wire from its configuration; called again on retryable errors.
    fn connect(config: &C) -> impl Future<Output = Result<Self, WireError>> + Send;

    /// A future that closes the wire, created now and awaited after the outputs stopped.
    /// The default does nothing: dropping the wire is enough.
    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        std::future::ready(())
    }
}

/// Something the service serves, built by `setup` and served by the runner on the address
/// its configuration message `C` gives, until shutdown.
///
/// [`serve`](OutputWire::serve) binds, serves, and returns when `shutdown` is requested and
/// in-flight work has drained (the runner bounds the drain with its grace period). Returning
/// an error (a port already in use, say) stops the service: the other outputs are shut down
/// and the process exits non-zero.
///
/// ```
/// use harness_core::runtime::{OutputWire, Shutdown, WireError};
/// use harness_core::proto::harness::net::Server;
///
/// /// Answers every TCP connection with a greeting.
/// pub struct Greeter(pub &'static str);
///
/// impl OutputWire<Server> for Greeter {
///     async fn serve(self, config: Server, shutdown: Shutdown) -> Result<(), WireError> {
///         use tokio::io::AsyncWriteExt;
///         let bind = config.bind.unwrap_or_default();
///         let listener = tokio::net::TcpListener::bind((bind.host.as_str(), bind.port as u16))
///             .await
///             .map_err(WireError::other)?;
///         loop {
///             tokio::select! {
///                 _ = shutdown.requested() => return Ok(()),
///                 accepted = listener.accept() => {
///                     let (mut stream, _) = accepted.map_err(WireError::other)?;
///                     let _ = stream.write_all(self.0.as_bytes()).await;
///                 }
///             }
///         }
///     }
/// }
/// # let (trigger, shutdown) = Shutdown::channel();
/// # trigger.trigger();
/// # let config = Server { bind: Some(harness_core::proto::harness::net::Socket { host: "127.0.0.1".into(), port: 0 }) };
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
/// #     .block_on(Greeter("hello\n").serve(config, shutdown)).unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an output wire that `{C}` configures",
    label = "the wire type named by `(harness.wire).output.type`",
    note = "`{Self}` must implement `OutputWire<{C}>`: check that the proto field's message is one this wire accepts, or that the wire type string names the right wire"
)]
pub trait OutputWire<C>: Sized + Send + 'static {
    /// Serves until `shutdown` is requested, then drains and returns.
    fn serve(
        self,
        config: C,
        shutdown: Shutdown,
    ) -> impl Future<Output = Result<(), WireError>> + Send;
}

/// Why a wire failed; [`WireError::connect`] marks the failures worth retrying.
pub struct WireError {
    retryable: bool,
    source: BoxError,
}

impl WireError {
    /// The peer could not be reached (refused, timed out, not ready): the runner retries.
    pub fn connect(error: impl Into<BoxError>) -> Self {
        WireError {
            retryable: true,
            source: error.into(),
        }
    }

    /// The configuration cannot work (a bad URL, a missing field): no retry.
    pub fn config(error: impl Into<BoxError>) -> Self {
        WireError {
            retryable: false,
            source: error.into(),
        }
    }

    /// Any other failure, not retried.
    pub fn other(error: impl Into<BoxError>) -> Self {
        Self::config(error)
    }

    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for WireError {
    /// The error and its sources on one line: `a: b: c`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ErrorChain(&*self.source).fmt(f)
    }
}

impl fmt::Debug for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireError")
            .field("retryable", &self.retryable)
            .field("error", &self.to_string())
            .finish()
    }
}

impl StdError for WireError {
    /// The wire's own error, for callers that look into it (`downcast_ref`).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// Tells output wires that the service is shutting down. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Requests the shutdown a [`Shutdown`] waits for.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl Shutdown {
    /// A new shutdown signal and its trigger (for tests and wires composed of wires).
    pub fn channel() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger(sender), Shutdown(receiver))
    }

    /// Completes once shutdown is requested; `'static`, so it can be handed to a server's
    /// graceful-shutdown hook.
    pub fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.0.clone();
        async move {
            // An error means the trigger is gone: the runner is gone, so shut down too.
            let _ = receiver.wait_for(|requested| *requested).await;
        }
    }

    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}
