//! Kubernetes and Istio manifests of a service.
