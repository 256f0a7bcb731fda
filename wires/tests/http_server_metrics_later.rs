//! `metrics::Prometheus` turns metrics on when it starts serving, which can be after the
//! service's `setup` built its `http::Server`: requests are counted, by route, from then on.
//! (A test binary of its own: nothing else here turns metrics on.)
#![cfg(all(feature = "http", feature = "metrics"))]

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use harness_wires::http::Server;
use harness_wires::telemetry;
use tower::ServiceExt as _;

#[tokio::test]
async fn a_server_built_before_metrics_are_on_counts_once_they_are() {
    assert!(!telemetry::metrics_on());
    let server =
        Server::new(Router::new().route("/log/{stardate}", get(|| async { "ok" }))).into_service();
    let get = || Request::get("/log/41153.7").body(Body::empty()).unwrap();

    server.clone().oneshot(get()).await.unwrap();
    assert!(
        !telemetry::render("").contains("route="),
        "counted while off"
    );

    telemetry::enable_metrics();
    server.clone().oneshot(get()).await.unwrap();
    let text = telemetry::render("");
    assert!(
        text.contains(
            r#"http_server_requests_total{method="GET",route="/log/{stardate}",status="200"} 1"#
        ),
        "{text}"
    );
}
