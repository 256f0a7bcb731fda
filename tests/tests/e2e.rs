//! kirk (HTTP) → scotty (gRPC) → PostgreSQL, as real processes.

use harness_tests::{
    Service, free_port, http_get, kirk_secrets, kirk_yaml, scotty_yaml, wait_sleeping_at_database,
};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

struct Pair {
    scotty: Service,
    kirk: Service,
    scotty_port: u16,
    kirk_port: u16,
}

fn start_pair() -> Pair {
    let (scotty_port, kirk_port) = (free_port(), free_port());
    let mut scotty = Service::start(
        "scotty",
        &[("scotty.yaml", &scotty_yaml(scotty_port, 5432))],
        &["scotty.yaml"],
    );
    let mut kirk = Service::start(
        "kirk",
        &[
            ("kirk.yaml", &kirk_yaml(kirk_port, scotty_port)),
            ("secrets.yaml", &kirk_secrets("s3cret", 5432)),
        ],
        &["kirk.yaml", "--merge", "secrets.yaml"],
    );
    scotty.wait_listening(scotty_port);
    kirk.wait_listening(kirk_port);
    Pair {
        scotty,
        kirk,
        scotty_port,
        kirk_port,
    }
}

#[test]
fn kirk_calls_scotty_which_queries_postgres() {
    let pair = start_pair();
    let (status, body) = http_get(pair.kirk_port, "/beam/Uhura", "kirk.acme.dev").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("Captain's log, stardate "), "{body}");
    assert!(body.contains("Aye, Uhura is aboard (test)"), "{body}");

    // The health check answers requests that name kirk by address. Readiness follows
    // scotty, which started with kirk: kirk checks it every second.
    let mut health = http_get(pair.kirk_port, "/_/health", "10.1.2.3:8080").unwrap();
    for _ in 0..100 {
        if health.0 == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        health = http_get(pair.kirk_port, "/_/health", "10.1.2.3:8080").unwrap();
    }
    assert_eq!((health.0, health.1.as_str()), (200, "OK"));
    let (status, _) = http_get(pair.kirk_port, "/_/health", "kirk.acme.dev").unwrap();
    assert_eq!(status, 404);

    for service in [pair.kirk, pair.scotty] {
        service.signal("TERM");
        let exit = service.wait();
        assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scotty_serves_grpc_health_and_reflection() {
    let scotty_port = free_port();
    let mut scotty = Service::start(
        "scotty",
        &[("scotty.yaml", &scotty_yaml(scotty_port, 5432))],
        &["scotty.yaml"],
    );
    scotty.wait_listening(scotty_port);
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{scotty_port}"))
            .unwrap()
            .connect()
            .await
            .unwrap();

    let mut health = HealthClient::new(channel.clone());
    for service in ["", "scotty.Scotty"] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nobody.Here".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("unexpected reflection reply {reply:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["scotty.Scotty", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }

    // Watching health: SERVING now, NOT_SERVING once the drain starts.
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "scotty.Scotty".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    scotty.signal("TERM");
    let next = watch.next().await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    drop(watch);
    drop(health);
    drop(reflection);
    drop(channel);
    let exit = tokio::task::spawn_blocking(move || scotty.wait())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);
}

/// SIGTERM to both services while requests are in flight at the database: every request
/// completes and both exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_requests_in_flight() {
    const REQUESTS: usize = 6;
    let pair = start_pair();
    let mut requests = Vec::new();
    for i in 0..REQUESTS {
        let (port, name) = (pair.kirk_port, format!("ensign-{i}"));
        requests.push(std::thread::spawn(move || {
            http_get(
                port,
                &format!("/beam/{name}?delay_ms=1500"),
                "kirk.acme.dev",
            )
        }));
    }
    // Every request is in flight end to end once scotty's database sleeps on it.
    assert!(
        wait_sleeping_at_database(REQUESTS as i64).await,
        "the requests never reached the database"
    );
    pair.kirk.signal("TERM");
    pair.scotty.signal("TERM");
    for request in requests {
        let (status, body) = request.join().unwrap().expect("request in flight failed");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("is aboard"), "{body}");
    }
    let (kirk, scotty) = (pair.kirk, pair.scotty);
    let exits = tokio::task::spawn_blocking(move || (kirk.wait(), scotty.wait()))
        .await
        .unwrap();
    assert_eq!(exits.0.code(), Some(0), "kirk: {}", exits.0.stderr);
    assert_eq!(exits.1.code(), Some(0), "scotty: {}", exits.1.stderr);
    let _ = pair.scotty_port;
}
