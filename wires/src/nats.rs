//! `nats::Publisher` (input) and `nats::Subscriber` (output): NATS messaging, core or
//! JetStream.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use async_nats::{ConnectErrorKind, ConnectOptions, Event as ConnectionEvent, HeaderMap, Subject};
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use harness::proto::harness::nats::{
    Connection as ConnectionConfig, JetStream as JetStreamConfig, Publisher as PublisherConfig,
    Subscriber as SubscriberConfig,
};
use harness::runtime::{BoxError, InputWire, OutputWire, Shutdown, WireError};

use crate::cloudevents::{self, Encoded, Event, EventError, Events};
use crate::messaging::{self, Handler, Outcome, Slots};
use crate::telemetry::{self, Red, TRACEPARENT};

pub use async_nats;
pub use async_nats::Message;

/// Time allowed to connect when the configuration sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub use crate::messaging::DEFAULT_MAX_CONCURRENCY;

/// Time the server waits for an acknowledgement when the configuration sets none.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

static PUBLISHED: LazyLock<Red> = LazyLock::new(|| Red::new("nats_publish", "NATS publishes"));
static HANDLED: LazyLock<Red> =
    LazyLock::new(|| Red::new("nats_subscriber", "NATS messages handled"));

/// A NATS connection that publishes, configured by `harness.nats.Publisher` (or
/// `harness.nats.Connection`): a URL, credentials (user and password, token or a
/// credentials file), a client name. It is also the connection of the service's
/// [`Subscriber`]s.
///
/// At start it connects, so a NATS that is down stops the start after the runner's
/// retries, and refused credentials stop it at once. A connection lost while running is
/// re-established by the client; meanwhile the wire reports itself down (`/_/health`
/// answers 503 when it is a required input) and publishes are buffered.
///
/// [`publish`](Publisher::publish) sends the W3C `traceparent` in the message headers,
/// makes a producer span and counts in `nats_publish_*`; with `jetstream: true` it waits
/// for the stream's acknowledgement. [`publish_event`](Publisher::publish_event) sends a
/// CloudEvent in the mode of the configuration's `cloudevents` (binary: `ce-*` headers).
#[derive(Clone)]
pub struct Publisher {
    client: async_nats::Client,
    jetstream: Option<jetstream::Context>,
    events: Events,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("jetstream", &self.jetstream.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a publish failed.
#[derive(Debug)]
pub struct PublishError(String);

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PublishError {}

struct Settings<'a> {
    url: &'a str,
    username: &'a str,
    password: &'a str,
    token: &'a str,
    credentials_file: &'a str,
    name: &'a str,
    connect_timeout: Option<&'a harness::prost_types::Duration>,
}

impl InputWire<PublisherConfig> for Publisher {
    async fn connect(config: &PublisherConfig) -> Result<Self, WireError> {
        let client = connect(Settings {
            url: &config.url,
            username: &config.username,
            password: &config.password,
            token: &config.token,
            credentials_file: &config.credentials_file,
            name: &config.name,
            connect_timeout: config.connect_timeout.as_ref(),
        })
        .await?;
        let jetstream = config.jetstream.then(|| jetstream::new(client.clone()));
        Ok(Publisher {
            client,
            jetstream,
            events: Events::new(config.cloudevents.as_ref()),
        })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        close(self.client.clone())
    }
}

impl InputWire<ConnectionConfig> for Publisher {
    async fn connect(config: &ConnectionConfig) -> Result<Self, WireError> {
        let client = connect(Settings {
            url: &config.url,
            username: &config.username,
            password: &config.password,
            token: &config.token,
            credentials_file: &config.credentials_file,
            name: &config.name,
            connect_timeout: config.connect_timeout.as_ref(),
        })
        .await?;
        Ok(Publisher {
            client,
            jetstream: None,
            events: Events::new(None),
        })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        close(self.client.clone())
    }
}

async fn connect(settings: Settings<'_>) -> Result<async_nats::Client, WireError> {
    let reporter = harness::runtime::health::reporter();
    let url = settings.url;
    let mut options = ConnectOptions::new()
        .connection_timeout(
            settings
                .connect_timeout
                .and_then(|d| Duration::try_from(*d).ok())
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        )
        .event_callback(move |event| {
            let reporter = reporter.clone();
            async move {
                match event {
                    ConnectionEvent::Connected => reporter.up(),
                    ConnectionEvent::Disconnected => reporter.down("nats: disconnected"),
                    ConnectionEvent::Closed => reporter.down("nats: connection closed"),
                    other => tracing::warn!("nats: {other}"),
                }
            }
        });
    if !settings.name.is_empty() {
        options = options.name(settings.name);
    }
    if !settings.username.is_empty() {
        options =
            options.user_and_password(settings.username.to_owned(), settings.password.to_owned());
    }
    if !settings.token.is_empty() {
        options = options.token(settings.token.to_owned());
    }
    if !settings.credentials_file.is_empty() {
        options = options
            .credentials_file(settings.credentials_file)
            .await
            .map_err(|e| {
                WireError::config(format!(
                    "credentials_file {}: {e}",
                    settings.credentials_file
                ))
            })?;
    }
    // The URL may hold credentials: errors name the host only.
    let host = harness::socket::SocketAddress::from_url("url", url)
        .map(|address| address.authority())
        .unwrap_or_else(|_| "the configured url".to_owned());
    options.connect(url).await.map_err(|error| {
        let message = format!("cannot connect to NATS at {host}: {error}");
        match error.kind() {
            ConnectErrorKind::Authentication
            | ConnectErrorKind::AuthorizationViolation
            | ConnectErrorKind::ServerParse
            | ConnectErrorKind::Tls => WireError::config(message),
            _ => WireError::connect(message),
        }
    })
}

async fn close(client: async_nats::Client) {
    if let Err(error) = client.flush().await {
        tracing::warn!("nats: flushing before close: {error}");
    }
}

impl Publisher {
    /// The NATS client; clones share the connection.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context of the connection.
    pub fn jetstream(&self) -> jetstream::Context {
        self.jetstream
            .clone()
            .unwrap_or_else(|| jetstream::new(self.client.clone()))
    }

