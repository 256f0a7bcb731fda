//! Messages per second through each subscriber wire against the bare client library doing
//! the same, and publish latency of each publisher wire against the bare client, against
//! the machine's NATS (JetStream) and RabbitMQ, and a Mosquitto the bench starts itself.
//!
//! `cargo bench -p harness-wires --features nats,amqp,mqtt --bench brokers`
//! (`BROKERS_MESSAGES`, `BROKERS_ROUNDS`, `BROKERS_PUBLISHES` change the sizes). Each round
//! runs the wire and the bare client one after the other, alternating which goes first,
//! on the same kind of backlog; the figures are the medians of the rounds.
//!
//! - NATS: a JetStream stream filled with N messages, drained by a durable pull consumer
//!   that acks each (the wire: `nats::Subscriber` with `jetstream`, 64 handlers; bare:
//!   async-nats's pull consumer, same batch size).
//! - AMQP: a queue filled with N messages, drained with prefetch 64 and an ack each (the
//!   wire: `amqp::Consumer`, 16 handlers; bare: lapin's consumer stream).
//! - MQTT: N QoS 1 messages published by one client while a subscriber takes them, acked
//!   manually after each (the wire: `mqtt::Subscriber`; bare: rumqttc's event loop). The
//!   publishing is the same on both sides.
//!
//! The bare clients do what the wires do for each message: hand it to a task of its own,
//! which runs the (empty) handler and acks. What the wire adds is its bound on handlers,
//! the boxed task with its panic guard, the span and metric checks, its message type.
//! - Publish latency: sequential publishes, each awaited as the wire does (NATS core,
//!   NATS JetStream with its ack, AMQP persistent + mandatory + confirmed, MQTT QoS 1
//!   handed to the client).
//! - Publish to delivery, for NATS core and MQTT QoS 1 (whose publish returns once the
//!   client has queued the message): each publish, then its arrival at a bare subscriber
//!   on a connection of its own, before the next; the wire and the bare client take turns
//!   message by message, and a round's figure is the median message.
//!
//! The wires run with metrics and tracing off (their default until `metrics::Prometheus`
//! or `tracing::Otlp` is served).
//!
//! `BROKERS_COUNT=nats-wire` (or `-bare`; `amqp-*` for consuming, `natscore-*` and `mqtt-*`
//! for publishing) runs one side of one case once, `BROKERS_MESSAGES` messages (default
//! 2,000), for scripts/bench/brokers-instructions.sh to count its instructions.

// The test crates' free port, included as a file (no dependency on them).
#[path = "../../tests/src/helpers.rs"]
mod helpers;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use harness::proto::harness::{amqp, mqtt, nats, net};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::amqp::lapin;
use harness_wires::mqtt::rumqttc;
use harness_wires::nats::async_nats;
use tokio::sync::Notify;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Counts handled messages; wakes the waiter at `target`.
#[derive(Clone)]
struct Counter {
    seen: Arc<AtomicUsize>,
    done: Arc<Notify>,
    target: usize,
}

impl Counter {
    fn new(target: usize) -> Counter {
        Counter {
            seen: Arc::new(AtomicUsize::new(0)),
            done: Arc::new(Notify::new()),
            target,
        }
    }

    fn hit(&self) {
        if self.seen.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            self.done.notify_one();
        }
    }

    async fn wait(&self) {
        tokio::time::timeout(Duration::from_secs(300), self.done.notified())
            .await
            .expect("every message arrived in time");
    }
}

struct Figures {
    wire: Vec<f64>,
    bare: Vec<f64>,
}

impl Figures {
    fn push(&mut self, wire: bool, value: f64) {
        if wire {
            self.wire.push(value);
        } else {
            self.bare.push(value);
        }
    }

    fn new() -> Figures {
        Figures {
            wire: Vec::new(),
            bare: Vec::new(),
        }
    }

