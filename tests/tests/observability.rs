//! Observability without user code, end to end: kirk → scotty → PostgreSQL as real
//! processes, exporting spans to an OTLP receiver this test runs, and serving `/metrics`.
//! Also the uhura example: scheduler → NATS (JetStream) → subscriber → Redis → HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness_tests::{Service, free_port, http_get_with};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;

/// `GET path` over HTTP/1.1 with extra headers: (status, body).
fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    http_get_with(port, path, "127.0.0.1", headers).unwrap()
}

/// Spans received, by the service.name of their resource.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| attribute.value.as_ref())
                .and_then(|value| match &value.value {
                    Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(text),
                    ) => Some(text.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push((service.clone(), span));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Starts the receiver on a thread of its own; returns it and its port.
fn start_receiver() -> (Receiver, u16) {
    let receiver = Receiver::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let service = receiver.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(service))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
    });
    (receiver, port)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of the sample line `name{labels}` (labels in any order), if any.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
        if metric != name {
            return None;
        }
        let rest = rest.strip_suffix('}')?;
        let all = labels.iter().all(|(key, value)| {
            rest.split(',')
                .any(|pair| pair == format!("{key}=\"{value}\""))
        });
        all.then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn one_request_through_kirk_and_scotty_is_one_trace_and_counted() {
    let (receiver, otlp_port) = start_receiver();
    let (scotty_port, kirk_port) = (free_port(), free_port());
    let (scotty_metrics, kirk_metrics) = (free_port(), free_port());
    let tracing = format!(
        "tracing:\n  address: {{host: 127.0.0.1, port: {otlp_port}}}\n  sampler_ratio: 0\n"
    );
    let scotty_yaml = format!(
        "db: {{address: {{host: 127.0.0.1, port: 5432}}, username: postgres, database: test, min_size: 1}}\n\
         server: {{bind: {{host: 127.0.0.1, port: {scotty_port}}}}}\n\
         console: {{level: INFO, format: JSON}}\n\
         metrics: {{prefix: scotty, bind: {{host: 127.0.0.1, port: {scotty_metrics}}}}}\n{tracing}"
    );
    let kirk_yaml = format!(
        "db: {{value: \"postgres://postgres@127.0.0.1:5432/test\", min_size: 1}}\n\
         scotty: {{address: {{host: 127.0.0.1, port: {scotty_port}}}}}\n\
         server: {{bind: {{host: 127.0.0.1, port: {kirk_port}}}}}\n\
         console: {{level: INFO}}\n\
         metrics: {{prefix: kirk, bind: {{host: 127.0.0.1, port: {kirk_metrics}}}}}\n{tracing}"
    );
    let mut scotty = Service::start("scotty", &[("scotty.yaml", &scotty_yaml)], &["scotty.yaml"]);
    let mut kirk = Service::start("kirk", &[("kirk.yaml", &kirk_yaml)], &["kirk.yaml"]);
    scotty.wait_listening(scotty_port);
    kirk.wait_listening(kirk_port);
    scotty.wait_listening(scotty_metrics);
    kirk.wait_listening(kirk_metrics);

    // A caller that sampled its trace: the ratio 0 does not matter, the parent decides.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{caller_span}-01");
    let (status, body) = http_get(kirk_port, "/beam/Uhura", &[("traceparent", &traceparent)]);
    assert_eq!(
        status,
        200,
        "{body}\n{}\n{}",
        kirk.stderr(),
        scotty.stderr()
    );
    assert!(body.contains("Aye, Uhura is aboard"), "{body}");
    // An unsampled request: no span at all (ratio 0, no parent).
    let (status, _) = http_get(kirk_port, "/beam/Sulu", &[]);
    assert_eq!(status, 200);

    // Metrics, with the configured prefixes.
    let (_, kirk_text) = http_get(kirk_metrics, "/metrics", &[]);
    let route = [
        ("method", "GET"),
        ("route", "/beam/{name}"),
        ("status", "200"),
    ];
    assert_eq!(
        sample(&kirk_text, "kirk_http_server_requests_total", &route),
        Some(2.0),
        "{kirk_text}"
    );
    assert_eq!(
        sample(
            &kirk_text,
            "kirk_http_server_duration_seconds_count",
            &route
        ),
        Some(2.0),
        "{kirk_text}"
    );
    let le_inf = [
        ("method", "GET"),
        ("route", "/beam/{name}"),
        ("status", "200"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        sample(
            &kirk_text,
            "kirk_http_server_duration_seconds_bucket",
            &le_inf
        ),
        Some(2.0)
    );
    let beam = [
        ("service", "scotty.Scotty"),
        ("method", "Beam"),
        ("code", "OK"),
    ];
    assert_eq!(
        sample(&kirk_text, "kirk_grpc_client_requests_total", &beam),
        Some(2.0),
        "{kirk_text}"
    );
    assert_eq!(
        sample(
            &kirk_text,
            "kirk_postgres_client_requests_total",
            &[("operation", "SELECT")]
        ),
        Some(2.0),
        "{kirk_text}"
    );
    assert!(
        sample(
            &kirk_text,
            "kirk_postgres_pool_connections",
            &[("state", "idle")]
        )
        .is_some(),
        "{kirk_text}"
    );
    assert!(
        !kirk_text.contains("\nhttp_server"),
        "every name is prefixed"
    );
    let (_, scotty_text) = http_get(scotty_metrics, "/metrics", &[]);
    assert_eq!(
        sample(&scotty_text, "scotty_grpc_server_requests_total", &beam),
        Some(2.0),
        "{scotty_text}"
    );
    assert_eq!(
        sample(&scotty_text, "scotty_grpc_server_errors_total", &beam),
        None,
        "no error series: {scotty_text}"
    );

    // Stopping flushes the spans.
    let exit = kirk.stop();
    assert!(exit.status.success(), "{}", exit.stderr);
    let exit = scotty.stop();
    assert!(exit.status.success(), "{}", exit.stderr);
    let mut spans = Vec::new();
    for _ in 0..200 {
        spans = receiver.spans.lock().unwrap().clone();
        if spans.len() >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let summary: Vec<String> = spans
        .iter()
        .map(|(service, span)| {
            format!(
                "{service}: {} {} <- {}",
                span.name,
                hex(&span.span_id),
                hex(&span.parent_span_id)
            )
        })
        .collect();
    assert_eq!(spans.len(), 5, "{summary:#?}");
    assert!(
        spans
            .iter()
            .all(|(_, span)| hex(&span.trace_id) == trace_id),
        "one trace: {summary:#?}"
    );
    let find = |service: &str, name: &str| {
        spans
            .iter()
            .find(|(s, span)| s == service && span.name == name)
            .map(|(_, span)| span.clone())
            .unwrap_or_else(|| panic!("no {service} span {name}: {summary:#?}"))
    };
    let kirk_server = find("kirk", "GET /beam/{name}");
    let kirk_db = find("kirk", "SELECT");
    let kirk_call = find("kirk", "scotty.Scotty/Beam");
    let scotty_server = find("scotty", "scotty.Scotty/Beam");
    let scotty_db = find("scotty", "SELECT");
    assert_eq!(hex(&kirk_server.parent_span_id), caller_span);
    assert_eq!(kirk_db.parent_span_id, kirk_server.span_id);
    assert_eq!(kirk_call.parent_span_id, kirk_server.span_id);
    assert_eq!(scotty_server.parent_span_id, kirk_call.span_id);
    assert_eq!(scotty_db.parent_span_id, scotty_server.span_id);
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    assert_eq!(kirk_server.kind, SpanKind::Server as i32);
    assert_eq!(kirk_call.kind, SpanKind::Client as i32);
    assert_eq!(scotty_server.kind, SpanKind::Server as i32);
    assert_eq!(scotty_db.kind, SpanKind::Client as i32);
}

#[test]
fn uhura_hails_through_the_scheduler_nats_and_redis() {
    let (port, metrics_port) = (free_port(), free_port());
    let unique = format!("t{}x{}", std::process::id(), free_port());
    let yaml = format!(
        "subject: hails{unique}\n\
         redis: {{address: {{host: 127.0.0.1, port: 6379}}}}\n\
         nats: {{url: \"nats://127.0.0.1:4222\", jetstream: true}}\n\
         hails: {{subject: \"hails{unique}.>\", jetstream: {{stream: HAILS{unique}, durable: uhura, create_stream: true}}}}\n\
         scheduler: {{jobs: {{hail: {{cron: \"* * * * * *\"}}}}}}\n\
         server: {{bind: {{host: 127.0.0.1, port: {port}}}}}\n\
         metrics: {{prefix: uhura, bind: {{host: 127.0.0.1, port: {metrics_port}}}}}\n"
    );
    let mut uhura = Service::start("uhura", &[("uhura.yaml", &yaml)], &["uhura.yaml"]);
    uhura.wait_listening(port);
    let mut log = String::new();
    for _ in 0..300 {
        let (status, body) = http_get(port, "/log", &[]);
        assert_eq!(status, 200, "{body}");
        log = body;
        if !log.starts_with("0 hails") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        log.contains("hailing frequencies open"),
        "{log}\n{}",
        uhura.stderr()
    );
    let (_, metrics) = http_get(metrics_port, "/metrics", &[]);
    let counts: HashMap<&str, Option<f64>> = [
        (
            "uhura_scheduler_job_requests_total",
            sample(
                &metrics,
                "uhura_scheduler_job_requests_total",
                &[("job", "hail")],
            ),
        ),
        (
            "uhura_nats_publish_requests_total",
            sample(
                &metrics,
                "uhura_nats_publish_requests_total",
                &[("mode", "jetstream")],
            ),
        ),
        (
            "uhura_redis_client_requests_total",
            sample(
                &metrics,
                "uhura_redis_client_requests_total",
                &[("command", "INCRBY")],
            ),
        ),
    ]
    .into_iter()
    .collect();
    for (name, count) in &counts {
        assert!(count.is_some_and(|n| n >= 1.0), "{name}: {metrics}");
    }
    let exit = uhura.stop();
    assert!(exit.status.success(), "{}", exit.stderr);
}

/// Redis unreachable at start: the runner retries, then one line and exit 1.
#[test]
fn uhura_without_redis_stops_after_bounded_retries() {
    let port = free_port();
    let yaml = format!(
        "subject: hails\n\
         redis: {{address: {{host: 127.0.0.1, port: {}}}}}\n\
         nats: {{url: \"nats://127.0.0.1:4222\"}}\n\
         hails: {{subject: \"hails.>\"}}\n\
         scheduler: {{jobs: {{hail: {{interval: 60s}}}}}}\n\
         server: {{bind: {{host: 127.0.0.1, port: {port}}}}}\n",
        free_port()
    );
    let uhura = Service::start("uhura", &[("uhura.yaml", &yaml)], &["uhura.yaml"]);
    let exit = uhura.wait();
    assert_eq!(exit.code(), Some(1), "{}", exit.stderr);
    let last = exit.last_line();
    assert!(
        last.starts_with("error: input wire `redis`: cannot connect to Redis at 127.0.0.1:")
            && last.ends_with("(gave up after 5 attempts)"),
        "{last}"
    );
}
