//! Which cargo feature each wire needs, checked where a service names the wire.
//!
//! The code harness-build generates calls [`__require_wire!`](crate::__require_wire) for
//! every wire of the proto whose type is in this crate. When the wire's feature is off, the
//! build fails with one error that names the wire, the feature and the line to add to
//! Cargo.toml, instead of rustc's "could not find `postgres` in `harness_wires`".

/// Defines `$gate!(WIRE)`: nothing when `$feature` is on, a `compile_error!` naming the
/// feature when it is off.
macro_rules! feature_gate {
    ($gate:ident, $feature:literal) => {
        #[cfg(feature = $feature)]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! $gate {
            ($wire:literal) => {};
        }

        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! $gate {
            ($wire:literal) => {
                ::core::compile_error!(::core::concat!(
                    "the wire `",
                    $wire,
                    "` needs the cargo feature `",
                    $feature,
                    "` of harness-wires; add it in Cargo.toml: harness-wires = { version = \"",
                    ::core::env!("CARGO_PKG_VERSION"),
                    "\", features = [\"",
                    $feature,
                    "\"] }"
                ));
            };
        }
    };
}

feature_gate!(__feature_http, "http");
feature_gate!(__feature_http_client, "http-client");
feature_gate!(__feature_postgres, "postgres");
feature_gate!(__feature_grpc_client, "grpc-client");
feature_gate!(__feature_grpc_server, "grpc-server");
feature_gate!(__feature_redis, "redis");
feature_gate!(__feature_nats, "nats");
feature_gate!(__feature_schedule, "schedule");
feature_gate!(__feature_logging, "logging");
feature_gate!(__feature_metrics, "metrics");
feature_gate!(__feature_otlp, "otlp");
feature_gate!(__feature_mysql, "mysql");
feature_gate!(__feature_amqp, "amqp");
feature_gate!(__feature_mqtt, "mqtt");

/// `__require_wire!("db", postgres::Pool)`: fails the build, naming the feature, when the
/// wire's feature is off. A path this crate does not know expands to nothing (rustc then
/// reports the unknown type itself).
#[doc(hidden)]
#[macro_export]
macro_rules! __require_wire {
    ($wire:literal, http::Server) => {
        $crate::__feature_http!($wire);
    };
    ($wire:literal, http::Client) => {
        $crate::__feature_http_client!($wire);
    };
    ($wire:literal, postgres::Pool) => {
        $crate::__feature_postgres!($wire);
    };
    ($wire:literal, grpc::Channel) => {
        $crate::__feature_grpc_client!($wire);
    };
    ($wire:literal, grpc::Server) => {
        $crate::__feature_grpc_server!($wire);
    };
    ($wire:literal, redis::Connection) => {
        $crate::__feature_redis!($wire);
    };
    ($wire:literal, nats::Publisher) => {
        $crate::__feature_nats!($wire);
    };
    ($wire:literal, nats::Subscriber) => {
        $crate::__feature_nats!($wire);
    };
    ($wire:literal, schedule::Scheduler) => {
        $crate::__feature_schedule!($wire);
    };
    ($wire:literal, logging::Console) => {
        $crate::__feature_logging!($wire);
    };
    ($wire:literal, logging::Syslog) => {
        $crate::__feature_logging!($wire);
    };
    ($wire:literal, metrics::Prometheus) => {
        $crate::__feature_metrics!($wire);
    };
    ($wire:literal, tracing::Otlp) => {
        $crate::__feature_otlp!($wire);
    };
    ($wire:literal, mysql::Pool) => {
        $crate::__feature_mysql!($wire);
    };
    ($wire:literal, amqp::Publisher) => {
        $crate::__feature_amqp!($wire);
    };
    ($wire:literal, amqp::Consumer) => {
        $crate::__feature_amqp!($wire);
    };
    ($wire:literal, mqtt::Publisher) => {
        $crate::__feature_mqtt!($wire);
    };
    ($wire:literal, mqtt::Subscriber) => {
        $crate::__feature_mqtt!($wire);
    };
    ($wire:literal, $($other:tt)*) => {};
}