    fn report(self, what: &str, unit: &str, higher_is_better: bool) {
        let spread = |values: &[f64]| {
            let (low, high) = values
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            format!("{low:.prec$}–{high:.prec$}", prec = precision(low))
        };
        // Sub-microsecond latencies need their hundredths.
        fn precision(value: f64) -> usize {
            if value < 10.0 { 2 } else { 1 }
        }
        let (wire_spread, bare_spread) = (spread(&self.wire), spread(&self.bare));
        let (wire, bare) = (median(self.wire), median(self.bare));
        let overhead = if higher_is_better {
            (bare / wire - 1.0) * 100.0
        } else {
            (wire / bare - 1.0) * 100.0
        };
        println!(
            "| {what} | {bare:.pb$} {unit} ({bare_spread}) | {wire:.pw$} {unit} ({wire_spread}) | {overhead:+.1} % |",
            pb = precision(bare),
            pw = precision(wire),
        );
    }
}

// --- NATS ---------------------------------------------------------------------------

async fn nats_fill(js: &async_nats::jetstream::Context, subject: &str, n: usize) {
    let mut acks = Vec::with_capacity(n);
    for i in 0..n {
        acks.push(
            js.publish(subject.to_owned(), format!("m{i}").into())
                .await
                .unwrap(),
        );
        if acks.len() == 1000 {
            for ack in acks.drain(..) {
                ack.await.unwrap();
            }
        }
    }
    for ack in acks {
        ack.await.unwrap();
    }
}

async fn nats_round(
    wire_first: bool,
    n: usize,
    round: usize,
    consume: &mut Figures,
    connection: &harness_wires::nats::Publisher,
) {
    for wire in [wire_first, !wire_first] {
        let rate = nats_consume(wire, n, &round.to_string(), connection).await;
        consume.push(wire, rate);
    }
}

