//! The smallest harness service: `GET /` greets, and tells PostgreSQL's version when the
//! optional `db` wire is configured.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use harness_wires::http::Server;
use harness_wires::postgres::{PgPool, sqlx};

harness::include_service!();

#[derive(Clone)]
struct App {
    greeting: String,
    db: Option<PgPool>,
}

#[harness::main]
async fn setup(config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let app = App {
        greeting: config.greeting,
        db: wires.db.map(|db| db.pool().clone()),
    };
    let router = Router::new().route("/", get(index)).with_state(app);
    Ok(WiresOut {
        server: Server::new(router),
    })
}

async fn index(State(app): State<App>) -> String {
    let Some(db) = &app.db else {
        return format!("{}!\n", app.greeting);
    };
    match sqlx::query_scalar::<_, String>("SELECT version()")
        .fetch_one(db)
        .await
    {
        Ok(version) => format!("{}! ({version})\n", app.greeting),
        Err(error) => format!("{}! (database error: {error})\n", app.greeting),
    }
}
