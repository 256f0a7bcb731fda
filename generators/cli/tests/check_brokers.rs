//! `harness check` on a service using the broker wires' messages: AMQP, MQTT, MySQL and
//! CloudEvents. What a wire needs at run time is required, so a config that checks starts.

use std::fs;
use std::process::{Command, Output};

const PROTO: &str = r#"
syntax = "proto3";
package brokers;
import "validate/validate.proto";
import "harness/wire.proto";
import "harness/amqp.proto";
import "harness/mqtt.proto";
import "harness/mysql.proto";
import "harness/nats.proto";

message Configuration {
    option (harness.service).name = "brokers";
    harness.amqp.Publisher amqp = 1 [
        (validate.rules).message.required = true,
        (harness.wire).input.type = "harness_wires::amqp::Publisher"
    ];
    harness.amqp.Consumer orders = 2 [(harness.wire).output.type = "harness_wires::amqp::Consumer"];
    harness.mqtt.Publisher mqtt = 3 [(harness.wire).input.type = "harness_wires::mqtt::Publisher"];
    harness.mqtt.Subscriber sensors = 4 [(harness.wire).output.type = "harness_wires::mqtt::Subscriber"];
    harness.mysql.DSN db = 5 [(harness.wire).input.type = "harness_wires::mysql::Pool"];
    harness.mysql.Pool archive = 6 [(harness.wire).input.type = "harness_wires::mysql::Pool"];
    harness.nats.Publisher nats = 7 [(harness.wire).input.type = "harness_wires::nats::Publisher"];
}
"#;

const CONFIG: &str = r#"
amqp:
  url: amqp://127.0.0.1:5672/%2f
  username: orders
  password: hunter2
  exchange: {name: orders, kind: TOPIC}
  cloudevents: {mode: STRUCTURED, source: /orders}
orders:
  queue: orders
  queue_type: QUORUM
  bindings: [{exchange: {name: orders, kind: TOPIC}, routing_key: "orders.*"}]
  max_concurrency: 8
  prefetch: 16
  dead_letter_exchange: orders.dead
  delivery_limit: 5
mqtt:
  address: {host: 127.0.0.1, port: 1883}
  password: hunter2
  session_expiry: 3600s
  qos: AT_LEAST_ONCE
  cloudevents: {mode: BINARY}
sensors: {topic: "sensors/+/temperature", qos: EXACTLY_ONCE, share_group: thermostat}
db: {value: "mysql://root:hunter2@127.0.0.1:3306/test", min_size: 1}
archive: {address: {host: 127.0.0.1, port: 3306}, username: root, database: test}
nats: {url: "nats://127.0.0.1:4222", cloudevents: {mode: BINARY, source: "urn:acme:orders"}}
"#;

fn check(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("brokers.proto"), PROTO).unwrap();
    fs::write(dir.path().join("brokers.yaml"), config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["check", "brokers.proto", "brokers.yaml"])
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
fn every_broker_message_checks() {
    let output = check(CONFIG);
    assert_eq!(text(&output), "OK\n");
    assert_eq!(output.status.code(), Some(0));
}

/// Each missing or broken value is reported by its path, and no password shows.
#[test]
fn missing_and_broken_broker_values_are_located() {
    let cases = [
        ("url: amqp://127.0.0.1:5672/%2f", "name: x", "amqp.url"),
        (
            "url: amqp://127.0.0.1:5672/%2f",
            "url: http://127.0.0.1:5672/",
            "amqp.url",
        ),
        ("  queue: orders\n", "\n", "orders.queue"),
        (
            "{name: orders, kind: TOPIC}, routing_key",
            "{kind: TOPIC}, routing_key",
            "orders.bindings[0].exchange.name",
        ),
        ("prefetch: 16", "prefetch: 70000", "orders.prefetch"),
        (
            "address: {host: 127.0.0.1, port: 1883}\n",
            "\n",
            "mqtt.address",
        ),
        ("topic: \"sensors/+/temperature\", ", "", "sensors.topic"),
        (
            "share_group: thermostat",
            "share_group: a/b",
            "sensors.share_group",
        ),
        (
            "value: \"mysql://root:hunter2@127.0.0.1:3306/test\"",
            "value: \"postgres://root:hunter2@127.0.0.1:5432/test\"",
            "db.value",
        ),
        (
            "address: {host: 127.0.0.1, port: 3306}, ",
            "",
            "archive.address",
        ),
        (
            "source: \"urn:acme:orders\"",
            "source: \"::\"",
            "nats.cloudevents.source",
        ),
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
