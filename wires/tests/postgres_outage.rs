//! A PostgreSQL outage, with the machine's PostgreSQL behind a proxy this test controls:
//! `/_/health` answers 503 while the database is away (naming the wire, never its
//! address), statements fail once the configured acquire timeout is over instead of
//! hanging, and everything recovers when the database is back.
#![cfg(all(feature = "postgres", feature = "http"))]

mod common;

use std::time::Duration;

use harness::proto::harness::http::Server as ServerConfig;
use harness::proto::harness::net::Socket;
use harness::proto::harness::postgres::{Dsn, Pool as PoolConfig};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::postgres::{Pool, sqlx};

const PATIENCE: Duration = Duration::from_secs(10);

async fn health(port: u16) -> Option<(u16, String)> {
    common::http_get(port, "/_/health", "127.0.0.1").await
}

async fn select_one(pool: &Pool) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT 1").fetch_one(pool).await
}

/// The only test of this binary that looks at readiness (it is process-wide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_requests_fast_and_readiness_follows_it() {
    // Unset, the acquire timeout is the wire's default. (Closed at once, before its
    // first ping could report on readiness, which is process-wide.)
    let by_default = Pool::connect(&Dsn {
        value: "postgres://postgres@127.0.0.1:5432/test".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        by_default.pool().options().get_acquire_timeout(),
        harness_wires::postgres::DEFAULT_ACQUIRE_TIMEOUT
    );
    by_default.pool().close().await;

    let proxy = common::Proxy::start(5432).await;
    let pool = Pool::connect(&PoolConfig {
        address: Some(Socket {
            host: "127.0.0.1".into(),
            port: proxy.port.into(),
        }),
        username: "postgres".into(),
        database: "test".into(),
        min_size: 1,
        max_size: 2,
        acquire_timeout: Some(harness::prost_types::Duration {
            seconds: 0,
            nanos: 300_000_000,
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        pool.pool().options().get_acquire_timeout(),
        Duration::from_millis(300)
    );

    let port = common::free_port();
    let (trigger, shutdown) = Shutdown::channel();
    let config = ServerConfig {
        bind: Some(Socket {
            host: "127.0.0.1".into(),
            port: port.into(),
        }),
        ..Default::default()
    };
    let serving =
        tokio::spawn(harness_wires::http::Server::new(axum::Router::new()).serve(config, shutdown));
    assert!(
        common::eventually(200, || async {
            health(port).await == Some((200, "OK".into()))
        })
        .await,
        "never ready"
    );

    // PostgreSQL stops: connections are refused.
    proxy.set_listening(false);
    assert!(
        common::eventually(200, || async {
            health(port).await.is_some_and(|(status, _)| status == 503)
        })
        .await,
        "/_/health never answered 503"
    );
    let (_, body) = health(port).await.unwrap();
    assert_eq!(body, "not ready: input");
    assert!(!body.contains("127.0.0.1") && !body.contains(&proxy.port.to_string()));
    // The address is in the reason the logs get.
    let reason = harness::runtime::health::not_ready().unwrap();
    assert!(
        reason.contains(&format!("127.0.0.1:{}", proxy.port)),
        "{reason}"
    );

    let during = tokio::time::timeout(PATIENCE, select_one(&pool)).await;
    assert!(
        matches!(during, Ok(Err(sqlx::Error::PoolTimedOut))),
        "{during:?}"
    );

    proxy.set_listening(true);
    assert!(
        common::eventually(200, || async {
            health(port).await == Some((200, "OK".into()))
        })
        .await,
        "never ready again"
    );
    assert_eq!(select_one(&pool).await.unwrap(), 1);
    trigger.trigger();
    serving.await.unwrap().unwrap();
    pool.pool().close().await;
}
