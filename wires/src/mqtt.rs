//! `mqtt::Publisher` (input) and `mqtt::Subscriber` (output): MQTT 5 messaging, through
//! rumqttc.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use harness::proto::harness::mqtt::{
    Publisher as PublisherConfig, QoS as QosConfig, Subscriber as SubscriberConfig,
};
use harness::runtime::{BoxError, InputWire, OutputWire, Shutdown, WireError};
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet, Publish, PublishProperties};
use rumqttc::v5::mqttbytes::{QoS, matches};
use rumqttc::v5::{AsyncClient, ConnectionError, Event as LoopEvent, EventLoop, MqttOptions};
use tokio::sync::mpsc;

use crate::cloudevents::{self, Encoded, Event, EventError, Events};
use crate::messaging::{self, Handler, Outcome, Slots};
use crate::telemetry::{self, Red, TRACEPARENT};

pub use crate::messaging::DEFAULT_MAX_CONCURRENCY;
pub use rumqttc;

/// Interval of keep-alive pings when the configuration sets none.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Time allowed to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Wait before reconnecting to a broker that went away.
pub const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Requests the client queues before `publish` waits.
const REQUEST_CAPACITY: usize = 1024;

/// QoS 1 and 2 messages the broker may send before they are acknowledged (MQTT 5's receive
/// maximum): at most half the request queue, so that their acknowledgements fit in it
/// beside the service's own publishes, however fast the messages come.
const RECEIVE_MAXIMUM: u16 = (REQUEST_CAPACITY / 2) as u16;

/// Messages a subscriber holds before the connection waits for it.
const ROUTE_CAPACITY: usize = 256;

static PUBLISHED: LazyLock<Red> = LazyLock::new(|| Red::new("mqtt_publish", "MQTT publishes"));
static HANDLED: LazyLock<Red> =
    LazyLock::new(|| Red::new("mqtt_subscriber", "MQTT messages handled"));

/// An MQTT 5 connection that publishes, configured by `harness.mqtt.Publisher`: the
/// broker's address, a client id (default `PROGRAM-HOSTNAME`), credentials, a session
/// expiry (a persistent session: the broker keeps the subscriptions and the undelivered
/// QoS 1 and 2 messages while the service is away), keep-alive and the QoS of publishes.
/// It is also the connection of the service's [`Subscriber`]s.
///
/// At start it connects, so a broker that is down stops the start after the runner's
/// retries, and a refused client (credentials, client id) stops it at once. A connection
/// lost while running is made again every [`RECONNECT_DELAY`]; meanwhile the wire reports
/// itself down (`/_/health` answers 503 when it is a required input). Subscriptions are
/// made again when the broker kept no session.
///
/// [`publish`](Publisher::publish) hands the message to the client, which sends it (QoS 1
/// and 2 are sent again after a reconnection until the broker acknowledges them); it sends
/// the W3C `traceparent` as a user property, makes a producer span and counts in
/// `mqtt_publish_*`.
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
    routes: Arc<Routes>,
    qos: QoS,
    events: Events,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("qos", &self.qos)
            .finish_non_exhaustive()
    }
}

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The client is closed (the service is stopping) or the topic is invalid.
    #[error("publish to {topic}: {source}")]
    Client {
        topic: String,
        #[source]
        source: rumqttc::v5::ClientError,
    },
    /// The event could not be written.
    #[error("publish to {topic}: {source}")]
    Event {
        topic: String,
        #[source]
        source: EventError,
    },
}

/// Messages held for a subscriber that is not serving yet (a persistent session delivers
/// as soon as the connection is made, before the outputs are served).
const PARK_LIMIT: usize = 10_000;

/// The subscribers of a connection, by subscription, and the messages none takes yet.
#[derive(Default)]
struct Routes(Mutex<RouteTable>);

#[derive(Default)]
struct RouteTable {
    routes: Vec<Route>,
    /// Unacknowledged: dropped at the end, they are delivered again to the session.
    parked: std::collections::VecDeque<Publish>,
}

