//! `amqp::Publisher` and `amqp::Consumer` against the machine's RabbitMQ
//! (127.0.0.1:5672, guest/guest), directly and behind a proxy this test cuts, and against
//! a private RabbitMQ node this test starts and restarts.
#![cfg(feature = "amqp")]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use harness::proto::harness::amqp::{
    Binding, Consumer as ConsumerConfig, Exchange, Publisher as PublisherConfig, exchange::Kind,
};
use harness::proto::harness::cloudevents::{CloudEvents, cloud_events::Mode};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::amqp::lapin::options::QueueDeleteOptions;
use harness_wires::amqp::{Consumer, Message, PublishError, Publisher};
use harness_wires::cloudevents::{AttributesReader as _, EventBuilder as _};
use tokio::sync::mpsc;

fn config(port: u16, exchange: Option<&str>) -> PublisherConfig {
    PublisherConfig {
        url: format!("amqp://127.0.0.1:{port}/%2f"),
        username: "guest".into(),
        password: "guest".into(),
        name: "harness-test".into(),
        exchange: exchange.map(|name| Exchange {
            name: name.into(),
            kind: Kind::Topic as i32,
        }),
        ..Default::default()
    }
}

async fn publisher(exchange: Option<&str>) -> Publisher {
    Publisher::connect(&config(5672, exchange)).await.unwrap()
}

fn consumer_config(queue: &str, exchange: &str, key: &str) -> ConsumerConfig {
    ConsumerConfig {
        queue: queue.into(),
        bindings: vec![Binding {
            exchange: Some(Exchange {
                name: exchange.into(),
                kind: Kind::Topic as i32,
            }),
            routing_key: key.into(),
        }],
        ..Default::default()
    }
}

async fn delete_queue(amqp: &Publisher, queue: &str) {
    let channel = amqp.connection().create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}

/// Declares the consumer's queue and bindings before anything is published (what
/// `serve` does at start), so that the publishes are routed.
async fn declare(amqp: &Publisher, config: &ConsumerConfig) {
    let (trigger, shutdown) = Shutdown::channel();
    trigger.trigger();
    Consumer::new(amqp, |_: Message| async { Ok::<(), String>(()) })
        .serve(config.clone(), shutdown)
        .await
        .unwrap();
}

/// Waits for `n` messages, boundedly.
async fn receive(rx: &mut mpsc::UnboundedReceiver<String>, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
            Ok(Some(message)) => got.push(message),
            _ => panic!("got only {got:?} of {n} messages"),
        }
    }
    got
}

fn text(message: &Message) -> String {
    String::from_utf8(message.data.clone()).unwrap()
}

/// A consumer that sends the text of each message to the receiver it returns.
fn forwarding(amqp: &Publisher) -> (Consumer, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let consumer = Consumer::new(amqp, move |message: Message| {
        let tx = tx.clone();
        async move {
            tx.send(text(&message)).unwrap();
            Ok::<(), String>(())
        }
    });
    (consumer, rx)
}

