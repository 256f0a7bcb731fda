//! `amqp::Publisher` (input) and `amqp::Consumer` (output): AMQP 0-9-1 messaging with
//! RabbitMQ, through lapin.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use futures_util::{FutureExt as _, StreamExt as _};
use harness::proto::harness::amqp::{
    Binding, Consumer as ConsumerConfig, Exchange, Publisher as PublisherConfig,
    consumer::QueueType, exchange::Kind,
};
use harness::runtime::{BoxError, InputWire, OutputWire, Shutdown, WireError};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Confirmation, ConnectionProperties, ExchangeKind};
use opentelemetry::KeyValue;

use crate::cloudevents::{self, Encoded, Event, EventError, Events};
use crate::messaging::{self, Handler, Outcome, Slots};
use crate::telemetry::{self, Red, TRACEPARENT};

pub use crate::messaging::DEFAULT_MAX_CONCURRENCY;
pub use lapin;

/// Time allowed to connect when the configuration sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest wait between two attempts to reconnect to a broker that went away.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(2);

/// How often the connection's state is read for the health check.
pub const STATUS_INTERVAL: Duration = Duration::from_millis(500);

/// `delivery_mode` of a message the broker writes to disk.
const PERSISTENT: u8 = 2;

/// Prefixes of CloudEvents attributes in the headers: the AMQP binding's two (3.1.3.1; the
/// first is the one written) and the `ce-` that RabbitMQ-specific SDKs write.
const EVENT_PREFIXES: [&str; 3] = ["cloudEvents_", "cloudEvents:", "ce-"];

static PUBLISHED: LazyLock<Red> = LazyLock::new(|| Red::new("amqp_publish", "AMQP publishes"));
static HANDLED: LazyLock<Red> =
    LazyLock::new(|| Red::new("amqp_consumer", "AMQP messages handled"));

/// An AMQP connection that publishes, configured by `harness.amqp.Publisher`: a URL
/// (`amqp://HOST:PORT/VHOST`), credentials, a connection name, the exchange `publish`
/// sends to (declared durable at start). It is also the connection of the service's
/// [`Consumer`]s.
///
/// At start it connects, so a broker that is down stops the start after the runner's
/// retries, and refused credentials stop it at once. A connection lost while running is
/// recovered by lapin (topology, consumers and confirms replayed); meanwhile the wire
/// reports itself down (`/_/health` answers 503 when it is a required input) and publishes
/// fail.
///
/// Every publish is persistent, mandatory and confirmed: [`publish`](Publisher::publish)
/// returns once the broker has taken the message, and fails when no queue takes it
/// (unroutable) or the broker refuses it. It sends the W3C `traceparent` in the headers,
/// makes a producer span and counts in `amqp_publish_*`.
#[derive(Clone)]
pub struct Publisher {
    connection: Arc<lapin::Connection>,
    channel: lapin::Channel,
    exchange: ShortString,
    events: Events,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("exchange", &self.exchange.as_str())
            .finish_non_exhaustive()
    }
}

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The broker could not be told (connection down, channel closed…).
    #[error("publish to {destination}: {source}")]
    Broker {
        destination: String,
        #[source]
        source: lapin::Error,
    },
    /// The broker refused the message (publisher confirm `nack`).
    #[error("publish to {0}: the broker refused the message")]
    Refused(String),
    /// No queue is bound for the routing key: the broker returned the message.
    #[error("publish to {0}: unroutable, no queue took the message")]
    Unroutable(String),
    /// The event could not be written.
    #[error("publish to {destination}: {source}")]
    Event {
        destination: String,
        #[source]
        source: EventError,
    },
}

