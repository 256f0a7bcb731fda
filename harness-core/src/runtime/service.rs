//! One run of a service: configuration, inputs, `setup`, outputs, drain, close.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::JoinSet;

use super::errors::{RunError, panic_message};
use super::runner::{Args, load_config};
use super::signals::Signals;
use super::wire::{BoxError, Shutdown, ShutdownTrigger, WireError};
use super::wiring::{Inputs, Outputs, RetryPolicy, Wiring};

/// Upper bound of closing one input wire.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The outputs being served, each with its wire's name.
type Serving = JoinSet<(&'static str, Result<(), WireError>)>;

pub(crate) async fn run<S, F, Fut, E>(
    args: Args,
    retry: RetryPolicy,
    grace_period: Duration,
    setup: F,
) -> Result<(), RunError>
where
    S: Wiring,
    F: FnOnce(S, S::WiresIn) -> Fut,
    Fut: Future<Output = Result<S::WiresOut, E>>,
    E: Into<BoxError>,
{
    let (trigger, shutdown) = Shutdown::channel();
    let trigger = Arc::new(trigger);
    let signals = Signals::install().map_err(RunError::Signals)?;
    tokio::spawn(exit_on_signals(signals, trigger.clone()));

    let config: S = load_config::<S>(&args.config, args.merge.as_deref(), args.patch.as_deref())?;
    let outputs_of = config.outputs();
    let inputs = Inputs::new(retry);
    let Some(wires_out) = start(config, &inputs, &shutdown, setup).await? else {
        close_inputs(inputs).await;
        return Ok(());
    };

    let mut outputs = Outputs::new(shutdown.clone());
    outputs_of(wires_out, &mut outputs);
    let mut serving = JoinSet::new();
    for (name, future) in outputs.serving {
        serving.spawn(async move { (name, future.await) });
    }
    if serving.is_empty() {
        tracing::info!("no output wire to serve; stopping");
    } else {
        tracing::info!(outputs = serving.len(), "serving");
    }
    let failure = serve(&mut serving, &shutdown).await;
    trigger.trigger();
    if let Some(error) = &failure {
        tracing::error!("{error}; shutting down");
    }
    let failure = drain(serving, grace_period, failure).await;
    close_inputs(inputs).await;
    match failure {
        None => {
            tracing::info!("stopped");
            Ok(())
        }
        Some(error) => Err(error),
    }
}

/// The first signal starts the shutdown; a second exits at once with 128 + N.
async fn exit_on_signals(mut signals: Signals, trigger: Arc<ShutdownTrigger>) {
    let first = signals.next().await;
    tracing::info!(
        signal = first,
        "shutting down; a second signal exits at once"
    );
    trigger.trigger();
    let second = signals.next().await;
    tracing::warn!(signal = second, "second signal; exiting at once");
    std::process::exit(128 + second);
}

/// Connects the inputs and calls `setup`; `None` when a signal came meanwhile. On an
/// error, the inputs connected so far are closed by the caller.
async fn start<S, F, Fut, E>(
    config: S,
    inputs: &Inputs,
    shutdown: &Shutdown,
    setup: F,
) -> Result<Option<S::WiresOut>, RunError>
where
    S: Wiring,
    F: FnOnce(S, S::WiresIn) -> Fut,
    Fut: Future<Output = Result<S::WiresOut, E>>,
    E: Into<BoxError>,
{
    let connected = tokio::select! {
        biased;
        _ = shutdown.requested() => None,
        connected = config.connect(inputs) => Some(connected),
    };
    let wires_in = match connected {
        None => {
            tracing::info!("shutdown requested while starting");
            return Ok(None);
        }
        Some(result) => result?,
    };
    let built = tokio::select! {
        biased;
        _ = shutdown.requested() => None,
        built = CatchUnwind(Box::pin(setup(config, wires_in))) => Some(built),
    };
    match built {
        None => {
            tracing::info!("shutdown requested during setup");
            Ok(None)
        }
        Some(Ok(Ok(wires_out))) => Ok(Some(wires_out)),
        Some(Ok(Err(error))) => Err(RunError::Setup(error.into())),
        Some(Err(panic)) => Err(RunError::SetupPanicked {
            message: panic_message(&*panic),
            unconfigured: inputs.unconfigured(),
        }),
    }
}

/// Serves until a signal or until an output stops: `Some` error when one failed.
async fn serve(serving: &mut Serving, shutdown: &Shutdown) -> Option<RunError> {
    if serving.is_empty() {
        return None;
    }
    tokio::select! {
        _ = shutdown.requested() => None,
        Some(joined) = serving.join_next() => {
            let (wire, result) = flatten_join(joined);
            match result {
                Ok(()) => {
                    tracing::info!(wire, "output wire stopped; shutting down the others");
                    None
                }
                Err(error) => Some(RunError::Output { wire, error }),
            }
        }
    }
}

/// Lets every output drain for at most `grace_period`; returns the first failure.
async fn drain(
    mut serving: Serving,
    grace_period: Duration,
    mut failure: Option<RunError>,
) -> Option<RunError> {
    if serving.is_empty() {
        return failure;
    }
    tracing::info!(grace_period = ?grace_period, "draining");
    let drained = tokio::time::timeout(grace_period, async {
        while let Some(joined) = serving.join_next().await {
            let (wire, result) = flatten_join(joined);
            match result {
                Ok(()) => tracing::info!(wire, "output wire drained"),
                Err(error) => {
                    let error = RunError::Output { wire, error };
                    tracing::error!("{error}");
                    failure.get_or_insert(error);
                }
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            outputs = serving.len(),
            "grace period over; cutting off outputs still draining"
        );
        serving.shutdown().await;
    }
    failure
}

fn flatten_join(
    joined: Result<(&'static str, Result<(), WireError>), tokio::task::JoinError>,
) -> (&'static str, Result<(), WireError>) {
    match joined {
        Ok(done) => done,
        Err(error) if error.is_panic() => (
            "?",
            Err(WireError::other(format!(
                "panicked: {}",
                panic_message(&*error.into_panic())
            ))),
        ),
        Err(error) => ("?", Err(WireError::other(format!("task failed: {error}")))),
    }
}

async fn close_inputs(inputs: Inputs) {
    for (name, close) in inputs.into_closers() {
        if tokio::time::timeout(CLOSE_TIMEOUT, close).await.is_err() {
            tracing::warn!(
                wire = name,
                "input wire did not close within {CLOSE_TIMEOUT:?}"
            );
        } else {
            tracing::info!(wire = name, "input wire closed");
        }
    }
}

/// A future whose panic is caught and returned, so that a panicking `setup` is reported
/// like a failing one instead of aborting the runner.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::InputWire;
    use crate::runtime::wiring::StartError;

    /// A service with one optional input wire, as generated for a field without
    /// `(validate.rules).message.required = true`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Config {}

    struct Db;

    impl InputWire<()> for Db {
        async fn connect(_: &()) -> Result<Self, WireError> {
            Ok(Db)
        }
    }

    impl Wiring for Config {
        type WiresIn = Option<Db>;
        type WiresOut = ();
        const FILE_DESCRIPTOR_SET: &'static [u8] = &[];
        const MESSAGE: &'static str = "test.Configuration";

        async fn connect(&self, inputs: &Inputs) -> Result<Option<Db>, StartError> {
            inputs.wire(0, "db", None::<&()>).optional::<Db>().await
        }

        fn outputs(&self) -> impl FnOnce((), &mut Outputs) + Send + 'static {
            |_, _| {}
        }
    }

    #[tokio::test]
    async fn a_setup_that_panics_on_an_unconfigured_wire_is_an_error_naming_it() {
        let inputs = Inputs::new(RetryPolicy::default());
        let (_trigger, shutdown) = Shutdown::channel();
        let setup = |_: Config, db: Option<Db>| async move {
            let _db = db.expect("the database");
            Ok::<(), BoxError>(())
        };
        let error = start(Config {}, &inputs, &shutdown, setup)
            .await
            .expect_err("a panicking setup is an error");
        let text = error.to_string();
        assert!(text.starts_with("setup panicked: the database"), "{text}");
        assert!(text.contains("the optional input wire `db`"), "{text}");
    }

    #[tokio::test]
    async fn a_failing_setup_shows_its_error() {
        let inputs = Inputs::new(RetryPolicy::default());
        let (_trigger, shutdown) = Shutdown::channel();
        let setup =
            |_: Config, _: Option<Db>| async { Err::<(), BoxError>("no migrations".into()) };
        let error = start(Config {}, &inputs, &shutdown, setup)
            .await
            .err()
            .unwrap();
        assert_eq!(error.to_string(), "setup failed: no migrations");
    }
}
