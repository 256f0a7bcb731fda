//! `postgres::Pool`: a sqlx PostgreSQL pool, configured by `harness.postgres.Pool` or a DSN.

use std::future::Future;
use std::ops::Deref;
use std::str::FromStr;

use harness::proto::harness::postgres::{Dsn, Pool as PoolConfig};
use harness::runtime::{InputWire, WireError};
use harness::socket::SocketAddress;
use sqlx::postgres::PgConnectOptions;

use crate::sql::PoolSettings;

mod telemetry;

pub use sqlx;
pub use sqlx::PgPool;

/// Connections when the configuration's `max_size` is 0.
pub const DEFAULT_MAX_SIZE: u32 = 10;

pub use crate::sql::DEFAULT_ACQUIRE_TIMEOUT;

/// A PostgreSQL connection pool ([`sqlx::PgPool`]), configured by `harness.postgres.Pool`
/// (field by field) or `harness.postgres.DSN` (a URL).
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
/// and counts it in `postgres_client_*` by operation (with `metrics::Prometheus`), which
/// also reports the pool's connections (`postgres_pool_connections`). Clone the wire into
/// the application's state; [`pool`](Pool::pool) is the sqlx pool itself (for
/// transactions and the like), uninstrumented. While PostgreSQL does not answer, the wire
/// reports itself down (`/_/health` answers 503 when it is a required input).
#[derive(Debug, Clone)]
pub struct Pool {
    pool: PgPool,
    peer: std::sync::Arc<str>,
}

impl Pool {
    /// The sqlx pool; clones share the connections.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// `HOST:PORT` of the server.
    pub fn peer(&self) -> &str {
        &self.peer
    }
}

impl Deref for Pool {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

impl InputWire<PoolConfig> for Pool {
    async fn connect(config: &PoolConfig) -> Result<Self, WireError> {
        let address = SocketAddress::from_socket("address", config.address.as_ref())
            .map_err(WireError::config)?;
        let mut options = PgConnectOptions::new_without_pgpass()
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
        let not_postgres = || {
            WireError::config(
                "value: not a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)",
            )
        };
        let options = PgConnectOptions::from_str(&config.value).map_err(|_| not_postgres())?;
        let target = SocketAddress::from_url("value", &config.value)
            .map_err(|_| not_postgres())?
            .authority();
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
    options: PgConnectOptions,
    target: &str,
    settings: PoolSettings<'_>,
) -> Result<Pool, WireError> {
    let pool = crate::sql::open("PostgreSQL", options, target, settings, is_retryable).await?;
    telemetry::watch(&pool, target);
    Ok(Pool {
        pool,
        peer: target.into(),
    })
}

/// Unreachable or still starting: worth another try. Refused credentials or a missing
/// database are not.
fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            // 57P03 cannot_connect_now (starting up), 53300 too_many_connections.
            matches!(db.code().as_deref(), Some("57P03") | Some("53300"))
        }
        _ => false,
    }
}

async fn close(pool: PgPool) {
    pool.close().await;
}