struct Route {
    /// The topic filter, to match messages against.
    filter: String,
    /// What is subscribed: the filter, or `$share/GROUP/FILTER`.
    subscription: String,
    qos: QoS,
    /// `None` once its subscriber stopped: its messages are left unacknowledged, for the
    /// broker to deliver again.
    sender: Option<mpsc::Sender<Publish>>,
}

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, RouteTable> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sender of the serving subscriber the message is for, or else the message is
    /// parked, unacknowledged, until one serves (a stopped one never does: the broker
    /// delivers it again to the next session).
    fn route(&self, publish: Publish) -> Option<(mpsc::Sender<Publish>, Publish)> {
        let topic = String::from_utf8_lossy(&publish.topic);
        let mut table = self.lock();
        let sender = table
            .routes
            .iter()
            .find(|route| route.sender.is_some() && matches(&topic, &route.filter))
            .and_then(|route| route.sender.clone());
        match sender {
            Some(sender) => Some((sender, publish)),
            None => {
                if table.parked.len() == PARK_LIMIT {
                    table.parked.pop_front();
                }
                table.parked.push_back(publish);
                None
            }
        }
    }

    /// Adds a serving subscriber; returns the parked messages it takes.
    fn add(&self, route: Route) -> std::collections::VecDeque<Publish> {
        let mut table = self.lock();
        let (taken, kept) = std::mem::take(&mut table.parked)
            .into_iter()
            .partition(|p| matches(&String::from_utf8_lossy(&p.topic), &route.filter));
        table.parked = kept;
        table.routes.push(route);
        taken
    }

    /// The subscriber of `subscription` stopped serving.
    fn stop(&self, subscription: &str) {
        for route in self.lock().routes.iter_mut() {
            if route.subscription == subscription {
                route.sender = None;
            }
        }
    }

    fn subscriptions(&self) -> Vec<(String, QoS)> {
        self.lock()
            .routes
            .iter()
            .filter(|route| route.sender.is_some())
            .map(|route| (route.subscription.clone(), route.qos))
            .collect()
    }
}

fn qos(config: QosConfig) -> QoS {
    match config {
        QosConfig::AtMostOnce => QoS::AtMostOnce,
        QosConfig::AtLeastOnce => QoS::AtLeastOnce,
        QosConfig::ExactlyOnce => QoS::ExactlyOnce,
    }
}

/// `PROGRAM-HOSTNAME`: one id per instance, stable across restarts of a named host.
fn default_client_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let program = telemetry::program_name();
    if host.is_empty() {
        program
    } else {
        format!("{program}-{host}")
    }
}

impl InputWire<PublisherConfig> for Publisher {
    async fn connect(config: &PublisherConfig) -> Result<Self, WireError> {
        let address =
            harness::socket::SocketAddress::from_socket("address", config.address.as_ref())
                .map_err(WireError::config)?;
        let peer = address.authority();
        let client_id = if config.client_id.is_empty() {
            default_client_id()
        } else {
            config.client_id.clone()
        };
        let mut options = MqttOptions::new(client_id, address.host.clone(), address.port);
        let keep_alive = config
            .keep_alive
            .and_then(|d| Duration::try_from(d).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_KEEP_ALIVE);
        let session = config
            .session_expiry
            .and_then(|d| Duration::try_from(d).ok())
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
            .filter(|seconds| *seconds > 0);
        options
            .set_keep_alive(keep_alive)
            .set_connection_timeout(CONNECT_TIMEOUT.as_secs())
            .set_clean_start(session.is_none())
            .set_session_expiry_interval(session)
            .set_manual_acks(true)
            .set_receive_maximum(Some(RECEIVE_MAXIMUM));
        if !config.username.is_empty() || !config.password.is_empty() {
            options.set_credentials(config.username.clone(), config.password.clone());
        }
        let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
        first_connection(&mut eventloop, &peer).await?;
        let routes = Arc::new(Routes::default());
        tokio::spawn(run(eventloop, client.clone(), routes.clone(), peer));
        Ok(Publisher {
            client,
            routes,
            qos: qos(config.qos()),
            events: Events::new(config.cloudevents.as_ref()),
        })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        let client = self.client.clone();
        async move {
            if let Err(error) = client.disconnect().await {
                tracing::debug!("mqtt: disconnecting: {error}");
            }
        }
    }
}

