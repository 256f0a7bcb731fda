//! What the code generator implements for a service's `Configuration`, and the two
//! collections it fills: connected inputs and outputs to serve.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use super::wire::{CloseFuture, InputWire, OutputWire, Shutdown, WireError};

/// Ties a generated `Configuration` to its `WiresIn` and `WiresOut`.
///
/// Implemented by the code `harness_build::Builder` writes; there is no need
/// to implement it by hand.
pub trait Wiring: prost::Message + Default + Send + 'static {
    /// One field per input wire; optional wires are `Option<_>`.
    type WiresIn: Send + 'static;
    /// One field per output wire, built by `setup`.
    type WiresOut: Send + 'static;
    /// The encoded `FileDescriptorSet` of the service's proto and its imports.
    const FILE_DESCRIPTOR_SET: &'static [u8];
    /// Full name of the configuration message, e.g. `kirk.Configuration`.
    const MESSAGE: &'static str;

    /// Connects every configured input wire.
    fn connect(
        &self,
        inputs: &Inputs,
    ) -> impl Future<Output = Result<Self::WiresIn, StartError>> + Send;

    /// Takes what the outputs need from the configuration, before `setup` consumes it.
    fn outputs(&self) -> impl FnOnce(Self::WiresOut, &mut Outputs) + Send + 'static;
}

/// How the runner retries an input wire that fails with [`WireError::connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; at least 1.
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub first_delay: Duration,
    /// Upper bound of one wait.
    pub max_delay: Duration,
    /// Upper bound of one attempt; a slower attempt counts as a connection failure.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, waiting 0.2, 0.4, 0.8 and 1.6 s between them, 5 s at most each: an
    /// unreachable peer stops the start after 3 s of waiting plus the attempts themselves.
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Longest time [`Inputs`] spends on one wire before giving up.
    pub fn bound(&self) -> Duration {
        let attempts = self.attempts.max(1);
        let mut total = self.attempt_timeout * attempts;
        let mut delay = self.first_delay;
        for _ in 1..attempts {
            total += delay.min(self.max_delay);
            delay *= 2;
        }
        total
    }
}

/// Why the service could not start.
#[derive(Debug)]
pub struct StartError {
    wire: &'static str,
    error: WireError,
    attempts: u32,
}

