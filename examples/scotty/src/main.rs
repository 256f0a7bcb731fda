//! scotty: a gRPC service whose `Beam` method asks PostgreSQL.

use harness_wires::grpc::Server;
use harness_wires::metrics::Prometheus;
use harness_wires::postgres::{Pool, sqlx};
use tonic::{Request, Response, Status};

harness::include_service!();

use scotty::scotty_server::{Scotty, ScottyServer};
use scotty::{BeamReply, BeamRequest};

struct Transporter {
    db: Pool,
}

#[tonic::async_trait]
impl Scotty for Transporter {
    async fn beam(&self, request: Request<BeamRequest>) -> Result<Response<BeamReply>, Status> {
        let BeamRequest { name, delay_ms } = request.into_inner();
        let message: String = sqlx::query_scalar(
            "SELECT format('Aye, %s is aboard (%s)', $1::text, current_database()) \
             FROM pg_sleep($2::float8 / 1000)",
        )
        .bind(&name)
        .bind(f64::from(delay_ms))
        .fetch_one(&self.db)
        .await
        .map_err(|error| Status::unavailable(format!("database: {error}")))?;
        Ok(Response::new(BeamReply { message }))
    }
}

#[harness::main]
async fn setup(_config: Configuration, wires: WiresIn) -> anyhow::Result<WiresOut> {
    let transporter = Transporter {
        db: wires.db.clone(),
    };
    Ok(WiresOut {
        server: Server::new()
            .add_service(ScottyServer::new(transporter))
            .file_descriptor_set(FILE_DESCRIPTOR_SET),
        metrics: Prometheus::new(),
    })
}
