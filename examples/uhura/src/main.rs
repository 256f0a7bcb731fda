//! uhura: the scheduler's `hail` job publishes a hail on NATS (JetStream); the `hails`
//! subscriber counts each hail in Redis and keeps the last ones; `GET /log` shows them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use harness_wires::http::Server;
use harness_wires::metrics::Prometheus;
use harness_wires::nats::{Message, Publisher, Subscriber};
use harness_wires::redis::Connection;
use harness_wires::redis::client::AsyncCommands as _;
use harness_wires::schedule::Scheduler;

harness::include_service!();

/// Hails kept in the log.
const KEEP: isize = 10;

#[harness::main]
async fn setup(config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let keys = Keys::new(&config.subject);
    let hails = Subscriber::new(&wires.nats, {
        let (redis, keys) = (wires.redis.clone(), keys.clone());
        move |message| record(redis.clone(), keys.clone(), message)
    });
    let sent = Arc::new(AtomicU64::new(0));
    let scheduler = Scheduler::new().job("hail", {
        let (nats, subject) = (wires.nats.clone(), config.subject.clone());
        move || hail(nats.clone(), subject.clone(), sent.clone())
    });
    let router = Router::new()
        .route("/log", get(log))
        .with_state((wires.redis.clone(), keys));
    Ok(WiresOut {
        hails,
        scheduler,
        server: Server::new(router),
        metrics: Prometheus::new(),
    })
}

#[derive(Clone)]
struct Keys {
    count: Arc<str>,
    last: Arc<str>,
}

impl Keys {
    fn new(subject: &str) -> Keys {
        Keys {
            count: format!("uhura:{subject}:count").into(),
            last: format!("uhura:{subject}:last").into(),
        }
    }
}

/// The `hail` job: one message on `SUBJECT.N`.
async fn hail(nats: Publisher, subject: String, sent: Arc<AtomicU64>) -> anyhow::Result<()> {
    let n = sent.fetch_add(1, Ordering::Relaxed) + 1;
    nats.publish(
        format!("{subject}.{n}"),
        format!("hailing frequencies open ({n})"),
    )
    .await?;
    Ok(())
}

/// The `hails` handler: an error (Redis down) gets the message redelivered.
async fn record(mut redis: Connection, keys: Keys, message: Message) -> anyhow::Result<()> {
    let text = String::from_utf8_lossy(&message.payload).into_owned();
    let _: i64 = redis.incr(&*keys.count, 1).await?;
    let _: i64 = redis.lpush(&*keys.last, &text).await?;
    let _: () = redis.ltrim(&*keys.last, 0, KEEP - 1).await?;
    Ok(())
}

async fn log(
    State((mut redis, keys)): State<(Connection, Keys)>,
) -> Result<String, (StatusCode, String)> {
    let unavailable = |e: harness_wires::redis::client::RedisError| {
        (StatusCode::SERVICE_UNAVAILABLE, format!("redis: {e}\n"))
    };
    let count: Option<u64> = redis.get(&*keys.count).await.map_err(unavailable)?;
    let last: Vec<String> = redis
        .lrange(&*keys.last, 0, KEEP - 1)
        .await
        .map_err(unavailable)?;
    let mut text = format!("{} hails\n", count.unwrap_or(0));
    for hail in last {
        text.push_str(&hail);
        text.push('\n');
    }
    Ok(text)
}
