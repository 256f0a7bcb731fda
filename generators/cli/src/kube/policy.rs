//! Zero trust: who may talk to a service's pods, and whom they may talk to.
//!
//! Always, from what the service itself declares, a NetworkPolicy ([`network_policy`]).
//! In a system, where the graph knows every caller and callee ([`Peers`]), also the
//! pods' own identity (a ServiceAccount), an Istio AuthorizationPolicy that admits only
//! the callers' identities, and a PeerAuthentication per namespace that makes mutual TLS
//! mandatory ([`authorization`]).
//!
//! Every pod of kube-gen runs Istio's sidecar (the Deployment injects it), so the mesh is
//! always on: the rules below let the sidecar reach istiod and admit the scrapes of its
//! telemetry ports.

use std::collections::BTreeMap;

use harness_core::spec::{Expose, Protocol};
use k8s_openapi::api::core::v1::ServiceAccount;

use super::context::{self, Context, Exposed};
use super::gateway_api::GatewayRef;
use super::istio::INGRESS_SELECTOR;
use super::names::{check_dns1123_label, check_dns1123_subdomain, check_version};
use super::{KubeGenError, Options, Router};

pub mod authorization;
pub mod network_policy;

/// Who talks to a service, as the system graph resolved it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peers {
    /// The services whose inputs reach this one's outputs.
    pub callers: Vec<Peer>,
    /// The services this one's inputs reach.
    pub callees: Vec<Peer>,
    /// Services of the cluster that the system does not manage (the system file's
    /// `outside`) and that this one's inputs reach: neither their pods' labels nor their
    /// ports are known, so egress is allowed to their namespace.
    pub outside: Vec<super::names::ServiceHost>,
}

/// Another service of the system: its pods are selected by harness's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its `(harness.service).name`.
    pub service: String,
    pub instance: Option<String>,
    pub namespace: String,
    /// The ports of the callee that the caller uses (for a caller of this service, ports
    /// of this service; for a callee, the callee's).
    pub ports: Vec<PeerPort>,
}

/// A container port of the callee that the caller uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerPort {
    pub port: u16,
    pub protocol: Protocol,
}

impl Peer {
    /// `NAME[-INSTANCE]`: its objects' name, its ServiceAccount's too.
    pub fn full_name(&self) -> String {
        context::full_name(&self.service, self.instance.as_deref())
    }

    /// The labels of its pods.
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        context::selector_labels(&self.service, self.instance.as_deref())
    }

    /// Its identity in the mesh: the principal of its ServiceAccount.
    pub fn principal(&self) -> String {
        principal(&self.namespace, &self.full_name())
    }
}

/// The mesh's trust domain, Istio's default: the first part of every principal.
pub const TRUST_DOMAIN: &str = "cluster.local";

/// The mesh identity of pods running as `service_account` in `namespace`.
pub fn principal(namespace: &str, service_account: &str) -> String {
    format!("{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}")
}

/// `--monitoring-namespace` when not given: where kube-prometheus and the Prometheus
/// Operator's guides install Prometheus.
pub const DEFAULT_MONITORING_NAMESPACE: &str = "monitoring";

/// The ServiceAccount of Istio's ingress gateway as its Helm chart installs it.
pub const ISTIO_INGRESS_SERVICE_ACCOUNT: &str = "istio-ingressgateway-service-account";
/// The namespace of Istio's ingress gateway as its Helm chart installs it.
pub const ISTIO_INGRESS_NAMESPACE: &str = "istio-system";
/// The label Istio puts on the pods it deploys for a Gateway API Gateway.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// The ingress gateway, where requests from outside the cluster come from: its pods
/// (for the NetworkPolicy) and its identity (for the AuthorizationPolicy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressGateway {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub service_account: String,
}

impl IngressGateway {
    pub fn principal(&self) -> String {
        principal(&self.namespace, &self.service_account)
    }
}

/// `--ingress-namespace`, `--ingress-labels`, `--ingress-service-account`: the parts of
/// the ingress gateway that replace the router's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressOverrides {
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub service_account: Option<String>,
}

