//! `harness check` on a service using the wire catalogue's messages: Redis, HTTP client,
//! NATS, scheduler, logging, metrics and tracing.

use std::fs;
use std::process::{Command, Output};

const PROTO: &str = r#"
syntax = "proto3";
package catalogue;
import "validate/validate.proto";
import "harness/wire.proto";
import "harness/http.proto";
import "harness/redis.proto";
import "harness/nats.proto";
import "harness/schedule.proto";
import "harness/logging.proto";
import "harness/metrics.proto";
import "harness/tracing.proto";

message Configuration {
    option (harness.service).name = "catalogue";
    harness.logging.Console console = 1 [(harness.wire).input.type = "harness_wires::logging::Console"];
    harness.logging.Syslog syslog = 2 [(harness.wire).input.type = "harness_wires::logging::Syslog"];
    harness.tracing.Otlp otlp = 3 [(harness.wire).input.type = "harness_wires::tracing::Otlp"];
    harness.redis.Connection redis = 4 [
        (validate.rules).message.required = true,
        (harness.wire).input.type = "harness_wires::redis::Connection"
    ];
    harness.http.Connection api = 5 [(harness.wire).input.type = "harness_wires::http::Client"];
    harness.nats.Publisher nats = 6 [
        (validate.rules).message.required = true,
        (harness.wire).input.type = "harness_wires::nats::Publisher"
    ];
    harness.nats.Subscriber orders = 7 [(harness.wire).output.type = "harness_wires::nats::Subscriber"];
    harness.schedule.Scheduler scheduler = 8 [(harness.wire).output.type = "harness_wires::schedule::Scheduler"];
    harness.metrics.Prometheus metrics = 9 [(harness.wire).output.type = "harness_wires::metrics::Prometheus"];
}
"#;

const CONFIG: &str = r#"
console: {level: DEBUG, format: JSON, stream: STDOUT}
syslog: {app: catalogue, facility: LOCAL0, path: /dev/log}
otlp: {address: {host: 127.0.0.1, port: 4317}, protocol: HTTP_PROTOBUF, sampler_ratio: 0.25}
redis:
  address: {host: 127.0.0.1, port: 6379}
  db: 1
  username: app
  password: hunter2
  tls: true
  pool_size: 4
  connect_timeout: 2s
api: {address: {host: 127.0.0.1, port: 8081}, connect_timeout: 1s, timeout: 2.5s}
nats: {url: "nats://127.0.0.1:4222", name: catalogue, jetstream: true}
orders:
  subject: orders.>
  queue_group: workers
  max_concurrency: 4
  jetstream: {stream: ORDERS, durable: catalogue, ack_wait: 10s, max_deliver: 5, create_stream: true}
scheduler:
  jobs:
    cleanup: {cron: "*/5 * * * *"}
    report: {interval: 30s, overlap: QUEUE}
metrics: {prefix: catalogue, bind: {host: 0.0.0.0, port: 9090}}
"#;

fn check(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("catalogue.proto"), PROTO).unwrap();
    fs::write(dir.path().join("catalogue.yaml"), config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["check", "catalogue.proto", "catalogue.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("the harness binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn every_catalogue_message_checks() {
    let output = check(CONFIG);
    assert_eq!(text(&output), "OK\n");
    assert_eq!(output.status.code(), Some(0));
}

/// Each broken value is reported by its path, and the Redis password never shows.
#[test]
fn broken_catalogue_values_are_located() {
    let cases = [
        ("subject: orders.>", "subject: \"\"", "orders.subject"),
        (
            "url: \"nats://127.0.0.1:4222\"",
            "url: \"not a url\"",
            "nats.url",
        ),
        (
            "sampler_ratio: 0.25",
            "sampler_ratio: 1.5",
            "otlp.sampler_ratio",
        ),
        (
            "max_deliver: 5",
            "max_deliver: -1",
            "orders.jetstream.max_deliver",
        ),
        ("durable: catalogue, ", "", "orders.jetstream.durable"),
        (
            "{interval: 30s, overlap: QUEUE}",
            "{overlap: QUEUE}",
            "scheduler.jobs",
        ),
        ("{interval: 30s, ", "{interval: 0s, ", "scheduler.jobs"),
        ("format: JSON", "format: YAML", "console.format"),
        ("pool_size: 4", "pool_size: four", "redis.pool_size"),
    ];
    for (from, to, path) in cases {
        assert!(CONFIG.contains(from), "{from}");
        let output = check(&CONFIG.replacen(from, to, 1));
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{to}: {said}");
        assert!(said.contains(path), "{to}: expected {path} in {said}");
        assert!(!said.contains("hunter2"), "{said}");
    }
}
