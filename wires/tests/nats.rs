//! `nats::Publisher` and `nats::Subscriber` against the machine's NATS with JetStream
//! (127.0.0.1:4222).
#![cfg(feature = "nats")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use harness::proto::harness::nats::{
    JetStream, Publisher as PublisherConfig, Subscriber as SubscriberConfig,
};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::nats::{Publisher, Subscriber};
use tokio::sync::mpsc;

async fn publisher(jetstream: bool) -> Publisher {
    Publisher::connect(&PublisherConfig {
        url: "nats://127.0.0.1:4222".into(),
        name: "harness-test".into(),
        jetstream,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Creates JetStream `stream` over `subject` before anything is published, so that the
/// publishes are stored; returns the context to delete it with.
async fn create_stream(
    nats: &Publisher,
    stream: &str,
    subject: &str,
) -> harness_wires::nats::async_nats::jetstream::Context {
    let context = nats.jetstream();
    context
        .get_or_create_stream(harness_wires::nats::async_nats::jetstream::stream::Config {
            name: stream.to_owned(),
            subjects: vec![subject.to_owned()],
            ..Default::default()
        })
        .await
        .unwrap();
    context
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

#[tokio::test]
async fn core_messages_reach_the_handler_and_shutdown_drains() {
    let nats = publisher(false).await;
    let subject = common::unique("harness.test.core");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let finished = Arc::new(AtomicUsize::new(0));
    let done = finished.clone();
    let subscriber = Subscriber::new(&nats, move |message| {
        let tx = tx.clone();
        let mut release = release_rx.clone();
        let done = done.clone();
        async move {
            let text = String::from_utf8(message.payload.to_vec()).unwrap();
            tx.send(text.clone()).unwrap();
            if text == "slow" {
                // Held until the test lets it go, after shutdown was requested.
                release.wait_for(|go| *go).await.unwrap();
            }
            done.fetch_add(1, Ordering::SeqCst);
            Ok::<(), std::io::Error>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let config = SubscriberConfig {
        subject: subject.clone(),
        queue_group: "workers".into(),
        ..Default::default()
    };
    let serving = tokio::spawn(subscriber.serve(config, shutdown));
    // The subscription is made when serve starts: publish until the first one arrives.
    let mut first = None;
    for _ in 0..100 {
        nats.publish(subject.clone(), "hello").await.unwrap();
        nats.client().flush().await.unwrap();
        if let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await
        {
            first = Some(message);
            break;
        }
    }
    assert_eq!(first.as_deref(), Some("hello"));
    nats.publish(subject.clone(), "slow").await.unwrap();
    nats.client().flush().await.unwrap();
    let got = receive(&mut rx, 1).await;
    assert!(got.contains(&"slow".to_owned()), "{got:?}");

    // Shutdown waits for the running handler.
    trigger.trigger();
    tokio::task::yield_now().await;
    assert!(
        !serving.is_finished(),
        "serve returned with a handler running"
    );
    let before = finished.load(Ordering::SeqCst);
    release_tx.send(true).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), before + 1);
}

/// A handler that fails, then one that panics, then one that panics before it returns its
/// future: JetStream redelivers the message each time (at once, not after the ack wait),
/// the subscriber keeps running, and the fourth delivery succeeds.
#[tokio::test]
async fn failed_and_panicking_handlers_get_the_message_redelivered() {
    let nats = publisher(true).await;
    let subject = common::unique("harness.test.js");
    let stream = common::unique("HARNESS_TEST");
    let attempts = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let seen = attempts.clone();
    let subscriber = Subscriber::new(&nats, move |message| {
        let attempt = seen.fetch_add(1, Ordering::SeqCst) + 1;
        assert_ne!(attempt, 3, "attempt {attempt} panics before its future");
        // The handler's message keeps its reply subject (the wire acknowledges through it).
        assert!(
            message.reply.is_some(),
            "a JetStream message has its reply subject"
        );
        let tx = tx.clone();
        async move {
            let text = String::from_utf8(message.payload.to_vec()).unwrap();
            match attempt {
                1 => Err(format!("attempt {attempt} fails")),
                2 => panic!("attempt {attempt} panics"),
                _ => {
                    tx.send(text).unwrap();
                    Ok(())
                }
            }
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let config = SubscriberConfig {
        subject: subject.clone(),
        max_concurrency: 1,
        jetstream: Some(JetStream {
            stream: stream.clone(),
            durable: "harness-test".into(),
            create_stream: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let context = create_stream(&nats, &stream, &subject).await;
    nats.publish(subject.clone(), "order-1").await.unwrap();
    let serving = tokio::spawn(subscriber.serve(config, shutdown));
    let got = receive(&mut rx, 1).await;
    assert_eq!(got, ["order-1"]);
    assert_eq!(attempts.load(Ordering::SeqCst), 4);
    assert!(!serving.is_finished(), "the subscriber kept running");
    trigger.trigger();
    serving.await.unwrap().unwrap();
    context.delete_stream(&stream).await.unwrap();
}

#[tokio::test]
async fn handlers_run_at_most_max_concurrency_at_once() {
    let nats = publisher(true).await;
    let subject = common::unique("harness.test.bound");
    let stream = common::unique("HARNESS_BOUND");
    let context = create_stream(&nats, &stream, &subject).await;
    for i in 0..12 {
        nats.publish(subject.clone(), format!("m{i}"))
            .await
            .unwrap();
    }
    let now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (running, peak) = (now.clone(), most.clone());
    let subscriber = Subscriber::new(&nats, move |message| {
        let (running, peak, tx) = (running.clone(), peak.clone(), tx.clone());
        async move {
            let at_once = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(at_once, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            tx.send(String::from_utf8(message.payload.to_vec()).unwrap())
                .unwrap();
            Ok::<(), std::io::Error>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let config = SubscriberConfig {
        subject,
        max_concurrency: 3,
        jetstream: Some(JetStream {
            stream: stream.clone(),
            durable: "bound".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let serving = tokio::spawn(subscriber.serve(config, shutdown));
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
    context.delete_stream(&stream).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_nats_is_a_retryable_start_error() {
    let error = Publisher::connect(&PublisherConfig {
        url: "nats://user:secret@127.0.0.1:1".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    assert!(!error.to_string().contains("secret"), "{error}");
}

/// A publish the client refuses names its subject: a payload over the server's
/// `max_payload`, and a subject the client does not take (core and JetStream alike).
#[tokio::test]
async fn a_refused_publish_names_its_subject() {
    for jetstream in [false, true] {
        let nats = publisher(jetstream).await;
        let too_big = vec![0u8; nats.client().server_info().max_payload + 1];
        let error = nats
            .publish("harness.test.too-big", too_big)
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("publish to harness.test.too-big:"),
            "{error}"
        );
        let error = nats.publish("harness test", "x").await.unwrap_err();
        assert!(
            error.to_string().contains("publish to harness test:"),
            "{error}"
        );
    }
}

/// Messages the subscriber fetched but had not started when shutdown came are given back
/// at once (nak), not after `ack_wait`: a subscriber started next gets them promptly.
#[tokio::test]
async fn jetstream_messages_fetched_but_not_started_go_back_at_shutdown() {
    let nats = publisher(true).await;
    let subject = common::unique("harness.test.jsback");
    let stream = common::unique("HARNESS_TEST_BACK");
    let context = create_stream(&nats, &stream, &subject).await;
    for i in 1..=8 {
        nats.publish(subject.clone(), format!("order-{i}"))
            .await
            .unwrap();
    }
    let config = SubscriberConfig {
        subject: subject.clone(),
        max_concurrency: 2,
        jetstream: Some(JetStream {
            stream: stream.clone(),
            durable: "harness-test".into(),
            // Far longer than the test waits: only a nak brings a message back in time.
            ack_wait: Some(harness::prost_types::Duration {
                seconds: 120,
                nanos: 0,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };

    // The first subscriber holds its first two messages until shutdown is requested.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let first = Subscriber::new(&nats, move |message| {
        let tx = tx.clone();
        let mut release = release_rx.clone();
        async move {
            tx.send(String::from_utf8(message.payload.to_vec()).unwrap())
                .unwrap();
            release.wait_for(|go| *go).await.unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(first.serve(config.clone(), shutdown));
    let started = receive(&mut rx, 2).await;
    // Let the pull stream fetch ahead while both handlers are busy.
    tokio::time::sleep(Duration::from_millis(500)).await;
    trigger.trigger();
    release_tx.send(true).unwrap();
    serving.await.unwrap().unwrap();

    // The next subscriber gets the other six well before ack_wait.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let second = Subscriber::new(&nats, move |message| {
        let tx = tx.clone();
        async move {
            tx.send(String::from_utf8(message.payload.to_vec()).unwrap())
                .unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let serving = tokio::spawn(second.serve(config, shutdown));
    let mut rest = receive(&mut rx, 6).await;
    rest.extend(started);
    rest.sort();
    let mut all: Vec<String> = (1..=8).map(|i| format!("order-{i}")).collect();
    all.sort();
    assert_eq!(rest, all);
    trigger.trigger();
    serving.await.unwrap().unwrap();
    context.delete_stream(&stream).await.unwrap();
}

/// An events subscriber on JetStream: events in both modes reach the handler typed; a
/// message that is no CloudEvent is terminated (not redelivered), and the next one still
/// arrives.
#[tokio::test]
async fn events_arrive_typed_and_a_non_event_is_not_redelivered() {
    use harness::proto::harness::cloudevents::{CloudEvents, cloud_events::Mode};
    use harness_wires::cloudevents::{AttributesReader as _, EventBuilder as _};
    let subject = common::unique("harness.test.events");
    let stream = common::unique("HARNESS_EVENTS");
    let nats = publisher(true).await;
    let context = create_stream(&nats, &stream, &subject).await;
    let mut sent = Vec::new();
    for mode in [Mode::Binary, Mode::Structured] {
        let events = Publisher::connect(&PublisherConfig {
            url: "nats://127.0.0.1:4222".into(),
            jetstream: true,
            cloudevents: Some(CloudEvents {
                mode: mode as i32,
                source: "/harness-test".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
        let event = events
            .events()
            .event("com.acme.order.created")
            .subject(format!("{mode:?}"))
            .data("text/plain", "order 7")
            .build()
            .unwrap();
        events
            .publish_event(subject.clone(), event.clone())
            .await
            .unwrap();
        sent.push(event);
        if mode == Mode::Binary {
            nats.publish(subject.clone(), "not an event").await.unwrap();
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let subscriber = Subscriber::events(&nats, move |event| {
        counted.fetch_add(1, Ordering::SeqCst);
        let tx = tx.clone();
        async move {
            tx.send(event).unwrap();
            Ok::<(), String>(())
        }
    });
    let (trigger, shutdown) = Shutdown::channel();
    let config = SubscriberConfig {
        subject: subject.clone(),
        max_concurrency: 1,
        jetstream: Some(JetStream {
            stream: stream.clone(),
            durable: "events".into(),
            ack_wait: Some(harness::prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let serving = tokio::spawn(subscriber.serve(config, shutdown));
    for want in &sent {
        let got = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.id(), want.id());
        assert_eq!(got.subject(), want.subject());
        assert_eq!(got.source().to_string(), "/harness-test");
    }
    // Well past ack_wait: a nak'd or unacknowledged non-event would be back by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Fetched again after the test's wait, the consumer's counts are the server's now.
    let info = context
        .get_consumer_from_stream::<harness_wires::nats::async_nats::jetstream::consumer::pull::Config, _, _>(
            "events", &stream,
        )
        .await
        .unwrap()
        .cached_info()
        .clone();
    assert_eq!(info.num_redelivered, 0, "the non-event came back: {info:?}");
    assert_eq!(info.num_ack_pending, 0, "{info:?}");
    assert_eq!(info.num_pending, 0, "{info:?}");
    trigger.trigger();
    serving.await.unwrap().unwrap();
    context.delete_stream(&stream).await.unwrap();
}
