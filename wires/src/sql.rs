//! What the sqlx pool wires (`postgres::Pool`, `mysql::Pool`) share: opening the pool at
//! start, a span and RED metrics per statement, pool gauges at each scrape, and a health
//! monitor.
//!
//! Each wire's own module implements `sqlx::Executor` for `&Pool` with [`sql_executor!`],
//! which runs every statement through [`Query`].

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use sqlx::Connection as _;

use harness::runtime::WireError;

use crate::telemetry::{self, Red};

/// Time a statement waits for a connection (a free one, or a new one to the database)
/// before it fails, when the configuration's `acquire_timeout` is unset. It bounds a
/// request's wait during an outage: sqlx retries a refused connection until then.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a pool checks that its database answers, for the health check.
pub const PING_INTERVAL: Duration = Duration::from_secs(1);

/// One kind of database: its name in spans (`db.system.name`) and the prefix of its
/// metrics (`{prefix}_client_*`, `{prefix}_pool_connections`).
pub(crate) struct System {
    pub name: &'static str,
    pub prefix: &'static str,
    pub queries: &'static LazyLock<Red>,
}

/// The sizing and waiting of a pool, from its configuration.
pub(crate) struct PoolSettings<'a> {
    pub min_size: u32,
    /// 0: `default_max`.
    pub max_size: u32,
    pub default_max: u32,
    /// Unset: [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub acquire_timeout: Option<&'a harness::prost_types::Duration>,
}

impl<'a> PoolSettings<'a> {
    pub fn new(
        (min_size, max_size): (u32, u32),
        acquire_timeout: Option<&'a harness::prost_types::Duration>,
        default_max: u32,
    ) -> Self {
        PoolSettings {
            min_size,
            max_size,
            default_max,
            acquire_timeout,
        }
    }
}

/// Opens a pool of at most `max_size` (0: `default_max`) connections, `min_size` of them
/// (at least one) now, so that an unreachable or misconfigured database stops the start.
/// `retryable` tells the errors worth another try (the runner's) from refused
/// credentials and the like; the message names `what` (`MySQL`) and `target`, never the
/// options (they may hold a password).
pub(crate) async fn open<DB: sqlx::Database>(
    what: &str,
    options: <DB::Connection as sqlx::Connection>::Options,
    target: &str,
    settings: PoolSettings<'_>,
    retryable: fn(&sqlx::Error) -> bool,
) -> Result<sqlx::Pool<DB>, WireError> {
    let PoolSettings {
        min_size,
        max_size,
        default_max,
        acquire_timeout,
    } = settings;
    let max = if max_size == 0 { default_max } else { max_size };
    let min = min_size.min(max);
    let acquire_timeout =
        crate::settings::duration(acquire_timeout).unwrap_or(DEFAULT_ACQUIRE_TIMEOUT);
    let failed = |error: sqlx::Error| {
        let message = format!("cannot connect to {what} at {target}: {error}");
        if retryable(&error) {
            WireError::connect(message)
        } else {
            WireError::config(message)
        }
    };
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .min_connections(min)
        .max_connections(max)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options.clone());
    // A plain connection and the pool's first ones, at once: the plain one says why the
    // database cannot be reached (the pool retries until its acquire timeout and would only
    // report a timeout); the pool's are kept.
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
            probed = DB::Connection::connect_with(&options) => match probed {
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
    tracing::debug!(target, min, max, "{what} pool ready");
    Ok(pool)
}

/// What the gauges read of a pool.
trait PoolView: Send + Sync {
    fn closed(&self) -> bool;
    /// In use, idle, upper bound.
    fn connections(&self) -> (u32, u32, u32);
}

impl<DB: sqlx::Database> PoolView for sqlx::Pool<DB> {
    fn closed(&self) -> bool {
        self.is_closed()
    }

    fn connections(&self) -> (u32, u32, u32) {
        let size = self.size();
        let idle = self.num_idle() as u32;
        (
            size.saturating_sub(idle),
            idle,
            self.options().get_max_connections(),
        )
    }
}

struct Watched {
    prefix: &'static str,
    label: String,
    pool: Arc<dyn PoolView>,
}

/// Pools whose gauges are reported.
static POOLS: LazyLock<Mutex<Vec<Watched>>> = LazyLock::new(|| {
    telemetry::registry().register_collector(Box::new(PoolGauges));
    Mutex::new(Vec::new())
});