/// The ingress gateway of `--router`, with the user's overrides: Istio's
/// `istio-ingressgateway` in istio-system, or with the Gateway API the pods Istio
/// deploys for `--gateway` NS/NAME (labelled with its name, running as `NAME-istio`).
pub fn ingress_gateway(options: &Options, namespace: &str) -> Result<IngressGateway, KubeGenError> {
    let invalid = KubeGenError::invalid;
    let mut gateway = match options.router {
        Router::Istio => IngressGateway {
            namespace: ISTIO_INGRESS_NAMESPACE.to_owned(),
            labels: BTreeMap::from([(
                INGRESS_SELECTOR.0.to_owned(),
                INGRESS_SELECTOR.1.to_owned(),
            )]),
            service_account: ISTIO_INGRESS_SERVICE_ACCOUNT.to_owned(),
        },
        Router::GatewayApi => {
            let reference = GatewayRef::parse(&options.gateway, namespace)?;
            IngressGateway {
                namespace: reference.namespace,
                labels: BTreeMap::from([(GATEWAY_NAME_LABEL.to_owned(), reference.name.clone())]),
                service_account: format!("{}-istio", reference.name),
            }
        }
    };
    let overrides = &options.ingress;
    if let Some(ns) = &overrides.namespace {
        check_dns1123_label(ns).map_err(invalid("--ingress-namespace", ns, "a DNS-1123 label"))?;
        gateway.namespace = ns.clone();
    }
    if let Some(labels) = &overrides.labels {
        gateway.labels = labels.clone();
    }
    if let Some(account) = &overrides.service_account {
        check_dns1123_subdomain(account).map_err(invalid(
            "--ingress-service-account",
            account,
            "a ServiceAccount name (DNS-1123 subdomain)",
        ))?;
        gateway.service_account = account.clone();
    }
    check_dns1123_label(&options.monitoring_namespace).map_err(invalid(
        "--monitoring-namespace",
        &options.monitoring_namespace,
        "a DNS-1123 label",
    ))?;
    Ok(gateway)
}

/// `KEY=VALUE[,KEY=VALUE]...`, Kubernetes labels (`--ingress-labels`).
pub fn parse_labels(value: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    for pair in value.split(',') {
        let (key, label) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}` is not KEY=VALUE"))?;
        check_label_key(key).map_err(|reason| format!("label key `{key}`: {reason}"))?;
        if !label.is_empty() {
            check_version(label).map_err(|reason| format!("label value `{label}`: {reason}"))?;
        }
        labels.insert(key.to_owned(), label.to_owned());
    }
    Ok(labels)
}

/// A label key: `[PREFIX/]NAME`, PREFIX a DNS subdomain, NAME what a label value may be
/// (up to 63 letters, digits, `-`, `_` or `.`, starting and ending with one of the first two).
fn check_label_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            check_dns1123_subdomain(prefix).map_err(|reason| format!("its prefix: {reason}"))?;
            name
        }
        None => key,
    };
    check_version(name).map_err(|reason| format!("its name: {reason}"))
}

/// The message of a wire that serves Prometheus metrics.
pub const METRICS_TYPE: &str = "harness.metrics.Prometheus";
/// The sidecar's telemetry ports that Prometheus scrapes: 15020, the agent's merged
/// metrics (the application's and Envoy's), and 15090, Envoy's own.
pub const MESH_TELEMETRY_PORTS: [u16; 2] = [15020, 15090];

/// The container ports of configured metrics outputs that a pod can be scraped on (not
/// bound to loopback), whatever their exposure: Prometheus scrapes pods, not Services.
pub fn metrics_ports(ctx: &Context<'_>) -> Vec<u16> {
    ctx.outputs
        .iter()
        .filter(|w| w.configured && w.spec.config_type == METRICS_TYPE)
        .filter_map(|w| w.socket.as_ref())
        .filter(|(_, address)| !address.is_loopback())
        .map(|(_, address)| address.port)
        .collect()
}

/// INTERNAL, PUBLIC and HEADLESS outputs with a socket, in that order.
pub(super) fn exposed<'c, 'a>(ctx: &'c Context<'a>) -> impl Iterator<Item = &'c Exposed<'a>> {
    ctx.service_outputs.iter().chain(&ctx.headless_outputs)
}

/// The container ports of PUBLIC outputs.
pub(super) fn public_ports(ctx: &Context<'_>) -> Vec<u16> {
    exposed(ctx)
        .filter(|o| o.wire.expose() == Some(Expose::Public))
        .map(|o| o.container_port)
        .collect()
}

/// The container ports of HEADLESS outputs, which the service's own replicas call.
pub(super) fn headless_ports(ctx: &Context<'_>) -> Vec<u16> {
    ctx.headless_outputs
        .iter()
        .map(|o| o.container_port)
        .collect()
}

/// The pods' own ServiceAccount `FULL`, whose token is never mounted: the identity the
/// mesh gives the pods, which grants nothing in the Kubernetes API.
pub fn service_account(ctx: &Context<'_>) -> ServiceAccount {
    ServiceAccount {
        metadata: ctx.metadata(ctx.full_name.clone()),
        automount_service_account_token: Some(false),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
