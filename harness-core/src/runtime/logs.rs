//! The process's `tracing` subscriber, whose output logging wires replace.
//!
//! The runner installs a subscriber writing to stderr (filtered by `RUST_LOG`) before
//! anything else runs. A logging input wire (`harness_wires::logging::Console`,
//! `…::Syslog`, or your own) hands its output to [`add_output`] while it connects: the
//! first one replaces the default output, later ones are added beside it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

/// A log output: any layer over the registry. Per-layer filters (`Layer::with_filter`)
/// cannot be added once the subscriber runs; filter by level inside the layer, and give
/// its most verbose level as `max_level_hint` so that quieter callsites stay disabled.
pub type BoxLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;

static OUTPUTS: OnceLock<reload::Handle<Vec<BoxLayer>, Registry>> = OnceLock::new();
static REPLACED: AtomicBool = AtomicBool::new(false);

/// Installs the subscriber with the default stderr output, unless one is installed.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,hyper=warn,tower=warn"));
    let default = filter.and_then(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false),
    );
    let (layer, handle) = reload::Layer::new(vec![Box::new(default) as BoxLayer]);
    if Registry::default().with(layer).try_init().is_ok() {
        let _ = OUTPUTS.set(handle);
    }
}

/// Adds a log output to the process's subscriber; the first one added replaces the
/// runner's default stderr output.
///
/// Without the runner's subscriber (`Runner::logging(false)`, or a test), the output
/// becomes the global subscriber if there is none yet. Returns whether it was installed.
pub fn add_output(output: BoxLayer) -> bool {
    match OUTPUTS.get() {
        Some(handle) => handle
            .modify(|outputs| {
                if !REPLACED.swap(true, Ordering::SeqCst) {
                    outputs.clear();
                }
                outputs.push(output);
            })
            .is_ok(),
        None => Registry::default().with(output).try_init().is_ok(),
    }
}
