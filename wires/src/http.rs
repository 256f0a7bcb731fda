//! `http::Server`: serves an axum application, answering `/_/health` for requests that
//! name it by address, with bounded connections and a drain;
//! `http::Client` (feature `http-client`): a client bound to one server.

#[cfg(feature = "http-client")]
mod client;
#[cfg(feature = "http-client")]
pub use client::{Client, Error as ClientError, ErrorKind as ClientErrorKind};

#[cfg(feature = "http")]
mod activity;
#[cfg(feature = "http")]
mod connections;
#[cfg(feature = "http")]
mod observe;
#[cfg(feature = "http")]
mod server;
#[cfg(feature = "http")]
pub use server::*;
