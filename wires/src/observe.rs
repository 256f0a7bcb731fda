//! Spans and RED metrics of gRPC calls, server and client side: a response body that
//! reports the call's `grpc-status` (from the headers of a trailers-only answer, or from
//! the trailers) when it ends.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use crate::telemetry::{self, Red, TRACEPARENT_HEADER};

#[cfg(feature = "grpc-server")]
static SERVER: LazyLock<Red> = LazyLock::new(|| Red::new("grpc_server", "gRPC calls served"));
#[cfg(feature = "grpc-client")]
static CLIENT: LazyLock<Red> = LazyLock::new(|| Red::new("grpc_client", "gRPC calls made"));

/// What to report when a call ends.
pub(crate) struct Call {
    red: &'static LazyLock<Red>,
    context: Option<Context>,
    service: String,
    method: String,
    started: Instant,
    counted: bool,
}

impl Call {
    /// `/package.Service/Method` → (`package.Service`, `Method`).
    fn new(red: &'static LazyLock<Red>, path: &str, kind: SpanKind, parent: Option<&str>) -> Call {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let service = parts.next().unwrap_or_default().to_owned();
        let method = parts.next().unwrap_or_default().to_owned();
        let name = || Cow::Owned(format!("{service}/{method}"));
        let attributes = || {
            vec![
                KeyValue::new("rpc.system", "grpc"),
                KeyValue::new("rpc.service", service.clone()),
                KeyValue::new("rpc.method", method.clone()),
            ]
        };
        let context = match kind {
            SpanKind::Server => Some(telemetry::server_context(parent, name, attributes)),
            _ => telemetry::client_context(name, kind, attributes),
        };
        Call {
            red,
            context,
            service,
            method,
            started: Instant::now(),
            counted: telemetry::metrics_on(),
        }
    }

    /// Reports the call: `code` is its gRPC status code (`None`: failed below gRPC).
    fn finish(self, code: Option<i32>, message: Option<String>) {
        let failed = code != Some(0);
        if let Some(context) = &self.context {
            let span = context.span();
            if let Some(code) = code {
                span.set_attribute(KeyValue::new("rpc.grpc.status_code", i64::from(code)));
            }
            if failed {
                let text = message.unwrap_or_else(|| code_name(code).into_owned());
                span.set_status(opentelemetry::trace::Status::error(text));
            }
            span.end();
        }
        if self.counted {
            self.red.record(
                vec![
                    ("service", Cow::Owned(self.service)),
                    ("method", Cow::Owned(self.method)),
                    ("code", code_name(code)),
                ],
                failed,
                self.started.elapsed(),
            );
        }
    }
}

fn code_name(code: Option<i32>) -> Cow<'static, str> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    match code {
        None => Cow::Borrowed("TRANSPORT_ERROR"),
        Some(code) => match usize::try_from(code).ok().and_then(|i| NAMES.get(i)) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(code.to_string()),
        },
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
}

fn grpc_message(headers: &HeaderMap) -> Option<String> {
    headers
        .get("grpc-message")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

pin_project_lite::pin_project! {
    /// A response body that reports its call when it ends (or is dropped unfinished).
    pub struct Observed<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
        // A trailers-only answer carries its status in the headers.
        status: Option<(i32, Option<String>)>,
    }

    impl<B> PinnedDrop for Observed<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(call) = this.call.take() {
                match this.status.take() {
                    Some((code, message)) => call.finish(Some(code), message),
                    // Dropped before its status: the call was cancelled.
                    None => call.finish(Some(1), Some("cancelled".to_owned())),
                }
            }
        }
    }
}

impl<B: Body<Data = Bytes>> Body for Observed<B>
where
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(code) = grpc_status(trailers)
                {
                    *this.status = Some((code, grpc_message(trailers)));
                }
            }
            Poll::Ready(Some(Err(error))) => {
                if let Some(call) = this.call.take() {
                    call.finish(None, Some(error.to_string()));
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    match this.status.take() {
                        Some((code, message)) => call.finish(Some(code), message),
                        // Ended without a status: an HTTP-level failure.
                        None => call.finish(Some(2), Some("no grpc-status".to_owned())),
                    }
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn observe<B>(response: http::Response<B>, call: Call) -> http::Response<Observed<B>> {
    let status =
        grpc_status(response.headers()).map(|code| (code, grpc_message(response.headers())));
    response.map(|inner| Observed {
        inner,
        call: Some(call),
        status,
    })
}

/// Server side: a tower layer over the gRPC routes.
#[cfg(feature = "grpc-server")]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerLayer;

#[cfg(feature = "grpc-server")]
impl<S> tower::Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> ServerService<S> {
        ServerService { inner }
    }
}

#[cfg(feature = "grpc-server")]
#[derive(Debug, Clone)]
pub(crate) struct ServerService<S> {
    inner: S,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

#[cfg(feature = "grpc-server")]
impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for ServerService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: Body<Data = Bytes> + Send + 'static,
{
    type Response = http::Response<Observed<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        use opentelemetry::context::FutureExt as _;
        let parent = request
            .headers()
            .get(TRACEPARENT_HEADER)
            .and_then(|value| value.to_str().ok());
        let call = Call::new(&SERVER, request.uri().path(), SpanKind::Server, parent);
        let context = call.context.clone().unwrap_or_default();
        let future = self.inner.call(request).with_context(context);
        Box::pin(async move {
            match future.await {
                Ok(response) => Ok(observe(response, call)),
                Err(error) => {
                    call.finish(None, None);
                    Err(error)
                }
            }
        })
    }
}

/// Client side: the tonic channel with a span, `traceparent` and metrics per call.
#[cfg(feature = "grpc-client")]
#[derive(Debug, Clone)]
pub struct TracedChannel {
    inner: tonic::transport::Channel,
}

#[cfg(feature = "grpc-client")]
impl TracedChannel {
    pub(crate) fn new(inner: tonic::transport::Channel) -> Self {
        TracedChannel { inner }
    }
}

#[cfg(feature = "grpc-client")]
impl tower::Service<http::Request<tonic::body::Body>> for TracedChannel {
    type Response = http::Response<Observed<tonic::body::Body>>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        let call = Call::new(&CLIENT, request.uri().path(), SpanKind::Client, None);
        if let Some(value) = telemetry::outgoing_traceparent(call.context.as_ref())
            .and_then(|value| http::HeaderValue::from_str(&value).ok())
        {
            request.headers_mut().insert(TRACEPARENT_HEADER, value);
        }
        let future = tower::Service::call(&mut self.inner, request);
        Box::pin(async move {
            match future.await {
                Ok(response) => Ok(observe(response, call)),
                Err(error) => {
                    call.finish(None, Some(error.to_string()));
                    Err(error)
                }
            }
        })
    }
}
