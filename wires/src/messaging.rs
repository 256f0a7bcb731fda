//! What the messaging wires (NATS, AMQP, MQTT) share: the spans of a publish and of a
//! message handled, the handlers and the task of each message, running a handler on one
//! message (errors and panics caught, in the message's trace context), and the bound on
//! handlers at once.

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;
use harness::runtime::BoxError;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cloudevents::{Event, EventError};
use crate::telemetry;

/// The producer span of publishing `size` bytes to `destination` (`None` without
/// tracing), with the messaging attributes and `extra` ones.
pub(crate) fn publish_span(
    system: &'static str,
    destination: &str,
    size: usize,
    extra: impl FnOnce() -> Vec<KeyValue>,
) -> Option<Context> {
    telemetry::client_context(
        || Cow::Owned(format!("publish {destination}")),
        SpanKind::Producer,
        || {
            let mut attributes = vec![
                KeyValue::new("messaging.system", system),
                KeyValue::new("messaging.operation.type", "publish"),
                KeyValue::new("messaging.destination.name", destination.to_owned()),
                KeyValue::new("messaging.message.body.size", size as i64),
            ];
            attributes.extend(extra());
            attributes
        },
    )
}

/// The context a message is handled in: a consumer span `process {source}` (the
/// subscription), child of the publisher's `traceparent`.
pub(crate) fn process_context(
    system: &'static str,
    traceparent: Option<&str>,
    source: &str,
    destination: impl FnOnce() -> String,
    extra: impl FnOnce() -> Vec<KeyValue>,
) -> Context {
    telemetry::server_context(
        traceparent,
        || Cow::Owned(format!("process {source}")),
        || {
            let mut attributes = vec![
                KeyValue::new("messaging.system", system),
                KeyValue::new("messaging.operation.type", "process"),
                KeyValue::new("messaging.destination.name", destination()),
            ];
            attributes.extend(extra());
            attributes
        },
    )
}

/// The handlers a subscriber runs, at most a bound at once: each holds a permit of the
/// semaphore while it runs, so waiting for every permit is waiting for every handler (no
/// task set to lock for each message).
pub(crate) struct Slots {
    permits: Arc<Semaphore>,
    size: u32,
}

/// A free place for one handler, taken while it is held.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    pub(crate) fn new(concurrency: usize) -> Slots {
        let size = u32::try_from(concurrency)
            .unwrap_or(u32::MAX)
            .min(Semaphore::MAX_PERMITS as u32);
        Slots {
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
        }
    }

    /// Waits for a free slot, then for `next`; `None` when `stopping` completes first.
    pub(crate) async fn next<S, T>(
        &mut self,
        stopping: &mut Pin<&mut S>,
        next: impl Future<Output = T>,
    ) -> Option<(Slot, T)>
    where
        S: Future<Output = ()>,
    {
        // A free slot is the common case: taken without the race against `stopping`.
        // `biased`: `stopping` is polled first (a stop is never passed over for a ready
        // message) and no random start is drawn for each message.
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::select! {
                biased;
                _ = stopping.as_mut() => return None,
                permit = self.permits.clone().acquire_owned() => permit.expect("never closed"),
            },
        };
        tokio::select! {
            biased;
            _ = stopping.as_mut() => None,
            next = next => Some((Slot { _permit: permit }, next)),
        }
    }

    /// Runs `task` in a task of its own, in `slot`, freeing it when done.
    pub(crate) fn run(&mut self, slot: Slot, task: Task) {
        tokio::spawn(async move {
            task.await;
            drop(slot);
        });
    }

    /// Waits for the running handlers (the runner bounds the wait by its grace period).
    pub(crate) async fn drain(self, wire: &str, source: &str) {
        let running = self.size as usize - self.permits.available_permits();
        if running > 0 {
            tracing::info!(source, running, "{wire} draining");
        }
        let _all = self.permits.acquire_many(self.size).await;
    }
}

/// Handlers running at once when the configuration's `max_concurrency` is 0; kube-gen's
/// autoscaler reads the same constant for the backlog per replica.
pub use harness::contract::DEFAULT_MAX_CONCURRENCY;

