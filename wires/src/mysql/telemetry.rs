//! Spans and metrics of `mysql::Pool` statements, its pool gauges and its health monitor
//! (see [`crate::sql`]).

use std::sync::LazyLock;

use sqlx::MySqlPool;

use super::Pool;
use crate::sql::{System, sql_executor};
use crate::telemetry::Red;

static QUERIES: LazyLock<Red> = LazyLock::new(|| Red::new("mysql_client", "MySQL statements"));

static MYSQL: System = System {
    name: "mysql",
    prefix: "mysql",
    queries: &QUERIES,
};

/// Reports the pool's connections at each scrape, and watches the database for the
/// health check.
pub(super) fn watch(pool: &MySqlPool, label: &str) {
    crate::sql::watch(&MYSQL, pool, label);
}

// `&Pool` runs statements like `&MySqlPool`, each in a client span (child of the request
// being served) counted in `mysql_client_*` by operation.
sql_executor!(Pool, MYSQL, sqlx::MySql);
