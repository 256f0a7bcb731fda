//! `redis::Connection` against the machine's Redis (127.0.0.1:6379).
#![cfg(feature = "redis")]

use harness::proto::harness::net::Socket;
use harness::proto::harness::redis::Connection as Config;
use harness::runtime::InputWire as _;
use harness_wires::redis::Connection;
use harness_wires::redis::client::{self, AsyncCommands as _};

fn config(port: u32) -> Config {
    Config {
        address: Some(Socket {
            host: "127.0.0.1".into(),
            port,
        }),
        db: 3,
        pool_size: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn commands_work_and_the_connection_survives_client_kill() {
    let wire = Connection::connect(&config(6379)).await.unwrap();
    let mut redis = wire.clone();
    let key = format!("harness-test-{}", std::process::id());
    let _: () = redis.set(&key, "aye").await.unwrap();
    let value: String = redis.get(&key).await.unwrap();
    assert_eq!(value, "aye");
    // db 3 is used: the key is not in db 0.
    let mut admin = client::Client::open("redis://127.0.0.1:6379/0")
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let in_db0: Option<String> = admin.get(&key).await.unwrap();
    assert_eq!(in_db0, None);

    // Kill the wire's connection from another client.
    let id: i64 = client::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut redis)
        .await
        .unwrap();
    let killed: i64 = client::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);

    // Commands fail while the connection is re-established, then work again: bounded
    // attempts, no timing assertion.
    let mut recovered = None;
    for _ in 0..100 {
        match client::cmd("CLIENT")
            .arg("ID")
            .query_async::<i64>(&mut redis)
            .await
        {
            Ok(new_id) => {
                recovered = Some(new_id);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    let new_id = recovered.expect("the connection came back");
    assert_ne!(new_id, id, "a new connection");
    let value: String = redis.get(&key).await.unwrap();
    assert_eq!(value, "aye");
    let _: () = redis.del(&key).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_is_a_retryable_start_error() {
    // Nothing listens on port 1.
    let error = Connection::connect(&config(1)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(
        error
            .to_string()
            .contains("cannot connect to Redis at 127.0.0.1:1"),
        "{error}"
    );
}

#[tokio::test]
async fn refused_credentials_are_not_retried() {
    let mut bad = config(6379);
    bad.username = "nobody-harness".into();
    bad.password = "wrong".into();
    let error = Connection::connect(&bad).await.unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert!(!error.to_string().contains("wrong"), "{error}");
}
