//! Readiness follows a gRPC callee: a `grpc::Channel` to a `grpc::Server` that stops
//! makes `/_/health` answer 503 (and this service's own gRPC health `NOT_SERVING`), and
//! 200 again once the callee is back on its port.
#![cfg(all(feature = "grpc", feature = "http"))]

mod common;

use harness::proto::harness::grpc::{Channel as ChannelConfig, Server as GrpcConfig};
use harness::proto::harness::http::Server as HttpConfig;
use harness::proto::harness::net::Socket;
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown, ShutdownTrigger, WireError};
use tokio::task::JoinHandle;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn socket(port: u16) -> Option<Socket> {
    Some(Socket {
        host: "127.0.0.1".into(),
        port: port.into(),
    })
}

/// A gRPC server wire on `port`, and how to stop it.
async fn grpc_server(port: u16) -> (ShutdownTrigger, JoinHandle<Result<(), WireError>>) {
    let (trigger, shutdown) = Shutdown::channel();
    let config = GrpcConfig { bind: socket(port) };
    let serving = tokio::spawn(harness_wires::grpc::Server::new().serve(config, shutdown));
    assert!(
        common::eventually(200, || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await,
        "the gRPC server never listened"
    );
    (trigger, serving)
}

async fn http_health(port: u16) -> Option<u16> {
    common::http_get(port, "/_/health", "127.0.0.1")
        .await
        .map(|(status, _)| status)
}

async fn grpc_health(port: u16) -> Option<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(reply.into_inner().status).ok()
}

/// The only test of this binary (readiness is process-wide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_grpc_callee_that_stops_and_comes_back() {
    let callee_port = common::free_port();
    let (stop_callee, callee) = grpc_server(callee_port).await;
    let channel = harness_wires::grpc::Channel::connect(&ChannelConfig {
        address: socket(callee_port),
    })
    .await
    .unwrap();
    // As `setup` does: only clones of the channel are kept, the wire value goes; the
    // runner closes the wire after the outputs stopped.
    let calls = channel.channel();
    let close = harness::runtime::InputWire::<ChannelConfig>::close(&channel);
    drop(channel);

    // This service's own servers: HTTP and gRPC.
    let (http_port, grpc_port) = (common::free_port(), common::free_port());
    let (trigger, shutdown) = Shutdown::channel();
    let http = tokio::spawn(harness_wires::http::Server::new(axum::Router::new()).serve(
        HttpConfig {
            bind: socket(http_port),
            ..Default::default()
        },
        shutdown.clone(),
    ));
    let grpc = tokio::spawn(harness_wires::grpc::Server::new().serve(
        GrpcConfig {
            bind: socket(grpc_port),
        },
        shutdown,
    ));
    assert!(
        common::eventually(200, || async { http_health(http_port).await == Some(200) }).await,
        "never ready"
    );

    stop_callee.trigger();
    callee.await.unwrap().unwrap();
    assert!(
        common::eventually(200, || async { http_health(http_port).await == Some(503) }).await,
        "/_/health never answered 503 with the callee down"
    );
    assert!(
        common::eventually(200, || async {
            grpc_health(grpc_port).await == Some(ServingStatus::NotServing)
        })
        .await,
        "gRPC health never answered NOT_SERVING with the callee down"
    );
    let reason = harness::runtime::health::not_ready().unwrap();
    assert!(
        reason.contains(&format!("127.0.0.1:{callee_port}")),
        "{reason}"
    );

    let (stop_callee, callee) = grpc_server(callee_port).await;
    assert!(
        common::eventually(200, || async { http_health(http_port).await == Some(200) }).await,
        "never ready again"
    );
    assert!(
        common::eventually(200, || async {
            grpc_health(grpc_port).await == Some(ServingStatus::Serving)
        })
        .await
    );
    drop(calls);
    trigger.trigger();
    http.await.unwrap().unwrap();
    grpc.await.unwrap().unwrap();
    close.await;
    stop_callee.trigger();
    callee.await.unwrap().unwrap();
}