impl InputWire<PublisherConfig> for Publisher {
    async fn connect(config: &PublisherConfig) -> Result<Self, WireError> {
        let mut uri: lapin::uri::AMQPUri = config
            .url
            .parse()
            .map_err(|_| WireError::config("url: not an AMQP URL (amqp://HOST:PORT/VHOST)"))?;
        if !config.username.is_empty() {
            uri.authority.userinfo.username = config.username.clone();
        }
        if !config.password.is_empty() {
            uri.authority.userinfo.password = config.password.clone();
        }
        // The URL may hold credentials: errors name the host only.
        let peer = format!("{}:{}", uri.authority.host, uri.authority.port);
        let timeout = config
            .connect_timeout
            .and_then(|d| Duration::try_from(d).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let name = if config.name.is_empty() {
            telemetry::program_name()
        } else {
            config.name.clone()
        };
        let connection = connect(uri, &peer, &name, timeout).await?;
        let channel = publishing_channel(&connection, config.exchange.as_ref(), &peer).await?;
        Ok(Publisher {
            connection: Arc::new(connection),
            channel,
            exchange: config
                .exchange
                .as_ref()
                .map(|e| e.name.as_str())
                .unwrap_or_default()
                .into(),
            events: Events::new(config.cloudevents.as_ref()),
        })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        let connection = self.connection.clone();
        async move {
            if let Err(error) = connection.close(200, "shutdown".into()).await {
                tracing::debug!("amqp: closing: {error}");
            }
        }
    }
}

/// Opens the connection with recovery on, and reports its state to the health check.
async fn connect(
    uri: lapin::uri::AMQPUri,
    peer: &str,
    name: &str,
    timeout: Duration,
) -> Result<lapin::Connection, WireError> {
    let unreachable = |reason: &dyn fmt::Display| {
        WireError::connect(format!("cannot connect to AMQP at {peer}: {reason}"))
    };
    // lapin retries a refused TCP connection by itself (its recovery backoff) on its own
    // thread: a plain attempt first says at once that the broker is not there.
    let address = (uri.authority.host.clone(), uri.authority.port);
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => return Err(unreachable(&error)),
        Err(_) => return Err(unreachable(&"timed out")),
    }
    let properties = ConnectionProperties::default()
        .with_connection_name(name.into())
        .enable_auto_recover()
        .configure_backoff(|backoff| {
            backoff
                .with_min_delay(Duration::from_millis(100))
                .with_max_delay(MAX_RECONNECT_DELAY)
                .without_max_times()
        });
    let connecting = lapin::Connection::connect_uri(uri, properties);
    let connection = match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            let message = format!("cannot connect to AMQP at {peer}: {error}");
            return Err(match error.kind() {
                lapin::ErrorKind::IOError(_) => WireError::connect(message),
                _ => WireError::config(message),
            });
        }
        Err(_) => return Err(unreachable(&"timed out")),
    };
    watch(connection.status().clone(), peer.to_owned());
    Ok(connection)
}

/// Reports the connection's state to the health check every [`STATUS_INTERVAL`] (lapin
/// recovers a lost connection silently: its state is what tells), until it is closed.
fn watch(status: lapin::ConnectionStatus, peer: String) {
    let reporter = harness::runtime::health::reporter();
    tokio::spawn(async move {
        let mut blocked = false;
        loop {
            tokio::time::sleep(STATUS_INTERVAL).await;
            if status.connected() {
                reporter.up();
            } else if status.closing() || status.closed() {
                break;
            } else if status.errored() {
                reporter.down(format!("amqp at {peer}: connection failed"));
                break;
            } else {
                reporter.down(format!("amqp at {peer}: reconnecting"));
            }
            if status.blocked() != blocked {
                blocked = !blocked;
                if blocked {
                    tracing::warn!("amqp at {peer}: the broker blocks publishes (resource alarm)");
                }
            }
        }
    });
}

/// The channel of the publishes: confirms on, the exchange declared.
async fn publishing_channel(
    connection: &lapin::Connection,
    exchange: Option<&Exchange>,
    peer: &str,
) -> Result<lapin::Channel, WireError> {
    let failed =
        |what: &str, e: lapin::Error| WireError::config(format!("amqp at {peer}: {what}: {e}"));
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| failed("opening a channel", e))?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| failed("publisher confirms", e))?;
    if let Some(exchange) = exchange {
        declare_exchange(&channel, exchange)
            .await
            .map_err(|e| failed(&format!("exchange {}", exchange.name), e))?;
    }
    Ok(channel)
}

