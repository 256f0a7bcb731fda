//! What one connection of `http::Server` is doing, for its timeouts: the requests in
//! flight, when it last went idle, and when the head of its next request began to arrive.
//!
//! The socket ([`Tracked`]) reports reads, the connection's service reports requests
//! ([`Activity::request_started`], whose [`InFlight`] guard rides on the response body
//! until it is sent), and the connection's task asks [`Activity::verdict`] what to do.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Version;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// How long an idle HTTP/1 connection is kept open once the drain started, for requests
/// its client sent before it learnt of the shutdown: each is answered with
/// `Connection: close`. HTTP/2 connections get GOAWAY at once instead.
pub const DRAIN_WINDOW: Duration = Duration::from_millis(500);

/// The connection preface of an HTTP/2 client (RFC 9113, 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// No head being received.
const NONE: u64 = u64::MAX;

/// The timeouts of a connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// What the connection's task does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing until the activity changes, or until this much time has passed.
    Wait(Option<Duration>),
    /// Close gracefully: an idle HTTP/1 connection closes, HTTP/2 sends GOAWAY.
    Close,
    /// Drop the connection: its client did not send a request's head in time.
    Drop,
}

/// The activity of one connection; times are milliseconds since it was accepted.
pub(super) struct Activity {
    accepted: Instant,
    in_flight: AtomicU32,
    /// When the head of the next request began to arrive ([`NONE`]: not yet). The first
    /// request's clock starts at accept.
    head_since: AtomicU64,
    idle_since: AtomicU64,
    last_read: AtomicU64,
    /// HTTP/2: requests are streams, so no head clock after the preface.
    multiplexed: AtomicBool,
    /// The first bytes, until they tell HTTP/2's preface from an HTTP/1 request;
    /// `sniffing` until then, so that later reads take no lock.
    preface: Mutex<Option<Vec<u8>>>,
    sniffing: AtomicBool,
    changed: Notify,
}

impl Activity {
    pub(super) fn new() -> Self {
        Activity {
            accepted: Instant::now(),
            in_flight: AtomicU32::new(0),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            last_read: AtomicU64::new(0),
            multiplexed: AtomicBool::new(false),
            preface: Mutex::new(Some(Vec::new())),
            sniffing: AtomicBool::new(true),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    /// Completes when the activity may have changed the verdict.
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// `bytes` were read from the client.
    fn read(&self, bytes: &[u8]) {
        let now = self.now();
        self.last_read.store(now, Relaxed);
        if self.sniffing.load(Relaxed) {
            self.sniff_preface(bytes, now);
        }
        if self.in_flight.load(Relaxed) == 0
            && !self.multiplexed.load(Relaxed)
            && self.head_since.load(Relaxed) == NONE
        {
            self.head_since.store(now, Relaxed);
            self.changed.notify_one();
        }
    }

    /// Looks at the first 24 bytes: an HTTP/2 client waits idle after its preface, like
    /// a keep-alive connection, instead of owing a request head.
    fn sniff_preface(&self, bytes: &[u8], now: u64) {
        let mut preface = self.preface.lock().unwrap_or_else(|e| e.into_inner());
        let Some(seen) = preface.as_mut() else { return };
        let wanted = H2_PREFACE.len() - seen.len();
        seen.extend_from_slice(&bytes[..bytes.len().min(wanted)]);
        if !H2_PREFACE.starts_with(seen) {
            *preface = None;
            self.sniffing.store(false, Relaxed);
        } else if seen.len() == H2_PREFACE.len() {
            *preface = None;
            self.sniffing.store(false, Relaxed);
            self.multiplexed.store(true, Relaxed);
            self.head_since.store(NONE, Relaxed);
            self.idle_since.store(now, Relaxed);
            self.changed.notify_one();
        }
    }

    /// A request's head was read; the guard ends the request when dropped.
    pub(super) fn request_started(self: &Arc<Self>, version: Version) -> InFlight {
        if version == Version::HTTP_2 {
            self.multiplexed.store(true, Relaxed);
        }
        self.in_flight.fetch_add(1, Relaxed);
        self.head_since.store(NONE, Relaxed);
        InFlight(Arc::clone(self))
    }

    /// What to do now, given the timeouts and when the drain started (if it did).
    pub(super) fn verdict(&self, timeouts: Timeouts, draining_since: Option<u64>) -> Verdict {
        let now = self.now();
        let multiplexed = self.multiplexed.load(Relaxed);
        if draining_since.is_some() && multiplexed {
            return Verdict::Close;
        }
        if self.in_flight.load(Relaxed) > 0 {
            return Verdict::Wait(None);
        }
        let head_since = self.head_since.load(Relaxed);
        let header_deadline = (head_since != NONE && !multiplexed)
            .then(|| head_since.saturating_add(millis(timeouts.header_read)));
        if header_deadline.is_some_and(|deadline| now >= deadline) {
            return Verdict::Drop;
        }
        let idle_since = self.idle_since.load(Relaxed);
        let close_deadline = match draining_since {
            Some(since) => Some(
                since
                    .max(idle_since)
                    .max(self.last_read.load(Relaxed))
                    .saturating_add(millis(DRAIN_WINDOW)),
            ),
            // While a head arrives, its own clock runs.
            None if header_deadline.is_some() => None,
            None => Some(idle_since.saturating_add(millis(timeouts.idle))),
        };
        if close_deadline.is_some_and(|deadline| now >= deadline) {
            return Verdict::Close;
        }
        let next = [header_deadline, close_deadline]
            .into_iter()
            .flatten()
            .min();
        Verdict::Wait(next.map(|deadline| Duration::from_millis(deadline - now)))
    }

    /// Milliseconds since the connection was accepted, to date the start of the drain.
    pub(super) fn elapsed(&self) -> u64 {
        self.now()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(NONE - 1)
}

/// A request in flight; dropped when its response body is sent (or abandoned).
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Relaxed) == 1 {
            activity.idle_since.store(activity.now(), Relaxed);
            activity.changed.notify_one();
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request in flight until it is sent.
    pub(super) struct InFlightBody<B> {
        #[pin]
        inner: B,
        request: InFlight,
    }
}

impl<B> InFlightBody<B> {
    pub(super) fn new(inner: B, request: InFlight) -> Self {
        InFlightBody { inner, request }
    }
}

impl<B: http_body::Body> http_body::Body for InFlightBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// A socket that reports what it reads to the connection's [`Activity`].
    pub(super) struct Tracked<S> {
        #[pin]
        inner: S,
        activity: Arc<Activity>,
    }
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Tracked { inner, activity }
    }
}

