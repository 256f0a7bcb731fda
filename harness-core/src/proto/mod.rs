#![allow(clippy::len_without_is_empty)] // prost derives `len` accessors for fields named `len`
//! Rust types of the bundled protos: `harness.net.Socket` is
//! [`proto::harness::net::Socket`](harness::net::Socket), `harness.postgres.Pool` is
//! [`proto::harness::postgres::Pool`](harness::postgres::Pool), and so on.
//!
//! Wires take these as their configuration, and the code generated for a service refers
//! to them (prost-build's `extern_path`), so a `harness.http.Server` field of any service
//! is this one type.
//!
//! `generated.rs` is written by prost-build from `proto/`; the test
//! `bundled::tests::bundled_types_are_up_to_date` in harness-build fails
//! when it is stale, and `HARNESS_BLESS=1` on that test rewrites it.

include!("generated.rs");