    /// How [`publish_event`](Publisher::publish_event) writes events; `events().event(ty)`
    /// starts one with a fresh id, the time and the service's source.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Publishes a CloudEvent on `subject` in the configured content mode (NATS binding:
    /// binary as `ce-*` headers with the data as payload, structured as JSON with
    /// `Content-Type: application/cloudevents+json`).
    pub async fn publish_event(
        &self,
        subject: impl Into<String>,
        event: Event,
    ) -> Result<(), PublishError> {
        let subject = subject.into();
        let mut headers = HeaderMap::new();
        let payload = match self.events.encode(event) {
            Ok(Encoded::Binary {
                attributes,
                datacontenttype,
                data,
            }) => {
                for (name, value) in &attributes {
                    headers.insert(format!("ce-{name}"), &*cloudevents::header_encode(value));
                }
                if let Some(content_type) = datacontenttype {
                    headers.insert(
                        "ce-datacontenttype",
                        &*cloudevents::header_encode(&content_type),
                    );
                }
                data
            }
            Ok(Encoded::Structured(body)) => {
                headers.insert("Content-Type", cloudevents::JSON_FORMAT);
                body
            }
            Err(e) => return Err(PublishError(format!("publish to {subject}: {e}"))),
        };
        self.publish_with_headers(subject, headers, payload).await
    }

    /// Publishes `payload` on `subject`, through JetStream (waiting for the stream's
    /// acknowledgement) when the configuration says `jetstream: true`.
    pub async fn publish(
        &self,
        subject: impl Into<String>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.send(subject.into(), None, payload.into()).await
    }

