//! `mqtt::Publisher` and `mqtt::Subscriber` against the machine's Mosquitto
//! (127.0.0.1:1883), and against a private Mosquitto this test starts and restarts.
#![cfg(feature = "mqtt")]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use harness::proto::harness::cloudevents::{CloudEvents, cloud_events::Mode};
use harness::proto::harness::mqtt::{
    Publisher as PublisherConfig, QoS, Subscriber as SubscriberConfig,
};
use harness::proto::harness::net::Socket;
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::cloudevents::{AttributesReader as _, EventBuilder as _};
use harness_wires::mqtt::{Message, Publisher, Subscriber, rumqttc};
use tokio::sync::mpsc;

fn config(port: u16, client_id: &str, qos: QoS) -> PublisherConfig {
    PublisherConfig {
        address: Some(Socket {
            host: "127.0.0.1".into(),
            port: port.into(),
        }),
        client_id: client_id.into(),
        qos: qos as i32,
        ..Default::default()
    }
}

fn persistent(port: u16, client_id: &str) -> PublisherConfig {
    PublisherConfig {
        session_expiry: Some(harness::prost_types::Duration {
            seconds: 300,
            nanos: 0,
        }),
        ..config(port, client_id, QoS::AtLeastOnce)
    }
}

fn subscription(topic: &str, qos: QoS) -> SubscriberConfig {
    SubscriberConfig {
        topic: topic.into(),
        qos: qos as i32,
        ..Default::default()
    }
}

fn text(message: &Message) -> String {
    String::from_utf8(message.payload.to_vec()).unwrap()
}

/// A subscriber sending each message's text to the returned receiver.
fn forwarding(mqtt: &Publisher) -> (Subscriber, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let subscriber = Subscriber::new(mqtt, move |message: Message| {
        let tx = tx.clone();
        async move {
            tx.send(text(&message)).unwrap();
            Ok::<(), String>(())
        }
    });
    (subscriber, rx)
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

/// Publishes `text` on `topic` until the subscriber (subscribing as it starts) gets it.
async fn publish_until_received(
    mqtt: &Publisher,
    topic: &str,
    text: &str,
    rx: &mut mpsc::UnboundedReceiver<String>,
) {
    for _ in 0..100 {
        mqtt.publish(topic.to_owned(), text.to_owned())
            .await
            .unwrap();
        if let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            assert_eq!(got, text);
            return;
        }
    }
    panic!("{text} never arrived");
}

#[tokio::test]
async fn messages_go_through_at_each_qos() {
    for (level, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let topic = common::unique("harness/test/qos");
        let mqtt = Publisher::connect(&config(1883, &common::unique("harness-qos"), qos))
            .await
            .unwrap();
        let (subscriber, mut rx) = forwarding(&mqtt);
        let (trigger, shutdown) = Shutdown::channel();
        let serving = tokio::spawn(subscriber.serve(subscription(&topic, qos), shutdown));
        publish_until_received(&mqtt, &topic, "first", &mut rx).await;
        for i in 0..5 {
            mqtt.publish(topic.clone(), format!("qos{level}-{i}"))
                .await
                .unwrap();
        }
        let got = receive(&mut rx, 5).await;
        assert_eq!(
            got,
            (0..5)
                .map(|i| format!("qos{level}-{i}"))
                .collect::<Vec<_>>()
        );
        trigger.trigger();
        serving.await.unwrap().unwrap();
        mqtt.client().disconnect().await.unwrap();
    }
}

