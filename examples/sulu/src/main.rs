//! sulu: `GET /` greets (hello's handler); logging, metrics and tracing are configuration.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use harness_wires::http::Server;
use harness_wires::metrics::Prometheus;

harness::include_service!();

#[harness::main]
async fn setup(config: Configuration, _wires: WiresIn) -> anyhow::Result<WiresOut> {
    let greeting: &'static str = Box::leak(format!("{}!\n", config.greeting).into_boxed_str());
    let router = Router::new().route("/", get(index)).with_state(greeting);
    Ok(WiresOut {
        server: Server::new(router),
        metrics: Prometheus::new(),
    })
}

async fn index(State(greeting): State<&'static str>) -> &'static str {
    greeting
}
