//! What harness generates from a service's proto: Kubernetes manifests (`kube`) and,
//! for `build.rs`, the Rust wiring of the service.

pub mod codegen;
#[cfg(feature = "kube")]
pub mod kube;
