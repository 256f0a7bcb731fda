//! `http::Client`: an HTTP/1.1 client bound to one server, with timeouts, trace-context
//! propagation and RED metrics.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use harness::proto::harness::http::Connection;
use harness::runtime::{InputWire, WireError};
use http::{HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;

use crate::settings::duration;
use crate::telemetry::{self, Red, TRACEPARENT_HEADER};

/// Time allowed to connect when the configuration sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time allowed for a request when the configuration sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

static METRICS: LazyLock<Red> = LazyLock::new(|| Red::new("http_client", "HTTP client requests"));

/// An HTTP/1.1 client bound to the server of `harness.http.Connection`, with keep-alive
/// connections, a connect timeout and a timeout of whole requests (response body
/// included).
///
/// Request targets are paths (`/users/7`), resolved against the configured address. Every
/// request sends the W3C `traceparent` of the request being served, makes a client span
/// (with `tracing::Otlp`) and counts in `http_client_*` metrics (with
/// `metrics::Prometheus`). It connects lazily: the peer may start after this service.
///
/// ```ignore
/// let reply = wires.api.get("/status").await?;
/// assert!(reply.status().is_success());
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    scheme_authority: String,
    peer: Cow<'static, str>,
    timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.scheme_authority)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Why a request failed.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// What went wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer within the timeout.
    Timeout,
    /// The request could not be sent or its answer not read.
    Transport,
    /// The request itself is invalid (a bad path or header).
    Request,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl InputWire<Connection> for Client {
    async fn connect(config: &Connection) -> Result<Self, WireError> {
        let address =
            harness::socket::SocketAddress::from_socket("address", config.address.as_ref())
                .map_err(WireError::config)?;
        let scheme_authority = format!("http://{address}");
        scheme_authority
            .parse::<Uri>()
            .map_err(|e| WireError::config(format!("address: {e}")))?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(
            duration(config.connect_timeout.as_ref()).unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        ));
        connector.set_nodelay(true);
        let client = HyperClient::builder(TokioExecutor::new()).build(connector);
        Ok(Client {
            inner: Arc::new(Inner {
                client,
                peer: Cow::Owned(address.authority()),
                scheme_authority,
                timeout: duration(config.timeout.as_ref()).unwrap_or(DEFAULT_TIMEOUT),
            }),
        })
    }
}

impl Client {
    /// `http://HOST:PORT` of the server.
    pub fn base(&self) -> &str {
        &self.inner.scheme_authority
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Response<Bytes>, Error> {
        self.send(
            Request::get(path)
                .body(Bytes::new())
                .map_err(request_error)?,
        )
        .await
    }

    /// `POST path` with `body` of `content_type`.
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<Response<Bytes>, Error> {
        let request = Request::post(path)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(body.into())
            .map_err(request_error)?;
        self.send(request).await
    }

    /// Sends `request` (its URI a path, or an absolute URI to the same server) and reads
    /// the whole response, within the timeout.
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let started = Instant::now();
        let (mut parts, body) = request.into_parts();
        let target = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        parts.uri = format!("{}{}", self.inner.scheme_authority, target)
            .parse()
            .map_err(request_error)?;
        let method = parts.method.clone();
        let span = telemetry::client_context(
            || Cow::Owned(method.as_str().to_owned()),
            SpanKind::Client,
            || {
                vec![
                    KeyValue::new("http.request.method", method.as_str().to_owned()),
                    KeyValue::new("url.full", parts.uri.to_string()),
                    KeyValue::new("server.address", self.inner.peer.to_string()),
                ]
            },
        );
        if let Some(value) = telemetry::outgoing_traceparent(span.as_ref())
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            parts.headers.insert(TRACEPARENT_HEADER, value);
        }
        let request = Request::from_parts(parts, Full::new(body));
        let exchange = async {
            let response = self
                .inner
                .client
                .request(request)
                .await
                .map_err(|e| Error {
                    kind: ErrorKind::Transport,
                    message: format!("{} {}: {}", method, self.inner.peer, chain(&e)),
                })?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| Error {
                kind: ErrorKind::Transport,
                message: format!("reading the response: {e}"),
            })?;
            Ok(Response::from_parts(parts, body.to_bytes()))
        };
        let result = match tokio::time::timeout(self.inner.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error {
                kind: ErrorKind::Timeout,
                message: format!(
                    "{} {}: no answer within {:?}",
                    method, self.inner.peer, self.inner.timeout
                ),
            }),
        };
        self.finish(&method, span, &result, started);
        result
    }

    fn finish(
        &self,
        method: &Method,
        span: Option<opentelemetry::Context>,
        result: &Result<Response<Bytes>, Error>,
        started: Instant,
    ) {
        let (status, error) = match result {
            Ok(response) => (
                telemetry::status_label(response.status()),
                response.status().is_server_error(),
            ),
            Err(_) => (Cow::Borrowed("error"), true),
        };
        if let Some(context) = &span {
            use opentelemetry::trace::TraceContextExt as _;
            if let Ok(response) = result {
                context.span().set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(response.status().as_u16()),
                ));
            }
        }
        let message = match result {
            Err(e) => Some(e.to_string()),
            Ok(_) if error => Some(status.to_string()),
            Ok(_) => None,
        };
        telemetry::end_span(span.as_ref(), message);
        if telemetry::metrics_on() {
            METRICS.record(
                vec![
                    ("method", Cow::Borrowed(telemetry::method_label(method))),
                    ("peer", self.inner.peer.clone()),
                    ("status", status),
                ],
                error,
                started.elapsed(),
            );
        }
    }
}

fn request_error(error: impl fmt::Display) -> Error {
    Error {
        kind: ErrorKind::Request,
        message: format!("invalid request: {error}"),
    }
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
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