async fn declare_exchange(channel: &lapin::Channel, exchange: &Exchange) -> lapin::Result<()> {
    let kind = match exchange.kind() {
        Kind::Direct => ExchangeKind::Direct,
        Kind::Fanout => ExchangeKind::Fanout,
        Kind::Topic => ExchangeKind::Topic,
        Kind::Headers => ExchangeKind::Headers,
    };
    channel
        .exchange_declare(
            exchange.name.as_str().into(),
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
}

impl Publisher {
    /// The lapin connection; open more channels on it for other uses.
    pub fn connection(&self) -> &lapin::Connection {
        &self.connection
    }

    /// How [`publish_event`](Publisher::publish_event) writes events; `events().event(ty)`
    /// starts one with a fresh id, the time and the service's source.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Publishes `payload` with `routing_key` to the configured exchange, persistent and
    /// confirmed.
    pub async fn publish(
        &self,
        routing_key: &str,
        payload: impl AsRef<[u8]>,
    ) -> Result<(), PublishError> {
        self.publish_with(routing_key, BasicProperties::default(), payload.as_ref())
            .await
    }

    /// Publishes a CloudEvent in the configured content mode (AMQP binding: binary as
    /// `cloudEvents_*` headers and `content_type`, structured as JSON with `content_type`
    /// `application/cloudevents+json`).
    pub async fn publish_event(&self, routing_key: &str, event: Event) -> Result<(), PublishError> {
        let (properties, body) = match self.events.encode(event) {
            Ok(Encoded::Binary {
                attributes,
                datacontenttype,
                data,
            }) => {
                let mut headers = FieldTable::default();
                for (name, value) in attributes {
                    headers.insert(
                        format!("{}{name}", EVENT_PREFIXES[0]).into(),
                        AMQPValue::LongString(value.into()),
                    );
                }
                let mut properties = BasicProperties::default().with_headers(headers);
                if let Some(content_type) = datacontenttype {
                    properties = properties.with_content_type(content_type.into());
                }
                (properties, data)
            }
            Ok(Encoded::Structured(body)) => (
                BasicProperties::default().with_content_type(cloudevents::JSON_FORMAT.into()),
                body,
            ),
            Err(source) => {
                return Err(PublishError::Event {
                    destination: self.destination(routing_key),
                    source,
                });
            }
        };
        self.publish_with(routing_key, properties, &body).await
    }

    fn destination(&self, routing_key: &str) -> String {
        if self.exchange.as_str().is_empty() {
            routing_key.to_owned()
        } else {
            format!("{}/{routing_key}", self.exchange)
        }
    }

    /// [`publish`](Publisher::publish) with properties (headers, content type…); the
    /// message is made persistent and `traceparent` is added to its headers.
    pub async fn publish_with(
        &self,
        routing_key: &str,
        properties: BasicProperties,
        payload: &[u8],
    ) -> Result<(), PublishError> {
        let started = telemetry::metrics_on().then(Instant::now);
        let span =
            messaging::publish_span("rabbitmq", self.exchange.as_str(), payload.len(), || {
                vec![routing_key_attribute(routing_key)]
            });
        let mut headers = properties.headers().clone().unwrap_or_default();
        if let Some(value) = telemetry::outgoing_traceparent(span.as_ref()) {
            headers.insert(TRACEPARENT.into(), AMQPValue::LongString(value.into()));
        }
        let properties = properties
            .with_headers(headers)
            .with_delivery_mode(PERSISTENT);
        let result = self.send(routing_key, properties, payload).await;
        telemetry::end_span(span.as_ref(), result.as_ref().err().map(|e| e.to_string()));
        if let Some(started) = started {
            PUBLISHED.record(
                vec![("exchange", Cow::Owned(self.exchange.to_string()))],
                result.is_err(),
                started.elapsed(),
            );
        }
        result
    }

    async fn send(
        &self,
        routing_key: &str,
        properties: BasicProperties,
        payload: &[u8],
    ) -> Result<(), PublishError> {
        let broker = |source| PublishError::Broker {
            destination: self.destination(routing_key),
            source,
        };
        let confirm = self
            .channel
            .basic_publish(
                self.exchange.clone(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                payload,
                properties,
            )
            .await
            .map_err(broker)?;
        match confirm.await.map_err(broker)? {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => {
                Err(PublishError::Unroutable(self.destination(routing_key)))
            }
            Confirmation::Nack(_) => Err(PublishError::Refused(self.destination(routing_key))),
        }
    }
}

fn routing_key_attribute(routing_key: &str) -> KeyValue {
    KeyValue::new(
        "messaging.rabbitmq.destination.routing_key",
        routing_key.to_owned(),
    )
}

/// One message delivered to a [`Consumer`]'s handler.
#[derive(Debug, Clone)]
pub struct Message {
    pub exchange: String,
    pub routing_key: String,
    /// The broker delivered it before (to this consumer or another) without an ack.
    pub redelivered: bool,
    /// Content type, headers, message id…
    pub properties: BasicProperties,
    pub data: Vec<u8>,
}

/// The CloudEvent of an AMQP message (binary or structured, per the AMQP binding; both
/// header prefixes are read).
pub fn event_of(message: &Message) -> Result<Event, EventError> {
    let content_type = message
        .properties
        .content_type()
        .as_ref()
        .map(ShortString::as_str);
    let mut attributes = Vec::new();
    if let Some(headers) = message.properties.headers() {
        for (name, value) in headers.inner() {
            let Some(attribute) = EVENT_PREFIXES
                .iter()
                .find_map(|prefix| name.as_str().strip_prefix(prefix))
            else {
                continue;
            };
            let attribute = attribute.to_ascii_lowercase();
            let value = match (attribute.as_str(), value) {
                // A native AMQP 1.0 timestamp (milliseconds), as a bridged message has it.
                ("time", value) if integer(value).is_some() => {
                    timestamp_millis(integer(value).unwrap_or_default())
                }
                _ => header_text(value),
            };
            attributes.push((attribute, value));
        }
    }
    if let Some(content_type) = content_type {
        attributes.push(("datacontenttype".to_owned(), content_type.to_owned()));
    }
    cloudevents::decode(content_type, attributes, &message.data)
}

/// The value of an integer header, of any width.
fn integer(value: &AMQPValue) -> Option<i64> {
    Some(match *value {
        AMQPValue::ShortShortInt(n) => n.into(),
        AMQPValue::ShortShortUInt(n) => n.into(),
        AMQPValue::ShortInt(n) => n.into(),
        AMQPValue::ShortUInt(n) => n.into(),
        AMQPValue::LongInt(n) => n.into(),
        AMQPValue::LongUInt(n) => n.into(),
        AMQPValue::LongLongInt(n) => n,
        _ => return None,
    })
}

fn timestamp_millis(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

/// A header value as an attribute's canonical string.
fn header_text(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
        AMQPValue::ShortString(text) => text.to_string(),
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::Timestamp(seconds) => chrono::DateTime::from_timestamp(*seconds as i64, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default(),
        AMQPValue::ByteArray(bytes) => String::from_utf8_lossy(bytes.as_slice()).into_owned(),
        other => integer(other)
            .map(|n| n.to_string())
            .unwrap_or_else(|| format!("{other:?}")),
    }
}

/// Runs a handler for each message of a queue, configured by `harness.amqp.Consumer`: the
/// queue (declared durable, classic or quorum, with its bindings) at start, at most
/// `max_concurrency` handlers at once (default 16), `prefetch` messages ahead (default: as
/// many). Each message runs in a consumer span (child of the publisher's `traceparent`)
/// counted in `amqp_consumer_*` by queue.
///
/// A message is acknowledged after its handler succeeds. When the handler fails or panics,
/// it is negatively acknowledged: dead-lettered to `dead_letter_exchange` when one is
/// configured, else requeued for another delivery (a quorum queue's `delivery_limit` bounds
/// them). A message that is not a CloudEvent, for an [`events`](Consumer::events)
/// consumer, is rejected without requeue. The service keeps running.
///
/// On shutdown it cancels the consumer (the broker sends no more), gives back at once the
/// messages it holds but has not started (nack, requeue) and waits for the running handlers
/// (bounded by the runner's grace period), which acknowledge theirs. A message is never
/// lost: what was not acknowledged when the connection closes is delivered again.
pub struct Consumer {
    connection: Arc<lapin::Connection>,
    tasks: messaging::Tasks<lapin::message::Delivery, Arc<Settle>>,
}

impl Consumer {
    /// A consumer on `connection`'s AMQP connection, running `handler` for each message.
    pub fn new<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Consumer {
            connection: connection.connection.clone(),
            tasks: messaging::tasks(messaging::Messages(handler), handle),
        }
    }

    /// A consumer handing `handler` the CloudEvent of each message.
    pub fn events<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Consumer {
            connection: connection.connection.clone(),
            tasks: messaging::tasks(
                messaging::Events {
                    decode: event_of,
                    handler,
                },
                handle,
            ),
        }
    }
}

/// What a message's handling needs besides the message.
struct Settle {
    queue: Arc<str>,
    dead_letter: bool,
}

impl OutputWire<ConsumerConfig> for Consumer {
    async fn serve(self, config: ConsumerConfig, shutdown: Shutdown) -> Result<(), WireError> {
        let concurrency = messaging::concurrency(config.max_concurrency);
        let queue: Arc<str> = Arc::from(config.queue.as_str());
        let failed = |what: &str, e: lapin::Error| {
            WireError::other(format!("amqp queue {queue}: {what}: {e}"))
        };
        let channel = self
            .connection
            .create_channel()
            .await
            .map_err(|e| failed("opening a channel", e))?;
        let prefetch = if config.prefetch == 0 {
            concurrency.min(usize::from(u16::MAX)) as u16
        } else {
            config.prefetch as u16
        };
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| failed("prefetch", e))?;
        declare_queue(&channel, &config)
            .await
            .map_err(|e| failed("declaring", e))?;
        for binding in &config.bindings {
            bind(&channel, &config.queue, binding)
                .await
                .map_err(|e| failed("binding", e))?;
        }
        let mut deliveries = channel
            .basic_consume(
                config.queue.as_str().into(),
                ShortString::from(""),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| failed("consuming", e))?;
        let tag = deliveries.tag();
        tracing::info!(
            queue = &*queue,
            concurrency,
            prefetch,
            "amqp consumer running"
        );
        let settle = Arc::new(Settle {
            queue: queue.clone(),
            dead_letter: !config.dead_letter_exchange.is_empty(),
        });
        let mut slots = Slots::new(concurrency);
        let stopping = shutdown.requested();
        tokio::pin!(stopping);
        let outcome = loop {
            let Some((slot, delivery)) = slots.next(&mut stopping, deliveries.next()).await else {
                break Ok(());
            };
            match delivery {
                Some(Ok(delivery)) => {
                    slots.run(slot, (self.tasks)(delivery, settle.clone()));
                }
                Some(Err(error)) => {
                    tracing::warn!(
                        queue = &*queue,
                        "amqp: connection lost, waiting for recovery: {error}"
                    );
                    if let Err(error) = channel.wait_for_recovery(error).await {
                        break Err(failed("consuming", error));
                    }
                }
                None => {
                    break Err(WireError::other(format!(
                        "amqp queue {queue}: the broker cancelled the consumer"
                    )));
                }
            }
        };
        drain(&channel, tag, &mut deliveries, &queue, slots).await;
        outcome
    }
}

