//! kirk: `GET /beam/{name}` asks PostgreSQL for the stardate, then asks scotty over gRPC
//! to beam `name` up.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use harness_wires::grpc::TracedChannel;
use harness_wires::http::Server;
use harness_wires::metrics::Prometheus;
use harness_wires::postgres::{Pool, sqlx};

harness::include_service!();

use scotty::BeamRequest;
use scotty::scotty_client::ScottyClient;

#[derive(Clone)]
struct Bridge {
    db: Pool,
    scotty: ScottyClient<TracedChannel>,
}

#[derive(serde::Deserialize)]
struct Options {
    #[serde(default)]
    delay_ms: u32,
}

#[harness::main]
async fn setup(_config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let bridge = Bridge {
        db: wires.db.clone(),
        scotty: ScottyClient::new(wires.scotty.channel()),
    };
    let router = Router::new()
        .route("/beam/{name}", get(beam))
        .with_state(bridge);
    Ok(WiresOut {
        server: Server::new(router),
        metrics: Prometheus::new(),
    })
}

async fn beam(
    State(mut bridge): State<Bridge>,
    Path(name): Path<String>,
    Query(options): Query<Options>,
) -> Result<String, (StatusCode, String)> {
    let stardate: String = sqlx::query_scalar("SELECT to_char(now(), 'YYYY.DDD')")
        .fetch_one(&bridge.db)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")))?;
    let reply = bridge
        .scotty
        .beam(BeamRequest {
            name,
            delay_ms: options.delay_ms,
        })
        .await
        .map_err(|e| {
            (
                StatusCode::BAD_GATEWAY,
                format!("scotty: {}\n", e.message()),
            )
        })?;
    Ok(format!(
        "Captain's log, stardate {stardate}: {}\n",
        reply.into_inner().message
    ))
}