/// One message's whole handling, the wire's part and the user's handler, in one box: a
/// spawn moves a pointer, not the large future (the message, the handler's future, the
/// acknowledgement's), and a message costs one allocation besides the task's own
/// (measured in docs/benchmarks-brokers.md).
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Makes the [`Task`] of each delivery `D`, given what the serve loop shares with it (`C`).
pub(crate) type Tasks<D, C> = Box<dyn Fn(D, C) -> Task + Send + Sync>;

/// The tasks of a subscriber running `handler`: `handle` is the wire's handling of one
/// delivery, generic over the handler, so that the handler's future lives in the task's
/// box.
pub(crate) fn tasks<D, C, H, Fut>(handler: H, handle: fn(Arc<H>, D, C) -> Fut) -> Tasks<D, C>
where
    D: 'static,
    C: 'static,
    H: Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    Box::new(move |delivery, shared| Box::pin(handle(handler.clone(), delivery, shared)))
}

/// The user's handler of messages `M`, as the wires call it.
pub(crate) trait Handler<M>: Send + Sync + 'static {
    /// The handling of `message`, its error boxed.
    fn call(&self, message: M) -> impl Future<Output = Result<(), BoxError>> + Send + 'static;
}

/// A handler of the wire's own messages.
pub(crate) struct Messages<F>(pub F);

impl<M, F, Fut, E> Handler<M> for Messages<F>
where
    F: Fn(M) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, message: M) -> impl Future<Output = Result<(), BoxError>> + Send + 'static {
        let future = (self.0)(message);
        async move { future.await.map_err(Into::into) }
    }
}

/// A handler of CloudEvents: each message is decoded with `decode` first; one that is not
/// a CloudEvent fails with an [`EventError`] (see [`Outcome::unreadable`]).
pub(crate) struct Events<M, F> {
    pub decode: fn(&M) -> Result<Event, EventError>,
    pub handler: F,
}

impl<M, F, Fut, E> Handler<M> for Events<M, F>
where
    M: 'static,
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, message: M) -> impl Future<Output = Result<(), BoxError>> + Send + 'static {
        let future = (self.decode)(&message).map(&self.handler);
        async move {
            match future {
                Ok(future) => future.await.map_err(Into::into),
                Err(error) => Err(error.into()),
            }
        }
    }
}

/// Handlers at once for a configured `max_concurrency` (0: the default).
pub(crate) fn concurrency(configured: u32) -> usize {
    if configured == 0 {
        DEFAULT_MAX_CONCURRENCY as usize
    } else {
        configured as usize
    }
}

/// How a handler ended on one message.
pub(crate) struct Outcome {
    /// Why it failed (its error and sources, or the panic), `None` when it succeeded.
    pub error: Option<String>,
    /// The message is not a readable CloudEvent: another delivery would fail alike.
    pub unreadable: bool,
}

/// Runs `handler` on `message` in `context` (the consumer span), catching a panic, and
/// ends the span with the outcome.
pub(crate) async fn run<M, H: Handler<M>>(handler: &H, message: M, context: Context) -> Outcome {
    // Called at the first poll, inside `catch_unwind`: a handler that panics before it
    // returns its future is caught too.
    let future = async move { handler.call(message).await };
    // Without a span (tracing off and no caller's context) there is nothing to attach at
    // each poll.
    let outcome = if context.has_active_span() {
        AssertUnwindSafe(future.with_context(context.clone()))
            .catch_unwind()
            .await
    } else {
        AssertUnwindSafe(future).catch_unwind().await
    };
    let unreadable = matches!(&outcome, Ok(Err(error)) if error.is::<EventError>());
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(chain(&*error)),
        Err(panic) => Some(format!("handler panicked: {}", panic_message(&*panic))),
    };
    let span = context.span();
    if let Some(error) = &error {
        span.set_status(opentelemetry::trace::Status::error(error.clone()));
    }
    span.end();
    Outcome { error, unreadable }
}

/// An error and its sources on one line, skipping a source its parent already shows.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        let part = next.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = next.source();
    }
    text
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}