/// Polls until the broker accepts the connection; its refusal is not retried.
async fn first_connection(eventloop: &mut EventLoop, peer: &str) -> Result<(), WireError> {
    loop {
        match eventloop.poll().await {
            Ok(LoopEvent::Incoming(Packet::ConnAck(_))) => return Ok(()),
            Ok(_) => {}
            Err(ConnectionError::ConnectionRefused(code)) => {
                return Err(WireError::config(format!(
                    "MQTT broker at {peer} refused the connection: {}",
                    refusal(code)
                )));
            }
            Err(error) => {
                return Err(WireError::connect(format!(
                    "cannot connect to MQTT at {peer}: {error}"
                )));
            }
        }
    }
}

fn refusal(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::BadUserNamePassword => "bad user name or password",
        ConnectReturnCode::NotAuthorized => "not authorized",
        ConnectReturnCode::ClientIdentifierNotValid | ConnectReturnCode::BadClientId => {
            "client id not valid"
        }
        ConnectReturnCode::ServerUnavailable | ConnectReturnCode::ServiceUnavailable => {
            "server unavailable"
        }
        _ => "refused",
    }
}

/// Drives the connection: routes each message to its subscriber, makes the subscriptions
/// again when the broker kept no session, reconnects, and reports the state for the
/// health check. Ends when the client disconnected (the wire closed).
async fn run(mut eventloop: EventLoop, client: AsyncClient, routes: Arc<Routes>, peer: String) {
    let reporter = harness::runtime::health::reporter();
    loop {
        match eventloop.poll().await {
            Ok(LoopEvent::Incoming(Packet::Publish(publish))) => {
                if let Some((sender, publish)) = routes.route(publish) {
                    // A subscriber that stopped meanwhile leaves it unacknowledged.
                    let _ = sender.send(publish).await;
                }
            }
            Ok(LoopEvent::Incoming(Packet::ConnAck(connack))) => {
                reporter.up();
                if !connack.session_present {
                    for (subscription, qos) in routes.subscriptions() {
                        if let Err(error) = client.subscribe(subscription.clone(), qos).await {
                            tracing::warn!(subscription, "mqtt: subscribing again: {error}");
                        }
                    }
                }
            }
            Ok(LoopEvent::Incoming(Packet::Disconnect(_))) => {
                reporter.down(format!("mqtt at {peer}: disconnected by the broker"));
            }
            // The wire closed: the broker ends the connection next.
            Ok(LoopEvent::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(ConnectionError::RequestsDone) => break,
            Err(error) => {
                reporter.down(format!("mqtt at {peer}: {error}"));
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
        }
    }
}

impl Publisher {
    /// The rumqttc client; clones share the connection.
    pub fn client(&self) -> &AsyncClient {
        &self.client
    }

    /// How [`publish_event`](Publisher::publish_event) writes events; `events().event(ty)`
    /// starts one with a fresh id, the time and the service's source.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Publishes `payload` on `topic` with the configured QoS.
    pub async fn publish(
        &self,
        topic: impl Into<String>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.send(topic.into(), None, payload.into()).await
    }

    /// Publishes a CloudEvent in the configured content mode (MQTT binding: binary as user
    /// properties and the content type, structured as JSON with content type
    /// `application/cloudevents+json`).
    pub async fn publish_event(
        &self,
        topic: impl Into<String>,
        event: Event,
    ) -> Result<(), PublishError> {
        let topic = topic.into();
        let mut properties = PublishProperties::default();
        let payload = match self.events.encode(event) {
            Ok(Encoded::Binary {
                attributes,
                datacontenttype,
                data,
            }) => {
                properties.user_properties = attributes;
                properties.content_type = datacontenttype;
                data
            }
            Ok(Encoded::Structured(body)) => {
                properties.content_type = Some(cloudevents::JSON_FORMAT.to_owned());
                body
            }
            Err(source) => return Err(PublishError::Event { topic, source }),
        };
        self.send(topic, Some(properties), payload.into()).await
    }

    /// [`publish`](Publisher::publish) with MQTT 5 properties; `traceparent` is added to
    /// the user properties.
    pub async fn publish_with(
        &self,
        topic: impl Into<String>,
        properties: PublishProperties,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.send(topic.into(), Some(properties), payload.into())
            .await
    }

    /// One publish, as every public one makes it: the span, the `traceparent` in the
    /// properties, the client's call and the metric.
    async fn send(
        &self,
        topic: String,
        properties: Option<PublishProperties>,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        let started = telemetry::metrics_on().then(Instant::now);
        let span = messaging::publish_span("mqtt", &topic, payload.len(), Vec::new);
        // Without properties the packet has no properties section at all.
        let mut properties = properties.filter(|p| *p != PublishProperties::default());
        if let Some(value) = telemetry::outgoing_traceparent(span.as_ref()) {
            properties
                .get_or_insert_default()
                .user_properties
                .push((TRACEPARENT.to_owned(), value));
        }
        let published = match properties {
            None => self.client.publish(topic, self.qos, false, payload).await,
            Some(properties) => {
                self.client
                    .publish_with_properties(topic, self.qos, false, payload, properties)
                    .await
            }
        };
        // The topic is not copied for the error: a refused request carries it back.
        let result = published.map_err(|source| PublishError::Client {
            topic: refused_topic(&source),
            source,
        });
        telemetry::end_span(span.as_ref(), result.as_ref().err().map(|e| e.to_string()));
        if let Some(started) = started {
            PUBLISHED.record(
                vec![("qos", Cow::Borrowed(qos_label(self.qos)))],
                result.is_err(),
                started.elapsed(),
            );
        }
        result
    }
}

/// The topic of the publish a client refused.
fn refused_topic(error: &rumqttc::v5::ClientError) -> String {
    use rumqttc::v5::{ClientError, Request};
    match error {
        ClientError::Request(Request::Publish(publish))
        | ClientError::TryRequest(Request::Publish(publish)) => topic_of(publish).into_owned(),
        _ => "(unknown topic)".to_owned(),
    }
}

fn qos_label(qos: QoS) -> &'static str {
    match qos {
        QoS::AtMostOnce => "0",
        QoS::AtLeastOnce => "1",
        QoS::ExactlyOnce => "2",
    }
}

/// One message delivered to a [`Subscriber`]'s handler.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub qos: QoS,
    pub retain: bool,
    /// The broker sent it before without an acknowledgement (after a reconnection).
    pub dup: bool,
    pub payload: Bytes,
    /// Content type, user properties…
    pub properties: Option<PublishProperties>,
}

