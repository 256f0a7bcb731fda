//! `mysql::Pool`: a sqlx MySQL/MariaDB pool, configured by `harness.mysql.Pool` or a DSN.

use std::future::Future;
use std::ops::Deref;
use std::str::FromStr;

use harness::proto::harness::mysql::{Dsn, Pool as PoolConfig};
use harness::runtime::{InputWire, WireError};
use sqlx::mysql::MySqlConnectOptions;

use crate::sql::PoolSettings;

mod telemetry;

pub use sqlx;
pub use sqlx::MySqlPool;

/// Connections when the configuration's `max_size` is 0.
pub const DEFAULT_MAX_SIZE: u32 = 10;

pub use crate::sql::DEFAULT_ACQUIRE_TIMEOUT;

/// A MySQL or MariaDB connection pool ([`sqlx::MySqlPool`]), configured by
/// `harness.mysql.Pool` (field by field) or `harness.mysql.DSN` (a URL in `value`).
///
/// At start it opens `max(min_size, 1)` connections, so an unreachable or misconfigured
/// database stops the start (an unreachable one after the runner's retries); the pool
/// keeps at least `min_size` and at most `max_size` (0: [`DEFAULT_MAX_SIZE`]) connections.
/// A statement waits at most `acquire_timeout` (unset: [`DEFAULT_ACQUIRE_TIMEOUT`]) for a
/// connection, so that during an outage requests fail then instead of hanging. It is
/// closed after the outputs stopped.
///
/// `&Pool` is a sqlx executor: `sqlx::query("SELECT 1").execute(&wires.db)` runs the
/// statement in a client span (child of the request being served, with `tracing::Otlp`)
/// and counts it in `mysql_client_*` by operation (with `metrics::Prometheus`), which also
/// reports the pool's connections (`mysql_pool_connections`). [`pool`](Pool::pool) is the
/// sqlx pool itself (for transactions and the like), uninstrumented. While the database
/// does not answer its ping, the wire reports itself down (`/_/health` answers 503 when it
/// is a required input).
#[derive(Debug, Clone)]
pub struct Pool {
    pool: MySqlPool,
    peer: std::sync::Arc<str>,
}

impl Pool {
    /// The sqlx pool; clones share the connections.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// `HOST:PORT` of the server.
    pub fn peer(&self) -> &str {
        &self.peer
    }
}

impl Deref for Pool {
    type Target = MySqlPool;

    fn deref(&self) -> &MySqlPool {
        &self.pool
    }
}

impl InputWire<PoolConfig> for Pool {
    async fn connect(config: &PoolConfig) -> Result<Self, WireError> {
        let address =
            harness::socket::SocketAddress::from_socket("address", config.address.as_ref())
                .map_err(WireError::config)?;
        let mut options = MySqlConnectOptions::new()
            .host(&address.host)
            .port(address.port);
        if !config.username.is_empty() {
            options = options.username(&config.username);
        }
        if !config.password.is_empty() {
            options = options.password(&config.password);
        }
        if !config.database.is_empty() {
            options = options.database(&config.database);
        }
        let target = address.authority();
        let settings = PoolSettings::new(
            (config.min_size, config.max_size),
            config.acquire_timeout.as_ref(),
            DEFAULT_MAX_SIZE,
        );
        connect(options, &target, settings).await
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        close(self.pool.clone())
    }
}

impl InputWire<Dsn> for Pool {
    async fn connect(config: &Dsn) -> Result<Self, WireError> {
        // The URL may hold a password: errors never quote it.
        let options = MySqlConnectOptions::from_str(&config.value).map_err(|_| {
            WireError::config("value: not a MySQL URL (mysql://USER:PASSWORD@HOST:PORT/DATABASE)")
        })?;
        let target = format!("{}:{}", options.get_host(), options.get_port());
        let settings = PoolSettings::new(
            (config.min_size, config.max_size),
            config.acquire_timeout.as_ref(),
            DEFAULT_MAX_SIZE,
        );
        connect(options, &target, settings).await
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        close(self.pool.clone())
    }
}

async fn connect(
    options: MySqlConnectOptions,
    target: &str,
    settings: PoolSettings<'_>,
) -> Result<Pool, WireError> {
    let pool = crate::sql::open("MySQL", options, target, settings, is_retryable).await?;
    telemetry::watch(&pool, target);
    Ok(Pool {
        pool,
        peer: target.into(),
    })
}

/// Unreachable or overloaded: worth another try. Refused credentials or a missing
/// database are not.
fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            // 1040 ER_CON_COUNT_ERROR (too many connections), 1203 ER_TOO_MANY_USER_CONNECTIONS,
            // 1053 ER_SERVER_SHUTDOWN: the server is stopping or full, not misconfigured.
            db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|e| matches!(e.number(), 1040 | 1203 | 1053))
        }
        _ => false,
    }
}

async fn close(pool: MySqlPool) {
    pool.close().await;
}
