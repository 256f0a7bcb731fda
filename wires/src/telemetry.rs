//! Instrumentation shared by every wire: W3C trace context, spans and RED metrics.
//!
//! Wires record without any user code:
//!
//! - **metrics** go to one process-wide [`prometheus_client`] registry, from the moment a
//!   `metrics::Prometheus` output wire is served (before that, recording is one atomic
//!   load); `metrics::Prometheus` serves them with its prefix;
//! - **spans** go to the tracer `tracing::Otlp` installs. Without it no span is made, but the
//!   W3C `traceparent` of an incoming request is still passed on by the client wires, so a
//!   service without tracing does not break a trace it is part of.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, KeyValue, global::BoxedTracer};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Name of the W3C trace-context header.
pub const TRACEPARENT: &str = "traceparent";

/// [`TRACEPARENT`] as an HTTP header name, which looks up without parsing the name.
pub const TRACEPARENT_HEADER: http::HeaderName = http::HeaderName::from_static(TRACEPARENT);

/// Upper bounds of the duration histograms, in seconds.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS_ON: AtomicBool = AtomicBool::new(false);
static TRACING_ON: AtomicBool = AtomicBool::new(false);
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));
static TRACER: RwLock<Option<Arc<BoxedTracer>>> = RwLock::new(None);
static RATIO: AtomicU64 = AtomicU64::new(0x3ff0_0000_0000_0000); // 1.0

thread_local! {
    /// Set while a wire hands the SDK a root span it decided to sample.
    static ROOT_SAMPLED: Cell<bool> = const { Cell::new(false) };
    static RANDOM: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let local = 0u8;
    time ^ (&local as *const u8 as u64).rotate_left(32) ^ u64::from(std::process::id())
}

/// SplitMix64: ids of unsampled spans and sampling decisions, not cryptography.
fn random() -> u64 {
    RANDOM.with(|state| {
        let mut z = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// Share of the root traces the wires sample (set by `tracing::Otlp`).
pub fn set_sampler_ratio(ratio: f64) {
    RATIO.store(ratio.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
}

fn sample_root() -> bool {
    let ratio = f64::from_bits(RATIO.load(Ordering::Relaxed));
    ratio >= 1.0 || (ratio > 0.0 && ((random() >> 11) as f64) < ratio * (1u64 << 53) as f64)
}

/// Whether the root span being started was already sampled by a wire: the SDK's sampler
/// (`tracing::Otlp`) keeps that decision instead of drawing again.
pub fn root_decided() -> bool {
    ROOT_SAMPLED.with(Cell::get)
}

/// Starts a sampled span with the SDK; `root` says the wire decided it as a root.
fn start(
    tracer: &BoxedTracer,
    builder: opentelemetry::trace::SpanBuilder,
    parent: &Context,
    root: bool,
) -> opentelemetry::global::BoxedSpan {
    ROOT_SAMPLED.with(|flag| flag.set(root));
    let span = builder.start_with_context(tracer, parent);
    ROOT_SAMPLED.with(|flag| flag.set(false));
    span
}

/// The context of a span that is not recorded: a fresh span id in `trace_id` (or a new
/// trace), unsampled, so that the services downstream do not sample either.
fn unsampled(trace_id: Option<TraceId>) -> Context {
    let trace_id = trace_id
        .unwrap_or_else(|| TraceId::from(((random() as u128) << 64) | u128::from(random() | 1)));
    let span_id = SpanId::from(random() | 1);
    Context::new().with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::default(),
        false,
        TraceState::default(),
    ))
}

/// The name the program was started by (the service's, for a harness service): the
/// default of names a wire gives the service (a tracing resource, a CloudEvents source…).
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "service".to_owned())
}

/// The process-wide metrics registry: register the service's own metrics here and
/// `metrics::Prometheus` serves them with the wires' (names get its prefix).
pub fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts recording the wires' metrics (done by `metrics::Prometheus` when served).
pub fn enable_metrics() {
    METRICS_ON.store(true, Ordering::Relaxed);
}

pub fn metrics_on() -> bool {
    METRICS_ON.load(Ordering::Relaxed)
}

/// Makes the wires' spans with `tracer` (done by `tracing::Otlp`); `None` stops them.
pub fn set_tracer(tracer: Option<BoxedTracer>) {
    let on = tracer.is_some();
    *TRACER.write().unwrap_or_else(|e| e.into_inner()) = tracer.map(Arc::new);
    TRACING_ON.store(on, Ordering::Release);
}