/// The CloudEvent of an MQTT 5 message (binary or structured, per the MQTT binding).
pub fn event_of(message: &Message) -> Result<Event, EventError> {
    let content_type = message
        .properties
        .as_ref()
        .and_then(|p| p.content_type.as_deref());
    let mut attributes: Vec<(String, String)> = message
        .properties
        .iter()
        .flat_map(|p| p.user_properties.iter())
        .filter(|(name, _)| name != TRACEPARENT)
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    if let Some(content_type) = content_type
        && !attributes.iter().any(|(name, _)| name == "datacontenttype")
    {
        attributes.push(("datacontenttype".to_owned(), content_type.to_owned()));
    }
    cloudevents::decode(content_type, attributes, &message.payload)
}

/// Runs a handler for each message of a topic filter, configured by
/// `harness.mqtt.Subscriber`: subscribed with its QoS (in `share_group`, an MQTT 5 shared
/// subscription, when set), at most `max_concurrency` handlers at once (default 16), each in
/// a consumer span (child of the publisher's `traceparent`) counted in `mqtt_subscriber_*`
/// by filter.
///
/// A QoS 1 or 2 message is acknowledged once its handler returned: a service killed in
/// the middle gets it again from a persistent session (`session_expiry`) when it
/// reconnects. MQTT has no negative acknowledgement: a message whose handler fails or
/// panics is logged, counted and acknowledged (not delivered again). The service keeps
/// running.
///
/// On shutdown it stops taking messages and waits for the running handlers (bounded by the
/// runner's grace period); messages received but not started are left unacknowledged, for
/// the broker to deliver again to the persistent session. The subscription stays in the
/// session.
pub struct Subscriber {
    connection: Publisher,
    tasks: messaging::Tasks<Publish, (AsyncClient, Arc<str>)>,
}