/// A persistent session keeps the subscription while the service is away: what was
/// published meanwhile arrives when it connects again with the same client id.
#[tokio::test]
async fn a_persistent_session_keeps_messages_published_while_away() {
    let topic = common::unique("harness/test/session");
    let id = common::unique("harness-session");
    let sender = Publisher::connect(&config(
        1883,
        &common::unique("harness-sender"),
        QoS::AtLeastOnce,
    ))
    .await
    .unwrap();
    let mqtt = Publisher::connect(&persistent(1883, &id)).await.unwrap();
    let (subscriber, mut rx) = forwarding(&mqtt);
    let (trigger, shutdown) = Shutdown::channel();
    let config = subscription(&topic, QoS::AtLeastOnce);
    let serving = tokio::spawn(subscriber.serve(config.clone(), shutdown));
    publish_until_received(&sender, &topic, "online", &mut rx).await;
    trigger.trigger();
    serving.await.unwrap().unwrap();
    mqtt.client().disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    for i in 0..3 {
        sender
            .publish(topic.clone(), format!("away-{i}"))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mqtt = Publisher::connect(&persistent(1883, &id)).await.unwrap();
    let (subscriber, mut rx) = forwarding(&mqtt);
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(subscriber.serve(config, shutdown));
    assert_eq!(receive(&mut rx, 3).await, ["away-0", "away-1", "away-2"]);
    trigger.trigger();
    serving.await.unwrap().unwrap();
    mqtt.client().disconnect().await.unwrap();
}

/// A message whose handler never finished (the service went away in the middle) is not
/// acknowledged: the persistent session delivers it again at the next connection.
#[tokio::test]
async fn a_message_unfinished_when_the_service_goes_away_is_delivered_again() {
    let topic = common::unique("harness/test/unfinished");
    let id = common::unique("harness-unfinished");
    let sender = Publisher::connect(&config(
        1883,
        &common::unique("harness-sender"),
        QoS::AtLeastOnce,
    ))
    .await
    .unwrap();
    let mqtt = Publisher::connect(&persistent(1883, &id)).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stuck = Subscriber::new(&mqtt, move |message: Message| {
        let tx = tx.clone();
        async move {
            tx.send(text(&message)).unwrap();
            std::future::pending::<()>().await;
            Ok::<(), String>(())
        }
    });
    let config = subscription(&topic, QoS::AtLeastOnce);
    let (_trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(stuck.serve(config.clone(), shutdown));
    publish_until_received(&sender, &topic, "order-1", &mut rx).await;
    // The service dies: its handler and connection are gone, nothing was acknowledged.
    serving.abort();
    mqtt.client().disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mqtt = Publisher::connect(&persistent(1883, &id)).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let again = Subscriber::new(&mqtt, move |message: Message| {
        let tx = tx.clone();
        async move {
            tx.send(format!("{} dup={}", text(&message), message.dup))
                .unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(again.serve(config, shutdown));
    assert_eq!(receive(&mut rx, 1).await, ["order-1 dup=true"]);
    trigger.trigger();
    serving.await.unwrap().unwrap();
    mqtt.client().disconnect().await.unwrap();
}

#[tokio::test]
async fn events_go_through_in_both_content_modes() {
    for mode in [Mode::Binary, Mode::Structured] {
        let topic = common::unique("harness/test/events");
        let mqtt = Publisher::connect(&PublisherConfig {
            cloudevents: Some(CloudEvents {
                mode: mode as i32,
                source: "/harness-test".into(),
            }),
            ..config(1883, &common::unique("harness-events"), QoS::AtLeastOnce)
        })
        .await
        .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let subscriber = Subscriber::events(&mqtt, move |event| {
            let tx = tx.clone();
            async move {
                tx.send(event).unwrap();
                Ok::<(), String>(())
            }
        });
        let (trigger, shutdown) = Shutdown::channel();
        let serving =
            tokio::spawn(subscriber.serve(subscription(&topic, QoS::AtLeastOnce), shutdown));
        let event = mqtt
            .events()
            .event("com.acme.order.created")
            .subject("order 7")
            .data("application/json", serde_json::json!({"id": 7}))
            .build()
            .unwrap();
        let got = loop {
            mqtt.publish_event(topic.clone(), event.clone())
                .await
                .unwrap();
            if let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await
            {
                break got;
            }
        };
        assert_eq!(got.id(), event.id(), "{mode:?}");
        assert_eq!(got.ty(), "com.acme.order.created");
        assert_eq!(got.source().to_string(), "/harness-test");
        assert_eq!(got.subject(), Some("order 7"));
        assert_eq!(got.time(), event.time());
        let data = harness_wires::cloudevents::data_bytes(&got).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(json, serde_json::json!({"id": 7}));
        trigger.trigger();
        serving.await.unwrap().unwrap();
        mqtt.client().disconnect().await.unwrap();
    }
}

#[tokio::test]
async fn an_unreachable_broker_is_a_retryable_start_error() {
    let error = Publisher::connect(&config(1, "harness-nobody", QoS::AtMostOnce))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}

/// A Mosquitto of this test's own, on a port of its own, without persistence.
struct Mosquitto {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    fn start(port: u16) -> Mosquitto {
        Mosquitto::start_with(port, "")
    }

    /// With `extra` lines of configuration.
    fn start_with(port: u16, extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{extra}"),
        )
        .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto runs");
        Mosquitto {
            port,
            child,
            _dir: dir,
        }
    }

    async fn wait_listening(&self) {
        assert!(
            common::listening(self.port, 200).await,
            "mosquitto never listened on {}",
            self.port
        );
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Readiness is process-wide: the tests whose broker goes away take turns.
static READINESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The broker is stopped and started again; the wire reports itself down, reconnects by itself,
/// subscribes again (the new broker has no session) and the subscriber receives again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wire_reconnects_after_the_broker_restarted_and_readiness_follows() {
    let _readiness = READINESS.lock().await;
    let port = common::free_port();
    let broker = Mosquitto::start(port);
    broker.wait_listening().await;
    let topic = common::unique("harness/test/restart");
    let mqtt = Publisher::connect(&config(
        port,
        &common::unique("harness-restart"),
        QoS::AtLeastOnce,
    ))
    .await
    .unwrap();
    let (subscriber, mut rx) = forwarding(&mqtt);
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(subscriber.serve(subscription(&topic, QoS::AtLeastOnce), shutdown));
    publish_until_received(&mqtt, &topic, "before", &mut rx).await;
    assert_eq!(harness::runtime::health::not_ready(), None);

    drop(broker);
    assert!(
        common::eventually(200, || async {
            harness::runtime::health::not_ready().is_some()
        })
        .await,
        "the wire never reported the broker down"
    );
    let broker = Mosquitto::start(port);
    broker.wait_listening().await;
    assert!(
        common::eventually(200, || async {
            harness::runtime::health::not_ready().is_none()
        })
        .await,
        "the wire never reported the broker up again"
    );
    publish_until_received(&mqtt, &topic, "after", &mut rx).await;
    trigger.trigger();
    serving.await.unwrap().unwrap();
    mqtt.client().disconnect().await.unwrap();
}

/// A flood of QoS 1 messages faster than the handlers take them: the broker may send only
/// as many unacknowledged messages as the wire announces it can take (MQTT 5's receive
/// maximum), so the acknowledgements always fit in the client's queue. Without that bound
/// the connection's event loop, waiting on a full subscriber, stopped reading the queued
/// acknowledgements that the handlers waited on, and every message after it stalled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_messages_is_handled_to_the_last() {
    const MESSAGES: usize = 10_000;
    let _readiness = READINESS.lock().await;
    let port = common::free_port();
    // No limit on the messages queued for a client (the default drops past 1,000).
    let broker = Mosquitto::start_with(port, "max_queued_messages 0\n");
    broker.wait_listening().await;
    let topic = common::unique("harness/test/flood");
    let subscriber_wire = Publisher::connect(&config(
        port,
        &common::unique("harness-flood-sub"),
        QoS::AtLeastOnce,
    ))
    .await
    .unwrap();
    let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = handled.clone();
    let subscriber = Subscriber::new(&subscriber_wire, move |_message: Message| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::future::ready(Ok::<(), String>(()))
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(subscriber.serve(subscription(&topic, QoS::AtLeastOnce), shutdown));
    // Subscribed once a first message goes through.
    let publisher = Publisher::connect(&config(
        port,
        &common::unique("harness-flood-pub"),
        QoS::AtLeastOnce,
    ))
    .await
    .unwrap();
    assert!(
        common::eventually(200, || async {
            publisher.publish(topic.clone(), "probe").await.unwrap();
            handled.load(std::sync::atomic::Ordering::Relaxed) > 0
        })
        .await,
        "the subscriber never received"
    );
    let before = handled.load(std::sync::atomic::Ordering::Relaxed);
    for i in 0..MESSAGES {
        publisher
            .publish(topic.clone(), format!("m{i}"))
            .await
            .unwrap();
    }
    let done = common::eventually(1200, || async {
        handled.load(std::sync::atomic::Ordering::Relaxed) >= before + MESSAGES
    })
    .await;
    assert!(
        done,
        "handled {} of {MESSAGES}",
        handled.load(std::sync::atomic::Ordering::Relaxed) - before
    );
    trigger.trigger();
    serving.await.unwrap().unwrap();
    // The connections end before the broker goes: one that loses it would report the
    // service not ready. A connection has ended once its client takes no more requests.
    for wire in [&publisher, &subscriber_wire] {
        wire.client().disconnect().await.unwrap();
        assert!(
            common::eventually(200, || async {
                (wire.client())
                    .try_publish(
                        topic.clone(),
                        rumqttc::v5::mqttbytes::QoS::AtMostOnce,
                        false,
                        "",
                    )
                    .is_err()
            })
            .await,
            "the connection never ended"
        );
    }
}
