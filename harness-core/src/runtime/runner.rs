//! The runner: arguments, configuration, inputs, `setup`, outputs, signals, exit status.

use std::error::Error as StdError;
use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use prost_reflect::DescriptorPool;
use tokio::task::JoinSet;

use super::wire::{BoxError, Shutdown, write_chain};
use super::wiring::{Inputs, Outputs, RetryPolicy, Wiring};
use crate::config;

pub use crate::DEFAULT_GRACE_PERIOD;

/// Upper bound of closing one input wire.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Exit status of a service that failed to start or whose output failed.
pub const EXIT_FAILURE: u8 = 1;

/// Exit status for a usage error (clap's).
pub const EXIT_USAGE: u8 = 2;

/// Runs a service: the `main` that `#[harness::main]` generates is
/// `Runner::new().run(setup)`.
#[derive(Debug, Clone)]
pub struct Runner {
    grace_period: Duration,
    retry: RetryPolicy,
    args: Option<Vec<OsString>>,
    logging: bool,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    pub fn new() -> Self {
        Runner {
            grace_period: DEFAULT_GRACE_PERIOD,
            retry: RetryPolicy::default(),
            args: None,
            logging: true,
        }
    }

    /// Drain time allowed after the first signal (the `--grace-period` argument overrides it).
    pub fn grace_period(mut self, grace_period: Duration) -> Self {
        self.grace_period = grace_period;
        self
    }

    /// How input wires are retried when their peer is unreachable.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Arguments to parse instead of the process's, the program name first.
    pub fn args<I, T>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Whether to install a `tracing` subscriber writing to stderr (on by default;
    /// `RUST_LOG` filters it). Turn it off to install your own.
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// Parses the arguments, loads and validates the configuration, connects the inputs,
    /// calls `setup`, serves the outputs until a signal, drains, closes the inputs.
    ///
    /// Exit status: 0 after a graceful shutdown, 1 when the start or an output fails (one
    /// line on stderr says why), 2 for a usage error, 128+N on a second signal N.
    pub fn run<S, F, Fut, E>(self, setup: F) -> ExitCode
    where
        S: Wiring,
        F: FnOnce(S, S::WiresIn) -> Fut,
        Fut: Future<Output = Result<S::WiresOut, E>>,
        E: Into<BoxError>,
    {
        let args = match parse_args(self.args.clone()) {
            Ok(args) => args,
            Err(error) => {
                let _ = error.print();
                return ExitCode::from(if error.use_stderr() { EXIT_USAGE } else { 0 });
            }
        };
        if self.logging {
            init_logging();
        }
        let grace_period = args.grace_period.unwrap_or(self.grace_period);
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => return fail(&format!("cannot start the async runtime: {error}")),
        };
        let result = runtime.block_on(run_service::<S, F, Fut, E>(
            args,
            self.retry,
            grace_period,
            setup,
        ));
        // Tasks that ignore shutdown (a stuck handler) must not keep the process alive.
        runtime.shutdown_timeout(Duration::from_secs(1));
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_FAILURE)
}

#[derive(Debug)]
struct Args {
    config: PathBuf,
    merge: Option<PathBuf>,
    patch: Option<PathBuf>,
    grace_period: Option<Duration>,
}

fn command(name: String) -> clap::Command {
    use clap::{Arg, value_parser};
    clap::Command::new(name)
        .about("Runs the service with a YAML configuration")
        .arg(
            Arg::new("config")
                .value_name("CONFIG")
                .help("The configuration, a YAML file")
                .required(true)
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            Arg::new("merge")
                .long("merge")
                .value_name("FILE")
                .help("A YAML file merged into the configuration (RFC 7386 JSON Merge Patch), e.g. secrets")
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            Arg::new("patch")
                .long("patch")
                .value_name("FILE")
                .help("A YAML file of JSON Patch operations (RFC 6902) applied after --merge")
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            Arg::new("grace-period")
                .long("grace-period")
                .value_name("SECONDS")
                .help(format!(
                    "Time in-flight work may drain after SIGTERM [default: {}]",
                    DEFAULT_GRACE_PERIOD.as_secs()
                ))
                .value_parser(value_parser!(u64)),
        )
}

fn parse_args(args: Option<Vec<OsString>>) -> Result<Args, clap::Error> {
    let args = args.unwrap_or_else(|| std::env::args_os().collect());
    let name = args
        .first()
        .and_then(|arg0| Path::new(arg0).file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "service".to_owned());
    let mut matches = command(name).try_get_matches_from(args)?;
    Ok(Args {
        config: matches.remove_one("config").expect("required"),
        merge: matches.remove_one("merge"),
        patch: matches.remove_one("patch"),
        grace_period: matches
            .remove_one::<u64>("grace-period")
            .map(Duration::from_secs),
    })
}

fn init_logging() {
    super::logs::init();
}