/// Whether wires make spans.
pub fn tracing_on() -> bool {
    TRACING_ON.load(Ordering::Acquire)
}

// Inlined: with tracing off (the default) each span a wire would open costs one atomic
// load at its call site.
#[inline]
fn tracer() -> Option<Arc<BoxedTracer>> {
    if !tracing_on() {
        return None;
    }
    TRACER.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Requests, errors and a duration histogram of one kind of operation, by labels.
pub struct Red {
    requests: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    duration: Family<Labels, Histogram>,
}

/// Label pairs of one series.
pub type Labels = Vec<(&'static str, Cow<'static, str>)>;

impl Red {
    /// Registers `{name}_requests`, `{name}_errors` and `{name}_duration_seconds`.
    pub fn new(name: &str, what: &str) -> Red {
        let red = Red {
            requests: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(DURATION_BUCKETS.iter().copied())
            }),
        };
        let mut registry = registry();
        registry.register(
            format!("{name}_requests"),
            format!("{what} handled or made"),
            red.requests.clone(),
        );
        registry.register(
            format!("{name}_errors"),
            format!("{what} that failed"),
            red.errors.clone(),
        );
        registry.register(
            format!("{name}_duration_seconds"),
            format!("Duration of {what}"),
            red.duration.clone(),
        );
        red
    }

    /// Counts one operation with `labels`, failed or not, and its duration.
    pub fn record(&self, labels: Labels, error: bool, elapsed: Duration) {
        if error {
            self.errors.get_or_create(&labels).inc();
        }
        self.duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    /// The instruments of one label set, to keep where the same labels recur: recording
    /// on them costs no label hashing and no lookup.
    pub fn series(&self, labels: &Labels) -> Series {
        Series {
            requests: self.requests.get_or_create_owned(labels),
            duration: self.duration.get_or_create_owned(labels),
            errors: self.errors.clone(),
            labels: labels.clone(),
        }
    }
}

/// The instruments of one label set of a [`Red`]. Its error series appears with the
/// first error, as with [`Red::record`].
#[derive(Clone, Debug)]
pub struct Series {
    requests: Counter,
    duration: Histogram,
    errors: Family<Labels, Counter>,
    labels: Labels,
}

impl Series {
    /// Counts one operation, failed or not, and its duration.
    pub fn record(&self, error: bool, elapsed: Duration) {
        if error {
            self.errors.get_or_create(&self.labels).inc();
        }
        self.duration.observe(elapsed.as_secs_f64());
        self.requests.inc();
    }
}

/// An HTTP method as a label: the standard ones by name, any other as `_OTHER` (as the
/// OpenTelemetry conventions say), so that clients cannot grow the series without bound.
pub fn method_label(method: &http::Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    STANDARD
        .iter()
        .find(|name| **name == method.as_str())
        .unwrap_or(&"_OTHER")
}

/// An HTTP status code as a label, without allocating for the common ones.
pub fn status_label(status: http::StatusCode) -> Cow<'static, str> {
    const COMMON: [(u16, &str); 16] = [
        (200, "200"),
        (201, "201"),
        (202, "202"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (409, "409"),
        (429, "429"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
    ];
    match COMMON.iter().find(|(code, _)| *code == status.as_u16()) {
        Some((_, text)) => Cow::Borrowed(text),
        None => Cow::Owned(status.as_u16().to_string()),
    }
}

/// Renders the registry in the OpenMetrics text format, every name prefixed with
/// `prefix` and `_` (when `prefix` is not empty).
pub fn render(prefix: &str) -> String {
    let mut text = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry());
    if prefix.is_empty() {
        return text;
    }
    let prefix = prefix.trim_end_matches('_');
    let mut out = String::with_capacity(text.len() * 5 / 4);
    for line in text.lines() {
        if let Some(rest) = ["# HELP ", "# TYPE ", "# UNIT "]
            .iter()
            .find_map(|tag| line.strip_prefix(tag).map(|rest| (tag, rest)))
        {
            out.push_str(rest.0);
            out.push_str(prefix);
            out.push('_');
            out.push_str(rest.1);
        } else if line.starts_with('#') || line.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(prefix);
            out.push('_');
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The trace context of a `traceparent` header value, when it is valid.
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let span_id = parts.next()?;
    let flags = parts.next()?;
    if version.len() != 2 || version == "ff" || trace_id.len() != 32 || span_id.len() != 16 {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex(version) || !hex(trace_id) || !hex(span_id) || flags.len() != 2 || !hex(flags) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags & 1),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// The `traceparent` header value of `context`, when it is valid.
pub fn format_traceparent(context: &SpanContext) -> Option<String> {
    context.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            context.trace_id(),
            context.span_id(),
            context.trace_flags().to_u8() & 1
        )
    })
}

