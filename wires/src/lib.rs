//! Wires for harness services, one cargo feature each.
//!
//! | wire | feature | configured by | kind |
//! | --- | --- | --- | --- |
//! | [`http::Server`] | `http` | `harness.http.Server` | output |
//! | [`postgres::Pool`] | `postgres` | `harness.postgres.Pool`, `harness.postgres.DSN` | input |
//! | [`grpc::Channel`] | `grpc-client` | `harness.grpc.Channel`, `harness.grpc.Endpoint` | input |
//! | [`grpc::Server`] | `grpc-server` | `harness.grpc.Server` | output |
//!
//! A wire is named in the proto by its Rust path:
//! `(harness.wire).output.type = "harness_wires::http::Server"`. Writing your own is
//! implementing `harness::runtime::InputWire` or `OutputWire` (see their docs).

#[cfg(any(feature = "grpc-client", feature = "grpc-server"))]
pub mod grpc;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(any(feature = "http", feature = "grpc-server"))]
mod net;
