//! CloudEvents exchanged with an independent implementation, the CloudEvents Python SDK
//! (`cloudevents/interop.py`, in a venv this test makes under the target directory), over
//! the machine's NATS, RabbitMQ and Mosquitto, in both directions and both content modes.
#![cfg(all(feature = "nats", feature = "amqp", feature = "mqtt"))]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use harness::proto::harness::cloudevents::{CloudEvents, cloud_events::Mode};
use harness::proto::harness::net::Socket;
use harness::proto::harness::{amqp, mqtt, nats};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::amqp::lapin::options::QueueDeleteOptions;
use harness_wires::cloudevents::{AttributesReader as _, Event, EventBuilder as _, data_bytes};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const MODES: [(Mode, &str); 2] = [(Mode::Binary, "binary"), (Mode::Structured, "structured")];

/// The venv's python, made (once) with `requirements.txt` when missing.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cloudevents-venv");
        let python = venv.join("bin/python");
        let ready = |python: &Path| {
            Command::new(python)
                .args(["-c", "import cloudevents.core, pika, paho.mqtt, nats"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ready(&python) {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 runs");
            assert!(made.success(), "python3 -m venv failed");
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "-r"])
                .arg(script_dir().join("requirements.txt"))
                .status()
                .expect("pip runs");
            assert!(
                installed.success(),
                "pip install of the CloudEvents SDK failed"
            );
            assert!(ready(&python), "the venv lacks the SDK");
        }
        python
    })
}

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloudevents")
}

fn interop(args: &[&str]) -> Command {
    let mut command = Command::new(python());
    command.arg(script_dir().join("interop.py")).args(args);
    command
}

/// Has the SDK publish its test event.
async fn python_sends(protocol: &str, mode: &str, destination: &str) {
    let mut command = interop(&["send", protocol, mode, destination]);
    let status = tokio::task::spawn_blocking(move || command.status().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "interop.py send {protocol} {mode}");
}

/// A Python receiver, subscribed once this returns.
struct Receiver {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Receiver {
    async fn start(protocol: &str, destination: &str) -> Receiver {
        let mut child = interop(&["receive", protocol, destination])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (ready, lines) = tokio::task::spawn_blocking(move || (lines.next(), lines))
            .await
            .unwrap();
        assert_eq!(ready.unwrap().unwrap(), "ready");
        Receiver { child, lines }
    }