/// Fills a new stream with `n` messages and drains it through the wire or the bare
/// client; messages per second of the draining.
async fn nats_consume(
    wire: bool,
    n: usize,
    tag: &str,
    connection: &harness_wires::nats::Publisher,
) -> f64 {
    let js = async_nats::jetstream::new(connection.client().clone());
    let stream = format!("BENCH_{}_{tag}_{wire}", std::process::id());
    let subject = format!("bench.{}.{tag}.{wire}", std::process::id());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![subject.clone()],
        ..Default::default()
    })
    .await
    .unwrap();
    nats_fill(&js, &subject, n).await;
    let counter = Counter::new(n);
    let started = Instant::now();
    let rate;
    if wire {
        let c = counter.clone();
        let subscriber = harness_wires::nats::Subscriber::new(connection, move |_m| {
            c.hit();
            std::future::ready(Ok::<(), String>(()))
        });
        let (trigger, shutdown) = Shutdown::channel();
        let config = nats::Subscriber {
            subject: subject.clone(),
            max_concurrency: 64,
            jetstream: Some(nats::JetStream {
                stream: stream.clone(),
                durable: "bench".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let serving = tokio::spawn(subscriber.serve(config, shutdown));
        counter.wait().await;
        rate = n as f64 / started.elapsed().as_secs_f64();
        trigger.trigger();
        serving.await.unwrap().unwrap();
    } else {
        let consumer = js
            .get_stream(&stream)
            .await
            .unwrap()
            .get_or_create_consumer(
                "bench",
                async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some("bench".into()),
                    filter_subject: subject.clone(),
                    ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(64)
            .messages()
            .await
            .unwrap();
        // As the wire does: each message handled and acked in a task of its own.
        for _ in 0..n {
            let message = messages.next().await.unwrap().unwrap();
            let c = counter.clone();
            tokio::spawn(async move {
                message.ack().await.unwrap();
                c.hit();
            });
        }
        counter.wait().await;
        rate = n as f64 / started.elapsed().as_secs_f64();
    }
    js.delete_stream(&stream).await.unwrap();
    rate
}

// --- AMQP ---------------------------------------------------------------------------

async fn amqp_fill(channel: &lapin::Channel, queue: &str, n: usize) {
    use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();
    let mut confirms = Vec::with_capacity(1000);
    for i in 0..n {
        confirms.push(
            channel
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    format!("m{i}").as_bytes(),
                    lapin::BasicProperties::default(),
                )
                .await
                .unwrap(),
        );
        if confirms.len() == 1000 {
            for confirm in confirms.drain(..) {
                confirm.await.unwrap();
            }
        }
    }
    for confirm in confirms {
        confirm.await.unwrap();
    }
}

async fn amqp_round(
    wire_first: bool,
    n: usize,
    round: usize,
    consume: &mut Figures,
    connection: &harness_wires::amqp::Publisher,
) {
    for wire in [wire_first, !wire_first] {
        let rate = amqp_consume(wire, n, &round.to_string(), connection).await;
        consume.push(wire, rate);
    }
}

/// Fills a new queue with `n` messages and drains it through the wire or the bare client;
/// messages per second of the draining.
async fn amqp_consume(
    wire: bool,
    n: usize,
    tag: &str,
    connection: &harness_wires::amqp::Publisher,
) -> f64 {
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions,
        QueueDeleteOptions,
    };
    let channel = connection.connection().create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let queue = format!("bench-{}-{tag}-{wire}", std::process::id());
    amqp_fill(&channel, &queue, n).await;
    let counter = Counter::new(n);
    let started = Instant::now();
    let rate;
    if wire {
        let c = counter.clone();
        let consumer = harness_wires::amqp::Consumer::new(connection, move |_m| {
            c.hit();
            std::future::ready(Ok::<(), String>(()))
        });
        let (trigger, shutdown) = Shutdown::channel();
        let config = amqp::Consumer {
            queue: queue.clone(),
            max_concurrency: 16,
            prefetch: 64,
            ..Default::default()
        };
        let serving = tokio::spawn(consumer.serve(config, shutdown));
        counter.wait().await;
        rate = n as f64 / started.elapsed().as_secs_f64();
        trigger.trigger();
        serving.await.unwrap().unwrap();
    } else {
        let bare = connection.connection().create_channel().await.unwrap();
        bare.basic_qos(64, BasicQosOptions::default())
            .await
            .unwrap();
        let mut deliveries = bare
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        for _ in 0..n {
            let delivery = deliveries.next().await.unwrap().unwrap();
            let c = counter.clone();
            tokio::spawn(async move {
                delivery
                    .acker
                    .ack(BasicAckOptions::default())
                    .await
                    .unwrap();
                c.hit();
            });
        }
        counter.wait().await;
        rate = n as f64 / started.elapsed().as_secs_f64();
        bare.close(200, "done".into()).await.unwrap();
    }
    channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    rate
}

// --- MQTT ---------------------------------------------------------------------------

/// Port of the bench's own Mosquitto (see [`private_mosquitto`]).
static MQTT_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// A Mosquitto of the bench's own, whose queue per client is unbounded: the machine's
/// drops QoS 1 messages beyond 1,000 queued for a subscriber that lags behind, which a
/// loaded machine makes happen.
fn private_mosquitto() -> (std::process::Child, tempfile::TempDir) {
    let port = helpers::free_port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
        ),
    )
    .unwrap();
    let child = std::process::Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto runs");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    MQTT_PORT.set(port).unwrap();
    (child, dir)
}

fn mqtt_port() -> u16 {
    *MQTT_PORT.get().expect("private_mosquitto ran")
}

fn mqtt_config(client_id: &str) -> mqtt::Publisher {
    mqtt::Publisher {
        address: Some(net::Socket {
            host: "127.0.0.1".into(),
            port: mqtt_port().into(),
        }),
        client_id: client_id.into(),
        qos: mqtt::QoS::AtLeastOnce as i32,
        ..Default::default()
    }
}

/// Publishes `n` QoS 1 messages on `topic` from a client of its own.
async fn mqtt_stream(topic: String, n: usize) {
    let sender = harness_wires::mqtt::Publisher::connect(&mqtt_config(&format!(
        "bench-sender-{}",
        std::process::id()
    )))
    .await
    .unwrap();
    for i in 0..n {
        mqtt_bare_publish(sender.client(), topic.clone(), i).await;
    }
    // Gives the client the time to send what it queued before it is dropped.
    tokio::time::sleep(Duration::from_secs(5)).await;
    sender.client().disconnect().await.unwrap();
}

