//! Kubernetes Gateway API routes (gateway.networking.k8s.io/v1), for `--router
//! gateway-api`, in place of the Istio Gateway and VirtualService.
//!
//! - An HTTPRoute per HTTP output and a GRPCRoute per gRPC output (INTERNAL or PUBLIC),
//!   named `FULL-WIRE`, whose one rule sends everything to the output's Service port.
//! - A PUBLIC output, with `--base-domain`, attaches to the Gateway of `--gateway` under
//!   the hostname `FULL.DOMAIN`; the Gateway is the cluster's, not the service's, so
//!   kube-gen does not write it.
//! - An INTERNAL output (and a PUBLIC one without a base domain: mesh only, as with the
//!   Istio router) attaches to its own Service at its port: GAMMA, the Gateway API's
//!   mesh routing.
//! - A TCP output gets no route: TCPRoute is in the experimental channel only. A PUBLIC
//!   one gets a warning, since nothing makes it reachable from outside.

use std::marker::PhantomData;

use harness_core::spec::{Expose, Protocol};
use serde::Serialize;

use super::context::{Context, Exposed};
use super::istio::{Kind, Resource};
use super::names::{check_dns1123_label, check_dns1123_subdomain};
use super::{KubeGenError, Object};

/// The Gateway API version of both route kinds: GA (the standard channel) since v1.1.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";
/// The API group of Gateways.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

pub type HttpRoute = Resource<RouteSpec<Http>>;
pub type GrpcRoute = Resource<RouteSpec<Grpc>>;

/// The kind of route: [`Http`] or [`Grpc`].
pub trait RouteKind {
    const KIND: &'static str;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Http;
#[derive(Debug, Clone, PartialEq)]
pub struct Grpc;

impl RouteKind for Http {
    const KIND: &'static str = "HTTPRoute";
}

impl RouteKind for Grpc {
    const KIND: &'static str = "GRPCRoute";
}

/// The spec both route kinds share, for the fields kube-gen sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec<K> {
    pub parent_refs: Vec<ParentReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    pub rules: Vec<Rule>,
    #[serde(skip)]
    pub kind: PhantomData<K>,
}

impl<K: RouteKind> Kind for RouteSpec<K> {
    const KIND: &'static str = K::KIND;
    const API_VERSION: &'static str = API_VERSION;
}

/// What a route attaches to: a Gateway, or a Service (GAMMA).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParentReference {
    /// `gateway.networking.k8s.io` for a Gateway, `""` (the core group) for a Service.
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The Service port of a GAMMA route: the route applies to traffic to that port only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub backend_refs: Vec<BackendRef>,
}

/// A Service port that a rule sends requests to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendRef {
    pub name: String,
    pub port: u16,
}

/// `--gateway`, read: the namespace and name of a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRef {
    pub namespace: String,
    pub name: String,
}

impl GatewayRef {
    /// `NS/NAME`, or `NAME` in `namespace`.
    pub fn parse(value: &str, namespace: &str) -> Result<Self, KubeGenError> {
        let (gateway_namespace, name) = value.split_once('/').unwrap_or((namespace, value));
        let invalid = |reason: String| KubeGenError::Invalid {
            what: "--gateway".to_owned(),
            value: value.to_owned(),
            rule: "NS/NAME or NAME, a Gateway's namespace and name",
            reason,
        };
        check_dns1123_label(gateway_namespace)
            .map_err(|reason| invalid(format!("its namespace: {reason}")))?;
        check_dns1123_subdomain(name).map_err(|reason| invalid(format!("its name: {reason}")))?;
        Ok(GatewayRef {
            namespace: gateway_namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// The routes of every INTERNAL and PUBLIC HTTP or gRPC output, in field order.
pub fn routes(
    ctx: &Context<'_>,
    gateway: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Object>, KubeGenError> {
    let gateway = GatewayRef::parse(gateway, &ctx.namespace)?;
    let mut objects = Vec::new();
    for output in &ctx.service_outputs {
        let public = output.wire.expose() == Some(Expose::Public);
        let (parent, hostnames) = match (&ctx.public_host, public) {
            (Some(host), true) => (gateway_parent(&gateway), vec![host.clone()]),
            _ => (service_parent(ctx, output), Vec::new()),
        };
        let metadata = ctx.metadata(ctx.object_name(&[&output.wire.slug]));
        let rules = vec![Rule {
            backend_refs: vec![BackendRef {
                name: ctx.full_name.clone(),
                port: output.service_port,
            }],
        }];
        match output.protocol {
            Protocol::Http => objects.push(Object::HttpRoute(Resource {
                metadata,
                spec: route_spec(parent, hostnames, rules),
            })),
            Protocol::Grpc => objects.push(Object::GrpcRoute(Resource {
                metadata,
                spec: route_spec(parent, hostnames, rules),
            })),
            Protocol::Tcp if public && ctx.public_host.is_some() => warnings.push(format!(
                "output `{}` is PUBLIC over TCP: the Gateway API has no TCPRoute outside its experimental channel, so --router gateway-api writes no route for it and it is reachable in the cluster only",
                output.wire.spec.name
            )),
            Protocol::Tcp => {}
        }
    }
    Ok(objects)
}

fn route_spec<K>(
    parent: ParentReference,
    hostnames: Vec<String>,
    rules: Vec<Rule>,
) -> RouteSpec<K> {
    RouteSpec {
        parent_refs: vec![parent],
        hostnames,
        rules,
        kind: PhantomData,
    }
}

fn gateway_parent(gateway: &GatewayRef) -> ParentReference {
    ParentReference {
        group: GATEWAY_GROUP.to_owned(),
        kind: "Gateway".to_owned(),
        namespace: gateway.namespace.clone(),
        name: gateway.name.clone(),
        port: None,
    }
}

fn service_parent(ctx: &Context<'_>, output: &Exposed<'_>) -> ParentReference {
    ParentReference {
        group: String::new(),
        kind: "Service".to_owned(),
        namespace: ctx.namespace.clone(),
        name: ctx.full_name.clone(),
        port: Some(output.service_port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_references() {
        let parsed = GatewayRef::parse("infra/edge", "prod").unwrap();
        assert_eq!(
            (parsed.namespace.as_str(), parsed.name.as_str()),
            ("infra", "edge")
        );
        let parsed = GatewayRef::parse("edge", "prod").unwrap();
        assert_eq!(
            (parsed.namespace.as_str(), parsed.name.as_str()),
            ("prod", "edge")
        );
        for bad in ["Infra/edge", "infra/", "/edge", "a/b/c", ""] {
            let err = GatewayRef::parse(bad, "prod").unwrap_err().to_string();
            assert!(err.starts_with("--gateway"), "{bad}: {err}");
        }
    }
}
