//! `tracing::Otlp` over HTTP/protobuf to a receiver of this test: a request to an
//! `http::Server` with a sampled `traceparent` is exported as its child server span.
#![cfg(all(feature = "otlp", feature = "http"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use harness::prost::Message as _;
use harness::proto::harness::http::Server as ServerConfig;
use harness::proto::harness::net::Socket;
use harness::proto::harness::tracing::{Otlp as OtlpConfig, otlp::Protocol};
use harness::runtime::{InputWire as _, OutputWire as _, Shutdown};
use harness_wires::http::Server;
use harness_wires::tracing::Otlp;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn socket(port: u16) -> Option<Socket> {
    Some(Socket {
        host: "127.0.0.1".into(),
        port: port.into(),
    })
}

async fn listen(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_requests_are_exported_as_server_spans() {
    let received: Arc<Mutex<Vec<Span>>> = Arc::default();
    let sink = received.clone();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        sink.lock().unwrap().extend(scope.spans);
                    }
                }
                ""
            }
        }),
    );
    let collector_port = listen(collector).await;
    let otlp = Otlp::connect(&OtlpConfig {
        service_name: "test".into(),
        address: socket(collector_port),
        protocol: Protocol::HttpProtobuf as i32,
        sampler_ratio: Some(0.0),
    })
    .await
    .unwrap();

    let port = common::free_port();
    let (trigger, shutdown) = Shutdown::channel();
    let app = Router::new().route("/ships/{name}", get(|| async { "ok" }));
    let serving = tokio::spawn(Server::new(app).serve(
        ServerConfig {
            bind: socket(port),
            ..Default::default()
        },
        shutdown,
    ));
    let get = |traceparent: Option<&'static str>| async move {
        for _ in 0..200 {
            if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                let header = traceparent
                    .map(|t| format!("traceparent: {t}\r\n"))
                    .unwrap_or_default();
                let request = format!(
                    "GET /ships/enterprise HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}Connection: close\r\n\r\n"
                );
                stream.write_all(request.as_bytes()).await.unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).await.unwrap();
                return response;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the server never listened");
    };
    // Sampled by the caller: exported although the ratio is 0. Unsampled: not exported.
    let response = get(Some(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ))
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    get(Some(
        "00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203332-00",
    ))
    .await;
    get(None).await;
    trigger.trigger();
    serving.await.unwrap().unwrap();
    // Closing flushes.
    otlp.close().await;

    let spans = received.lock().unwrap().clone();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = &spans[0];
    assert_eq!(span.name, "GET /ships/{name}");
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(hex(&span.trace_id), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(hex(&span.parent_span_id), "b7ad6b7169203331");
    let route = span
        .attributes
        .iter()
        .find(|a| a.key == "http.route")
        .unwrap();
    assert!(format!("{:?}", route.value).contains("/ships/{name}"));
}
