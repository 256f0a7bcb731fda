//! The NetworkPolicy `FULL` (networking.k8s.io/v1): every ingress and egress of the
//! service's pods is denied except what the service declares (and, in a system, exactly
//! the edges of the graph).
//!
//! Rules are on pod addresses and container ports: the CNI checks a packet after the
//! Service's address was translated to a pod's, and the sidecar connects to the pods
//! themselves. Traffic from the pod's own node (the kubelet's probes) is always allowed
//! by Kubernetes, whatever the policy.

use std::collections::BTreeMap;

use harness_core::spec::Reach;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    IngressGateway, MESH_TELEMETRY_PORTS, Peer, Peers, exposed, headless_ports, metrics_ports,
    public_ports,
};
use crate::kube::context::{Context, SYSLOG_TYPE, Wire};
use crate::kube::names::ServiceHost;
use crate::kube::{Options, Target};

/// The label Kubernetes sets on every namespace to its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Cluster DNS: the namespace, the label and the port of its pods.
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
pub const DNS_PORT: u16 = 53;
/// istiod, which gives the sidecar its configuration and certificate: the namespace, the
/// label and the port (xDS and CA over mutual TLS) of its pods.
pub const ISTIOD_NAMESPACE: &str = "istio-system";
pub const ISTIOD_LABEL: (&str, &str) = ("app", "istiod");
pub const ISTIOD_PORT: u16 = 15012;
/// Wires that send datagrams: their socket's port is UDP (syslog to a server, spans to a
/// Jaeger agent).
pub const DATAGRAM_TYPES: [&str; 2] = [SYSLOG_TYPE, "harness.tracing.Jaeger"];

const TCP: &str = "TCP";
const UDP: &str = "UDP";

/// The NetworkPolicy of the service's pods. A Knative Service's requests reach its pods
/// through Knative's activator and queue-proxy ports, not the service's, so for
/// `--target knative` only egress is restricted.
pub fn network_policy(
    ctx: &Context<'_>,
    options: &Options,
    gateway: &IngressGateway,
) -> NetworkPolicy {
    let peers = options.peers.as_ref();
    let (policy_types, ingress) = match options.target {
        Target::Deployment => (
            vec!["Ingress".to_owned(), "Egress".to_owned()],
            ingress_rules(ctx, peers, gateway, &options.monitoring_namespace),
        ),
        Target::Knative => (vec!["Egress".to_owned()], Vec::new()),
    };
    NetworkPolicy {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(match_labels(ctx.selector_labels())),
            policy_types: Some(policy_types),
            // No rule of a type in policyTypes: nothing of that direction is allowed.
            ingress: non_empty(ingress),
            egress: non_empty(egress_rules(ctx, peers)),
        }),
    }
}

/// From the callers and the service's own replicas to HEADLESS outputs (in a system) or
/// the namespace (alone) to the exposed outputs, from the ingress gateway to PUBLIC
/// ones, and from the monitoring namespace to the metrics and the sidecar's telemetry.
fn ingress_rules(
    ctx: &Context<'_>,
    peers: Option<&Peers>,
    gateway: &IngressGateway,
    monitoring: &str,
) -> Vec<NetworkPolicyIngressRule> {
    let rule = |from: NetworkPolicyPeer, ports: Vec<NetworkPolicyPort>| NetworkPolicyIngressRule {
        from: Some(vec![from]),
        ports: Some(ports),
    };
    let mut rules = Vec::new();
    match peers {
        // Without the graph, any pod of the namespace may be a caller.
        None => {
            let ports: Vec<u16> = exposed(ctx).map(|o| o.container_port).collect();
            if !ports.is_empty() {
                rules.push(rule(namespace(&ctx.namespace), tcp_ports(ports)));
            }
        }
        Some(peers) => {
            rules.extend(
                peers
                    .callers
                    .iter()
                    .filter(|c| !c.ports.is_empty())
                    .map(|caller| rule(peer_pods(caller, &ctx.namespace), peer_ports(caller))),
            );
            let headless = headless_ports(ctx);
            if !headless.is_empty() {
                rules.push(rule(own_pods(ctx), tcp_ports(headless)));
            }
        }
    }
    let public = public_ports(ctx);
    if !public.is_empty() {
        rules.push(rule(
            pods_in(&gateway.namespace, gateway.labels.clone(), &ctx.namespace),
            tcp_ports(public),
        ));
    }
    let mut scraped = metrics_ports(ctx);
    scraped.extend(MESH_TELEMETRY_PORTS);
    rules.push(rule(namespace(monitoring), tcp_ports(scraped)));
    rules
}

