//! `http::Server` against hostile and idle clients, over loopback: the header-read and
//! idle timeouts close what they should and nothing else, the connection limit holds new
//! connections back until one closes, and `/_/health` decides on the request's address.
#![cfg(feature = "http")]

mod common;

use std::time::Duration;

use axum::routing::get;
use harness::prost_types::Duration as ProtoDuration;
use harness::proto::harness::http::Server as ServerConfig;
use harness::proto::harness::net::Socket;
use harness::runtime::{OutputWire as _, Shutdown, ShutdownTrigger};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Bound of every wait for the server to do something.
const PATIENCE: Duration = Duration::from_secs(10);

fn millis(ms: i32) -> Option<ProtoDuration> {
    Some(ProtoDuration {
        seconds: 0,
        nanos: ms * 1_000_000,
    })
}

fn seconds(seconds: i64) -> Option<ProtoDuration> {
    Some(ProtoDuration { seconds, nanos: 0 })
}

/// Serves `GET /` on a free port with `config`'s limits; returns the port and the
/// shutdown trigger.
async fn serve(config: ServerConfig) -> (u16, ShutdownTrigger) {
    let port = common::free_port();
    let (trigger, shutdown) = Shutdown::channel();
    let router = axum::Router::new().route("/", get(|| async { "aye" }));
    let config = ServerConfig {
        bind: Some(Socket {
            host: "127.0.0.1".into(),
            port: port.into(),
        }),
        ..config
    };
    tokio::spawn(harness_wires::http::Server::new(router).serve(config, shutdown));
    assert!(
        common::eventually(200, || async {
            TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await,
        "the server never listened"
    );
    (port, trigger)
}

/// Sends a keep-alive `GET /` and reads its whole response (the body is 3 bytes).
async fn get_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    common::read_response(stream, b"aye").await
}

/// Whether the server closes `stream` (end of file or reset) within the patience.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_client_that_does_not_send_its_headers_in_time_is_cut_off() {
    let (port, trigger) = serve(ServerConfig {
        header_read_timeout: millis(200),
        ..Default::default()
    })
    .await;
    // Slowloris: a head begun and never ended.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0")
        .await
        .unwrap();
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(closed_by_server(&mut slow).await);
    assert!(closed_by_server(&mut silent).await);
    trigger.trigger();
}

#[tokio::test]
async fn the_header_timeout_does_not_cut_an_idle_keep_alive_connection() {
    let (port, trigger) = serve(ServerConfig {
        header_read_timeout: millis(100),
        idle_timeout: seconds(60),
        ..Default::default()
    })
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(get_on(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle for longer than the header timeout: the idle timeout governs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(get_on(&mut stream).await.starts_with("HTTP/1.1 200"));
    trigger.trigger();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let (port, trigger) = serve(ServerConfig {
        idle_timeout: millis(200),
        ..Default::default()
    })
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let response = get_on(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(closed_by_server(&mut stream).await);
    trigger.trigger();
}

#[tokio::test]
async fn at_the_connection_limit_new_connections_wait_for_one_to_close() {
    let (port, trigger) = serve(ServerConfig {
        max_connections: 2,
        header_read_timeout: seconds(60),
        idle_timeout: seconds(60),
        ..Default::default()
    })
    .await;
    let mut first = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut second = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(get_on(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(get_on(&mut second).await.starts_with("HTTP/1.1 200"));

    // The third connects (the kernel's backlog) but is not served while two are open.
    let mut third = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut chunk = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut chunk)).await;
    assert!(early.is_err(), "served beyond the limit: {early:?}");

    drop(first);
    let response = common::read_response(&mut third, b"aye").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    drop(second);
    trigger.trigger();
}

/// Sends `head` as the whole request and reads the response.
async fn raw(port: u16, head: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("no answer")
        .unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn the_health_check_goes_by_the_address_the_request_names() {
    let (port, trigger) = serve(ServerConfig::default()).await;
    // By address (a probe, a sidecar): the health check, which holds nothing secret.
    for host in [
        "127.0.0.1",
        "10.1.2.3:8080",
        "8.8.8.8",
        "[::1]:80",
        "localhost",
    ] {
        let answer = common::http_get(port, "/_/health", host).await;
        assert_eq!(answer, Some((200, "OK".to_owned())), "{host}");
    }
    // By name: routed by a gateway to the application, which has no such route.
    let (status, _) = common::http_get(port, "/_/health", "kirk.acme.dev")
        .await
        .unwrap();
    assert_eq!(status, 404);
    // No Host (HTTP/1.0): by address.
    let (status, body) = raw(port, b"GET /_/health HTTP/1.0\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    // Two Host headers, or one that is not text: ambiguous, refused on any path.
    for head in [
        &b"GET /_/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: kirk.acme.dev\r\nConnection: close\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: kirk.acme.dev\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"GET /_/health HTTP/1.1\r\nHost: \xff\xfe\r\nConnection: close\r\n\r\n",
    ] {
        let (status, _) = raw(port, head).await;
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(head));
    }
    trigger.trigger();
}
