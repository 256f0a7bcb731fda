//! Spans and metrics of `postgres::Pool` statements, its pool gauges and its health
//! monitor (see [`crate::sql`]).

use std::sync::LazyLock;

use sqlx::PgPool;

use super::Pool;
use crate::sql::{System, sql_executor};
use crate::telemetry::Red;

static QUERIES: LazyLock<Red> =
    LazyLock::new(|| Red::new("postgres_client", "PostgreSQL statements"));

static POSTGRES: System = System {
    name: "postgresql",
    prefix: "postgres",
    queries: &QUERIES,
};

/// Reports the pool's connections at each scrape, and watches PostgreSQL for the health
/// check.
pub(super) fn watch(pool: &PgPool, label: &str) {
    crate::sql::watch(&POSTGRES, pool, label);
}

// `&Pool` runs statements like `&PgPool`, each in a client span (child of the request
// being served) counted in `postgres_client_*` by operation.
sql_executor!(Pool, POSTGRES, sqlx::Postgres);