#[tokio::test]
async fn published_messages_reach_the_consumer_through_the_declared_binding() {
    let exchange = common::unique("harness.test.orders");
    let queue = common::unique("harness-test-orders");
    let amqp = publisher(Some(&exchange)).await;
    let config = consumer_config(&queue, &exchange, "orders.*");
    declare(&amqp, &config).await;
    for i in 0..5 {
        amqp.publish("orders.created", format!("order-{i}"))
            .await
            .unwrap();
    }
    // A routing key no binding takes: the broker returns the message.
    let error = amqp.publish("invoices.created", "lost").await.unwrap_err();
    assert!(matches!(error, PublishError::Unroutable(_)), "{error}");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer = Consumer::new(&amqp, move |message: Message| {
        let tx = tx.clone();
        async move {
            assert_eq!(message.routing_key, "orders.created");
            tx.send(text(&message)).unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(consumer.serve(config, shutdown));
    let mut got = receive(&mut rx, 5).await;
    got.sort();
    assert_eq!(
        got,
        (0..5).map(|i| format!("order-{i}")).collect::<Vec<_>>()
    );
    trigger.trigger();
    serving.await.unwrap().unwrap();
    delete_queue(&amqp, &queue).await;
}

/// A handler that fails, then one that panics: the message is requeued each time, the
/// consumer keeps running, and the third delivery (flagged redelivered) succeeds.
#[tokio::test]
async fn failed_and_panicking_handlers_get_the_message_requeued() {
    let exchange = common::unique("harness.test.retry");
    let queue = common::unique("harness-test-retry");
    let amqp = publisher(Some(&exchange)).await;
    let config = ConsumerConfig {
        max_concurrency: 1,
        ..consumer_config(&queue, &exchange, "#")
    };
    declare(&amqp, &config).await;
    amqp.publish("orders.created", "order-1").await.unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let seen = attempts.clone();
    let consumer = Consumer::new(&amqp, move |message: Message| {
        let attempt = seen.fetch_add(1, Ordering::SeqCst) + 1;
        let tx = tx.clone();
        async move {
            match attempt {
                1 => Err(format!("attempt {attempt} fails")),
                2 => panic!("attempt {attempt} panics"),
                _ => {
                    tx.send(format!(
                        "{} redelivered={}",
                        text(&message),
                        message.redelivered
                    ))
                    .unwrap();
                    Ok(())
                }
            }
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(consumer.serve(config, shutdown));
    assert_eq!(receive(&mut rx, 1).await, ["order-1 redelivered=true"]);
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert!(!serving.is_finished(), "the consumer kept running");
    trigger.trigger();
    serving.await.unwrap().unwrap();
    delete_queue(&amqp, &queue).await;
}

/// With a dead-letter exchange, a failed message goes there instead of back to the queue.
#[tokio::test]
async fn failed_messages_go_to_the_dead_letter_exchange() {
    let exchange = common::unique("harness.test.dl");
    let dead = common::unique("harness.test.dead");
    let queue = common::unique("harness-test-dl");
    let dead_queue = common::unique("harness-test-dead");
    let amqp = publisher(Some(&exchange)).await;
    let config = ConsumerConfig {
        dead_letter_exchange: dead.clone(),
        ..consumer_config(&queue, &exchange, "#")
    };
    let dead_config = consumer_config(&dead_queue, &dead, "#");
    declare(&amqp, &config).await;
    declare(&amqp, &dead_config).await;
    amqp.publish("orders.created", "poison").await.unwrap();

    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let failing = Consumer::new(&amqp, move |_: Message| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>("cannot handle") }
    });
    let (dead_letters, mut rx) = forwarding(&amqp);
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(failing.serve(config, shutdown.clone()));
    let serving_dead = tokio::spawn(dead_letters.serve(dead_config, shutdown));
    assert_eq!(receive(&mut rx, 1).await, ["poison"]);
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "not requeued");
    trigger.trigger();
    serving.await.unwrap().unwrap();
    serving_dead.await.unwrap().unwrap();
    delete_queue(&amqp, &queue).await;
    delete_queue(&amqp, &dead_queue).await;
}

#[tokio::test]
async fn handlers_run_at_most_max_concurrency_at_once() {
    let exchange = common::unique("harness.test.bound");
    let queue = common::unique("harness-test-bound");
    let amqp = publisher(Some(&exchange)).await;
    let config = ConsumerConfig {
        max_concurrency: 3,
        prefetch: 10,
        ..consumer_config(&queue, &exchange, "#")
    };
    declare(&amqp, &config).await;
    for i in 0..12 {
        amqp.publish("m", format!("m{i:02}")).await.unwrap();
    }
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (running, peak) = (now.clone(), most.clone());
    let consumer = Consumer::new(&amqp, move |message: Message| {
        let (running, peak, tx) = (running.clone(), peak.clone(), tx.clone());
        async move {
            let at_once = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(at_once, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            tx.send(text(&message)).unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(consumer.serve(config, shutdown));
    let mut got = receive(&mut rx, 12).await;
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 12);
    assert!(
        most.load(Ordering::SeqCst) <= 3,
        "{}",
        most.load(Ordering::SeqCst)
    );
    trigger.trigger();
    serving.await.unwrap().unwrap();
    delete_queue(&amqp, &queue).await;
}

/// At shutdown the running handlers finish (and ack), the prefetched messages not started
/// go back at once: a consumer started next gets exactly the rest, none twice.
#[tokio::test]
async fn shutdown_drains_running_handlers_and_gives_back_the_rest() {
    let exchange = common::unique("harness.test.drain");
    let queue = common::unique("harness-test-drain");
    let amqp = publisher(Some(&exchange)).await;
    let config = ConsumerConfig {
        max_concurrency: 2,
        prefetch: 8,
        ..consumer_config(&queue, &exchange, "#")
    };
    declare(&amqp, &config).await;
    for i in 1..=8 {
        amqp.publish("o", format!("order-{i}")).await.unwrap();
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let first = Consumer::new(&amqp, move |message: Message| {
        let tx = tx.clone();
        let mut release = release_rx.clone();
        async move {
            tx.send(text(&message)).unwrap();
            release.wait_for(|go| *go).await.unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(first.serve(config.clone(), shutdown));
    let started = receive(&mut rx, 2).await;
    trigger.trigger();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !serving.is_finished(),
        "serve returned with handlers running"
    );
    release_tx.send(true).unwrap();
    serving.await.unwrap().unwrap();

    let (second, mut rx) = forwarding(&amqp);
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(second.serve(config, shutdown));
    let mut rest = receive(&mut rx, 6).await;
    // Nothing more: the two handled first were acknowledged.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), rx.recv())
            .await
            .is_err(),
        "a message came twice"
    );
    rest.extend(started);
    rest.sort();
    let mut all: Vec<String> = (1..=8).map(|i| format!("order-{i}")).collect();
    all.sort();
    assert_eq!(rest, all);
    trigger.trigger();
    serving.await.unwrap().unwrap();
    delete_queue(&amqp, &queue).await;
}

#[tokio::test]
async fn events_go_through_in_both_content_modes() {
    for mode in [Mode::Binary, Mode::Structured] {
        let exchange = common::unique("harness.test.events");
        let queue = common::unique("harness-test-events");
        let amqp = Publisher::connect(&PublisherConfig {
            cloudevents: Some(CloudEvents {
                mode: mode as i32,
                source: "/harness-test".into(),
            }),
            ..config(5672, Some(&exchange))
        })
        .await
        .unwrap();
        let config = consumer_config(&queue, &exchange, "#");
        declare(&amqp, &config).await;
        let event = amqp
            .events()
            .event("com.acme.order.created")
            .subject("order 7")
            .data("application/json", serde_json::json!({"id": 7}))
            .build()
            .unwrap();
        amqp.publish_event("orders.created", event.clone())
            .await
            .unwrap();
        // Not an event: rejected, the consumer goes on.
        amqp.publish("orders.created", "plain").await.unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let consumer = Consumer::events(&amqp, move |event| {
            let tx = tx.clone();
            async move {
                tx.send(event).unwrap();
                Ok::<(), String>(())
            }
        });
        let (trigger, shutdown) = Shutdown::channel();
        let serving = tokio::spawn(consumer.serve(config, shutdown));
        let got = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.id(), event.id(), "{mode:?}");
        assert_eq!(got.source().to_string(), "/harness-test");
        assert_eq!(got.ty(), "com.acme.order.created");
        assert_eq!(got.subject(), Some("order 7"));
        assert_eq!(got.time(), event.time());
        let data = harness_wires::cloudevents::data_bytes(&got).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(json, serde_json::json!({"id": 7}));
        trigger.trigger();
        serving.await.unwrap().unwrap();
        delete_queue(&amqp, &queue).await;
    }
}

#[tokio::test]
async fn an_unreachable_broker_is_a_retryable_start_error() {
    let error = Publisher::connect(&PublisherConfig {
        url: "amqp://user:secret@127.0.0.1:1/%2f".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[tokio::test]
async fn refused_credentials_stop_the_start_without_retry() {
    let error = Publisher::connect(&PublisherConfig {
        password: "hunter2".into(),
        ..config(5672, None)
    })
    .await
    .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

/// Readiness is process-wide: the tests that look at it take turns.
static READINESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A consumer serving through the broker at `port`, having received a first message,
/// with the service ready: what the reconnection tests start from.
struct Receiving {
    amqp: Publisher,
    queue: String,
    rx: mpsc::UnboundedReceiver<String>,
    trigger: harness::runtime::ShutdownTrigger,
    serving: tokio::task::JoinHandle<Result<(), harness::runtime::WireError>>,
}

impl Receiving {
    async fn start(port: u16, name: &str) -> Receiving {
        let exchange = common::unique(&format!("harness.test.{name}"));
        let queue = common::unique(&format!("harness-test-{name}"));
        let amqp = Publisher::connect(&config(port, Some(&exchange)))
            .await
            .unwrap();
        let config = consumer_config(&queue, &exchange, "#");
        declare(&amqp, &config).await;
        let (consumer, mut rx) = forwarding(&amqp);
        let (trigger, shutdown) = Shutdown::channel();
        let serving = tokio::spawn(consumer.serve(config, shutdown));
        amqp.publish("a", "before").await.unwrap();
        assert_eq!(receive(&mut rx, 1).await, ["before"]);
        assert_eq!(harness::runtime::health::not_ready(), None);
        Receiving {
            amqp,
            queue,
            rx,
            trigger,
            serving,
        }
    }

    /// The broker went away: the wire reports itself down.
    async fn reported_down() {
        assert!(
            common::eventually(200, || async {
                harness::runtime::health::not_ready().is_some()
            })
            .await,
            "the wire never reported the broker down"
        );
    }

    /// The broker is back: the wire reports itself up within `tries` looks, publishing
    /// works again once the channel is recovered, and the consumer receives; then it stops.
    async fn receives_again(mut self, tries: usize) {
        assert!(
            common::eventually(tries, || async {
                harness::runtime::health::not_ready().is_none()
            })
            .await,
            "the wire never reported the broker up again"
        );
        let mut sent = false;
        for _ in 0..100 {
            if self.amqp.publish("a", "after").await.is_ok() {
                sent = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(sent, "publishing never worked again");
        assert_eq!(receive(&mut self.rx, 1).await, ["after"]);
        assert!(!self.serving.is_finished());
        self.trigger.trigger();
        self.serving.await.unwrap().unwrap();
        delete_queue(&self.amqp, &self.queue).await;
    }
}

/// The connection is cut, the wire reports itself down, then it reconnects by itself,
/// reports itself up, and the consumer receives again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wire_reconnects_after_the_broker_went_away_and_readiness_follows() {
    let _readiness = READINESS.lock().await;
    let proxy = common::Proxy::start(5672).await;
    let receiving = Receiving::start(proxy.port, "reconnect").await;
    proxy.set_open(false);
    Receiving::reported_down().await;
    proxy.set_open(true);
    receiving.receives_again(400).await;
}

/// A RabbitMQ node of its own (its own ports, name and data directory), which a test may
/// stop and start again as a broker is restarted.
struct Rabbit {
    port: u16,
    dist_port: u16,
    name: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Rabbit {
    fn new() -> Rabbit {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["mnesia", "log"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        // No plugin: the management plugin would take the machine's node's port.
        std::fs::write(dir.path().join("plugins"), "[].\n").unwrap();
        // Run as root, rabbitmq-server switches to the rabbitmq user, which must own it.
        let _ = Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(dir.path())
            .status();
        let port = common::free_port();
        Rabbit {
            port,
            dist_port: common::free_port(),
            name: format!("harness-test-{}-{port}@localhost", std::process::id()),
            dir,
            child: None,
        }
    }

    async fn start(&mut self) {
        let dir: &Path = self.dir.path();
        let child = Command::new("rabbitmq-server")
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("none"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rabbitmq-server runs");
        self.child = Some(child);
        assert!(
            common::listening(self.port, 600).await,
            "the private RabbitMQ node never listened on {}",
            self.port
        );
    }

    /// Stops the node as a restart does (`rabbitmqctl stop`: it closes its clients'
    /// connections and halts). Killing the child would not do: rabbitmq-server runs the
    /// node under `su`, in processes of their own.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("rabbitmqctl")
                .args(["-n", &self.name, "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The broker itself is restarted (its durable exchange and queue kept on disk): the wire
/// reports itself down, reconnects by itself when the broker is back, reports itself up,
/// and the consumer receives again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wire_reconnects_after_the_broker_restarted_and_readiness_follows() {
    let _readiness = READINESS.lock().await;
    let mut rabbit = Rabbit::new();
    rabbit.start().await;
    let receiving = Receiving::start(rabbit.port, "restart").await;
    rabbit.stop();
    Receiving::reported_down().await;
    rabbit.start().await;
    receiving.receives_again(600).await;
}