impl StartError {
    /// The input wire that failed.
    pub fn wire(&self) -> &'static str {
        self.wire
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input wire `{}`: {}", self.wire, self.error)?;
        if self.attempts > 1 {
            write!(f, " (gave up after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for StartError {}

/// Connects input wires and remembers how to close them; handed to [`Wiring::connect`].
pub struct Inputs {
    retry: RetryPolicy,
    closers: Mutex<Vec<(usize, &'static str, CloseFuture)>>,
    unconfigured: Mutex<Vec<&'static str>>,
}

impl Inputs {
    pub(crate) fn new(retry: RetryPolicy) -> Self {
        Inputs {
            retry,
            closers: Mutex::new(Vec::new()),
            unconfigured: Mutex::new(Vec::new()),
        }
    }

    /// The input wire at `index` (its place among the inputs, which orders closing),
    /// named `name`, with its configuration (`None` when not set). The configuration's
    /// type is fixed here, before the wire type is named, so that a wire that does not
    /// take it is reported by the wire trait's message, naming both.
    pub fn wire<'a, C: Sync>(
        &'a self,
        index: usize,
        name: &'static str,
        config: Option<&'a C>,
    ) -> InputSlot<'a, C> {
        InputSlot {
            inputs: self,
            index,
            name,
            config,
        }
    }

    async fn connect<W, C>(
        &self,
        index: usize,
        name: &'static str,
        required: bool,
        config: &C,
    ) -> Result<W, StartError>
    where
        W: InputWire<C>,
        C: Sync,
    {
        let policy = self.retry;
        let attempts = policy.attempts.max(1);
        let mut delay = policy.first_delay;
        let mut attempt = 1;
        loop {
            let result = match tokio::time::timeout(
                policy.attempt_timeout,
                super::health::connecting(name, required, W::connect(config)),
            )
            .await
            {
                Ok(result) => result,
                Err(_) => Err(WireError::connect(format!(
                    "no answer within {:?}",
                    policy.attempt_timeout
                ))),
            };
            match result {
                Ok(wire) => {
                    let close = Box::pin(wire.close());
                    self.closers.lock().unwrap().push((index, name, close));
                    tracing::info!(wire = name, "input wire connected");
                    return Ok(wire);
                }
                Err(error) if error.is_retryable() && attempt < attempts => {
                    tracing::warn!(
                        wire = name,
                        attempt,
                        retry_in = ?delay,
                        "cannot connect input wire: {error}"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(policy.max_delay);
                    attempt += 1;
                }
                Err(error) => {
                    return Err(StartError {
                        wire: name,
                        error,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// The optional input wires the configuration leaves out, in field order.
    pub(crate) fn unconfigured(&self) -> Vec<&'static str> {
        self.unconfigured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Close futures of the connected wires, last input first.
    pub(crate) fn into_closers(self) -> Vec<(&'static str, CloseFuture)> {
        let mut closers = self.closers.into_inner().unwrap_or_else(|e| e.into_inner());
        closers.sort_by_key(|(index, _, _)| std::cmp::Reverse(*index));
        closers
            .into_iter()
            .map(|(_, name, close)| (name, close))
            .collect()
    }
}

/// One input wire about to be connected; from [`Inputs::wire`].
pub struct InputSlot<'a, C> {
    inputs: &'a Inputs,
    index: usize,
    name: &'static str,
    config: Option<&'a C>,
}

impl<C: Sync> InputSlot<'_, C> {
    /// Connects a required wire.
    pub async fn required<W: InputWire<C>>(self) -> Result<W, StartError> {
        let name = self.name;
        match self.config {
            Some(config) => self.inputs.connect(self.index, name, true, config).await,
            None => Err(StartError {
                wire: name,
                error: WireError::config(format!(
                    "`{name}` is required but not configured; add it to the configuration"
                )),
                attempts: 0,
            }),
        }
    }

    /// Connects an optional wire: `None` when the configuration does not set it.
    pub async fn optional<W: InputWire<C>>(self) -> Result<Option<W>, StartError> {
        match self.config {
            Some(config) => self
                .inputs
                .connect(self.index, self.name, false, config)
                .await
                .map(Some),
            None => {
                tracing::info!(wire = self.name, "optional input wire not configured");
                let mut unconfigured = self
                    .inputs
                    .unconfigured
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                unconfigured.push(self.name);
                Ok(None)
            }
        }
    }
}

pub(crate) type ServeFuture = Pin<Box<dyn Future<Output = Result<(), WireError>> + Send>>;

/// The output wires `setup` returned, with their configuration; handed to the closure
/// [`Wiring::outputs`] returns.
pub struct Outputs {
    shutdown: Shutdown,
    pub(crate) serving: Vec<(&'static str, ServeFuture)>,
}

impl Outputs {
    pub(crate) fn new(shutdown: Shutdown) -> Self {
        Outputs {
            shutdown,
            serving: Vec::new(),
        }
    }

    /// The output wire named `name` with its configuration (`None` when not set); as
    /// [`Inputs::wire`], the configuration's type is fixed before the wire's.
    pub fn wire<C: Send + 'static>(
        &mut self,
        name: &'static str,
        config: Option<C>,
    ) -> OutputSlot<'_, C> {
        OutputSlot {
            outputs: self,
            name,
            config,
        }
    }
}

/// One output wire about to be served; from [`Outputs::wire`].
pub struct OutputSlot<'a, C> {
    outputs: &'a mut Outputs,
    name: &'static str,
    config: Option<C>,
}

impl<C: Send + 'static> OutputSlot<'_, C> {
    /// Serves `wire`; an output whose configuration is not set is not served.
    pub fn serve<W: OutputWire<C>>(self, wire: W) {
        let name = self.name;
        let Some(config) = self.config else {
            tracing::info!(wire = name, "output wire not configured; not served");
            return;
        };
        let shutdown = self.outputs.shutdown.clone();
        self.outputs
            .serving
            .push((name, Box::pin(wire.serve(config, shutdown))));
    }
}
