//! gRPC wires (tonic): [`Channel`] (feature `grpc-client`) and [`Server`] (feature
//! `grpc-server`).

#[cfg(feature = "grpc-client")]
pub use crate::observe::TracedChannel;
#[cfg(feature = "grpc-client")]
pub use client::{Channel, PING_INTERVAL};
#[cfg(feature = "grpc-server")]
pub use server::Server;

#[cfg(feature = "grpc-client")]
mod client {
    use std::ops::Deref;
    use std::time::Duration;

    use harness::proto::harness::grpc::{Channel as ChannelConfig, Target as TargetConfig};
    use harness::runtime::health::Reporter;
    use harness::runtime::{InputWire, WireError};
    use harness::socket::SocketAddress;
    use tonic::Code;
    use tonic::transport::Endpoint;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    use crate::settings::duration;

    /// How often the wire checks that its peer answers, for the health check.
    pub const PING_INTERVAL: Duration = Duration::from_secs(1);

    /// A gRPC client channel ([`tonic::transport::Channel`]), configured by
    /// `harness.grpc.Channel` (`address: {host, port}`) or `harness.grpc.Target` (a URL
    /// with timeouts).
    ///
    /// It connects lazily: services start in any order, and a call made while the peer is
    /// unreachable fails with `UNAVAILABLE` instead of stopping this service's start.
    /// Meanwhile the wire reports itself down: every [`PING_INTERVAL`] it asks the peer's
    /// `grpc.health.v1.Health/Check` over the channel, and a peer that cannot be reached
    /// (`UNAVAILABLE`, no answer in time) makes `/_/health` answer 503 when the wire is a
    /// required input. Any answer, `NOT_SERVING` or `UNIMPLEMENTED` included, counts as
    /// reachable: readiness follows whether the peer can be called, not the peer's own
    /// readiness, so that one database outage does not take every caller out of service.
    ///
    /// Clone [`channel`](Channel::channel) into a generated client:
    /// `ScottyClient::new(wires.scotty.channel())`, a `ScottyClient<TracedChannel>`: each
    /// call makes a client span (with `tracing::Otlp`), sends the W3C `traceparent` of the
    /// request being served and counts in `grpc_client_*` by service, method and status
    /// code (with `metrics::Prometheus`).
    #[derive(Debug, Clone)]
    pub struct Channel {
        channel: tonic::transport::Channel,
        /// The health monitor, stopped when the wire is closed (not when this value is
        /// dropped: `setup` usually keeps only clones of the channel).
        monitor: tokio::task::AbortHandle,
    }

    impl Channel {
        /// The channel, instrumented; clones share the connection.
        pub fn channel(&self) -> super::TracedChannel {
            super::TracedChannel::new(self.channel.clone())
        }

        /// The tonic channel itself, without spans, trace context or metrics.
        pub fn raw(&self) -> tonic::transport::Channel {
            self.channel.clone()
        }

        /// A lazy channel to `endpoint`, watched for the health check as the input wire
        /// being connected.
        fn watched(endpoint: &Endpoint) -> Self {
            let channel = endpoint.connect_lazy();
            let peer = endpoint
                .uri()
                .authority()
                .map_or_else(String::new, |a| a.to_string());
            let reporter = harness::runtime::health::reporter();
            let task = tokio::spawn(monitor(channel.clone(), reporter, peer));
            Channel {
                channel,
                monitor: task.abort_handle(),
            }
        }
    }

    impl Deref for Channel {
        type Target = tonic::transport::Channel;

        fn deref(&self) -> &tonic::transport::Channel {
            &self.channel
        }
    }

    impl InputWire<ChannelConfig> for Channel {
        async fn connect(config: &ChannelConfig) -> Result<Self, WireError> {
            let address = SocketAddress::from_socket("address", config.address.as_ref())
                .map_err(WireError::config)?;
            let endpoint = Endpoint::from_shared(format!("http://{address}"))
                .map_err(|e| WireError::config(format!("address: {e}")))?;
            Ok(Channel::watched(&endpoint))
        }

        fn close(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
            let monitor = self.monitor.clone();
            async move { monitor.abort() }
        }
    }

    impl InputWire<TargetConfig> for Channel {
        async fn connect(config: &TargetConfig) -> Result<Self, WireError> {
            let mut endpoint = Endpoint::from_shared(config.url.clone())
                .map_err(|e| WireError::config(format!("url: {e}")))?;
            if let Some(timeout) = duration(config.connect_timeout.as_ref()) {
                endpoint = endpoint.connect_timeout(timeout);
            }
            if let Some(timeout) = duration(config.timeout.as_ref()) {
                endpoint = endpoint.timeout(timeout);
            }
            Ok(Channel::watched(&endpoint))
        }

        fn close(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
            let monitor = self.monitor.clone();
            async move { monitor.abort() }
        }
    }

    /// Asks the peer's health service every [`PING_INTERVAL`], the first time at once,
    /// reporting the wire down while the peer cannot be reached.
    async fn monitor(channel: tonic::transport::Channel, reporter: Reporter, peer: String) {
        let mut health = HealthClient::new(channel);
        loop {
            let check = health.check(HealthCheckRequest {
                service: String::new(),
            });
            match tokio::time::timeout(PING_INTERVAL, check).await {
                Ok(Ok(_)) => reporter.up(),
                Ok(Err(status)) if !unreachable(status.code()) => reporter.up(),
                Ok(Err(status)) => {
                    reporter.down(format!("gRPC peer at {peer}: {}", status.message()))
                }
                Err(_) => {
                    reporter.down(format!("gRPC peer at {peer}: no answer to a health check"))
                }
            }
            tokio::time::sleep(PING_INTERVAL).await;
        }
    }

