//! `redis::Connection`: multiplexed, reconnecting Redis connections.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::{
    Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo as _, Pipeline,
    RedisConnectionInfo, RedisError, RedisFuture, Value,
};
use harness::proto::harness::redis::Connection as ConnectionConfig;
use harness::runtime::{InputWire, WireError};
use harness::socket::SocketAddress;
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;

use crate::settings::duration;
use crate::telemetry::{self, Red};

pub use ::redis as client;

/// Connections when the configuration's `pool_size` is 0.
pub const DEFAULT_POOL_SIZE: u32 = 2;

/// Time allowed to connect when the configuration sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the wire checks that Redis answers, for the health check.
pub const PING_INTERVAL: Duration = Duration::from_secs(1);

static METRICS: LazyLock<Red> = LazyLock::new(|| Red::new("redis_client", "Redis commands"));

/// Redis connections, configured by `harness.redis.Connection`: `pool_size` multiplexed
/// connections (each carries any number of concurrent commands) used in turn, with
/// credentials, TLS and timeouts.
///
/// At start it connects and sends `PING`, so a Redis that is down stops the start after
/// the runner's retries, and refused credentials stop it at once. A connection lost while
/// running is re-established in the background (the commands in flight on it fail);
/// meanwhile the wire reports itself down, and `/_/health` answers 503 when it is a
/// required input.
///
/// It implements [`redis::aio::ConnectionLike`](client::aio::ConnectionLike), so every
/// command of [`client::AsyncCommands`] works on a clone, each one making a client span and
/// counting in the `redis_client_*` metrics:
///
/// ```ignore
/// use harness_wires::redis::client::AsyncCommands as _;
/// let mut redis = wires.redis.clone();
/// let _: () = redis.set("greeting", "hello").await?;
/// ```
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

struct Shared {
    managers: Vec<ConnectionManager>,
    next: AtomicUsize,
    peer: String,
    db: i64,
    monitor: tokio::task::AbortHandle,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.monitor.abort();
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.shared.peer)
            .field("db", &self.shared.db)
            .field("pool_size", &self.shared.managers.len())
            .finish()
    }
}

impl InputWire<ConnectionConfig> for Connection {
    async fn connect(config: &ConnectionConfig) -> Result<Self, WireError> {
        let address = SocketAddress::from_socket("address", config.address.as_ref())
            .map_err(WireError::config)?;
        let addr = if config.tls {
            ConnectionAddr::TcpTls {
                host: address.host.clone(),
                port: address.port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(address.host.clone(), address.port)
        };
        let mut settings = RedisConnectionInfo::default().set_db(i64::from(config.db));
        if !config.username.is_empty() {
            settings = settings.set_username(&config.username);
        }
        if !config.password.is_empty() {
            settings = settings.set_password(&config.password);
        }
        let info: ConnectionInfo = addr
            .into_connection_info()
            .map_err(|e| WireError::config(e.to_string()))?
            .set_redis_settings(settings);
        let peer = address.authority();
        let client =
            ::redis::Client::open(info).map_err(|e| WireError::config(format!("{peer}: {e}")))?;
        let connect_timeout =
            duration(config.connect_timeout.as_ref()).unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let mut manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        if let Some(timeout) = duration(config.timeout.as_ref()) {
            manager_config = manager_config.set_response_timeout(Some(timeout));
        }
        let size = if config.pool_size == 0 {
            DEFAULT_POOL_SIZE
        } else {
            config.pool_size
        };
        let mut managers = Vec::with_capacity(size as usize);
        for _ in 0..size {
            let mut manager =
                ConnectionManager::new_with_config(client.clone(), manager_config.clone())
                    .await
                    .map_err(|e| start_error(&peer, e))?;
            let _: () = ::redis::cmd("PING")
                .query_async(&mut manager)
                .await
                .map_err(|e| start_error(&peer, e))?;
            managers.push(manager);
        }
        let monitor = tokio::spawn(monitor(
            managers[0].clone(),
            harness::runtime::health::reporter(),
            peer.clone(),
        ))
        .abort_handle();
        tracing::debug!(peer, size, "redis connected");
        Ok(Connection {
            shared: Arc::new(Shared {
                managers,
                next: AtomicUsize::new(0),
                peer,
                db: i64::from(config.db),
                monitor,
            }),
        })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        let monitor = self.shared.monitor.clone();
        async move { monitor.abort() }
    }
}

impl Connection {
    /// `HOST:PORT` of the server.
    pub fn peer(&self) -> &str {
        &self.shared.peer
    }