    /// [`publish`](Publisher::publish) with headers.
    pub async fn publish_with_headers(
        &self,
        subject: impl Into<String>,
        headers: HeaderMap,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.send(subject.into(), Some(headers), payload.into())
            .await
    }

    /// One publish, as every public one makes it: the span, the `traceparent` in the
    /// headers, the client's call and the metric.
    async fn send(
        &self,
        subject: String,
        headers: Option<HeaderMap>,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        let started = telemetry::metrics_on().then(Instant::now);
        // Shared with the client, not copied: the errors name the subject after the client
        // has taken it.
        let subject = Subject::from(subject);
        let span = messaging::publish_span("nats", &subject, payload.len(), Vec::new);
        // Without headers the message goes as a plain PUB, as the client's `publish` sends it.
        let mut headers = headers.filter(|headers| !headers.is_empty());
        if let Some(value) = telemetry::outgoing_traceparent(span.as_ref()) {
            headers
                .get_or_insert_with(HeaderMap::new)
                .insert(TRACEPARENT, value.as_str());
        }
        let result = match (&self.jetstream, headers) {
            (Some(jetstream), headers) => {
                let sent = match headers {
                    None => jetstream.publish(subject.clone(), payload).await,
                    Some(headers) => {
                        jetstream
                            .publish_with_headers(subject.clone(), headers, payload)
                            .await
                    }
                };
                match sent {
                    Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            (None, None) => self
                .client
                .publish(subject.clone(), payload)
                .await
                .map_err(|e| e.to_string()),
            (None, Some(headers)) => self
                .client
                .publish_with_headers(subject.clone(), headers, payload)
                .await
                .map_err(|e| e.to_string()),
        }
        .map_err(|e| PublishError(format!("publish to {subject}: {e}")));
        let error = result.as_ref().err().map(|e| e.to_string());
        let failed = error.is_some();
        telemetry::end_span(span.as_ref(), error);
        if let Some(started) = started {
            let mode = if self.jetstream.is_some() {
                "jetstream"
            } else {
                "core"
            };
            PUBLISHED.record(
                vec![("mode", Cow::Borrowed(mode))],
                failed,
                started.elapsed(),
            );
        }
        result
    }
}

/// Runs a handler for each message of a subject, configured by `harness.nats.Subscriber`:
/// at most `max_concurrency` at once (default 16), each in a consumer span (child of the
/// `traceparent` the publisher sent) and counted in `nats_subscriber_*` by subject.
///
/// - Core NATS (no `jetstream`): a subscription, shared within `queue_group` when set.
///   Core NATS delivers at most once: a message whose handler fails is logged and counted,
///   not redelivered.
/// - JetStream (`jetstream: {stream, durable}`): a durable pull consumer, acknowledged
///   when the handler succeeds; a handler that fails or panics has its message negatively
///   acknowledged, so the server redelivers it (up to `max_deliver` times).
///
/// A failing or panicking handler never stops the service. On shutdown it stops taking
/// messages and waits for the running handlers (bounded by the runner's grace period);
/// JetStream messages fetched but not yet handed to the handler are given back (nak) for
/// immediate redelivery.
///
/// ```ignore
/// let orders = harness_wires::nats::Subscriber::new(&wires.nats, |message| async move {
///     store(&message.payload).await
/// });
/// ```
pub struct Subscriber {
    client: async_nats::Client,
    tasks: messaging::Tasks<Delivery, Arc<str>>,
}

/// The CloudEvent of a NATS message (binary or structured, per the NATS binding).
pub fn event_of(message: &Message) -> Result<Event, EventError> {
    let mut content_type = None;
    let mut attributes = Vec::new();
    if let Some(headers) = &message.headers {
        for (name, values) in headers.iter() {
            let (name, Some(value)) = (AsRef::<str>::as_ref(name), values.first()) else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.as_str());
            } else if name.len() > 3 && name[..3].eq_ignore_ascii_case("ce-") {
                let attribute = name[3..].to_ascii_lowercase();
                let value = cloudevents::header_decode(name, value.as_str())?;
                attributes.push((attribute, value));
            }
        }
    }
    cloudevents::decode(content_type, attributes, &message.payload)
}

impl Subscriber {
    /// A subscriber handing `handler` the CloudEvent of each message. A message that is
    /// not a valid CloudEvent is logged and counted as an error, and not redelivered
    /// (JetStream: terminated), since no delivery would read it better.
    pub fn events<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Subscriber {
            client: connection.client.clone(),
            tasks: messaging::tasks(
                messaging::Events {
                    decode: event_of,
                    handler,
                },
                handle,
            ),
        }
    }

