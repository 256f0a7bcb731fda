//! `postgres::Pool`: a sqlx PostgreSQL pool, configured by `harness.postgres.Pool` or a DSN.

use std::future::Future;
use std::ops::Deref;
use std::str::FromStr;
use std::time::Duration;

use harness::proto::harness::postgres::{Dsn, Pool as PoolConfig};
use harness::runtime::{InputWire, WireError};
use harness::socket::SocketAddress;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

pub use sqlx;
pub use sqlx::PgPool;

/// Connections when the configuration's `max_size` is 0.
pub const DEFAULT_MAX_SIZE: u32 = 10;

/// Time to wait for a free connection before a query fails.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL connection pool ([`sqlx::PgPool`]), configured by `harness.postgres.Pool`
/// (field by field) or `harness.postgres.DSN` (a URL).
///
/// At start it opens `max(min_size, 1)` connections, so an unreachable or misconfigured
/// database stops the start (an unreachable one after the runner's retries); the pool
/// keeps at least `min_size` and at most `max_size` (0: [`DEFAULT_MAX_SIZE`]) connections.
/// It is closed after the outputs stopped.
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
        connect(options, &target, config.min_size, config.max_size).await
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
        connect(options, &target, config.min_size, config.max_size).await
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        close(self.pool.clone())
    }
}

async fn connect(
    options: PgConnectOptions,
    target: &str,
    min_size: u32,
    max_size: u32,
) -> Result<Pool, WireError> {
    let max = if max_size == 0 {
        DEFAULT_MAX_SIZE
    } else {
        max_size
    };
    let min = min_size.min(max);
    let failed = |error: sqlx::Error| {
        let message = format!("cannot connect to PostgreSQL at {target}: {error}");
        if is_retryable(&error) {
            WireError::connect(message)
        } else {
            WireError::config(message)
        }
    };
    // A plain connection and the pool's first ones, at once: the plain one says why the
    // database cannot be reached (the pool retries until its acquire timeout and would only
    // report a timeout); the pool's are kept. Waiting for one and then the other would
    // double the time to start.
    let pool = PgPoolOptions::new()
        .min_connections(min)
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options.clone());
    // Open `min_size` connections now (at least one), so the first requests find them.
    let fill = async {
        let mut opened = Vec::with_capacity(min.max(1) as usize);
        for _ in 0..min.max(1) {
            opened.push(pool.acquire().await?);
        }
        Ok::<_, sqlx::Error>(opened)
    };
    let filled = {
        let mut fill = std::pin::pin!(fill);
        tokio::select! {
            probed = PgConnection::connect_with(&options) => match probed {
                Ok(probe) => {
                    tokio::spawn(async move {
                        let _ = probe.close().await;
                    });
                    fill.await
                }
                Err(error) => Err(error),
            },
            filled = &mut fill => filled,
        }
    };
    match filled {
        Ok(opened) => drop(opened),
        Err(error) => {
            pool.close().await;
            return Err(failed(error));
        }
    }
    tracing::debug!(target, min, max, "postgres pool ready");
    crate::postgres_telemetry::watch(&pool, target);
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
