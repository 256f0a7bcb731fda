//! Benchmark baseline: hello's router served by plain `axum::serve`, no harness; on
//! SIGTERM, axum's graceful shutdown. `hello-bare PORT`

#[path = "../app.rs"]
mod app;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: hello-bare PORT");
    let app = app::App {
        greeting: "Hello".to_owned(),
        db: None,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
    axum::serve(listener, app::router(app))
        .with_graceful_shutdown(async move {
            terminate.recv().await;
        })
        .await
        .expect("serve");
}
