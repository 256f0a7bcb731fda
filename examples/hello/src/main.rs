//! The smallest harness service: `GET /` greets, and tells PostgreSQL's version when the
//! optional `db` wire is configured.

mod app;

use harness_wires::http::Server;

harness::include_service!();

#[harness::main]
async fn setup(config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let app = app::App {
        greeting: config.greeting,
        db: wires.db.map(|db| db.pool().clone()),
    };
    Ok(WiresOut {
        server: Server::new(app::router(app)),
    })
}
