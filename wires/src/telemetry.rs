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
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Upper bounds of the duration histograms, in seconds.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS_ON: AtomicBool = AtomicBool::new(false);
static TRACING_ON: AtomicBool = AtomicBool::new(false);
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));
static TRACER: RwLock<Option<Arc<BoxedTracer>>> = RwLock::new(None);

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
        self.requests.get_or_create_owned(&labels).inc();
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

/// The context a server wire runs a request in: a server span, child of the remote
/// parent (`traceparent`) when there is one; without tracing, just the remote parent, so
/// that client wires pass it on.
pub fn server_context(
    traceparent: Option<&str>,
    name: impl FnOnce() -> Cow<'static, str>,
    attributes: impl FnOnce() -> Vec<KeyValue>,
) -> Context {
    let remote = traceparent.and_then(parse_traceparent);
    let parent = match remote {
        Some(remote) => Context::new().with_remote_span_context(remote),
        None => Context::new(),
    };
    match tracer() {
        Some(tracer) => {
            let span = tracer
                .span_builder(name())
                .with_kind(SpanKind::Server)
                .with_attributes(attributes())
                .start_with_context(&*tracer, &parent);
            parent.with_span(span)
        }
        None => parent,
    }
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
    let span = tracer
        .span_builder(name())
        .with_kind(kind)
        .with_attributes(attributes())
        .start_with_context(&*tracer, &parent);
    Some(parent.with_span(span))
}

/// The `traceparent` to send with an outgoing request: the client span's, or else the
/// current context's (passing a remote parent on when this service does not trace).
pub fn outgoing_traceparent(client: Option<&Context>) -> Option<String> {
    match client {
        Some(context) => format_traceparent(context.span().span_context()),
        None => {
            let current = Context::current();
            let span = current.span();
            format_traceparent(span.span_context())
        }
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