async fn mqtt_round(wire_first: bool, n: usize, round: usize, consume: &mut Figures) {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    for wire in if wire_first {
        [true, false]
    } else {
        [false, true]
    } {
        let topic = format!("bench/{}/{round}/{wire}", std::process::id());
        let id = format!("bench-{}-{round}-{wire}", std::process::id());
        let counter = Counter::new(n);
        if wire {
            let connection = harness_wires::mqtt::Publisher::connect(&mqtt_config(&id))
                .await
                .unwrap();
            let c = counter.clone();
            let subscriber = harness_wires::mqtt::Subscriber::new(&connection, move |_m| {
                c.hit();
                std::future::ready(Ok::<(), String>(()))
            });
            let (trigger, shutdown) = Shutdown::channel();
            let config = mqtt::Subscriber {
                topic: topic.clone(),
                qos: mqtt::QoS::AtLeastOnce as i32,
                max_concurrency: 16,
                ..Default::default()
            };
            let serving = tokio::spawn(subscriber.serve(config, shutdown));
            tokio::time::sleep(Duration::from_millis(300)).await; // subscribed
            let started = Instant::now();
            let sending = tokio::spawn(mqtt_stream(topic, n));
            counter.wait().await;
            consume
                .wire
                .push(n as f64 / started.elapsed().as_secs_f64());
            trigger.trigger();
            serving.await.unwrap().unwrap();
            sending.await.unwrap();
            connection.client().disconnect().await.unwrap();
        } else {
            let mut options = rumqttc::v5::MqttOptions::new(id, "127.0.0.1", mqtt_port());
            options.set_manual_acks(true);
            let (client, mut eventloop) = rumqttc::v5::AsyncClient::new(options, 1024);
            client
                .subscribe(topic.clone(), QoS::AtLeastOnce)
                .await
                .unwrap();
            loop {
                if let Ok(rumqttc::v5::Event::Incoming(Packet::SubAck(_))) = eventloop.poll().await
                {
                    break;
                }
            }
            let started = Instant::now();
            let sending = tokio::spawn(mqtt_stream(topic, n));
            let mut received = 0;
            while received < n {
                if let rumqttc::v5::Event::Incoming(Packet::Publish(publish)) =
                    eventloop.poll().await.unwrap()
                {
                    received += 1;
                    let (client, c) = (client.clone(), counter.clone());
                    tokio::spawn(async move {
                        client.ack(&publish).await.unwrap();
                        c.hit();
                    });
                }
            }
            // The acks go out through the event loop.
            let done = counter.wait();
            tokio::pin!(done);
            loop {
                tokio::select! {
                    _ = &mut done => break,
                    polled = eventloop.poll() => { polled.unwrap(); }
                }
            }
            consume
                .bare
                .push(n as f64 / started.elapsed().as_secs_f64());
            sending.await.unwrap();
            client.disconnect().await.unwrap();
            while eventloop.poll().await.is_ok() {}
        }
    }
}

// --- Publish latency ----------------------------------------------------------------