/// Loads the configuration exactly as `harness check` does, then turns it into `S`.
pub fn load_config<S: Wiring>(
    config: &Path,
    merge: Option<&Path>,
    patch: Option<&Path>,
) -> Result<S, String> {
    let pool = DescriptorPool::decode(S::FILE_DESCRIPTOR_SET)
        .map_err(|e| format!("the service's embedded descriptors are invalid: {e}"))?;
    let message = pool
        .get_message_by_name(S::MESSAGE)
        .ok_or_else(|| format!("the service's descriptors have no message {}", S::MESSAGE))?;
    let sources = config::Sources::read(config, merge, patch).map_err(|e| e.to_string())?;
    let dynamic = config::load(&message, &sources).map_err(|e| e.to_string())?;
    dynamic
        .transcode_to::<S>()
        .map_err(|e| format!("{}: {e}", config.display()))
}

/// What stopped the service.
enum Stop {
    Signal,
    Failed(String),
}

async fn run_service<S, F, Fut, E>(
    args: Args,
    retry: RetryPolicy,
    grace_period: Duration,
    setup: F,
) -> Result<(), String>
where
    S: Wiring,
    F: FnOnce(S, S::WiresIn) -> Fut,
    Fut: Future<Output = Result<S::WiresOut, E>>,
    E: Into<BoxError>,
{
    let (trigger, shutdown) = Shutdown::channel();
    let trigger = Arc::new(trigger);
    let mut signals = Signals::install().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let on_signal = trigger.clone();
    tokio::spawn(async move {
        let first = signals.next().await;
        tracing::info!(
            signal = first,
            "shutting down; a second signal exits at once"
        );
        on_signal.trigger();
        let second = signals.next().await;
        tracing::warn!(signal = second, "second signal; exiting at once");
        std::process::exit(128 + second);
    });

    let config: S = load_config::<S>(&args.config, args.merge.as_deref(), args.patch.as_deref())?;
    let outputs_of = config.outputs();

    // Inputs, then setup; a signal meanwhile stops the start (exit 0 once inputs closed).
    let inputs = Inputs::new(retry);
    let started = tokio::select! {
        biased;
        _ = shutdown.requested() => None,
        connected = config.connect(&inputs) => Some(connected),
    };
    let wires_in = match started {
        None => {
            tracing::info!("shutdown requested while starting");
            close_inputs(inputs).await;
            return Ok(());
        }
        Some(Err(error)) => {
            close_inputs(inputs).await;
            return Err(error.to_string());
        }
        Some(Ok(wires_in)) => wires_in,
    };
    let wires_out = tokio::select! {
        biased;
        _ = shutdown.requested() => None,
        out = setup(config, wires_in) => Some(out),
    };
    let wires_out = match wires_out {
        None => {
            tracing::info!("shutdown requested during setup");
            close_inputs(inputs).await;
            return Ok(());
        }
        Some(Err(error)) => {
            close_inputs(inputs).await;
            return Err(format!("setup failed: {}", Chain(&*error.into())));
        }
        Some(Ok(wires_out)) => wires_out,
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

    // Serve until a signal or until an output stops; then every output drains.
    let mut stop: Option<Stop> = None;
    let mut failure: Option<String> = None;
    while !serving.is_empty() && stop.is_none() {
        tokio::select! {
            _ = shutdown.requested() => stop = Some(Stop::Signal),
            Some(joined) = serving.join_next() => {
                let (name, result) = flatten_join(joined);
                match result {
                    Ok(()) => {
                        tracing::info!(wire = name, "output wire stopped; shutting down the others");
                        stop = Some(Stop::Signal);
                    }
                    Err(error) => {
                        let message = format!("output wire `{name}`: {error}");
                        stop = Some(Stop::Failed(message));
                    }
                }
            }
        }
    }
    trigger.trigger();
    if let Some(Stop::Failed(message)) = stop {
        tracing::error!("{message}; shutting down");
        failure = Some(message);
    }
    if !serving.is_empty() {
        tracing::info!(grace_period = ?grace_period, "draining");
        let drained = tokio::time::timeout(grace_period, async {
            while let Some(joined) = serving.join_next().await {
                let (name, result) = flatten_join(joined);
                match result {
                    Ok(()) => tracing::info!(wire = name, "output wire drained"),
                    Err(error) => {
                        let message = format!("output wire `{name}`: {error}");
                        tracing::error!("{message}");
                        failure.get_or_insert(message);
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
    }
    close_inputs(inputs).await;
    match failure {
        None => {
            tracing::info!("stopped");
            Ok(())
        }
        Some(message) => Err(message),
    }
}

fn flatten_join(
    joined: Result<(&'static str, Result<(), super::wire::WireError>), tokio::task::JoinError>,
) -> (&'static str, Result<(), String>) {
    match joined {
        Ok((name, result)) => (name, result.map_err(|e| e.to_string())),
        Err(error) => ("?", Err(format!("task failed: {error}"))),
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

struct Chain<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_chain(f, self.0)
    }
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.interrupt.recv() => 2,
            _ = self.terminate.recv() => 15,
        }
    }
}
