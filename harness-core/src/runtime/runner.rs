//! The runner: arguments, configuration, inputs, `setup`, outputs, signals, exit status.

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use prost_reflect::DescriptorPool;

use super::errors::{LoadError, RunError};
use super::wire::BoxError;
use super::wiring::{RetryPolicy, Wiring};
use crate::config;

pub use crate::DEFAULT_GRACE_PERIOD;

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
            Err(error) => return fail(&RunError::Runtime(error)),
        };
        let result = runtime.block_on(super::service::run::<S, F, Fut, E>(
            args,
            self.retry,
            grace_period,
            setup,
        ));
        // Tasks that ignore shutdown (a stuck handler) must not keep the process alive.
        runtime.shutdown_timeout(Duration::from_secs(1));
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        }
    }
}

fn fail(error: &RunError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_FAILURE)
}

#[derive(Debug)]
pub(crate) struct Args {
    pub(crate) config: PathBuf,
    pub(crate) merge: Option<PathBuf>,
    pub(crate) patch: Option<PathBuf>,
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
) -> Result<S, LoadError> {
    let pool = DescriptorPool::decode(S::FILE_DESCRIPTOR_SET).map_err(LoadError::Descriptors)?;
    let message = pool
        .get_message_by_name(S::MESSAGE)
        .ok_or(LoadError::NoMessage(S::MESSAGE))?;
    let sources = config::Sources::read(config, merge, patch)?;
    let dynamic = config::load(&message, &sources)?;
    dynamic
        .transcode_to::<S>()
        .map_err(|source| LoadError::Decode {
            path: config.to_owned(),
            source,
        })
}
