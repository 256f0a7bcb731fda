use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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

pub use super::activity::DRAIN_WINDOW;
use super::activity::Timeouts;
use super::connections::Limits;

/// Time a client has to send a request's headers when `header_read_timeout` is unset.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a connection with no request in flight stays open when `idle_timeout` is unset:
/// longer than the 60 s of common load balancers, so that the balancer closes first and
/// never sends a request on a connection this server is closing.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Open connections at most when `max_connections` is 0.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Open files left to the rest of the process (database pools, other servers, logs)
/// when the connection limit is fitted into the open-file limit.
pub const RESERVED_FILES: usize = 128;

/// An HTTP server (HTTP/1.1 and h2c) serving an axum [`Router`], configured by
/// `harness.http.Server`.
///
/// `GET /_/health` answers `200 OK`, or `503 Service Unavailable` with the names of the
/// required input wires that are down (see `harness::runtime::health`; never their
/// addresses), when the request names the server by address: no host, `localhost` or an
/// IP literal, as a probe or a sidecar does. A request for a name (`kirk.acme.dev`, routed
/// by a gateway) reaches the application instead. This is routing, not access control:
/// the answer holds nothing secret, so it matters not who asks. A request with two `Host`
/// headers or an invalid one is answered `400 Bad Request`, whatever its path (RFC 9112).
///
/// Connections are bounded: a client has `header_read_timeout` to send a request's
/// headers (from the connection's start, or from the first byte of a later request), a
/// connection with no request in flight is closed after `idle_timeout`, and at most
/// `max_connections` are open at once: at the limit the server stops accepting until one
/// closes (new connections wait in the listen backlog) and logs a warning, at most every
/// 10 s. On shutdown it stops accepting and drains: requests in flight finish, HTTP/1
/// responses from then on carry `Connection: close`, an idle HTTP/1 connection stays open
/// [`DRAIN_WINDOW`] for a request already on its way, and HTTP/2 connections get GOAWAY.
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
        let limits = limits(&config);
        if let Ok(address) = listener.local_addr() {
            tracing::info!(
                %address,
                max_connections = limits.max_connections,
                header_read_timeout = ?limits.timeouts.header_read,
                idle_timeout = ?limits.timeouts.idle,
                "http server listening"
            );
        }
        super::connections::serve(listener, self.into_service(), limits, shutdown).await;
        Ok(())
    }
}

fn limits(config: &ServerConfig) -> Limits {
    let setting = |value: Option<&harness::prost_types::Duration>, default| {
        crate::settings::duration(value).unwrap_or(default)
    };
    Limits {
        timeouts: Timeouts {
            header_read: setting(
                config.header_read_timeout.as_ref(),
                DEFAULT_HEADER_READ_TIMEOUT,
            ),
            idle: setting(config.idle_timeout.as_ref(), DEFAULT_IDLE_TIMEOUT),
        },
        max_connections: max_connections(config.max_connections),
    }
}

/// The configured limit (0: [`DEFAULT_MAX_CONNECTIONS`]), lowered to leave
/// [`RESERVED_FILES`] of the process's open-file limit to everything else.
fn max_connections(configured: u32) -> usize {
    let wanted = match configured {
        0 => DEFAULT_MAX_CONNECTIONS,
        n => n as usize,
    };
    let Some(files) = crate::net::open_file_limit() else {
        return wanted;
    };
    let room = files.saturating_sub(RESERVED_FILES).max(1);
    if wanted <= room {
        return wanted;
    }
    if configured == 0 {
        tracing::info!(
            open_file_limit = files,
            max_connections = room,
            "http server connection limit lowered to fit the open-file limit"
        );
    } else {
        tracing::warn!(
            open_file_limit = files,
            max_connections = room,
            "http server max_connections {wanted} lowered to fit the open-file limit; raise the limit (ulimit -n) for more"
        );
    }
    room
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
        let Ok(host) = request_host(&request) else {
            return ServerFuture::Health {
                response: Some(plain_text(
                    StatusCode::BAD_REQUEST,
                    "bad Host header\n".into(),
                )),
            };
        };
        if request.uri().path() == HEALTH_PATH && crate::net::is_internal_host(host) {
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
    let down = harness::runtime::health::down_wires();
    if down.is_empty() {
        return plain_text(StatusCode::OK, "OK".to_owned());
    }
    // The names of the wires only: their addresses and errors go to the logs.
    let text = format!("not ready: {}", down.join(", "));
    plain_text(StatusCode::SERVICE_UNAVAILABLE, text)
}

fn plain_text(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(axum::body::Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The host a request names: the request target's authority (HTTP/2's `:authority`, an
/// HTTP/1 absolute-form target), else its one `Host` header; `None` without either.
/// Two `Host` headers, or one that is not a valid authority, are an error.
fn request_host(request: &Request) -> Result<Option<&str>, ()> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (first, second) = (hosts.next(), hosts.next());
    if second.is_some() {
        return Err(());
    }
    let header = match first {
        None => None,
        Some(value) => {
            let text = value.to_str().map_err(|_| ())?;
            text.parse::<http::uri::Authority>().map_err(|_| ())?;
            Some(text)
        }
    };
    Ok(request
        .uri()
        .authority()
        .map(http::uri::Authority::as_str)
        .or(header))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(hosts: &[&[u8]], uri: &str) -> Request {
        let mut request = Request::new(axum::body::Body::empty());
        *request.uri_mut() = uri.parse().unwrap();
        for host in hosts {
            request
                .headers_mut()
                .append(header::HOST, HeaderValue::from_bytes(host).unwrap());
        }
        request
    }

    #[test]
    fn the_host_is_the_target_authority_else_the_one_host_header() {
        assert_eq!(request_host(&request(&[], "/")), Ok(None));
        assert_eq!(
            request_host(&request(&[b"kirk.acme.dev"], "/")),
            Ok(Some("kirk.acme.dev"))
        );
        assert_eq!(
            request_host(&request(
                &[b"10.0.0.7:8080"],
                "http://kirk.acme.dev/_/health"
            )),
            Ok(Some("kirk.acme.dev"))
        );
    }

    #[test]
    fn two_host_headers_or_an_invalid_one_are_refused() {
        assert_eq!(
            request_host(&request(&[b"127.0.0.1", b"kirk.acme.dev"], "/")),
            Err(())
        );
        assert_eq!(request_host(&request(&[b"\xff\xfe"], "/")), Err(()));
        assert_eq!(request_host(&request(&[b"a b"], "/")), Err(()));
    }

    #[test]
    fn the_connection_limit_fits_the_open_file_limit() {
        let files = crate::net::open_file_limit();
        let limit = max_connections(0);
        assert!(limit >= 1);
        if let Some(files) = files {
            assert!(limit <= files.saturating_sub(RESERVED_FILES).max(1));
        }
        assert!(max_connections(u32::MAX) <= files.unwrap_or(usize::MAX));
        assert_eq!(max_connections(7), 7);
    }
}
