//! Per-request cost of `http::Server`'s instrumentation, in-process: the same router called
//! bare, through the server with telemetry off, with metrics, with metrics and unsampled
//! tracing, and with every request sampled (spans built, none exported).
//!
//! Each request goes through `tower::ServiceExt::oneshot` and is polled once (the handler
//! is ready at once): no socket, so the figures are the layers' own cost, free of the
//! kernel's.
//!
//! - time: `cargo bench -p harness-wires --bench http_server` (criterion);
//! - instructions, which a shared machine does not disturb:
//!   `scripts/bench/http-server-instructions.sh` runs this binary under callgrind with
//!   `HTTP_SERVER_CASE=<case> HTTP_SERVER_REQUESTS=<n>`, which makes `n` requests of that
//!   case and exits.
//!
//! Telemetry switches are process-wide and only ever turn on, so the cases run in order.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use harness_wires::http::Server;
use harness_wires::telemetry;
use tower::ServiceExt as _;
use tower::util::BoxCloneService;

type Service = BoxCloneService<Request<Body>, Response, std::convert::Infallible>;

/// The cases, in the order their telemetry switches turn on.
const CASES: [&str; 5] = [
    "axum router alone",
    "server, telemetry off",
    "server, metrics",
    "server, metrics + tracing unsampled",
    "server, metrics + tracing sampled (not exported)",
];

fn router() -> Router {
    Router::new().route("/", get(|| async { "Hello!\n" }))
}

/// The service of case `index`, after turning on what it needs.
fn service(index: usize) -> Service {
    if index >= 2 {
        telemetry::enable_metrics();
    }
    if index >= 3 && !telemetry::tracing_on() {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        opentelemetry::global::set_tracer_provider(provider);
        telemetry::set_tracer(Some(opentelemetry::global::tracer("bench")));
    }
    telemetry::set_sampler_ratio(if index >= 4 { 1.0 } else { 0.0 });
    match index {
        // As `axum::serve` runs a router: handlers turned into routes once.
        0 => BoxCloneService::new(router().with_state(())),
        _ => BoxCloneService::new(Server::new(router()).into_service()),
    }
}

/// `GET /` through `service`; the response must be ready on the first poll.
fn request(service: &Service) -> u16 {
    let request = Request::get("/")
        .header("host", "sulu.example")
        .body(Body::empty())
        .unwrap();
    let future = pin!(service.clone().oneshot(request));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(response)) => response.status().as_u16(),
        _ => panic!("the response was not ready at once"),
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_server_request");
    for (index, name) in CASES.iter().enumerate() {
        let service = service(index);
        group.bench_function(*name, |b| b.iter(|| black_box(request(&service))));
    }
    group.finish();
    let text = telemetry::render("");
    assert!(
        text.contains(r#"http_server_requests_total{method="GET",route="/",status="200"}"#),
        "{text}"
    );
}

criterion_group!(benches, bench);

fn main() {
    if let (Ok(case), Ok(requests)) = (
        std::env::var("HTTP_SERVER_CASE"),
        std::env::var("HTTP_SERVER_REQUESTS"),
    ) {
        let index = CASES
            .iter()
            .position(|name| *name == case)
            .unwrap_or_else(|| panic!("HTTP_SERVER_CASE is one of {CASES:?}"));
        let requests: u64 = requests.parse().expect("HTTP_SERVER_REQUESTS is a number");
        let service = service(index);
        for _ in 0..requests {
            assert_eq!(black_box(request(&service)), 200);
        }
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
