//! `http::Server`: serves an axum application, answering `/_/health` for internal hosts.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use harness::proto::harness::http::Server as ServerConfig;
use harness::runtime::{OutputWire, Shutdown, WireError};
use tower::Service;

/// The path of the health check.
pub const HEALTH_PATH: &str = "/_/health";

/// An HTTP server (HTTP/1.1 and h2c) serving an axum [`Router`], configured by
/// `harness.http.Server`.
///
/// `GET /_/health` answers `200 OK` when the request's host is internal (no `Host`,
/// `localhost` or an IP address: a probe or a sidecar), as harness does; requests to a
/// public name reach the application. On shutdown it stops accepting, lets in-flight
/// requests finish and closes idle connections.
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
            let mut response = Response::new(axum::body::Body::from("OK"));
            *response.status_mut() = StatusCode::OK;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return HealthFuture::Health {
                response: Some(response),
            };
        }
        HealthFuture::App {
            inner: self.0.call(request),
        }
    }
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
        }
    }
}
