//! `http::Client` against `http::Server`s of this test: base address, timeouts, and the
//! W3C trace context passed through a service that does not trace.
#![cfg(feature = "http-client")]

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use common::free_port;
use harness::prost_types;
use harness::proto::harness::http::{Connection, Server as ServerConfig};
use harness::proto::harness::net::Socket;
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown, ShutdownTrigger};
use harness_wires::http::{Client, ClientErrorKind, Server};

fn socket(port: u16) -> Option<Socket> {
    Some(Socket {
        host: "127.0.0.1".into(),
        port: port.into(),
    })
}

/// Serves `router` on a free port until the trigger fires.
async fn serve(router: Router) -> (u16, ShutdownTrigger) {
    let port = free_port();
    let (trigger, shutdown) = Shutdown::channel();
    tokio::spawn(Server::new(router).serve(
        ServerConfig {
            bind: socket(port),
            ..Default::default()
        },
        shutdown,
    ));
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (port, trigger)
}

async fn client(port: u16, timeout_ms: i32) -> Client {
    Client::connect(&Connection {
        address: socket(port),
        connect_timeout: None,
        timeout: Some(prost_types::Duration {
            seconds: i64::from(timeout_ms / 1000),
            nanos: timeout_ms % 1000 * 1_000_000,
        }),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn requests_go_to_the_base_address_and_time_out() {
    let router = Router::new()
        .route(
            "/echo/{word}",
            get(|axum::extract::Path(word): axum::extract::Path<String>| async move { word }),
        )
        .route(
            "/upper",
            post(|body: String| async move { body.to_uppercase() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let (port, trigger) = serve(router).await;
    let api = client(port, 300).await;
    assert_eq!(api.base(), format!("http://127.0.0.1:{port}"));
    let reply = api.get("/echo/aye?x=1").await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.body().as_ref(), b"aye");
    let reply = api.post("/upper", "text/plain", "engage").await.unwrap();
    assert_eq!(reply.body().as_ref(), b"ENGAGE");
    let missing = api.get("/nope").await.unwrap();
    assert_eq!(missing.status(), 404);
    let error = api.get("/slow").await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::Timeout, "{error}");
    trigger.trigger();

    let refused = client(free_port(), 300).await.get("/").await.unwrap_err();
    assert_eq!(refused.kind(), ClientErrorKind::Transport, "{refused}");
}

/// Front calls back with its client while serving a request that carries a
/// `traceparent`: back receives the same trace, though nothing here records spans.
#[tokio::test]
async fn the_trace_context_passes_through() {
    let back = Router::new().route(
        "/",
        get(|headers: HeaderMap| async move {
            headers
                .get("traceparent")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        }),
    );
    let (back_port, back_trigger) = serve(back).await;
    let to_back = client(back_port, 5000).await;
    let front = Router::new().route(
        "/",
        get(move || {
            let to_back = to_back.clone();
            async move {
                let reply = to_back.get("/").await.unwrap();
                String::from_utf8(reply.body().to_vec()).unwrap()
            }
        }),
    );
    let (front_port, front_trigger) = serve(front).await;
    let to_front = client(front_port, 5000).await;

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let request = axum::http::Request::get("/")
        .header("traceparent", traceparent)
        .body(Default::default())
        .unwrap();
    let reply = to_front.send(request).await.unwrap();
    assert_eq!(std::str::from_utf8(reply.body()).unwrap(), traceparent);

    // Without an incoming trace context, none is invented.
    let reply = to_front.get("/").await.unwrap();
    assert_eq!(reply.body().as_ref(), b"");
    front_trigger.trigger();
    back_trigger.trigger();
}