impl Subscriber {
    /// A subscriber on `connection`'s MQTT connection, running `handler` for each message.
    pub fn new<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Subscriber {
            connection: connection.clone(),
            tasks: messaging::tasks(messaging::Messages(handler), handle),
        }
    }

    /// A subscriber handing `handler` the CloudEvent of each message.
    pub fn events<F, Fut, E>(connection: &Publisher, handler: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Subscriber {
            connection: connection.clone(),
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

impl OutputWire<SubscriberConfig> for Subscriber {
    async fn serve(self, config: SubscriberConfig, shutdown: Shutdown) -> Result<(), WireError> {
        let concurrency = messaging::concurrency(config.max_concurrency);
        let filter: Arc<str> = Arc::from(config.topic.as_str());
        let subscription = if config.share_group.is_empty() {
            config.topic.clone()
        } else {
            format!("$share/{}/{}", config.share_group, config.topic)
        };
        let qos = qos(config.qos());
        let (sender, mut received) = mpsc::channel(ROUTE_CAPACITY.max(concurrency));
        let routes = &self.connection.routes;
        let mut parked: std::collections::VecDeque<Publish> = routes.add(Route {
            filter: config.topic.clone(),
            subscription: subscription.clone(),
            qos,
            sender: Some(sender),
        });
        let client = &self.connection.client;
        client
            .subscribe(subscription.clone(), qos)
            .await
            .map_err(|e| WireError::other(format!("mqtt: subscribing to {subscription}: {e}")))?;
        tracing::info!(subscription, concurrency, "mqtt subscriber running");
        let mut slots = Slots::new(concurrency);
        let stopping = shutdown.requested();
        tokio::pin!(stopping);
        loop {
            let next = async {
                match parked.pop_front() {
                    Some(publish) => Some(publish),
                    None => received.recv().await,
                }
            };
            let Some((slot, Some(publish))) = slots.next(&mut stopping, next).await else {
                break;
            };
            slots.run(
                slot,
                (self.tasks)(publish, (client.clone(), filter.clone())),
            );
        }
        // What arrives from now on, and what is queued, stays unacknowledged.
        routes.stop(&subscription);
        received.close();
        slots.drain("mqtt subscriber", &subscription).await;
        Ok(())
    }
}

/// Acknowledges a message without waiting in the handler's slot. The connection's event
/// loop takes acknowledgements from the client's request queue; while it waits for a
/// subscriber with no free slot, that queue can fill, and a handler waiting there for
/// room would hold its slot forever. Only then a task of its own waits for room.
fn acknowledge(client: &AsyncClient, publish: Publish) {
    match client.try_ack(&publish) {
        Ok(()) => {}
        Err(rumqttc::v5::ClientError::TryRequest(_)) => {
            let client = client.clone();
            tokio::spawn(async move {
                if let Err(e) = client.ack(&publish).await {
                    tracing::warn!(topic = %topic_of(&publish), "mqtt: ack: {e}");
                }
            });
        }
        Err(e) => tracing::warn!(topic = %topic_of(&publish), "mqtt: ack: {e}"),
    }
}

fn topic_of(publish: &Publish) -> Cow<'_, str> {
    String::from_utf8_lossy(&publish.topic)
}

/// Runs the handler on one message and acknowledges it.
async fn handle<H: Handler<Message>>(
    handler: Arc<H>,
    mut publish: Publish,
    (client, filter): (AsyncClient, Arc<str>),
) {
    let started = telemetry::metrics_on().then(Instant::now);
    // The handler takes the payload and properties; acknowledging needs only the packet
    // identifier and QoS, and the topic stays for the log.
    let message = Message {
        topic: topic_of(&publish).into_owned(),
        qos: publish.qos,
        retain: publish.retain,
        dup: publish.dup,
        payload: std::mem::take(&mut publish.payload),
        properties: publish.properties.take(),
    };
    let traceparent = message
        .properties
        .iter()
        .flat_map(|p| p.user_properties.iter())
        .find(|(name, _)| name == TRACEPARENT)
        .map(|(_, value)| value.clone());
    let context = messaging::process_context(
        "mqtt",
        traceparent.as_deref(),
        &filter,
        || message.topic.clone(),
        Vec::new,
    );
    let Outcome { error, unreadable } = messaging::run(&*handler, message, context).await;
    if let Some(error) = &error {
        let topic = topic_of(&publish);
        if unreadable {
            tracing::error!(%topic, "mqtt: message dropped: {error}");
        } else {
            tracing::error!(%topic, "mqtt handler failed (not delivered again): {error}");
        }
    }
    acknowledge(&client, publish);
    if let Some(started) = started {
        HANDLED.record(
            vec![("filter", Cow::Owned(filter.to_string()))],
            error.is_some(),
            started.elapsed(),
        );
    }
}