/// Stops the deliveries, gives back the messages not started and waits for the running
/// handlers; closing the channel then requeues whatever is still unacknowledged.
async fn drain(
    channel: &lapin::Channel,
    tag: ShortString,
    deliveries: &mut lapin::Consumer,
    queue: &str,
    slots: Slots,
) {
    if let Err(error) = channel
        .basic_cancel(tag, BasicCancelOptions::default())
        .await
    {
        tracing::debug!(queue, "amqp: cancelling the consumer: {error}");
    }
    while let Some(Some(Ok(delivery))) = deliveries.next().now_or_never() {
        let requeue = BasicNackOptions {
            requeue: true,
            ..Default::default()
        };
        if let Err(error) = delivery.acker.nack(requeue).await {
            tracing::warn!(queue, "amqp: nack at shutdown: {error}");
        }
    }
    slots.drain("amqp consumer", queue).await;
    if let Err(error) = channel.close(200, "shutdown".into()).await {
        tracing::debug!(queue, "amqp: closing the channel: {error}");
    }
}

async fn declare_queue(channel: &lapin::Channel, config: &ConsumerConfig) -> lapin::Result<()> {
    let mut arguments = FieldTable::default();
    if config.queue_type() == QueueType::Quorum {
        arguments.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        if config.delivery_limit > 0 {
            arguments.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(config.delivery_limit)),
            );
        }
    }
    if !config.dead_letter_exchange.is_empty() {
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(LongString::from(config.dead_letter_exchange.as_str())),
        );
    }
    channel
        .queue_declare(
            config.queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            arguments,
        )
        .await
        .map(|_| ())
}

