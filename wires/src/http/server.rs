use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use harness::proto::harness::http::Server as ServerConfig;
use harness::runtime::{OutputWire, Shutdown, WireError};
use opentelemetry::context::{FutureExt as _, WithContext};
use tower::Service;

use crate::telemetry::{self, TRACEPARENT_HEADER};

/// The path of the health check.
pub use harness::contract::HEALTH_PATH;

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
/// child spans. Requests that match no route count with the route `""`; methods outside
/// the standard nine count as `_OTHER`.
///
/// ```
/// use axum::routing::get;
/// let server = harness_wires::http::Server::new(axum::Router::new().route("/", get(|| async { "hi" })));
/// # let _ = server;
/// ```
pub struct Server {
    service: ServerService,
}

impl Server {
    pub fn new(router: Router) -> Self {
        // Two versions of the application: instrumented after routing (where the route
        // template is known) and plain, chosen per request, because `metrics::Prometheus`
        // may turn metrics on only when it starts serving, after `setup` built this.
        // `with_state` turns the handlers into routes once: a router called as a service
        // without it (axum's own `serve` does it) makes each request's route afresh.
        let observed = router
            .clone()
            .layer(super::observe::ObserveLayer)
            .with_state(());
        let plain = router.with_state(());
        Server {
            service: ServerService { plain, observed },
        }
    }

    /// The service this server runs: the health check in front of the application. For
    /// tests in-process, with `tower::ServiceExt::oneshot`.
    pub fn into_service(self) -> ServerService {
        self.service
    }
}

impl OutputWire<ServerConfig> for Server {
    async fn serve(self, config: ServerConfig, shutdown: Shutdown) -> Result<(), WireError> {
        let listener = crate::net::bind(config.bind.as_ref()).await?;
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "http server listening");
        }
        axum::serve(
            listener,
            axum::ServiceExt::into_make_service(self.into_service()),
        )
        .with_graceful_shutdown(shutdown.requested())
        .await
        .map_err(WireError::other)
    }
}

/// The application behind the health check (see [`Server::into_service`]).
#[derive(Clone)]
pub struct ServerService {
    plain: Router,
    observed: Router,
}

impl Service<Request> for ServerService {
    type Response = Response;
    type Error = Infallible;
    type Future = ServerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A router is always ready.
        <Router as Service<Request>>::poll_ready(&mut self.plain, cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.uri().path() == HEALTH_PATH && is_internal(&request) {
            return ServerFuture::Health {
                response: Some(health()),
            };
        }
        if telemetry::metrics_on() || telemetry::tracing_on() {
            return ServerFuture::App {
                inner: self.observed.call(request),
            };
        }
        // Without tracing, a caller's trace context is still passed on by the client
        // wires the application calls.
        if let Some(remote) = request
            .headers()
            .get(TRACEPARENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(telemetry::parse_traceparent)
        {
            let context = telemetry::remote_parent(Some(remote));
            return ServerFuture::InContext {
                inner: self.plain.call(request).with_context(context),
            };
        }
        ServerFuture::App {
            inner: self.plain.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`ServerService`].
    #[project = ServerFutureProj]
    pub enum ServerFuture {
        Health { response: Option<Response> },
        App { #[pin] inner: RouteFuture<Infallible> },
        InContext { #[pin] inner: WithContext<RouteFuture<Infallible>> },
    }
}

impl Future for ServerFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ServerFutureProj::Health { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            ServerFutureProj::App { inner } => inner.poll(cx),
            ServerFutureProj::InContext { inner } => inner.poll(cx),
        }
    }
}

fn health() -> Response {
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