/// A context holding the caller's span (`traceparent`) as its remote parent, or empty.
pub fn remote_parent(remote: Option<SpanContext>) -> Context {
    match remote {
        Some(remote) => Context::new().with_remote_span_context(remote),
        None => Context::new(),
    }
}

/// The context a server wire runs a request in: a server span, child of the remote
/// parent (`traceparent`) when there is one; without tracing, just the remote parent, so
/// that client wires pass it on.
pub fn server_context(
    traceparent: Option<&str>,
    name: impl FnOnce() -> Cow<'static, str>,
    attributes: impl FnOnce() -> Vec<KeyValue>,
) -> Context {
    let remote = traceparent.and_then(parse_traceparent);
    if !tracing_on() {
        return remote_parent(remote);
    }
    // The sampling decision first: an unsampled request costs no SDK call, no tracer
    // lookup, no name and no attributes.
    let sampled = match &remote {
        Some(remote) => remote.is_sampled(),
        None => sample_root(),
    };
    if !sampled {
        return unsampled(remote.map(|remote| remote.trace_id()));
    }
    let Some(tracer) = tracer() else {
        return remote_parent(remote);
    };
    let root = remote.is_none();
    let parent = remote_parent(remote);
    let builder = tracer
        .span_builder(name())
        .with_kind(SpanKind::Server)
        .with_attributes(attributes());
    let span = start(&tracer, builder, &parent, root);
    parent.with_span(span)
}

/// A client span, child of the current context (the request being served), or `None`
/// without tracing.
pub fn client_context(
    name: impl FnOnce() -> Cow<'static, str>,
    kind: SpanKind,
    attributes: impl FnOnce() -> Vec<KeyValue>,
) -> Option<Context> {
    let tracer = tracer()?;
    let parent = Context::current();
    let (valid, sampled) = {
        let span = parent.span();
        let context = span.span_context();
        (context.is_valid(), context.is_sampled())
    };
    // Under an unsampled request nothing is recorded: its context is passed on as it is.
    let root = !valid;
    if (valid && !sampled) || (root && !sample_root()) {
        return None;
    }
    let builder = tracer
        .span_builder(name())
        .with_kind(kind)
        .with_attributes(attributes());
    let span = start(&tracer, builder, &parent, root);
    Some(parent.with_span(span))
}

/// The `traceparent` to send with an outgoing request: the client span's, or else the
/// current context's (passing a remote parent on when this service does not trace).
pub fn outgoing_traceparent(client: Option<&Context>) -> Option<String> {
    match client {
        Some(context) => format_traceparent(context.span().span_context()),
        // Read in place: cloning the current context would cost more than the read.
        None => Context::map_current(|current| format_traceparent(current.span().span_context())),
    }
}

/// Ends the span of `context` (if any) with an error status when `error` says so.
pub fn end_span(context: Option<&Context>, error: Option<String>) {
    let Some(context) = context else { return };
    let span = context.span();
    if let Some(message) = error {
        span.set_status(opentelemetry::trace::Status::error(message));
    }
    span.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = parse_traceparent(value).unwrap();
        assert!(context.is_sampled());
        assert!(context.is_remote());
        assert_eq!(format_traceparent(&context).unwrap(), value);
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        assert!(!parse_traceparent(unsampled).unwrap().is_sampled());
    }

    #[test]
    fn bad_traceparents_are_ignored() {
        for value in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(value).is_none(), "{value}");
        }
        // A later version may add fields.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
    }

    #[test]
    fn render_prefixes_every_name() {
        let red = Red::new("test_render_ops", "Test operations");
        red.record(
            vec![("op", Cow::Borrowed("get"))],
            true,
            Duration::from_millis(3),
        );
        let text = render("svc");
        assert!(
            text.contains("# TYPE svc_test_render_ops_requests counter"),
            "{text}"
        );
        assert!(
            text.contains("svc_test_render_ops_requests_total{op=\"get\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("svc_test_render_ops_errors_total{op=\"get\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("svc_test_render_ops_duration_seconds_bucket{le=\"0.005\",op=\"get\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(!render("").contains("svc_"));
    }
}
