//! `http::Server`: serves an axum application, answering `/_/health` for internal hosts;
//! `http::Client` (feature `http-client`): a client bound to one server.

#[cfg(feature = "http-client")]
mod client;
#[cfg(feature = "http-client")]
pub use client::{Client, Error as ClientError, ErrorKind as ClientErrorKind};

#[cfg(feature = "http")]
pub use server::*;

#[cfg(feature = "http")]
mod server {
    use std::borrow::Cow;
    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::LazyLock;
    use std::task::{Context, Poll};
    use std::time::Instant;

    use axum::Router;
    use axum::extract::{MatchedPath, Request};
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::Response;
    use harness::proto::harness::http::Server as ServerConfig;
    use harness::runtime::{OutputWire, Shutdown, WireError};
    use opentelemetry::KeyValue;
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::TraceContextExt as _;
    use tower::Service;

    use crate::telemetry::{self, Red, TRACEPARENT};

    static METRICS: LazyLock<Red> = LazyLock::new(|| Red::new("http_server", "HTTP requests"));

    /// The path of the health check.
    pub const HEALTH_PATH: &str = "/_/health";

    /// An HTTP server (HTTP/1.1 and h2c) serving an axum [`Router`], configured by
    /// `harness.http.Server`.
    ///
    /// `GET /_/health` answers `200 OK` when the request's host is internal (no `Host`,
    /// `localhost` or an IP address: a probe or a sidecar), as harness does; requests to a
    /// public name reach the application. It answers `503 Service Unavailable` while a
    /// required input wire is down (see `harness::runtime::health`). On shutdown it stops
    /// accepting, lets in-flight requests finish and closes idle connections.
    ///
    /// Every request runs in a server span, child of the W3C `traceparent` it carries (with
    /// `tracing::Otlp`), and counts in the `http_server_*` metrics by method, route template
    /// and status (with `metrics::Prometheus`); client wires called while serving it make
    /// child spans.
    ///
    /// ```
    /// use axum::routing::get;
    /// let server = harness_wires::http::Server::new(axum::Router::new().route("/", get(|| async { "hi" })));
    /// # let _ = server;
    /// ```
    pub struct Server {
        router: Router,
    }

    impl Server {
        pub fn new(router: Router) -> Self {
            // The matched route template, for metrics and span names; only when one of them
            // is on (those wires connect before `setup` builds this), since the middleware
            // costs every request.
            let router =
                if router.has_routes() && (telemetry::metrics_on() || telemetry::tracing_on()) {
                    router.route_layer(axum::middleware::from_fn(tag_route))
                } else {
                    router
                };
            Server { router }
        }
    }

    impl OutputWire<ServerConfig> for Server {
        async fn serve(self, config: ServerConfig, shutdown: Shutdown) -> Result<(), WireError> {
            let listener = crate::net::bind(config.bind.as_ref()).await?;
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "http server listening");
            }
            let service = WithHealth(self.router);
            axum::serve(listener, axum::ServiceExt::into_make_service(service))
                .with_graceful_shutdown(shutdown.requested())
                .await
                .map_err(WireError::other)
        }
    }

    /// The application behind the health check.
    #[derive(Clone)]
    struct WithHealth(Router);

    impl Service<Request> for WithHealth {
        type Response = Response;
        type Error = Infallible;
        type Future = HealthFuture;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            <Router as Service<Request>>::poll_ready(&mut self.0, cx)
        }

        fn call(&mut self, request: Request) -> HealthFuture {
            if request.uri().path() == HEALTH_PATH && is_internal(&request) {
                let (status, text) = match harness::runtime::health::not_ready() {
                    None => (StatusCode::OK, "OK".to_owned()),
                    Some(reason) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: {reason}"),
                    ),
                };
                let mut response = Response::new(axum::body::Body::from(text));
                *response.status_mut() = status;
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                return HealthFuture::Health {
                    response: Some(response),
                };
            }
            let traceparent = request
                .headers()
                .get(TRACEPARENT)
                .and_then(|value| value.to_str().ok());
            if !telemetry::metrics_on() && !telemetry::tracing_on() && traceparent.is_none() {
                return HealthFuture::App {
                    inner: self.0.call(request),
                };
            }
            let method = request.method().clone();
            let context = telemetry::server_context(
                traceparent,
                || Cow::Owned(method.as_str().to_owned()),
                || {
                    vec![
                        KeyValue::new("http.request.method", method.as_str().to_owned()),
                        KeyValue::new("url.path", request.uri().path().to_owned()),
                    ]
                },
            );
            let started = Instant::now();
            let inner = self.0.call(request);
            // Only a request with a trace context runs in it (metrics alone need none).
            let traced = context.has_active_span();
            HealthFuture::Traced {
                inner: Box::pin(async move {
                    let response = if traced {
                        inner.with_context(context.clone()).await
                    } else {
                        inner.await
                    };
                    let Ok(ref ok) = response;
                    finish(&context, &method, ok, started);
                    response
                }),
            }
        }
    }

    /// Ends the request's span and counts it.
    fn finish(
        context: &opentelemetry::Context,
        method: &axum::http::Method,
        response: &Response,
        started: Instant,
    ) {
        let status = response.status();
        let route = response
            .extensions()
            .get::<MatchedPath>()
            .map(|path| path.as_str().to_owned());
        let span = context.span();
        if span.is_recording() {
            if let Some(route) = &route {
                span.update_name(format!("{method} {route}"));
                span.set_attribute(KeyValue::new("http.route", route.clone()));
            }
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
            METRICS.record(
                vec![
                    ("method", telemetry::method_label(method)),
                    ("route", route.map(Cow::Owned).unwrap_or(Cow::Borrowed(""))),
                    ("status", telemetry::status_label(status)),
                ],
                status.is_server_error(),
                started.elapsed(),
            );
        }
    }

    /// Copies the matched route template into the response, where `finish` reads it.
    async fn tag_route(request: Request, next: axum::middleware::Next) -> Response {
        let path = request.extensions().get::<MatchedPath>().cloned();
        let mut response = next.run(request).await;
        if let Some(path) = path {
            response.extensions_mut().insert(path);
        }
        response
    }

    fn is_internal(request: &Request) -> bool {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| {
                request
                    .uri()
                    .authority()
                    .map(|authority| authority.as_str())
            });
        crate::net::is_internal_host(host)
    }

    pin_project_lite::pin_project! {
        #[project = HealthFutureProj]
        enum HealthFuture {
            Health { response: Option<Response> },
            App { #[pin] inner: axum::routing::future::RouteFuture<Infallible> },
            Traced { inner: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
        }
    }

    impl Future for HealthFuture {
        type Output = Result<Response, Infallible>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            match self.project() {
                HealthFutureProj::Health { response } => {
                    Poll::Ready(Ok(response.take().expect("polled after completion")))
                }
                HealthFutureProj::App { inner } => inner.poll(cx),
                HealthFutureProj::Traced { inner } => inner.as_mut().poll(cx),
            }
        }
    }
}