    /// A subscriber on `connection`'s NATS connection, running `handler` for each message.
    pub fn new<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Subscriber {
            client: connection.client.clone(),
            tasks: messaging::tasks(messaging::Messages(handler), handle),
        }
    }
}

/// One received message, core or JetStream.
// Moved a few times before its task's future is boxed; boxing it too would cost an
// allocation per message.
#[allow(clippy::large_enum_variant)]
enum Delivery {
    Core(Message),
    JetStream(jetstream::Message),
}

impl Delivery {
    /// The message for the handler, and for a JetStream one what acknowledges it: the
    /// context and the reply subject (shared, not copied), which also tells the delivery
    /// count. async-nats's own `split` would take the reply subject from the handler's
    /// message and its `Acker` cannot tell the count.
    fn split(self) -> (Message, Option<jetstream::Message>) {
        match self {
            Delivery::Core(message) => (message, None),
            Delivery::JetStream(jetstream::Message { message, context }) => {
                let acker = Message {
                    subject: Subject::from_static(""),
                    reply: message.reply.clone(),
                    payload: Bytes::new(),
                    headers: None,
                    status: None,
                    description: None,
                    length: 0,
                };
                let acker = jetstream::Message {
                    message: acker,
                    context,
                };
                (message, Some(acker))
            }
        }
    }
}

impl OutputWire<SubscriberConfig> for Subscriber {
    async fn serve(self, config: SubscriberConfig, shutdown: Shutdown) -> Result<(), WireError> {
        let concurrency = messaging::concurrency(config.max_concurrency);
        let subject: Arc<str> = Arc::from(config.subject.as_str());
        let mut deliveries: Pin<
            Box<dyn futures_util::Stream<Item = Result<Delivery, String>> + Send>,
        > = match &config.jetstream {
            Some(js) => {
                let messages = jetstream_messages(&self.client, &config, js, concurrency).await?;
                Box::pin(messages.map(|m| m.map(Delivery::JetStream).map_err(|e| e.to_string())))
            }
            None => {
                let subscriber = if config.queue_group.is_empty() {
                    self.client.subscribe(config.subject.clone()).await
                } else {
                    self.client
                        .queue_subscribe(config.subject.clone(), config.queue_group.clone())
                        .await
                }
                .map_err(|e| WireError::other(format!("subscribe to {subject}: {e}")))?;
                Box::pin(subscriber.map(|m| Ok(Delivery::Core(m))))
            }
        };
        tracing::info!(
            subject = &*subject,
            concurrency,
            jetstream = config.jetstream.is_some(),
            "nats subscriber running"
        );
        let mut slots = Slots::new(concurrency);
        let stopping = shutdown.requested();
        tokio::pin!(stopping);
        let outcome = loop {
            let Some((slot, delivery)) = slots.next(&mut stopping, deliveries.next()).await else {
                break Ok(());
            };
            match delivery {
                Some(Ok(delivery)) => {
                    slots.run(slot, (self.tasks)(delivery, subject.clone()));
                }
                Some(Err(error)) => {
                    tracing::warn!(subject = &*subject, "nats: receiving: {error}");
                }
                None => break Err(WireError::other(format!("subscription to {subject} ended"))),
            }
        };
        // JetStream messages the pull stream already holds go back at once, rather than
        // after `ack_wait`, so that another instance takes them now.
        while let Some(Some(delivery)) = deliveries.next().now_or_never() {
            if let Ok(Delivery::JetStream(message)) = delivery
                && let Err(e) = message.ack_with(AckKind::Nak(None)).await
            {
                tracing::warn!(subject = &*subject, "nats: nak at shutdown: {e}");
            }
        }
        drop(deliveries);
        slots.drain("nats subscriber", &subject).await;
        outcome
    }
}

