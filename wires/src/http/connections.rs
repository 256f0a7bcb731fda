//! How `http::Server` accepts and serves connections: at most `max_connections` at once,
//! each under its header-read and idle timeouts, and a drain that answers the requests
//! already sent.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use harness::runtime::Shutdown;
use http::{HeaderValue, Request, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::Service as _;

use super::activity::{Activity, InFlight, InFlightBody, Timeouts, Tracked, Verdict};
use super::server::{ServerFuture, ServerService};

/// At most one warning of each kind per this period, with the count of what it stands for.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Pause after an accept error other than a client's own (out of file descriptors, say),
/// so that the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Upper bound of a request head's buffer, so that each slow client costs at most this
/// much (hyper's default is about 400 KiB). A larger head is answered 431.
const MAX_HEAD_BUFFER: usize = 64 * 1024;

/// The limits of one server.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub timeouts: Timeouts,
    pub max_connections: usize,
}

/// What every connection of one server shares.
struct Shared {
    builder: auto::Builder<TokioExecutor>,
    timeouts: Timeouts,
    shutdown: Shutdown,
    slow_heads: Throttle,
}

/// Accepts connections until `shutdown`, then drains them: returns once every
/// connection is closed (the runner bounds the drain with its grace period).
pub(super) async fn serve(
    listener: TcpListener,
    app: ServerService,
    limits: Limits,
    shutdown: Shutdown,
) {
    let shared = Arc::new(Shared {
        builder: builder(),
        timeouts: limits.timeouts,
        shutdown: shutdown.clone(),
        slow_heads: Throttle::default(),
    });
    let mut connections = JoinSet::new();
    let (full, accept_failed) = (Throttle::default(), Throttle::default());
    let stop = shutdown.requested();
    tokio::pin!(stop);
    loop {
        let at_limit = connections.len() >= limits.max_connections;
        if at_limit && let Some(times) = full.tick() {
            tracing::warn!(
                max_connections = limits.max_connections,
                times,
                "http server at its connection limit: new connections wait until one closes"
            );
        }
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if !at_limit => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, app.clone(), Arc::clone(&shared)));
                }
                Err(error) if is_client_error(&error) => {}
                Err(error) => {
                    if let Some(times) = accept_failed.tick() {
                        tracing::warn!(times, "http server cannot accept connections: {error}");
                    }
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
        }
    }
    drop(listener);
    tracing::debug!(connections = connections.len(), "http server draining");
    while connections.join_next().await.is_some() {}
}

fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header-read and idle timeouts are the connection task's (hyper's own header
    // timeout would also cut idle keep-alive connections).
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BUFFER);
    builder.http2().enable_connect_protocol();
    builder
}

/// An accept error caused by one client (it reset the connection before it was
/// accepted): nothing to report.
fn is_client_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    )
}

/// Serves one connection under its timeouts; from the drain on, HTTP/1 responses carry
/// `Connection: close` and HTTP/2 gets GOAWAY.
async fn connection(stream: TcpStream, app: ServerService, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked::new(stream, Arc::clone(&activity)));
    let service = ConnectionService {
        app,
        activity: Arc::clone(&activity),
        shutdown: shared.shutdown.clone(),
    };
    let conn = shared.builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let stop = shared.shutdown.requested();
    tokio::pin!(stop);
    let (mut draining_since, mut closing) = (None, false);
    loop {
        let wait = match activity.verdict(shared.timeouts, draining_since) {
            Verdict::Drop => {
                if let Some(times) = shared.slow_heads.tick() {
                    tracing::warn!(
                        header_read_timeout = ?shared.timeouts.header_read,
                        times,
                        "http server closed a connection that did not send a request's headers in time"
                    );
                }
                return;
            }
            Verdict::Close if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
                None
            }
            Verdict::Close => None,
            Verdict::Wait(wait) => wait,
        };
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!("http connection ended: {error}");
                }
                return;
            }
            _ = activity.changed() => {}
            _ = sleep(wait) => {}
            _ = &mut stop, if draining_since.is_none() => {
                draining_since = Some(activity.elapsed());
            }
        }
    }
}

async fn sleep(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// The application as one connection's hyper service: counts its requests in flight and
/// closes HTTP/1 connections after the response once the drain started.
#[derive(Clone)]
struct ConnectionService {
    app: ServerService,
    activity: Arc<Activity>,
    shutdown: Shutdown,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<InFlightBody<Body>>;
    type Error = Infallible;
    type Future = ConnectionFuture;

    fn call(&self, request: Request<Incoming>) -> ConnectionFuture {
        let version = request.version();
        let in_flight = self.activity.request_started(version);
        let mut app = self.app.clone();
        ConnectionFuture {
            inner: app.call(request.map(Body::new)),
            request: Some(in_flight),
            http1: version < Version::HTTP_2,
            shutdown: self.shutdown.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    struct ConnectionFuture {
        #[pin]
        inner: ServerFuture,
        request: Option<InFlight>,
        http1: bool,
        shutdown: Shutdown,
    }
}

impl Future for ConnectionFuture {
    type Output = Result<Response<InFlightBody<Body>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(Ok(mut response)) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        if *this.http1 && this.shutdown.is_requested() {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        let request = this.request.take().expect("polled after completion");
        Poll::Ready(Ok(response.map(|body| InFlightBody::new(body, request))))
    }
}

/// Counts events and lets one warning through per [`WARN_EVERY`].
#[derive(Default)]
struct Throttle(Mutex<ThrottleState>);

#[derive(Default)]
struct ThrottleState {
    last: Option<Instant>,
    missed: u64,
}

impl Throttle {
    /// `Some(events since the last warning, this one included)` when a warning is due.
    fn tick(&self) -> Option<u64> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.missed += 1;
        if state.last.is_some_and(|last| last.elapsed() < WARN_EVERY) {
            return None;
        }
        state.last = Some(Instant::now());
        Some(std::mem::take(&mut state.missed))
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn a_throttle_warns_once_a_period_with_the_count() {
        let throttle = Throttle::default();
        assert_eq!(throttle.tick(), Some(1));
        assert_eq!(throttle.tick(), None);
        assert_eq!(throttle.tick(), None);
        throttle.0.lock().unwrap().last = None;
        assert_eq!(throttle.tick(), Some(3));
    }
}