/// Reports the pool's connections at each scrape, and pings the database every
/// [`PING_INTERVAL`] for the health check of the input wire being connected.
pub(crate) fn watch<DB: sqlx::Database>(system: &System, pool: &sqlx::Pool<DB>, label: &str) {
    POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Watched {
            prefix: system.prefix,
            label: label.to_owned(),
            pool: Arc::new(pool.clone()),
        });
    let (pool, label, name) = (pool.clone(), label.to_owned(), system.prefix);
    let reporter = harness::runtime::health::reporter();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PING_INTERVAL).await;
            if pool.is_closed() {
                break;
            }
            let ping = async {
                let mut connection = pool.acquire().await?;
                connection.ping().await
            };
            match tokio::time::timeout(PING_INTERVAL, ping).await {
                Ok(Ok(())) => reporter.up(),
                Ok(Err(error)) if !pool.is_closed() => {
                    reporter.down(format!("{name} at {label}: {error}"))
                }
                Ok(Err(_)) => break,
                Err(_) => reporter.down(format!("{name} at {label}: no answer to a ping")),
            }
        }
        POOLS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|watched| !watched.pool.closed());
    });
}

#[derive(Debug)]
struct PoolGauges;

impl prometheus_client::collector::Collector for PoolGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pools: Vec<(&'static str, String, (u32, u32, u32))> = POOLS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|watched| !watched.pool.closed())
            .map(|watched| {
                (
                    watched.prefix,
                    watched.label.clone(),
                    watched.pool.connections(),
                )
            })
            .collect();
        let mut prefixes: Vec<&'static str> = pools.iter().map(|(prefix, _, _)| *prefix).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        for prefix in prefixes {
            let of_prefix = || pools.iter().filter(move |(p, _, _)| *p == prefix);
            let (connections_name, max_name) = (
                format!("{prefix}_pool_connections"),
                format!("{prefix}_pool_max_connections"),
            );
            let mut connections = encoder.encode_descriptor(
                &connections_name,
                "Open connections of the pool, by state",
                None,
                MetricType::Gauge,
            )?;
            for (_, label, (in_use, idle, _)) in of_prefix() {
                for (state, value) in [("in_use", in_use), ("idle", idle)] {
                    let labels = [("pool", label.as_str()), ("state", state)];
                    ConstGauge::new(i64::from(*value))
                        .encode(connections.encode_family(&labels)?)?;
                }
            }
            let mut max = encoder.encode_descriptor(
                &max_name,
                "Upper bound of the pool's connections",
                None,
                MetricType::Gauge,
            )?;
            for (_, label, (_, _, most)) in of_prefix() {
                let labels = [("pool", label.as_str())];
                ConstGauge::new(i64::from(*most)).encode(max.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The first word of a statement, upper case: `SELECT`, `INSERT`… (`OTHER` otherwise).
pub(crate) fn operation(sql: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "CREATE",
        "ALTER", "DROP", "TRUNCATE", "COPY", "CALL", "SET", "SHOW", "LISTEN", "NOTIFY", "REPLACE",
        "START",
    ];
    let word = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    KNOWN
        .iter()
        .find(|known| known.eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("OTHER")
}

/// One statement being run.
pub(crate) struct Query {
    context: Option<Context>,
    operation: &'static str,
    started: Instant,
    queries: Option<&'static Red>,
}

impl Query {
    /// `None` when neither metrics nor tracing is on: the statement runs as it is.
    pub(crate) fn start(system: &System, peer: &str, sql: &str) -> Option<Query> {
        let counted = telemetry::metrics_on();
        if !counted && !telemetry::tracing_on() {
            return None;
        }
        let operation = operation(sql);
        let context = telemetry::client_context(
            || Cow::Borrowed(operation),
            SpanKind::Client,
            || {
                vec![
                    KeyValue::new("db.system.name", system.name),
                    KeyValue::new("db.operation.name", operation),
                    KeyValue::new("db.query.text", sql.to_owned()),
                    KeyValue::new("server.address", peer.to_owned()),
                ]
            },
        );
        Some(Query {
            context,
            operation,
            started: Instant::now(),
            queries: counted.then(|| &**system.queries),
        })
    }

    fn finish(self, error: Option<&sqlx::Error>) {
        telemetry::end_span(self.context.as_ref(), error.map(|e| e.to_string()));
        if let Some(queries) = self.queries {
            queries.record(
                vec![("operation", Cow::Borrowed(self.operation))],
                error.is_some(),
                self.started.elapsed(),
            );
        }
    }
}

/// `inner` reporting its statement when it ends, with the span current while rows are read.
pub(crate) fn observe_stream<'e, T: 'e>(
    query: Option<Query>,
    inner: BoxStream<'e, Result<T, sqlx::Error>>,
) -> BoxStream<'e, Result<T, sqlx::Error>> {
    let Some(query) = query else { return inner };
    let parent = query.context.clone();
    let stream = Observed {
        inner,
        query: Some(query),
    };
    match parent {
        Some(context) => Box::pin(WithContext {
            inner: stream,
            context,
        }),
        None => Box::pin(stream),
    }
}

/// `inner` reporting its statement when it ends, run with the span current.
pub(crate) fn observe_future<'e, T: Send + 'e>(
    query: Option<Query>,
    inner: BoxFuture<'e, Result<T, sqlx::Error>>,
) -> BoxFuture<'e, Result<T, sqlx::Error>> {
    let Some(query) = query else { return inner };
    Box::pin(async move {
        use opentelemetry::context::FutureExt as _;
        let result = match &query.context {
            Some(context) => inner.with_context(context.clone()).await,
            None => inner.await,
        };
        query.finish(result.as_ref().err());
        result
    })
}

/// A row stream that reports its statement when it ends (or is dropped).
struct Observed<'e, T> {
    inner: BoxStream<'e, Result<T, sqlx::Error>>,
    query: Option<Query>,
}