async fn jetstream_messages(
    client: &async_nats::Client,
    config: &SubscriberConfig,
    js: &JetStreamConfig,
    concurrency: usize,
) -> Result<pull::Stream, WireError> {
    let context = jetstream::new(client.clone());
    let stream = if js.create_stream {
        context
            .get_or_create_stream(jetstream::stream::Config {
                name: js.stream.clone(),
                subjects: vec![config.subject.clone()],
                ..Default::default()
            })
            .await
            .map_err(|e| WireError::other(format!("stream {}: {e}", js.stream)))?
    } else {
        context
            .get_stream(&js.stream)
            .await
            .map_err(|e| WireError::other(format!("stream {}: {e}", js.stream)))?
    };
    let ack_wait = js
        .ack_wait
        .as_ref()
        .and_then(|d| Duration::try_from(*d).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_ACK_WAIT);
    let consumer = stream
        .get_or_create_consumer(
            &js.durable,
            pull::Config {
                durable_name: Some(js.durable.clone()),
                filter_subject: config.subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait,
                max_deliver: if js.max_deliver == 0 {
                    -1
                } else {
                    js.max_deliver
                },
                ..Default::default()
            },
        )
        .await
        .map_err(|e| WireError::other(format!("consumer {}: {e}", js.durable)))?;
    consumer
        .stream()
        .max_messages_per_batch(concurrency)
        .messages()
        .await
        .map_err(|e| WireError::other(format!("consumer {}: {e}", js.durable)))
}

/// Runs the handler on one message, acknowledging it (JetStream) when it succeeds and
/// asking for redelivery when it fails or panics.
async fn handle<H: Handler<Message>>(handler: Arc<H>, delivery: Delivery, subject: Arc<str>) {
    let started = telemetry::metrics_on().then(Instant::now);
    let (message, acker) = delivery.split();
    let traceparent = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(TRACEPARENT))
        .map(|value| value.as_str().to_owned());
    let context = messaging::process_context(
        "nats",
        traceparent.as_deref(),
        &subject,
        || message.subject.to_string(),
        Vec::new,
    );
    let Outcome { error, unreadable } = messaging::run(&*handler, message, context).await;
    match (&acker, &error) {
        (Some(message), None) => {
            if let Err(e) = message.ack().await {
                tracing::warn!(subject = &*subject, "nats: ack: {e}");
            }
        }
        (Some(message), Some(error)) if unreadable => {
            tracing::error!(
                subject = &*subject,
                "nats: message dropped (terminated): {error}"
            );
            if let Err(e) = message.ack_with(AckKind::Term).await {
                tracing::warn!(subject = &*subject, "nats: term: {e}");
            }
        }
        (Some(message), Some(error)) => {
            let delivered = message.info().map(|info| info.delivered).unwrap_or(0);
            tracing::error!(
                subject = &*subject,
                delivered,
                "nats handler failed, message redelivered: {error}"
            );
            if let Err(e) = message.ack_with(AckKind::Nak(None)).await {
                tracing::warn!(subject = &*subject, "nats: nak: {e}");
            }
        }
        (None, Some(error)) => {
            tracing::error!(
                subject = &*subject,
                "nats handler failed (core NATS: not redelivered): {error}"
            );
        }
        (None, None) => {}
    }
    if let Some(started) = started {
        HANDLED.record(
            vec![("subject", Cow::Owned(subject.to_string()))],
            error.is_some(),
            started.elapsed(),
        );
    }
}
