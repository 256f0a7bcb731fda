//! `mysql::Pool` against the machine's MariaDB (127.0.0.1:3306, root without a password,
//! database `test`), directly and behind a proxy this test cuts.
#![cfg(feature = "mysql")]

mod common;

use harness::proto::harness::mysql::{Dsn, Pool as PoolConfig};
use harness::proto::harness::net::Socket;
use harness::runtime::InputWire as _;
use harness_wires::mysql::{Pool, sqlx};

fn config(port: u16) -> PoolConfig {
    PoolConfig {
        address: Some(Socket {
            host: "127.0.0.1".into(),
            port: port.into(),
        }),
        username: "root".into(),
        database: "test".into(),
        min_size: 1,
        max_size: 4,
        acquire_timeout: Some(harness::prost_types::Duration {
            seconds: 0,
            nanos: 300_000_000,
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn both_configurations_reach_the_database_and_run_statements() {
    let table = common::unique("harness_mysql");
    let by_fields = Pool::connect(&config(3306)).await.unwrap();
    let by_dsn = Pool::connect(&Dsn {
        value: "mysql://root@127.0.0.1:3306/test".into(),
        min_size: 2,
        max_size: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_dsn.peer(), "127.0.0.1:3306");
    // The acquire timeout is the configured one, else the default.
    let acquire = |pool: &Pool| pool.pool().options().get_acquire_timeout();
    assert_eq!(acquire(&by_fields), std::time::Duration::from_millis(300));
    assert_eq!(
        acquire(&by_dsn),
        harness_wires::mysql::DEFAULT_ACQUIRE_TIMEOUT
    );
    assert!(by_dsn.pool().size() >= 2, "min_size connections are open");

    // `&Pool` is an executor: what one pool writes, the other reads.
    sqlx::query(&format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, name TEXT)"
    ))
    .execute(&by_fields)
    .await
    .unwrap();
    sqlx::query(&format!("INSERT INTO {table} VALUES (?, ?)"))
        .bind(7)
        .bind("Chekov")
        .execute(&by_fields)
        .await
        .unwrap();
    let name: String = sqlx::query_scalar(&format!("SELECT name FROM {table} WHERE id = ?"))
        .bind(7)
        .fetch_one(&by_dsn)
        .await
        .unwrap();
    assert_eq!(name, "Chekov");
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&by_dsn)
        .await
        .unwrap();
    by_fields.pool().close().await;
    by_dsn.pool().close().await;
}

#[tokio::test]
async fn a_refused_password_stops_the_start_without_retry_or_quoting_it() {
    let error = Pool::connect(&Dsn {
        value: "mysql://root:hunter2@127.0.0.1:3306/test".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert!(error.to_string().contains("127.0.0.1:3306"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_retryable_start_error() {
    let error = Pool::connect(&config(1)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
}

/// The only test of this binary that looks at readiness (it is process-wide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_the_pool_recovers() {
    let proxy = common::Proxy::start(3306).await;
    let pool = Pool::connect(&config(proxy.port)).await.unwrap();
    assert_eq!(harness::runtime::health::not_ready(), None);

    proxy.set_open(false);
    assert!(
        common::eventually(200, || async {
            harness::runtime::health::not_ready().is_some()
        })
        .await,
        "the wire never reported MariaDB down"
    );
    let reason = harness::runtime::health::not_ready().unwrap();
    assert!(reason.contains("mysql at 127.0.0.1"), "{reason}");

    // Refused connections (a stopped server): a statement fails once its acquire
    // timeout is over, instead of hanging.
    proxy.set_listening(false);
    let during = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&pool),
    )
    .await;
    assert!(matches!(during, Ok(Err(_))), "{during:?}");
    proxy.set_listening(true);

    proxy.set_open(true);
    assert!(
        common::eventually(200, || async {
            harness::runtime::health::not_ready().is_none()
        })
        .await,
        "the wire never reported MariaDB up again"
    );
    let one: i64 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    pool.pool().close().await;
}