    /// The event the SDK decoded, as `{"attributes": …, "data": …}`.
    async fn event(mut self) -> Value {
        let (line, mut child) =
            tokio::task::spawn_blocking(move || (self.lines.next(), self.child))
                .await
                .unwrap();
        assert!(child.wait().unwrap().success(), "the receiver failed");
        serde_json::from_str(&line.expect("a line").unwrap()).unwrap()
    }
}

/// The event the Rust publishers send.
fn rust_event(events: &harness_wires::cloudevents::Events) -> Event {
    events
        .event("com.example.rust")
        .subject("from rust")
        .data("application/json", json!({"from": "rust", "n": 8}))
        .build()
        .unwrap()
}

/// The SDK read what harness wrote: every attribute, the time to the second, the data.
fn assert_sdk_read(got: &Value, sent: &Event, mode: &str) {
    let attributes = &got["attributes"];
    assert_eq!(attributes["id"], sent.id(), "{mode}: {got}");
    assert_eq!(attributes["source"], "/harness-interop", "{mode}: {got}");
    assert_eq!(attributes["type"], "com.example.rust", "{mode}: {got}");
    assert_eq!(attributes["subject"], "from rust", "{mode}: {got}");
    assert_eq!(attributes["specversion"], "1.0", "{mode}: {got}");
    assert_eq!(
        attributes["datacontenttype"], "application/json",
        "{mode}: {got}"
    );
    let seconds = sent.time().unwrap().format("%Y-%m-%dT%H:%M:%S").to_string();
    let time = attributes["time"].as_str().unwrap();
    assert!(
        time.starts_with(&seconds),
        "{mode}: {time} is not {seconds}"
    );
    assert_eq!(
        got["data"],
        json!({"from": "rust", "n": 8}),
        "{mode}: {got}"
    );
}

/// Harness read what the SDK wrote (`interop.py`'s test event).
fn assert_harness_read(event: &Event, mode: &str) {
    assert_eq!(event.id(), "python-1", "{mode}");
    assert_eq!(event.source().to_string(), "/python-sdk", "{mode}");
    assert_eq!(event.ty(), "com.example.python", "{mode}");
    assert_eq!(event.subject(), Some("from python"), "{mode}");
    assert_eq!(
        event.time().map(|t| t.to_rfc3339()),
        Some("2026-11-01T12:30:05+00:00".to_owned()),
        "{mode}"
    );
    let data: Value = serde_json::from_slice(&data_bytes(event).unwrap()).unwrap();
    assert_eq!(data, json!({"from": "python", "n": 7}), "{mode}");
}

fn cloudevents(mode: Mode) -> Option<CloudEvents> {
    Some(CloudEvents {
        mode: mode as i32,
        source: "/harness-interop".into(),
    })
}

fn forward() -> (
    impl Fn(Event) -> std::future::Ready<Result<(), String>> + Send + Sync + 'static,
    mpsc::UnboundedReceiver<Event>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        move |event| {
            tx.send(event).unwrap();
            std::future::ready(Ok(()))
        },
        rx,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_events_go_both_ways_with_the_python_sdk() {
    use harness_wires::nats::{Publisher, Subscriber};
    for (mode, name) in MODES {
        let nats = Publisher::connect(&nats::Publisher {
            url: "nats://127.0.0.1:4222".into(),
            cloudevents: cloudevents(mode),
            ..Default::default()
        })
        .await
        .unwrap();
        // Rust → Python.
        let subject = common::unique("harness.interop.to_python");
        let receiver = Receiver::start("nats", &subject).await;
        let event = rust_event(nats.events());
        nats.publish_event(subject, event.clone()).await.unwrap();
        nats.client().flush().await.unwrap();
        assert_sdk_read(&receiver.event().await, &event, name);

        // Python → Rust.
        let subject = common::unique("harness.interop.to_rust");
        let (handler, mut rx) = forward();
        let (trigger, shutdown) = Shutdown::channel();
        let config = nats::Subscriber {
            subject: subject.clone(),
            ..Default::default()
        };
        let serving = tokio::spawn(Subscriber::events(&nats, handler).serve(config, shutdown));
        // The subscription is made as serve starts: send until one arrives.
        let got = loop {
            python_sends("nats", name, &subject).await;
            if let Ok(Some(event)) =
                tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
            {
                break event;
            }
        };
        assert_harness_read(&got, name);
        trigger.trigger();
        serving.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_events_go_both_ways_with_the_python_sdk() {
    use harness_wires::amqp::{Consumer, Publisher};
    for (mode, name) in MODES {
        let rabbit = Publisher::connect(&amqp::Publisher {
            url: "amqp://127.0.0.1:5672/%2f".into(),
            cloudevents: cloudevents(mode),
            ..Default::default()
        })
        .await
        .unwrap();
        let queue = common::unique("harness-interop");
        let (handler, mut rx) = forward();
        let (trigger, shutdown) = Shutdown::channel();
        let config = amqp::Consumer {
            queue: queue.clone(),
            ..Default::default()
        };
        // Python → Rust (the consumer declares the queue).
        let serving = tokio::spawn(Consumer::events(&rabbit, handler).serve(config, shutdown));
        let got = loop {
            python_sends("amqp", name, &queue).await;
            if let Ok(Some(event)) =
                tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
            {
                break event;
            }
        };
        assert_harness_read(&got, name);
        trigger.trigger();
        serving.await.unwrap().unwrap();
        // Rust → Python, through the same queue.
        let event = rust_event(rabbit.events());
        rabbit.publish_event(&queue, event.clone()).await.unwrap();
        let receiver = Receiver::start("amqp", &queue).await;
        assert_sdk_read(&receiver.event().await, &event, name);
        let channel = rabbit.connection().create_channel().await.unwrap();
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_events_go_both_ways_with_the_python_sdk() {
    use harness_wires::mqtt::{Publisher, Subscriber};
    for (mode, name) in MODES {
        let mosquitto = Publisher::connect(&mqtt::Publisher {
            address: Some(Socket {
                host: "127.0.0.1".into(),
                port: 1883,
            }),
            client_id: common::unique("harness-interop"),
            qos: mqtt::QoS::AtLeastOnce as i32,
            cloudevents: cloudevents(mode),
            ..Default::default()
        })
        .await
        .unwrap();
        // Rust → Python.
        let topic = common::unique("harness/interop/to_python");
        let receiver = Receiver::start("mqtt", &topic).await;
        let event = rust_event(mosquitto.events());
        mosquitto.publish_event(topic, event.clone()).await.unwrap();
        assert_sdk_read(&receiver.event().await, &event, name);

        // Python → Rust.
        let topic = common::unique("harness/interop/to_rust");
        let (handler, mut rx) = forward();
        let (trigger, shutdown) = Shutdown::channel();
        let config = mqtt::Subscriber {
            topic: topic.clone(),
            qos: mqtt::QoS::AtLeastOnce as i32,
            ..Default::default()
        };
        let serving = tokio::spawn(Subscriber::events(&mosquitto, handler).serve(config, shutdown));
        let got = loop {
            python_sends("mqtt", name, &topic).await;
            if let Ok(Some(event)) =
                tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
            {
                break event;
            }
        };
        assert_harness_read(&got, name);
        trigger.trigger();
        serving.await.unwrap().unwrap();
        mosquitto.client().disconnect().await.unwrap();
    }
}
