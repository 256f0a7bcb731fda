//! Readiness follows the inputs: a Redis behind a proxy this test controls goes away and
//! comes back; `/_/health` of an HTTP server answers 503 meanwhile, 200 again after.
#![cfg(all(feature = "redis", feature = "http"))]

mod common;

use std::time::Duration;

use harness::proto::harness::http::Server as ServerConfig;
use harness::proto::harness::net::Socket;
use harness::proto::harness::redis::Connection as RedisConfig;
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The status of `GET /_/health`; 0 while the server does not listen yet.
async fn health(port: u16) -> u16 {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    stream
        .write_all(b"GET /_/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Polls `health` until it answers `status`, boundedly.
async fn wait_for(port: u16, status: u16) {
    for _ in 0..200 {
        if health(port).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/_/health never answered {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_a_required_redis_is_down() {
    let proxy = common::Proxy::start(6379).await;

    let redis = harness_wires::redis::Connection::connect(&RedisConfig {
        address: Some(Socket {
            host: "127.0.0.1".into(),
            port: proxy.port.into(),
        }),
        pool_size: 1,
        ..Default::default()
    })
    .await
    .unwrap();

    let port = common::free_port();
    let (trigger, shutdown) = Shutdown::channel();
    let server = harness_wires::http::Server::new(axum::Router::new());
    let serving = tokio::spawn(server.serve(
        ServerConfig {
            bind: Some(Socket {
                host: "127.0.0.1".into(),
                port: port.into(),
            }),
            ..Default::default()
        },
        shutdown,
    ));
    wait_for(port, 200).await;

    proxy.set_open(false);
    wait_for(port, 503).await;
    assert!(harness::runtime::health::not_ready().is_some());

    proxy.set_open(true);
    wait_for(port, 200).await;
    assert_eq!(harness::runtime::health::not_ready(), None);
    // And the wire works again.
    let mut conn = redis.clone();
    let pong: String = harness_wires::redis::client::cmd("PING")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pong, "PONG");
    trigger.trigger();
    serving.await.unwrap().unwrap();
}
