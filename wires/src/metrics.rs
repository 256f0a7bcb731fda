//! `metrics::Prometheus`: serves the process's metrics at `/metrics`.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use harness::proto::harness::metrics::Prometheus as PrometheusConfig;
use harness::runtime::{OutputWire, Shutdown, WireError};

pub use crate::telemetry::{registry, render};
pub use prometheus_client;

/// The path metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

/// Content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `GET /metrics` on the bind of `harness.metrics.Prometheus`, every metric name
/// prefixed with its `prefix` (and `_`).
///
/// Serving it turns on the RED metrics of every wire of the process (a service whose
/// configuration leaves it out pays nothing for them):
/// `http_server_*`, `http_client_*`, `grpc_server_*`, `grpc_client_*`, `postgres_*`,
/// `redis_*`, `nats_*` and `scheduler_*` requests, errors and duration histograms, and the
/// PostgreSQL pool gauges. Register the service's own metrics with [`registry`]:
///
/// ```
/// use harness_wires::metrics::prometheus_client::metrics::counter::Counter;
/// let beams: Counter = Counter::default();
/// harness_wires::metrics::registry().register("beams", "People beamed up", beams.clone());
/// beams.inc();
/// let metrics = harness_wires::metrics::Prometheus::new();
/// # let _ = metrics;
/// ```
#[derive(Debug)]
pub struct Prometheus(());

impl Prometheus {
    pub fn new() -> Self {
        Prometheus(())
    }
}

impl Default for Prometheus {
    fn default() -> Self {
        Self::new()
    }
}

impl OutputWire<PrometheusConfig> for Prometheus {
    async fn serve(self, config: PrometheusConfig, shutdown: Shutdown) -> Result<(), WireError> {
        crate::telemetry::enable_metrics();
        let listener = crate::net::bind(config.bind.as_ref()).await?;
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, prefix = config.prefix, "metrics server listening");
        }
        let prefix = config.prefix;
        let router = Router::new().route(
            METRICS_PATH,
            get(move || {
                let text = render(&prefix);
                async move {
                    (
                        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
                        text,
                    )
                        .into_response()
                }
            }),
        );
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.requested())
            .await
            .map_err(WireError::other)
    }
}
