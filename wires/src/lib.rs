//! Wires for harness services, one cargo feature each.
//!
//! | wire | feature | configured by | kind |
//! | --- | --- | --- | --- |
//! | [`http::Server`] | `http` | `harness.http.Server` | output |
//! | `http::Client` | `http-client` | `harness.http.Connection` | input |
//! | [`postgres::Pool`] | `postgres` | `harness.postgres.Pool`, `harness.postgres.DSN` | input |
//! | [`grpc::Channel`] | `grpc-client` | `harness.grpc.Channel`, `harness.grpc.Target` | input |
//! | [`grpc::Server`] | `grpc-server` | `harness.grpc.Server`, `harness.grpc.Endpoint` | output |
//! | `redis::Connection` | `redis` | `harness.redis.Connection` | input |
//! | `nats::Publisher` | `nats` | `harness.nats.Publisher`, `harness.nats.Connection` | input |
//! | `nats::Subscriber` | `nats` | `harness.nats.Subscriber` | output |
//! | `amqp::Publisher` | `amqp` | `harness.amqp.Publisher` | input |
//! | `amqp::Consumer` | `amqp` | `harness.amqp.Consumer` | output |
//! | `mqtt::Publisher` | `mqtt` | `harness.mqtt.Publisher` | input |
//! | `mqtt::Subscriber` | `mqtt` | `harness.mqtt.Subscriber` | output |
//! | `mysql::Pool` | `mysql` | `harness.mysql.Pool`, `harness.mysql.DSN` | input |
//! | `schedule::Scheduler` | `schedule` | `harness.schedule.Scheduler` | output |
//! | `logging::Console` | `logging` | `harness.logging.Console` | input |
//! | `logging::Syslog` | `logging` | `harness.logging.Syslog` | input |
//! | `metrics::Prometheus` | `metrics` | `harness.metrics.Prometheus` | output |
//! | `tracing::Otlp` | `otlp` | `harness.tracing.Otlp` | input |
//!
//! A wire is named in the proto by its Rust path:
//! `(harness.wire).output.type = "harness_wires::http::Server"`. Writing your own is
//! implementing `harness::runtime::InputWire` or `OutputWire` (see their docs).
//!
//! The messaging wires (NATS, AMQP, MQTT) carry CloudEvents 1.0 in binary and structured
//! modes: see `cloudevents`.
//!
//! Every server and client wire records RED metrics (requests, errors, durations) and
//! makes spans with W3C trace-context propagation, without user code: see [`telemetry`].

#[cfg(feature = "amqp")]
pub mod amqp;
#[cfg(feature = "cloudevents")]
pub mod cloudevents;
mod features;
#[cfg(any(feature = "grpc-client", feature = "grpc-server"))]
pub mod grpc;
#[cfg(any(feature = "http", feature = "http-client"))]
pub mod http;
#[cfg(feature = "logging")]
pub mod logging;
#[cfg(any(feature = "nats", feature = "amqp", feature = "mqtt"))]
mod messaging;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(any(feature = "grpc-client", feature = "grpc-server"))]
mod observe;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "schedule")]
pub mod schedule;
#[cfg(any(
    feature = "http",
    feature = "grpc-client",
    feature = "redis",
    feature = "postgres",
    feature = "mysql"
))]
mod settings;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod sql;
pub mod telemetry;
#[cfg(feature = "otlp")]
pub mod tracing;

#[cfg(any(feature = "http", feature = "grpc-server", feature = "metrics"))]
mod net;