impl<S: AsyncRead> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(90),
    };

    /// An activity accepted `ago` in the past (times are relative to the accept).
    fn accepted(ago: Duration) -> Arc<Activity> {
        let activity = Activity::new();
        let activity = Activity {
            accepted: Instant::now() - ago,
            ..activity
        };
        Arc::new(activity)
    }

    #[test]
    fn a_silent_new_connection_owes_its_first_head() {
        let fresh = accepted(Duration::ZERO);
        assert!(matches!(
            fresh.verdict(TIMEOUTS, None),
            Verdict::Wait(Some(_))
        ));
        let late = accepted(Duration::from_secs(11));
        assert_eq!(late.verdict(TIMEOUTS, None), Verdict::Drop);
    }

    #[test]
    fn a_request_in_flight_is_never_cut() {
        let activity = accepted(Duration::from_secs(500));
        let request = activity.request_started(Version::HTTP_11);
        assert_eq!(activity.verdict(TIMEOUTS, None), Verdict::Wait(None));
        assert_eq!(activity.verdict(TIMEOUTS, Some(0)), Verdict::Wait(None));
        drop(request);
        // Idle from now on: the idle clock, not the header clock.
        assert!(matches!(
            activity.verdict(TIMEOUTS, None),
            Verdict::Wait(Some(_))
        ));
    }

    #[test]
    fn a_keep_alive_connection_is_closed_when_idle_too_long() {
        let activity = accepted(Duration::from_secs(100));
        drop(activity.request_started(Version::HTTP_11));
        activity.idle_since.store(0, Relaxed);
        assert_eq!(activity.verdict(TIMEOUTS, None), Verdict::Close);
    }

    #[test]
    fn the_next_head_has_its_own_clock_from_its_first_byte() {
        let activity = accepted(Duration::from_secs(100));
        drop(activity.request_started(Version::HTTP_11));
        activity.read(b"GET / HT");
        assert!(matches!(
            activity.verdict(TIMEOUTS, None),
            Verdict::Wait(Some(_))
        ));
        activity.head_since.store(80_000, Relaxed);
        assert_eq!(activity.verdict(TIMEOUTS, None), Verdict::Drop);
    }

    #[test]
    fn an_http2_client_is_idle_after_its_preface() {
        let activity = accepted(Duration::from_secs(60));
        activity.read(&H2_PREFACE[..10]);
        activity.read(&H2_PREFACE[10..]);
        assert!(activity.multiplexed.load(Relaxed));
        assert!(matches!(
            activity.verdict(TIMEOUTS, None),
            Verdict::Wait(Some(_))
        ));
        // Draining: GOAWAY at once, even with streams in flight.
        let _stream = activity.request_started(Version::HTTP_2);
        assert_eq!(activity.verdict(TIMEOUTS, Some(0)), Verdict::Close);
    }

    #[test]
    fn an_http1_request_is_not_taken_for_a_preface() {
        let activity = accepted(Duration::ZERO);
        activity.read(b"PRI");
        activity.read(b"NT / HTTP/1.1\r\n");
        assert!(!activity.multiplexed.load(Relaxed));
        assert!(activity.preface.lock().unwrap().is_none());
    }

    #[test]
    fn an_idle_connection_lingers_for_the_drain_window_only() {
        let activity = accepted(Duration::from_secs(5));
        drop(activity.request_started(Version::HTTP_11));
        let now = activity.elapsed();
        assert!(matches!(
            activity.verdict(TIMEOUTS, Some(now)),
            Verdict::Wait(Some(wait)) if wait <= DRAIN_WINDOW
        ));
        let before = now - millis(DRAIN_WINDOW) - 1;
        activity.idle_since.store(before, Relaxed);
        activity.last_read.store(before, Relaxed);
        assert_eq!(activity.verdict(TIMEOUTS, Some(before)), Verdict::Close);
    }
}
