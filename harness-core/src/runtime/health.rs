//! Readiness: which input wires are down right now, for the health checks of the server
//! wires (`/_/health`, `grpc.health.v1`).
//!
//! An input wire that notices its peer is gone (a failed ping, a lost connection) calls
//! [`Reporter::down`], and [`Reporter::up`] once it is back. The service is not ready while
//! a *required* input is down; an optional one going down is only logged.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use tokio::sync::watch;

tokio::task_local! {
    static CONNECTING: (&'static str, bool);
}

/// Runs `future` (an input wire's `connect`) as wire `name`: [`reporter`] called inside
/// it names that wire.
pub(crate) async fn connecting<F: std::future::Future>(
    name: &'static str,
    required: bool,
    future: F,
) -> F::Output {
    CONNECTING.scope((name, required), future).await
}

struct State {
    /// Required wires down, with why.
    down: BTreeMap<&'static str, String>,
    changes: watch::Sender<u64>,
}

static STATE: LazyLock<Mutex<State>> = LazyLock::new(|| {
    Mutex::new(State {
        down: BTreeMap::new(),
        changes: watch::channel(0).0,
    })
});

/// Reports the state of one input wire.
#[derive(Debug, Clone)]
pub struct Reporter {
    name: &'static str,
    required: bool,
}

/// The reporter of the input wire being connected; call it inside `InputWire::connect`.
/// Outside the runner (a test), it reports for a required wire named `input`.
pub fn reporter() -> Reporter {
    let (name, required) = CONNECTING.try_with(|wire| *wire).unwrap_or(("input", true));
    Reporter { name, required }
}

impl Reporter {
    /// The field name of the wire.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The peer is unreachable: the service is not ready while a required input is down.
    pub fn down(&self, reason: impl std::fmt::Display) {
        let reason = reason.to_string();
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let known = state.down.contains_key(self.name);
        if !known {
            tracing::warn!(
                wire = self.name,
                required = self.required,
                "input wire down: {reason}"
            );
        }
        if self.required {
            state.down.insert(self.name, reason);
            if !known {
                state.changes.send_modify(|n| *n += 1);
            }
        }
    }

    /// The peer is reachable again.
    pub fn up(&self) {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if state.down.remove(self.name).is_some() {
            tracing::info!(wire = self.name, "input wire up again");
            state.changes.send_modify(|n| *n += 1);
        }
    }
}

/// `None` when every required input is up, else why not, for the logs:
/// `redis: redis at 10.0.0.7:6379: connection refused`.
pub fn not_ready() -> Option<String> {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if state.down.is_empty() {
        return None;
    }
    let reasons: Vec<String> = state
        .down
        .iter()
        .map(|(name, reason)| format!("{name}: {reason}"))
        .collect();
    Some(reasons.join("; "))
}

/// The required input wires that are down, by field name, in order: what a health check
/// may show to whoever asks it (the reasons of [`not_ready`] name addresses; they go to
/// the logs only).
pub fn down_wires() -> Vec<&'static str> {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    state.down.keys().copied().collect()
}

/// Changes whenever readiness may have changed.
pub fn changes() -> watch::Receiver<u64> {
    STATE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .changes
        .subscribe()
}
