//! What harness generates from a service's proto: Kubernetes manifests (`kube`) and,
//! for `build.rs`, the Rust wiring of the service.

#[cfg(feature = "kube")]
pub mod kube;
pub mod codegen;