impl<T> futures_core::Stream for Observed<'_, T> {
    type Item = Result<T, sqlx::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Err(error))) => {
                if let Some(query) = self.query.take() {
                    query.finish(Some(error));
                }
            }
            Poll::Ready(None) => {
                if let Some(query) = self.query.take() {
                    query.finish(None);
                }
            }
            _ => {}
        }
        polled
    }
}

impl<T> Drop for Observed<'_, T> {
    fn drop(&mut self) {
        if let Some(query) = self.query.take() {
            query.finish(None);
        }
    }
}

/// Polls a stream with an OpenTelemetry context current.
struct WithContext<S> {
    inner: S,
    context: Context,
}

impl<S: futures_core::Stream + Unpin> futures_core::Stream for WithContext<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let _guard = self.context.clone().attach();
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// Implements `sqlx::Executor` for `&$pool` (a wire with `pool()` and `peer()`): each
/// statement runs on the sqlx pool through [`Query`] of `$system`.
macro_rules! sql_executor {
    ($pool:ty, $system:expr, $db:ty) => {
        impl<'c> sqlx::Executor<'c> for &'c $pool {
            type Database = $db;

            fn fetch_many<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_core::stream::BoxStream<
                'e,
                Result<
                    sqlx::Either<
                        <$db as sqlx::Database>::QueryResult,
                        <$db as sqlx::Database>::Row,
                    >,
                    sqlx::Error,
                >,
            >
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, $db>,
            {
                let observed = $crate::sql::Query::start(&$system, self.peer(), query.sql());
                $crate::sql::observe_stream(observed, self.pool().fetch_many(query))
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_core::future::BoxFuture<
                'e,
                Result<Option<<$db as sqlx::Database>::Row>, sqlx::Error>,
            >
            where
                'c: 'e,
                E: 'q + sqlx::Execute<'q, $db>,
            {
                let observed = $crate::sql::Query::start(&$system, self.peer(), query.sql());
                $crate::sql::observe_future(observed, self.pool().fetch_optional(query))
            }

            fn prepare_with<'e, 'q: 'e>(
                self,
                sql: &'q str,
                parameters: &'e [<$db as sqlx::Database>::TypeInfo],
            ) -> futures_core::future::BoxFuture<
                'e,
                Result<<$db as sqlx::Database>::Statement<'q>, sqlx::Error>,
            >
            where
                'c: 'e,
            {
                self.pool().prepare_with(sql, parameters)
            }

            fn describe<'e, 'q: 'e>(
                self,
                sql: &'q str,
            ) -> futures_core::future::BoxFuture<'e, Result<sqlx::Describe<$db>, sqlx::Error>>
            where
                'c: 'e,
            {
                self.pool().describe(sql)
            }
        }
    };
}

pub(crate) use sql_executor;

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn operations_are_the_first_word() {
        assert_eq!(operation("select 1"), "SELECT");
        assert_eq!(operation("  INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(operation("with x as (select 1) select * from x"), "WITH");
        assert_eq!(operation("replace into t values (1)"), "REPLACE");
        assert_eq!(operation("VACUUM"), "OTHER");
        assert_eq!(operation(""), "OTHER");
    }
}