    /// The codes of a call that did not reach a server that answers.
    fn unreachable(code: Code) -> bool {
        matches!(
            code,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
        )
    }
}

#[cfg(feature = "grpc-server")]
mod server {
    use std::convert::Infallible;

    use harness::proto::harness::grpc::{Endpoint, Server as ServerConfig};
    use harness::proto::harness::net::Socket;
    use harness::runtime::{OutputWire, Shutdown, WireError};
    use tonic::body::Body;
    use tonic::codegen::{Service, http};
    use tonic::server::NamedService;
    use tonic::service::RoutesBuilder;
    use tonic_health::ServingStatus;

    /// A gRPC server of tonic services, configured by `harness.grpc.Server` (`bind: {host,
    /// port}`) or by a `harness.grpc.Endpoint` field (the field itself is `{host, port}`).
    ///
    /// Besides the added services it serves `grpc.health.v1.Health` (each service and the
    /// server as a whole, `""`, are `SERVING` while up and `NOT_SERVING` from the start of
    /// the drain) and server reflection (`grpc.reflection.v1`) over the descriptor sets
    /// given with [`file_descriptor_set`](Server::file_descriptor_set). While a required
    /// input wire is down (see `harness::runtime::health`), every service is reported
    /// `NOT_SERVING`.
    ///
    /// Every call runs in a server span, child of the W3C `traceparent` it carries (with
    /// `tracing::Otlp`), and counts in `grpc_server_*` by service, method and status code
    /// (with `metrics::Prometheus`).
    ///
    /// ```ignore
    /// let server = harness_wires::grpc::Server::new()
    ///     .add_service(ScottyServer::new(Scotty { db }))
    ///     .file_descriptor_set(FILE_DESCRIPTOR_SET);
    /// ```
    #[derive(Default)]
    pub struct Server {
        routes: RoutesBuilder,
        names: Vec<&'static str>,
        descriptor_sets: Vec<&'static [u8]>,
    }

    impl Server {
        pub fn new() -> Self {
            Self::default()
        }

        /// Adds a tonic service (`FooServer::new(handler)`).
        pub fn add_service<S>(mut self, service: S) -> Self
        where
            S: Service<http::Request<Body>, Error = Infallible>
                + NamedService
                + Clone
                + Send
                + Sync
                + 'static,
            S::Response: axum::response::IntoResponse,
            S::Future: Send + 'static,
        {
            self.names.push(S::NAME);
            self.routes.add_service(service);
            self
        }

        /// An encoded `FileDescriptorSet` to serve over reflection, e.g. the generated
        /// `FILE_DESCRIPTOR_SET`.
        pub fn file_descriptor_set(mut self, encoded: &'static [u8]) -> Self {
            self.descriptor_sets.push(encoded);
            self
        }
    }

    impl OutputWire<Endpoint> for Server {
        async fn serve(self, config: Endpoint, shutdown: Shutdown) -> Result<(), WireError> {
            let bind = Socket {
                host: config.host,
                port: config.port,
            };
            let config = ServerConfig { bind: Some(bind) };
            OutputWire::<ServerConfig>::serve(self, config, shutdown).await
        }
    }

    impl OutputWire<ServerConfig> for Server {
        async fn serve(self, config: ServerConfig, shutdown: Shutdown) -> Result<(), WireError> {
            let listener = crate::net::bind(config.bind.as_ref()).await?;
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "grpc server listening");
            }
            let (reporter, health) = tonic_health::server::health_reporter();
            let mut names: Vec<&str> = vec![""];
            names.extend(self.names.iter().copied());
            for name in &names {
                reporter
                    .set_service_status(name, ServingStatus::Serving)
                    .await;
            }
            let mut reflection = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
            for set in &self.descriptor_sets {
                reflection = reflection.register_encoded_file_descriptor_set(set);
            }
            let reflection = reflection
                .build_v1()
                .map_err(|e| WireError::config(format!("reflection: {e}")))?;
            let mut routes = self.routes;
            routes.add_service(health).add_service(reflection);
            let readiness = {
                let (reporter, names) = (reporter.clone(), names.clone());
                let mut changes = harness::runtime::health::changes();
                let stopping = shutdown.clone();
                tokio::spawn(async move {
                    loop {
                        let status = match harness::runtime::health::not_ready() {
                            None => ServingStatus::Serving,
                            Some(_) => ServingStatus::NotServing,
                        };
                        if stopping.is_requested() {
                            break;
                        }
                        for name in &names {
                            reporter.set_service_status(name, status).await;
                        }
                        tokio::select! {
                            _ = stopping.requested() => break,
                            changed = changes.changed() => if changed.is_err() { break },
                        }
                    }
                })
            };
            let drain = async move {
                shutdown.requested().await;
                let _ = readiness.await;
                for name in &names {
                    reporter
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
            };
            tonic::transport::Server::builder()
                .layer(crate::observe::ServerLayer)
                .add_routes(routes.routes())
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    drain,
                )
                .await
                .map_err(WireError::other)
        }
    }
}
