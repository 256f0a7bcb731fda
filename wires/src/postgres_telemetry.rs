//! Spans and metrics of `postgres::Pool` queries, its pool gauges, and its health monitor.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::{LazyLock, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo, Postgres};
use sqlx::{Describe, Either, Execute, Executor, PgPool};

use crate::postgres::Pool;
use crate::telemetry::{self, Red};

/// How often the pool checks that PostgreSQL answers, for the health check.
pub const PING_INTERVAL: Duration = Duration::from_secs(1);

static QUERIES: LazyLock<Red> =
    LazyLock::new(|| Red::new("postgres_client", "PostgreSQL statements"));

/// Pools whose gauges are reported, by label.
static POOLS: LazyLock<Mutex<Vec<(String, PgPool)>>> = LazyLock::new(|| {
    telemetry::registry().register_collector(Box::new(PoolGauges));
    Mutex::new(Vec::new())
});

/// Reports the pool's connections at each scrape, and watches PostgreSQL for the health
/// check.
pub(crate) fn watch(pool: &PgPool, label: &str) {
    POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((label.to_owned(), pool.clone()));
    let (pool, label) = (pool.clone(), label.to_owned());
    let reporter = harness::runtime::health::reporter();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PING_INTERVAL).await;
            if pool.is_closed() {
                break;
            }
            let ping = sqlx::query("SELECT 1").execute(&pool);
            match tokio::time::timeout(PING_INTERVAL, ping).await {
                Ok(Ok(_)) => reporter.up(),
                Ok(Err(error)) if !pool.is_closed() => {
                    reporter.down(format!("postgres at {label}: {error}"))
                }
                Ok(Err(_)) => break,
                Err(_) => reporter.down(format!("postgres at {label}: no answer to SELECT 1")),
            }
        }
        POOLS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, known)| !known.is_closed());
    });
}

#[derive(Debug)]
struct PoolGauges;

impl prometheus_client::collector::Collector for PoolGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pools: Vec<(String, u32, u32, u32)> = POOLS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, pool)| !pool.is_closed())
            .map(|(label, pool)| {
                let size = pool.size();
                let idle = pool.num_idle() as u32;
                (
                    label.clone(),
                    size.saturating_sub(idle),
                    idle,
                    pool.options().get_max_connections(),
                )
            })
            .collect();
        let mut connections = encoder.encode_descriptor(
            "postgres_pool_connections",
            "Open connections of PostgreSQL pools, by state",
            None,
            MetricType::Gauge,
        )?;
        for (label, in_use, idle, _) in &pools {
            for (state, value) in [("in_use", in_use), ("idle", idle)] {
                let labels = [("pool", label.as_str()), ("state", state)];
                ConstGauge::new(i64::from(*value)).encode(connections.encode_family(&labels)?)?;
            }
        }
        let mut max = encoder.encode_descriptor(
            "postgres_pool_max_connections",
            "Upper bound of PostgreSQL pool connections",
            None,
            MetricType::Gauge,
        )?;
        for (label, _, _, most) in &pools {
            let labels = [("pool", label.as_str())];
            ConstGauge::new(i64::from(*most)).encode(max.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// The first word of a statement, upper case: `SELECT`, `INSERT`… (`OTHER` otherwise).
fn operation(sql: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "CREATE",
        "ALTER", "DROP", "TRUNCATE", "COPY", "CALL", "SET", "SHOW", "LISTEN", "NOTIFY",
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
struct Query {
    context: Option<Context>,
    operation: &'static str,
    started: Instant,
    counted: bool,
}

impl Query {
    fn start(pool: &Pool, sql: &str) -> Option<Query> {
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
                    KeyValue::new("db.system.name", "postgresql"),
                    KeyValue::new("db.operation.name", operation),
                    KeyValue::new("db.query.text", sql.to_owned()),
                    KeyValue::new("server.address", pool.peer().to_owned()),
                ]
            },
        );
        Some(Query {
            context,
            operation,
            started: Instant::now(),
            counted,
        })
    }

    fn finish(self, error: Option<&sqlx::Error>) {
        telemetry::end_span(self.context.as_ref(), error.map(|e| e.to_string()));
        if self.counted {
            QUERIES.record(
                vec![("operation", Cow::Borrowed(self.operation))],
                error.is_some(),
                self.started.elapsed(),
            );
        }
    }
}

/// A row stream that reports its statement when it ends (or is dropped).
struct Observed<'e, T> {
    inner: futures_core::stream::BoxStream<'e, Result<T, sqlx::Error>>,
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

/// `&Pool` runs queries like `&PgPool`, each in a client span (child of the request being
/// served) counted in `postgres_client_*` by operation.
impl<'c> Executor<'c> for &'c Pool {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> futures_core::stream::BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let observed = Query::start(self, query.sql());
        let inner = self.pool().fetch_many(query);
        match observed {
            None => inner,
            Some(observed) => {
                let parent = observed.context.clone();
                let stream = Observed {
                    inner,
                    query: Some(observed),
                };
                match parent {
                    // The span stays current while the rows are read.
                    Some(context) => Box::pin(WithContext {
                        inner: stream,
                        context,
                    }),
                    None => Box::pin(stream),
                }
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> futures_core::future::BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let observed = Query::start(self, query.sql());
        let inner = self.pool().fetch_optional(query);
        match observed {
            None => inner,
            Some(observed) => Box::pin(async move {
                use opentelemetry::context::FutureExt as _;
                let result = match &observed.context {
                    Some(context) => inner.with_context(context.clone()).await,
                    None => inner.await,
                };
                observed.finish(result.as_ref().err());
                result
            }),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> futures_core::future::BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool().prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> futures_core::future::BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool().describe(sql)
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

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn operations_are_the_first_word() {
        assert_eq!(operation("select 1"), "SELECT");
        assert_eq!(operation("  INSERT INTO t VALUES (1)"), "INSERT");
        assert_eq!(operation("with x as (select 1) select * from x"), "WITH");
        assert_eq!(operation("VACUUM"), "OTHER");
        assert_eq!(operation(""), "OTHER");
    }
}
