//! The `http_server_*` series of `http::Server`, through its service in-process: labels by
//! route template, the fallback, methods outside the standard nine, errors, and the health
//! check left out. Metrics are process-wide, so every test uses routes of its own.
#![cfg(all(feature = "http", feature = "metrics"))]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::{any, get};
use harness_wires::http::Server;
use harness_wires::telemetry;
use tower::ServiceExt as _;

async fn send(server: &harness_wires::http::ServerService, method: Method, uri: &str) -> u16 {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "app.example")
        .body(Body::empty())
        .unwrap();
    server
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn service(router: Router) -> harness_wires::http::ServerService {
    telemetry::enable_metrics();
    Server::new(router).into_service()
}

/// The value of the sample line starting with `series` (`name{labels}`), if any.
fn sample(series: &str) -> Option<f64> {
    telemetry::render("")
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn requests_count_by_route_template_method_and_status() {
    let server = service(Router::new().route(
        "/crew/{name}",
        get(|| async { "aye" }).post(|| async { StatusCode::CREATED }),
    ));
    for name in ["kirk", "spock", "uhura"] {
        assert_eq!(
            send(&server, Method::GET, &format!("/crew/{name}")).await,
            200
        );
    }
    assert_eq!(send(&server, Method::POST, "/crew/sulu").await, 201);

    let get = r#"http_server_requests_total{method="GET",route="/crew/{name}",status="200"}"#;
    let post = r#"http_server_requests_total{method="POST",route="/crew/{name}",status="201"}"#;
    assert_eq!(sample(get), Some(3.0));
    assert_eq!(sample(post), Some(1.0));
    let buckets =
        r#"http_server_duration_seconds_count{method="GET",route="/crew/{name}",status="200"}"#;
    assert_eq!(sample(buckets), Some(3.0));
    // No error series for requests that did not fail.
    assert_eq!(
        sample(r#"http_server_errors_total{method="GET",route="/crew/{name}",status="200"}"#),
        None
    );
}

#[tokio::test]
async fn unmatched_requests_count_under_the_empty_route() {
    let server = service(Router::new().route("/bridge", get(|| async { "ok" })));
    assert_eq!(send(&server, Method::GET, "/engine-room-42").await, 404);
    assert_eq!(send(&server, Method::DELETE, "/bridge").await, 405);

    let text = telemetry::render("");
    assert!(
        text.contains(r#"http_server_requests_total{method="GET",route="",status="404"}"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_server_requests_total{method="DELETE",route="/bridge",status="405"}"#
        ),
        "{text}"
    );
    assert!(!text.contains("engine-room-42"), "{text}");
}

#[tokio::test]
async fn unknown_methods_share_one_label() {
    let server = service(Router::new().route("/transporter", any(|| async { "beamed" })));
    for method in ["ENERGIZE", "BEAM", "SCOTTY"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        assert_eq!(send(&server, method, "/transporter").await, 200);
    }
    let text = telemetry::render("");
    assert!(
        text.contains(
            r#"http_server_requests_total{method="_OTHER",route="/transporter",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(!text.contains("ENERGIZE"), "{text}");
}

#[tokio::test]
async fn server_errors_count_as_errors() {
    let server = service(Router::new().route(
        "/warp-core",
        get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    ));
    assert_eq!(send(&server, Method::GET, "/warp-core").await, 500);
    assert_eq!(send(&server, Method::GET, "/warp-core").await, 500);
    assert_eq!(
        sample(r#"http_server_errors_total{method="GET",route="/warp-core",status="500"}"#),
        Some(2.0)
    );
}

#[tokio::test]
async fn the_health_check_is_not_counted() {
    let server = service(Router::new().route("/sickbay", get(|| async { "ok" })));
    let request = Request::get(harness_wires::http::HEALTH_PATH)
        .body(Body::empty())
        .unwrap();
    let response = server.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!telemetry::render("").contains("/_/health"));
}
