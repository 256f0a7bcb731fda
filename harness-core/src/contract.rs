//! Facts shared by a running service and the manifests that deploy it, each in one place:
//! the wires use them at run time, `harness kube-gen` writes them into probes, mounts and
//! grace periods.

use std::time::Duration;

use crate::proto::harness::logging::Syslog;

/// How long the outputs may drain after the first SIGINT/SIGTERM before they are cut off:
/// 30 seconds. The runtime uses it, and `harness kube-gen` derives the pod's
/// `terminationGracePeriodSeconds` from it.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// Path of the health endpoint every HTTP server wire answers, and the HTTP probes' path.
pub const HEALTH_PATH: &str = "/_/health";

/// Handlers a consumer wire (`nats::Subscriber`, `amqp::Consumer`, `mqtt::Subscriber`) runs
/// at once when its `max_concurrency` is 0; `harness kube-gen` takes it for the backlog per
/// replica its autoscaler keeps.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 16;

/// The bundled messages that configure a log output (`harness_wires::logging`): their
/// input wires connect before the others, so that every line is written by them.
pub const LOG_OUTPUT_MESSAGES: &[&str] = &["harness.logging.Console", "harness.logging.Syslog"];

/// Whether the message `full_name` configures a log output.
pub fn is_log_output(full_name: &str) -> bool {
    LOG_OUTPUT_MESSAGES.contains(&full_name)
}

/// The system logger's Unix datagram socket when `harness.logging.Syslog` names none.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

/// The Unix socket a syslog wire writes to: its `path` (default
/// [`DEFAULT_SYSLOG_SOCKET`]), or `None` when it sends to a server over UDP.
pub fn syslog_socket(config: &Syslog) -> Option<&str> {
    if config.address.is_some() {
        return None;
    }
    Some(if config.path.is_empty() {
        DEFAULT_SYSLOG_SOCKET
    } else {
        &config.path
    })
}