async fn bind(channel: &lapin::Channel, queue: &str, binding: &Binding) -> lapin::Result<()> {
    let Some(exchange) = &binding.exchange else {
        return Ok(());
    };
    declare_exchange(channel, exchange).await?;
    channel
        .queue_bind(
            queue.into(),
            exchange.name.as_str().into(),
            binding.routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

/// Runs the handler on one delivery and settles it: ack on success; on failure nack,
/// requeued unless the queue dead-letters; reject an unreadable event.
async fn handle<H: Handler<Message>>(
    handler: Arc<H>,
    delivery: lapin::message::Delivery,
    settle: Arc<Settle>,
) {
    let started = telemetry::metrics_on().then(Instant::now);
    let queue = &*settle.queue;
    let traceparent = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(TRACEPARENT))
        .map(header_text);
    let context = messaging::process_context(
        "rabbitmq",
        traceparent.as_deref(),
        queue,
        || queue.to_owned(),
        || vec![routing_key_attribute(delivery.routing_key.as_str())],
    );
    let acker = delivery.acker.clone();
    let message = Message {
        exchange: delivery.exchange.to_string(),
        routing_key: delivery.routing_key.to_string(),
        redelivered: delivery.redelivered,
        properties: delivery.properties,
        data: delivery.data,
    };
    let Outcome { error, unreadable } = messaging::run(&*handler, message, context).await;
    let settled = match &error {
        None => acker.ack(BasicAckOptions::default()).await,
        Some(error) if unreadable => {
            tracing::error!(queue, "amqp: message rejected: {error}");
            acker.reject(BasicRejectOptions { requeue: false }).await
        }
        Some(error) => {
            let requeue = !settle.dead_letter;
            tracing::error!(
                queue,
                requeue,
                "amqp handler failed, message {}: {error}",
                if requeue { "requeued" } else { "dead-lettered" }
            );
            acker
                .nack(BasicNackOptions {
                    requeue,
                    ..Default::default()
                })
                .await
        }
    };
    match settled {
        Ok(true) => {}
        // The channel closed under the handler: the broker delivers the message again.
        Ok(false) => tracing::warn!(
            queue,
            "amqp: connection lost before the message was settled"
        ),
        Err(e) => tracing::warn!(queue, "amqp: settling the message: {e}"),
    }
    if let Some(started) = started {
        HANDLED.record(
            vec![("queue", Cow::Owned(queue.to_owned()))],
            error.is_some(),
            started.elapsed(),
        );
    }
}
