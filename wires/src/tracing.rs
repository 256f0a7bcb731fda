//! `tracing::Otlp`: exports the spans of every wire with the OpenTelemetry protocol.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use harness::proto::harness::tracing::{Otlp as OtlpConfig, otlp::Protocol};
use harness::runtime::{InputWire, WireError};
use opentelemetry::global;
use opentelemetry::trace::{Link, SpanKind, TraceContextExt as _, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HttpClient, HttpError, hyper::HyperClient};
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};

pub use opentelemetry;

/// Time allowed for one export.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// An OTLP span exporter, configured by `harness.tracing.Otlp`: the collector's address,
/// gRPC (port 4317 usually) or HTTP with protobuf (4318, path `/v1/traces`), and the share
/// of root traces sampled. A request whose caller sampled it is always sampled (parent
/// based), one the caller did not sample never is.
///
/// Once connected, every server wire makes a span per request (child of the incoming W3C
/// `traceparent`), every client wire (`grpc::Channel`, `http::Client`, `postgres::Pool`,
/// `redis::Connection`, `nats::Publisher`) a child span, passing the context on; the
/// OpenTelemetry global tracer provider is set too, for the service's own spans. Spans
/// are batched and sent in the background; closing the wire (after the outputs stopped)
/// flushes them.
pub struct Otlp {
    provider: SdkTracerProvider,
}

impl fmt::Debug for Otlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Otlp").finish_non_exhaustive()
    }
}

impl Otlp {
    /// The tracer provider, for the service's own spans.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

impl InputWire<OtlpConfig> for Otlp {
    async fn connect(config: &OtlpConfig) -> Result<Self, WireError> {
        let address =
            harness::socket::SocketAddress::from_socket("address", config.address.as_ref())
                .map_err(WireError::config)?;
        let exporter = match config.protocol() {
            Protocol::Grpc => SpanExporter::builder()
                .with_tonic()
                .with_endpoint(format!("http://{address}"))
                .with_timeout(EXPORT_TIMEOUT)
                .build(),
            Protocol::HttpProtobuf => SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("http://{address}/v1/traces"))
                .with_timeout(EXPORT_TIMEOUT)
                .with_http_client(OnRuntime {
                    client: HyperClient::with_default_connector(EXPORT_TIMEOUT, None),
                    runtime: tokio::runtime::Handle::current(),
                })
                .build(),
        }
        .map_err(|e| WireError::config(format!("OTLP exporter: {e}")))?;
        let ratio = config.sampler_ratio.unwrap_or(1.0).clamp(0.0, 1.0);
        let service_name = if config.service_name.is_empty() {
            crate::telemetry::program_name()
        } else {
            config.service_name.clone()
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Roots(ratio))))
            .with_resource(Resource::builder().with_service_name(service_name).build())
            .build();
        crate::telemetry::set_sampler_ratio(ratio);
        global::set_tracer_provider(provider.clone());
        crate::telemetry::set_tracer(Some(global::tracer("harness")));
        tracing::debug!(ratio, "OTLP tracing on");
        Ok(Otlp { provider })
    }

    fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        let provider = self.provider.clone();
        async move {
            crate::telemetry::set_tracer(None);
            // Flushing blocks on the exporter: not on a runtime thread.
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(error) = provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
                    tracing::warn!("OTLP exporter did not flush: {error}");
                }
            })
            .await;
        }
    }
}

/// Samples root spans: those a wire already sampled (it drew against the ratio before
/// calling the SDK, to spare unsampled requests any cost), and a `ratio` share of the
/// others (the service's own spans), by trace id as `TraceIdRatioBased` does.
#[derive(Debug, Clone)]
struct Roots(f64);

impl ShouldSample for Roots {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let low = u64::from_be_bytes(trace_id.to_bytes()[8..].try_into().unwrap_or_default());
        let sampled = crate::telemetry::root_decided()
            || self.0 >= 1.0
            || (low >> 1) < (self.0 * (1u64 << 63) as f64) as u64;
        SamplingResult {
            decision: if sampled {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state: parent_context
                .map(|context| context.span().span_context().trace_state().clone())
                .unwrap_or_default(),
        }
    }
}

/// Runs the hyper client on the service's runtime: the batch exporter sends from a thread
/// of its own.
#[derive(Debug)]
struct OnRuntime {
    client: HyperClient,
    runtime: tokio::runtime::Handle,
}

impl HttpClient for OnRuntime {
    fn send_bytes<'a, 'b>(
        &'a self,
        request: http::Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, HttpError>> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        let client = self.client.clone();
        let task = self
            .runtime
            .spawn(async move { client.send_bytes(request).await });
        Box::pin(async move { task.await.map_err(|e| Box::new(e) as HttpError)? })
    }
}
