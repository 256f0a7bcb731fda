//! hello's application: the router and its handler, shared with the `hello-bare` benchmark
//! baseline (the same handler served by plain axum).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use harness_wires::postgres::{PgPool, sqlx};

#[derive(Clone)]
pub struct App {
    pub greeting: String,
    pub db: Option<PgPool>,
}

pub fn router(app: App) -> Router {
    Router::new().route("/", get(index)).with_state(app)
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
