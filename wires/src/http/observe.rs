//! The instrumentation of `http::Server`: a layer on every endpoint of the router, so it
//! runs after routing and knows the route template, that runs each request in its server
//! span and counts it in the `http_server_*` metrics.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use opentelemetry::KeyValue;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::TraceContextExt as _;

use crate::telemetry::{self, Red, Series, TRACEPARENT_HEADER};

static METRICS: LazyLock<Red> = LazyLock::new(|| Red::new("http_server", "HTTP requests"));

/// Instruments every endpoint of a router (`Router::layer`, which covers the fallback).
#[derive(Debug, Clone, Copy)]
pub(super) struct ObserveLayer;

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            series: Arc::default(),
        }
    }
}

/// One endpoint, instrumented. Axum clones it for every request; the clones share the
/// endpoint's series.
#[derive(Clone)]
pub(super) struct Observe<S> {
    inner: S,
    series: Arc<EndpointSeries>,
}

impl<S> tower::Service<Request> for Observe<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Observed<S::Future> {
        let method = telemetry::method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let traceparent = request
            .headers()
            .get(TRACEPARENT_HEADER)
            .and_then(|value| value.to_str().ok());
        let context = telemetry::server_context(
            traceparent,
            || match &route {
                Some(route) => Cow::Owned(format!("{method} {}", route.as_str())),
                None => Cow::Borrowed(method),
            },
            || {
                let mut attributes = vec![
                    KeyValue::new("http.request.method", method),
                    KeyValue::new("url.path", request.uri().path().to_owned()),
                ];
                if let Some(route) = &route {
                    attributes.push(KeyValue::new("http.route", route.as_str().to_owned()));
                }
                attributes
            },
        );
        let started = Instant::now();
        let inner = self.inner.call(request);
        // Only a request with a trace context runs in it (metrics alone need none).
        let inner = if context.has_active_span() {
            Inner::InContext {
                inner: inner.with_context(context.clone()),
            }
        } else {
            Inner::Plain { inner }
        };
        Observed {
            inner,
            request: Some(Served {
                context,
                method,
                route,
                started,
                series: Arc::clone(&self.series),
            }),
        }
    }
}

pin_project_lite::pin_project! {
    #[project = InnerProj]
    enum Inner<F> {
        Plain { #[pin] inner: F },
        InContext { #[pin] inner: WithContext<F> },
    }
}

pin_project_lite::pin_project! {
    /// An endpoint's response future, which reports the request when it is ready.
    pub(super) struct Observed<F> {
        #[pin]
        inner: Inner<F>,
        request: Option<Served>,
    }
}

impl<F> Future for Observed<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = match this.inner.project() {
            InnerProj::Plain { inner } => inner.poll(cx),
            InnerProj::InContext { inner } => inner.poll(cx),
        };
        if let Poll::Ready(Ok(response)) = &polled
            && let Some(request) = this.request.take()
        {
            request.finish(response);
        }
        polled
    }
}

/// What a request reports when its response is ready.
struct Served {
    context: opentelemetry::Context,
    method: &'static str,
    route: Option<MatchedPath>,
    started: Instant,
    series: Arc<EndpointSeries>,
}

impl Served {
    /// Ends the request's span and counts it.
    fn finish(self, response: &Response) {
        let status = response.status();
        let span = self.context.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status.as_u16()),
            ));
            if status.is_server_error() {
                span.set_status(opentelemetry::trace::Status::error(status.to_string()));
            }
            span.end();
        }
        if telemetry::metrics_on() {
            let route = self.route.as_ref().map_or("", MatchedPath::as_str);
            self.series.record(
                self.method,
                route,
                status,
                status.is_server_error(),
                self.started.elapsed(),
            );
        }
    }
}

/// The series one endpoint has recorded into, by method, route and status. An endpoint
/// serves one route template (the fallback: none) with few methods and statuses, so a
/// short list searched in order costs less than hashing the labels.
#[derive(Default)]
struct EndpointSeries(RwLock<Vec<Entry>>);

struct Entry {
    method: &'static str,
    route: Box<str>,
    status: http::StatusCode,
    series: Series,
}

impl EndpointSeries {
    fn record(
        &self,
        method: &'static str,
        route: &str,
        status: http::StatusCode,
        error: bool,
        elapsed: Duration,
    ) {
        let matches = |entry: &&Entry| {
            entry.status == status && entry.method == method && *entry.route == *route
        };
        {
            let entries = self.0.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = entries.iter().find(matches) {
                entry.series.record(error, elapsed);
                return;
            }
        }
        let mut entries = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.iter().find(matches) {
            entry.series.record(error, elapsed);
            return;
        }
        let series = METRICS.series(&vec![
            ("method", Cow::Borrowed(method)),
            ("route", Cow::Owned(route.to_owned())),
            ("status", telemetry::status_label(status)),
        ]);
        series.record(error, elapsed);
        entries.push(Entry {
            method,
            route: route.into(),
            status,
            series,
        });
    }
}