    /// One of the pooled connections, uninstrumented (for pub/sub and the like).
    pub fn manager(&self) -> ConnectionManager {
        let index = self.shared.next.fetch_add(1, Ordering::Relaxed) % self.shared.managers.len();
        self.shared.managers[index].clone()
    }

    fn instrumented<'a, T: Send + 'a>(
        &self,
        operation: Cow<'static, str>,
        request: impl Future<Output = Result<T, RedisError>> + Send + 'a,
    ) -> RedisFuture<'a, T> {
        let traced = telemetry::tracing_on();
        let counted = telemetry::metrics_on();
        if !traced && !counted {
            return Box::pin(request);
        }
        let span = telemetry::client_context(
            || operation.clone(),
            SpanKind::Client,
            || {
                vec![
                    KeyValue::new("db.system.name", "redis"),
                    KeyValue::new("db.operation.name", operation.to_string()),
                    KeyValue::new("server.address", self.shared.peer.clone()),
                    KeyValue::new("db.namespace", self.shared.db.to_string()),
                ]
            },
        );
        Box::pin(async move {
            let started = Instant::now();
            let result = match &span {
                Some(context) => {
                    use opentelemetry::context::FutureExt as _;
                    request.with_context(context.clone()).await
                }
                None => request.await,
            };
            let error = result.as_ref().err().map(|e| e.to_string());
            let failed = error.is_some();
            telemetry::end_span(span.as_ref(), error);
            if counted {
                METRICS.record(vec![("command", operation)], failed, started.elapsed());
            }
            result
        })
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let mut manager = self.manager();
        let operation = command_name(cmd);
        self.instrumented(
            operation,
            async move { manager.req_packed_command(cmd).await },
        )
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let mut manager = self.manager();
        self.instrumented(Cow::Borrowed("PIPELINE"), async move {
            manager.req_packed_commands(pipeline, offset, count).await
        })
    }

    fn get_db(&self) -> i64 {
        self.shared.db
    }
}

/// The command's name, upper case: `GET`, `CLIENT`…; `OTHER` for anything unexpected.
fn command_name(cmd: &Cmd) -> Cow<'static, str> {
    const KNOWN: &[&str] = &[
        "GET", "SET", "DEL", "EXISTS", "EXPIRE", "INCR", "INCRBY", "DECR", "MGET", "MSET", "HGET",
        "HSET", "HDEL", "HGETALL", "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "SADD", "SREM",
        "SMEMBERS", "ZADD", "ZRANGE", "ZREM", "PING", "PUBLISH", "EVAL", "EVALSHA",
    ];
    let Some(::redis::Arg::Simple(name)) = cmd.args_iter().next() else {
        return Cow::Borrowed("OTHER");
    };
    let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
    match KNOWN.iter().find(|known| **known == upper) {
        Some(known) => Cow::Borrowed(known),
        None if upper.len() <= 24 && upper.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Cow::Owned(upper)
        }
        None => Cow::Borrowed("OTHER"),
    }
}

/// Pings Redis every [`PING_INTERVAL`], reporting the wire down while it does not answer.
async fn monitor(
    mut manager: ConnectionManager,
    reporter: harness::runtime::health::Reporter,
    peer: String,
) {
    loop {
        tokio::time::sleep(PING_INTERVAL).await;
        let command = ::redis::cmd("PING");
        let ping = command.query_async::<()>(&mut manager);
        match tokio::time::timeout(PING_INTERVAL, ping).await {
            Ok(Ok(())) => reporter.up(),
            Ok(Err(error)) => reporter.down(format!("redis at {peer}: {error}")),
            Err(_) => reporter.down(format!("redis at {peer}: no answer to PING")),
        }
    }
}

/// Unreachable: retried by the runner. Refused credentials or a bad database: not.
fn start_error(peer: &str, error: RedisError) -> WireError {
    let message = format!("cannot connect to Redis at {peer}: {error}");
    match error.kind() {
        ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig => {
            WireError::config(message)
        }
        ErrorKind::Server(_) if !error.is_connection_refusal() => WireError::config(message),
        _ => WireError::connect(message),
    }
}