/// Mean microseconds of `n` sequential awaited calls of `publish`.
async fn latency<F, Fut>(n: usize, mut publish: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for i in 0..n {
        publish(i).await;
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The arrivals at a bare subscriber on a connection of its own: one `()` per message.
type Arrivals = tokio::sync::mpsc::UnboundedReceiver<()>;

/// Arrivals of the messages published on the NATS `subject`.
async fn nats_arrivals(subject: &str) -> Arrivals {
    let client = async_nats::connect("127.0.0.1:4222").await.unwrap();
    let mut subscription = client.subscribe(subject.to_owned()).await.unwrap();
    // The server has the subscription before the first publish.
    client.flush().await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _connection = client;
        while subscription.next().await.is_some() {
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Arrivals of the QoS 1 messages published on the MQTT `topic`.
async fn mqtt_arrivals(topic: &str) -> Arrivals {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};
    let id = format!("bench-arrivals-{}", std::process::id());
    let (client, mut eventloop) =
        AsyncClient::new(MqttOptions::new(id, "127.0.0.1", mqtt_port()), 1024);
    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    loop {
        if let Ok(Event::Incoming(Packet::SubAck(_))) = eventloop.poll().await {
            break;
        }
    }
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _client = client;
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    if sender.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    receiver
}

/// Median microseconds from the start of a publish to its arrival in `arrivals`, of the
/// wire and of the bare client, `n` publishes each, one at a time. The two take turns
/// message by message (W B B W…), so that the machine's drift falls on both alike: the
/// difference is a fraction of a percent of the round trip, below what separate runs
/// can tell apart.
async fn delivery<W, WF, B, BF>(
    n: usize,
    arrivals: &mut Arrivals,
    mut wire: W,
    mut bare: B,
) -> (f64, f64)
where
    W: FnMut(usize) -> WF,
    WF: std::future::Future<Output = ()>,
    B: FnMut(usize) -> BF,
    BF: std::future::Future<Output = ()>,
{
    let (mut on_wire, mut on_bare) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..2 * n {
        let wire_turn = (i % 2 == 0) == ((i / 2) % 2 == 0);
        let started = Instant::now();
        if wire_turn {
            wire(i).await;
        } else {
            bare(i).await;
        }
        arrivals.recv().await.expect("the subscriber runs");
        let micros = started.elapsed().as_secs_f64() * 1e6;
        if wire_turn {
            on_wire.push(micros);
        } else {
            on_bare.push(micros);
        }
    }
    (median(on_wire), median(on_bare))
}

/// A core NATS publish of message `i` through the wire.
async fn nats_wire_publish(nats: &harness_wires::nats::Publisher, subject: String, i: usize) {
    nats.publish(subject, format!("m{i}")).await.unwrap()
}

/// A core NATS publish of message `i` through async-nats.
async fn nats_bare_publish(client: &async_nats::Client, subject: String, i: usize) {
    client
        .publish(subject, format!("m{i}").into())
        .await
        .unwrap()
}

/// An MQTT publish of message `i` through the wire (QoS 1, as configured).
async fn mqtt_wire_publish(mqtt: &harness_wires::mqtt::Publisher, topic: String, i: usize) {
    mqtt.publish(topic, format!("m{i}")).await.unwrap()
}

/// An MQTT QoS 1 publish of message `i` through rumqttc.
async fn mqtt_bare_publish(client: &rumqttc::v5::AsyncClient, topic: String, i: usize) {
    client
        .publish(
            topic,
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            false,
            format!("m{i}"),
        )
        .await
        .unwrap()
}

/// Measures the wire and the bare client one after the other, the wire first in even
/// rounds.
async fn pair(
    round: usize,
    figures: &mut Figures,
    wire: impl std::future::Future<Output = f64>,
    bare: impl std::future::Future<Output = f64>,
) {
    if round.is_multiple_of(2) {
        figures.wire.push(wire.await);
        figures.bare.push(bare.await);
    } else {
        figures.bare.push(bare.await);
        figures.wire.push(wire.await);
    }
}

/// The wire's connection to the machine's NATS, publishing through JetStream or not.
async fn nats_connection(jetstream: bool) -> harness_wires::nats::Publisher {
    harness_wires::nats::Publisher::connect(&nats::Publisher {
        url: "nats://127.0.0.1:4222".into(),
        jetstream,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The wire's connection to the machine's RabbitMQ.
async fn amqp_connection() -> harness_wires::amqp::Publisher {
    harness_wires::amqp::Publisher::connect(&amqp::Publisher {
        url: "amqp://127.0.0.1:5672/%2f".into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(case) = std::env::var("BROKERS_COUNT") {
        count(&case, env("BROKERS_MESSAGES", 2_000)).await;
        return;
    }
    let (mut mosquitto_process, _mosquitto_dir) = private_mosquitto();
    let n = env("BROKERS_MESSAGES", 20_000);
    let rounds = env("BROKERS_ROUNDS", 5);
    let publishes = env("BROKERS_PUBLISHES", 2_000);
    println!("{n} messages per round, {rounds} rounds, {publishes} publishes per latency round\n");
    println!("| case | bare client: median (range) | wire: median (range) | wire overhead |");
    println!("| --- | --- | --- | --- |");

    let nats_wire = nats_connection(false).await;
    let nats_js = nats_connection(true).await;
    let amqp_wire = amqp_connection().await;

    let mut consume = Figures::new();
    for round in 0..rounds {
        nats_round(round.is_multiple_of(2), n, round, &mut consume, &nats_wire).await;
    }
    consume.report("NATS JetStream consume", "msg/s", true);
    let mut consume = Figures::new();
    for round in 0..rounds {
        amqp_round(round.is_multiple_of(2), n, round, &mut consume, &amqp_wire).await;
    }
    consume.report("AMQP consume", "msg/s", true);
    let mut consume = Figures::new();
    for round in 0..rounds {
        mqtt_round(round.is_multiple_of(2), n, round, &mut consume).await;
    }
    consume.report("MQTT QoS 1 consume", "msg/s", true);

    // Publish latency.
    let subject = format!("bench.latency.{}", std::process::id());
    let js = async_nats::jetstream::new(nats_wire.client().clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: format!("BENCH_LATENCY_{}", std::process::id()),
        subjects: vec![subject.clone()],
        ..Default::default()
    })
    .await
    .unwrap();
    let queue = format!("bench-latency-{}", std::process::id());
    let channel = amqp_wire.connection().create_channel().await.unwrap();
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await
        .unwrap();
    amqp_fill(&channel, &queue, 0).await;
    let mqtt_wire = harness_wires::mqtt::Publisher::connect(&mqtt_config(&format!(
        "bench-latency-{}",
        std::process::id()
    )))
    .await
    .unwrap();
    let topic = format!("bench/latency/{}", std::process::id());
    let (mut core, mut jet, mut rabbit, mut mosquitto) = (
        Figures::new(),
        Figures::new(),
        Figures::new(),
        Figures::new(),
    );
    // Core publishes go to a subject no stream takes, so JetStream's are not slowed by
    // storing them.
    let core_subject = format!("bench.core.{}", std::process::id());
    for round in 0..rounds {
        let core_wire = latency(publishes, |i| {
            nats_wire_publish(&nats_wire, core_subject.clone(), i)
        });
        let core_bare = latency(publishes, |i| {
            nats_bare_publish(nats_wire.client(), core_subject.clone(), i)
        });
        pair(round, &mut core, core_wire, core_bare).await;
        let jet_wire = latency(publishes, |i| {
            let (nats, subject) = (&nats_js, subject.clone());
            async move { nats.publish(subject, format!("m{i}")).await.unwrap() }
        });
        let jet_bare = latency(publishes, |i| {
            let (js, subject) = (&js, subject.clone());
            async move {
                js.publish(subject, format!("m{i}").into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        });
        pair(round, &mut jet, jet_wire, jet_bare).await;
        let rabbit_wire = latency(publishes, |i| {
            let (amqp, queue) = (&amqp_wire, &queue);
            async move { amqp.publish(queue, format!("m{i}")).await.unwrap() }
        });
        let rabbit_bare = latency(publishes, |i| {
            let (channel, queue) = (&channel, &queue);
            async move {
                let confirm = channel
                    .basic_publish(
                        "".into(),
                        queue.as_str().into(),
                        lapin::options::BasicPublishOptions {
                            mandatory: true,
                            ..Default::default()
                        },
                        format!("m{i}").as_bytes(),
                        lapin::BasicProperties::default().with_delivery_mode(2),
                    )
                    .await
                    .unwrap()
                    .await
                    .unwrap();
                assert!(confirm.is_ack());
            }
        });
        pair(round, &mut rabbit, rabbit_wire, rabbit_bare).await;
        let mosquitto_wire = latency(publishes, |i| {
            mqtt_wire_publish(&mqtt_wire, topic.clone(), i)
        });
        let mosquitto_bare = latency(publishes, |i| {
            mqtt_bare_publish(mqtt_wire.client(), topic.clone(), i)
        });
        pair(round, &mut mosquitto, mosquitto_wire, mosquitto_bare).await;
    }
    core.report("NATS core publish", "µs", false);
    jet.report("NATS JetStream publish (acked)", "µs", false);
    rabbit.report("AMQP publish (persistent, confirmed)", "µs", false);
    mosquitto.report("MQTT QoS 1 publish (to the client)", "µs", false);

    // Publish to delivery, for the two publishes that return before the broker has the
    // message: on subjects of their own, that the rounds above did not publish on.
    let core_subject = format!("bench.delivery.{}", std::process::id());
    let topic = format!("bench/delivery/{}", std::process::id());
    let (mut nats_arrived, mut mqtt_arrived) = (
        nats_arrivals(&core_subject).await,
        mqtt_arrivals(&topic).await,
    );
    let (mut core, mut mosquitto) = (Figures::new(), Figures::new());
    for _ in 0..rounds {
        let (wire, bare) = delivery(
            publishes,
            &mut nats_arrived,
            |i| nats_wire_publish(&nats_wire, core_subject.clone(), i),
            |i| nats_bare_publish(nats_wire.client(), core_subject.clone(), i),
        )
        .await;
        core.push(true, wire);
        core.push(false, bare);
        let (wire, bare) = delivery(
            publishes,
            &mut mqtt_arrived,
            |i| mqtt_wire_publish(&mqtt_wire, topic.clone(), i),
            |i| mqtt_bare_publish(mqtt_wire.client(), topic.clone(), i),
        )
        .await;
        mosquitto.push(true, wire);
        mosquitto.push(false, bare);
    }
    core.report("NATS core publish → delivery", "µs", false);
    mosquitto.report("MQTT QoS 1 publish → delivery", "µs", false);
    js.delete_stream(format!("BENCH_LATENCY_{}", std::process::id()))
        .await
        .unwrap();
    channel
        .queue_delete(
            queue.as_str().into(),
            lapin::options::QueueDeleteOptions::default(),
        )
        .await
        .unwrap();
    let _ = mosquitto_process.kill();
    let _ = mosquitto_process.wait();
}

/// Awaits `future`, each poll in [`counted_poll`]: what the instruction count of a publish
/// counts (the same function on both sides, whatever the compiler inlines).
async fn counted<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| counted_poll(future.as_mut(), cx)).await
}

#[inline(never)]
fn counted_poll<F: std::future::Future>(
    future: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<F::Output> {
    future.poll(cx)
}

/// One side of one case, once, for an instruction count
/// (scripts/bench/brokers-instructions.sh): `nats-wire`, `nats-bare`, `amqp-wire` or
/// `amqp-bare` consume `n` messages; `natscore-*` and `mqtt-*` publish `n` (NATS core,
/// flushed; MQTT QoS 1 to the bench's Mosquitto, until the client has disconnected, its
/// queue written).
async fn count(case: &str, n: usize) {
    let (broker, side) = case.split_once('-').expect("BROKER-SIDE");
    let wire = match side {
        "wire" => true,
        "bare" => false,
        _ => panic!("{case}: the side is wire or bare"),
    };
    match broker {
        "nats" => {
            let rate = nats_consume(wire, n, "count", &nats_connection(false).await).await;
            eprintln!("{case}: {rate:.0} msg/s");
        }
        "amqp" => {
            let rate = amqp_consume(wire, n, "count", &amqp_connection().await).await;
            eprintln!("{case}: {rate:.0} msg/s");
        }
        "natscore" => {
            let nats = nats_connection(false).await;
            let subject = format!("bench.count.{}", std::process::id());
            // The payload is made outside the publish on both sides.
            for i in 0..n {
                let payload = Bytes::from(format!("m{i}"));
                if wire {
                    counted(nats.publish(subject.clone(), payload))
                        .await
                        .unwrap();
                } else {
                    let client = nats.client();
                    counted(client.publish(subject.clone(), payload))
                        .await
                        .unwrap();
                }
            }
            nats.client().flush().await.unwrap();
        }
        "mqtt" => {
            let (mut mosquitto, _dir) = private_mosquitto();
            let config = mqtt_config(&format!("bench-count-{}", std::process::id()));
            let mqtt = harness_wires::mqtt::Publisher::connect(&config)
                .await
                .unwrap();
            let topic = format!("bench/count/{}", std::process::id());
            for i in 0..n {
                let payload = Bytes::from(format!("m{i}"));
                if wire {
                    counted(mqtt.publish(topic.clone(), payload)).await.unwrap();
                } else {
                    let qos = rumqttc::v5::mqttbytes::QoS::AtLeastOnce;
                    let client = mqtt.client();
                    counted(client.publish(topic.clone(), qos, false, payload))
                        .await
                        .unwrap();
                }
            }
            mqtt.close().await;
            let _ = mosquitto.kill();
            let _ = mosquitto.wait();
        }
        _ => panic!("{case}: the case is nats, amqp, natscore or mqtt"),
    }
}