/// To cluster DNS and istiod, to its own replicas' HEADLESS outputs, to the callees (in
/// a system) or the namespaces of the NAMESPACE and CLUSTER inputs (alone), and to the
/// port of each EXTERNAL input.
fn egress_rules(ctx: &Context<'_>, peers: Option<&Peers>) -> Vec<NetworkPolicyEgressRule> {
    let rule = |to: Option<NetworkPolicyPeer>, ports: Option<Vec<NetworkPolicyPort>>| {
        NetworkPolicyEgressRule {
            to: to.map(|peer| vec![peer]),
            ports,
        }
    };
    let dns = pods_in(DNS_NAMESPACE, label(DNS_LABEL), &ctx.namespace);
    let dns_ports = [UDP, TCP].map(|protocol| port(DNS_PORT, protocol)).to_vec();
    let istiod = pods_in(ISTIOD_NAMESPACE, label(ISTIOD_LABEL), &ctx.namespace);
    let mut rules = vec![
        rule(Some(dns), Some(dns_ports)),
        rule(Some(istiod), Some(tcp_ports([ISTIOD_PORT]))),
    ];
    let headless = headless_ports(ctx);
    if !headless.is_empty() {
        rules.push(rule(Some(own_pods(ctx)), Some(tcp_ports(headless))));
    }
    let mut namespaces: Vec<String> = Vec::new();
    match peers {
        None => namespaces.extend(ctx.inputs.iter().filter_map(|w| service_namespace(ctx, w))),
        Some(peers) => {
            rules.extend(
                peers
                    .callees
                    .iter()
                    .filter(|c| !c.ports.is_empty())
                    .map(|callee| {
                        rule(
                            Some(peer_pods(callee, &ctx.namespace)),
                            Some(peer_ports(callee)),
                        )
                    }),
            );
            namespaces.extend(peers.outside.iter().map(|host| host.namespace.clone()));
        }
    }
    let mut seen = Vec::new();
    for ns in namespaces {
        if !seen.contains(&ns) {
            rules.push(rule(Some(namespace(&ns)), None));
            seen.push(ns);
        }
    }
    for external in external_rules(ctx) {
        if !rules.contains(&external) {
            rules.push(external);
        }
    }
    rules
}

/// To the port of each EXTERNAL input: a host name can resolve to any address, so only
/// an IP address pins the destination.
fn external_rules(ctx: &Context<'_>) -> Vec<NetworkPolicyEgressRule> {
    ctx.inputs
        .iter()
        .filter(|w| w.reach() == Some(Reach::External))
        .filter_map(|wire| {
            let (_, address) = wire.socket.as_ref()?;
            let to = address.ip().map(|ip| NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: format!("{ip}/{}", if ip.is_ipv4() { 32 } else { 128 }),
                    except: None,
                }),
                ..Default::default()
            });
            Some(NetworkPolicyEgressRule {
                to: to.map(|peer| vec![peer]),
                ports: Some(vec![port(address.port, transport(wire))]),
            })
        })
        .collect()
}

/// The namespace of the Service a NAMESPACE or CLUSTER input names. Without the system
/// neither the callee's pod labels nor its container port (the Service maps its port to
/// one) are known: the tightest rule that cannot break the call is the whole namespace.
fn service_namespace(ctx: &Context<'_>, wire: &Wire<'_>) -> Option<String> {
    if !matches!(wire.reach(), Some(Reach::Namespace | Reach::Cluster)) {
        return None;
    }
    let (_, address) = wire.socket.as_ref()?;
    ServiceHost::parse(&address.host, &ctx.namespace).map(|host| host.namespace)
}

fn transport(wire: &Wire<'_>) -> &'static str {
    if DATAGRAM_TYPES.contains(&wire.spec.config_type.as_str()) {
        UDP
    } else {
        TCP
    }
}

/// The service's own pods, which reach each other on its HEADLESS outputs (a cluster of
/// replicas: raft, gossip).
fn own_pods(ctx: &Context<'_>) -> NetworkPolicyPeer {
    pods_in(&ctx.namespace, ctx.selector_labels(), &ctx.namespace)
}

/// The pods of a peer service.
fn peer_pods(peer: &Peer, own_namespace: &str) -> NetworkPolicyPeer {
    pods_in(&peer.namespace, peer.selector_labels(), own_namespace)
}

/// The pods labelled `labels` in namespace `ns`; a pod selector alone selects in the
/// policy's own namespace, so the namespace selector is left out there.
fn pods_in(ns: &str, labels: BTreeMap<String, String>, own_namespace: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: (ns != own_namespace).then(|| namespace_selector(ns)),
        pod_selector: Some(match_labels(labels)),
        ..Default::default()
    }
}

/// Every pod of namespace `ns`, the policy's own too (said by its name rather than by
/// an empty pod selector: the same pods, and plain to read).
fn namespace(ns: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(namespace_selector(ns)),
        ..Default::default()
    }
}

fn namespace_selector(ns: &str) -> LabelSelector {
    match_labels(label((NAMESPACE_NAME_LABEL, ns)))
}

fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        ..Default::default()
    }
}

fn label((key, value): (&str, &str)) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_owned(), value.to_owned())])
}

fn peer_ports(peer: &Peer) -> Vec<NetworkPolicyPort> {
    // Every harness protocol (HTTP, gRPC, TCP) runs over TCP.
    tcp_ports(peer.ports.iter().map(|p| p.port))
}

fn tcp_ports(ports: impl IntoIterator<Item = u16>) -> Vec<NetworkPolicyPort> {
    let mut unique: Vec<u16> = Vec::new();
    for p in ports {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique.into_iter().map(|p| port(p, TCP)).collect()
}

fn port(number: u16, protocol: &str) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(number))),
        protocol: Some(protocol.to_owned()),
        end_port: None,
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}
