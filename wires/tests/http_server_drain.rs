//! The drain of `http::Server`, over loopback: requests already sent when the shutdown
//! comes are answered (HTTP/1 with `Connection: close`, HTTP/2 after GOAWAY), not
//! dropped, and the server returns once its connections are closed.
#![cfg(feature = "http")]

mod common;

use std::time::Duration;

use axum::routing::get;
use harness::proto::harness::http::Server as ServerConfig;
use harness::proto::harness::net::Socket;
use harness::runtime::{OutputWire as _, Shutdown, ShutdownTrigger, WireError};
use http_body_util::{BodyExt as _, Empty};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

const PATIENCE: Duration = Duration::from_secs(10);

struct Running {
    port: u16,
    trigger: ShutdownTrigger,
    serving: JoinHandle<Result<(), WireError>>,
    /// Notified when `GET /slow` has started.
    slow_started: std::sync::Arc<Notify>,
    /// Lets `GET /slow` answer.
    slow_release: std::sync::Arc<Notify>,
}

/// Serves `GET /` (fast) and `GET /slow` (answers once released).
async fn serve() -> Running {
    let port = common::free_port();
    let (trigger, shutdown) = Shutdown::channel();
    let (slow_started, slow_release) = (
        std::sync::Arc::new(Notify::new()),
        std::sync::Arc::new(Notify::new()),
    );
    let (started, release) = (slow_started.clone(), slow_release.clone());
    let router = axum::Router::new()
        .route("/", get(|| async { "aye" }))
        .route(
            "/slow",
            get(move || async move {
                started.notify_one();
                release.notified().await;
                "aye"
            }),
        );
    let config = ServerConfig {
        bind: Some(Socket {
            host: "127.0.0.1".into(),
            port: port.into(),
        }),
        ..Default::default()
    };
    let serving = tokio::spawn(harness_wires::http::Server::new(router).serve(config, shutdown));
    assert!(
        common::eventually(200, || async {
            TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await
    );
    Running {
        port,
        trigger,
        serving,
        slow_started,
        slow_release,
    }
}

/// Reads one response (its body is `aye`) off a keep-alive connection.
async fn response(stream: &mut TcpStream) -> String {
    common::read_response(stream, b"aye")
        .await
        .to_ascii_lowercase()
}

/// Whether the server closes the connection with nothing more to say.
async fn ends(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await,
        Ok(Ok(0))
    )
}

async fn stopped(running: Running) {
    let result = tokio::time::timeout(PATIENCE, running.serving)
        .await
        .expect("the server did not finish draining");
    result.unwrap().unwrap();
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_on_a_keep_alive_connection_as_the_drain_starts_is_answered() {
    let running = serve().await;
    let mut stream = TcpStream::connect(("127.0.0.1", running.port))
        .await
        .unwrap();
    stream.write_all(GET).await.unwrap();
    let first = response(&mut stream).await;
    assert!(first.starts_with("http/1.1 200"), "{first}");
    assert!(!first.contains("connection: close"), "{first}");

    // The next request is on its way when the shutdown comes.
    stream.write_all(GET).await.unwrap();
    running.trigger.trigger();
    // Answered (with `Connection: close` when the server saw the shutdown first), then
    // closed.
    let second = response(&mut stream).await;
    assert!(second.starts_with("http/1.1 200"), "{second}");
    assert!(ends(&mut stream).await);
    stopped(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_finishes_and_an_idle_connection_is_closed() {
    let running = serve().await;
    let mut idle = TcpStream::connect(("127.0.0.1", running.port))
        .await
        .unwrap();
    idle.write_all(GET).await.unwrap();
    response(&mut idle).await;

    let mut busy = TcpStream::connect(("127.0.0.1", running.port))
        .await
        .unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, running.slow_started.notified())
        .await
        .unwrap();
    running.trigger.trigger();
    // The idle connection is closed after the drain window; new connections are refused.
    assert!(ends(&mut idle).await);
    assert!(
        common::eventually(200, || async {
            TcpStream::connect(("127.0.0.1", running.port))
                .await
                .is_err()
        })
        .await
    );
    running.slow_release.notify_one();
    let answer = response(&mut busy).await;
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(ends(&mut busy).await);
    stopped(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_in_flight_finish_after_goaway() {
    let running = serve().await;
    let stream = TcpStream::connect(("127.0.0.1", running.port))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let request = |path: &str| {
        http::Request::get(format!("http://127.0.0.1:{}{path}", running.port))
            .body(Empty::<bytes::Bytes>::new())
            .unwrap()
    };
    let fast = sender.send_request(request("/")).await.unwrap();
    assert_eq!(fast.status(), 200);

    let slow = tokio::spawn(sender.send_request(request("/slow")));
    tokio::time::timeout(PATIENCE, running.slow_started.notified())
        .await
        .unwrap();
    running.trigger.trigger();
    running.slow_release.notify_one();
    let slow = tokio::time::timeout(PATIENCE, slow)
        .await
        .expect("the stream in flight was not answered")
        .unwrap()
        .unwrap();
    assert_eq!(slow.status(), 200);
    let body = slow.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"aye");
    // GOAWAY: the connection ends.
    tokio::time::timeout(PATIENCE, connection)
        .await
        .expect("the connection did not end")
        .unwrap()
        .unwrap();
    stopped(running).await;
}
