//! Istio's security objects (security.istio.io/v1), typed for the fields kube-gen sets.
//!
//! - AuthorizationPolicy `FULL`: ALLOW only the callers' identities on the ports they
//!   use, its own on HEADLESS outputs (its replicas), the ingress gateway's on PUBLIC outputs, and the monitoring namespace on the
//!   metrics ports. Once an ALLOW policy selects a workload, Istio denies every request
//!   that no rule matches.
//! - PeerAuthentication `default`, one per namespace: mutual TLS is mandatory, so every
//!   request carries the caller's identity that the AuthorizationPolicy checks.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::{IngressGateway, Peers, headless_ports, metrics_ports, public_ports};
use crate::kube::context::Context;
use crate::kube::istio::{Kind, Resource};

/// The API version of Istio's security kinds: GA since Istio 1.22.
pub const API_VERSION: &str = "security.istio.io/v1";
/// The name Istio gives a namespace-wide policy by convention.
pub const NAMESPACE_POLICY_NAME: &str = "default";

pub type AuthorizationPolicy = Resource<AuthorizationPolicySpec>;
pub type PeerAuthentication = Resource<PeerAuthenticationSpec>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthorizationPolicySpec {
    pub selector: PolicySelector,
    pub action: String,
    /// No rule: an ALLOW policy that allows nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

impl Kind for AuthorizationPolicySpec {
    const KIND: &'static str = "AuthorizationPolicy";
    const API_VERSION: &'static str = API_VERSION;
}

/// The workloads a policy applies to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySelector {
    pub match_labels: BTreeMap<String, String>,
}

/// Requests from any of `from` to any of `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub from: Vec<RuleFrom>,
    pub to: Vec<RuleTo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFrom {
    pub source: Source,
}

/// Who sends a request: mesh identities, or every identity of namespaces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTo {
    pub operation: Operation,
}

/// The destination ports, as strings, as Istio's API has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    pub ports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerAuthenticationSpec {
    pub mtls: Mtls,
}

impl Kind for PeerAuthenticationSpec {
    const KIND: &'static str = "PeerAuthentication";
    const API_VERSION: &'static str = API_VERSION;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mtls {
    pub mode: String,
}

/// The AuthorizationPolicy of a service in a system.
pub fn authorization_policy(
    ctx: &Context<'_>,
    peers: &Peers,
    gateway: &IngressGateway,
    monitoring: &str,
) -> AuthorizationPolicy {
    let rule = |source: Source, ports: Vec<u16>| Rule {
        from: vec![RuleFrom { source }],
        to: vec![RuleTo {
            operation: Operation {
                ports: ports.iter().map(u16::to_string).collect(),
            },
        }],
    };
    let principal = |principal: String| Source {
        principals: vec![principal],
        namespaces: Vec::new(),
    };
    let mut rules: Vec<Rule> = peers
        .callers
        .iter()
        .filter(|caller| !caller.ports.is_empty())
        .map(|caller| {
            let ports = caller.ports.iter().map(|p| p.port).collect();
            rule(principal(caller.principal()), ports)
        })
        .collect();
    let headless = headless_ports(ctx);
    if !headless.is_empty() {
        let own = ctx.service_account.as_deref().unwrap_or(&ctx.full_name);
        rules.push(rule(
            principal(super::principal(&ctx.namespace, own)),
            headless,
        ));
    }
    let public = public_ports(ctx);
    if !public.is_empty() {
        rules.push(rule(principal(gateway.principal()), public));
    }
    let metrics = metrics_ports(ctx);
    if !metrics.is_empty() {
        let monitoring = Source {
            principals: Vec::new(),
            namespaces: vec![monitoring.to_owned()],
        };
        rules.push(rule(monitoring, metrics));
    }
    Resource {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: AuthorizationPolicySpec {
            selector: PolicySelector {
                match_labels: ctx.selector_labels(),
            },
            action: "ALLOW".to_owned(),
            rules,
        },
    }
}

/// The PeerAuthentication that makes mutual TLS mandatory for every workload of
/// `namespace`; a system writes one per namespace it deploys to.
pub fn peer_authentication(namespace: &str) -> PeerAuthentication {
    Resource {
        metadata: ObjectMeta {
            name: Some(NAMESPACE_POLICY_NAME.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..Default::default()
        },
        spec: PeerAuthenticationSpec {
            mtls: Mtls {
                mode: "STRICT".to_owned(),
            },
        },
    }
}
