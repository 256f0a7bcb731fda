//! Istio objects (networking.istio.io/v1): typed structs for the fields harness sets,
//! and their builders.
//!
//! - Gateway and VirtualService: PUBLIC outputs at `NAME[-INSTANCE].DOMAIN` through the
//!   ingress gateway, and every INTERNAL or PUBLIC output in the mesh.
//! - ServiceEntry: one per EXTERNAL input, with its host, port and protocol.
//! - Sidecar: egress limited to exactly the hosts of the declared inputs.

use std::collections::BTreeMap;

use harness_core::spec::{Expose, Protocol, Reach, SocketAddress};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::ser::SerializeStruct;

use super::context::{Context, Exposed, Wire};
use super::names::ServiceHost;

/// The Istio API version of every Istio object: GA since Istio 1.22.
pub const API_VERSION: &str = "networking.istio.io/v1";
/// The gateway that `--base-domain` traffic enters through.
pub const INGRESS_SELECTOR: (&str, &str) = ("istio", "ingressgateway");
/// The reserved gateway name of sidecar-to-sidecar traffic.
pub const MESH_GATEWAY: &str = "mesh";

/// A custom resource (Istio's, and the Gateway API's, KEDA's and Knative's kinds):
/// apiVersion and kind come from the spec's type.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource<S> {
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// The kind of a custom resource's spec, and its API version (Istio's by default).
pub trait Kind {
    const KIND: &'static str;
    const API_VERSION: &'static str = API_VERSION;
}

impl<S: Kind + Serialize> Serialize for Resource<S> {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut state = serializer.serialize_struct(S::KIND, 4)?;
        state.serialize_field("apiVersion", S::API_VERSION)?;
        state.serialize_field("kind", S::KIND)?;
        state.serialize_field("metadata", &self.metadata)?;
        state.serialize_field("spec", &self.spec)?;
        state.end()
    }
}

pub type Gateway = Resource<GatewaySpec>;
pub type VirtualService = Resource<VirtualServiceSpec>;
pub type ServiceEntry = Resource<ServiceEntrySpec>;
pub type Sidecar = Resource<SidecarSpec>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewaySpec {
    pub selector: BTreeMap<String, String>,
    pub servers: Vec<Server>,
}

impl Kind for GatewaySpec {
    const KIND: &'static str = "Gateway";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Server {
    pub port: Port,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Port {
    pub number: u32,
    pub protocol: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualServiceSpec {
    pub hosts: Vec<String>,
    pub gateways: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpRoute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcp: Vec<TcpRoute>,
}

impl Kind for VirtualServiceSpec {
    const KIND: &'static str = "VirtualService";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpRoute {
    pub name: String,
    #[serde(rename = "match")]
    pub match_: Vec<PortMatch>,
    pub route: Vec<RouteDestination>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcpRoute {
    #[serde(rename = "match")]
    pub match_: Vec<PortMatch>,
    pub route: Vec<RouteDestination>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortMatch {
    pub port: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteDestination {
    pub destination: Destination,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Destination {
    pub host: String,
    pub port: PortSelector,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortSelector {
    pub number: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEntrySpec {
    pub hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    pub location: String,
    pub ports: Vec<Port>,
    pub resolution: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<WorkloadEntry>,
}

/// An endpoint of a ServiceEntry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadEntry {
    pub address: String,
}

impl Kind for ServiceEntrySpec {
    const KIND: &'static str = "ServiceEntry";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarSpec {
    pub workload_selector: WorkloadSelector,
    pub egress: Vec<EgressListener>,
}

impl Kind for SidecarSpec {
    const KIND: &'static str = "Sidecar";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadSelector {
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EgressListener {
    pub hosts: Vec<String>,
}

/// The protocol name Istio uses in Gateway, ServiceEntry and VirtualService ports.
pub fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Http => "HTTP",
        Protocol::Grpc => "GRPC",
        Protocol::Tcp => "TCP",
    }
}

fn public_outputs<'c, 'a>(ctx: &'c Context<'a>) -> impl Iterator<Item = &'c Exposed<'a>> {
    ctx.service_outputs
        .iter()
        .filter(|o| o.wire.expose() == Some(Expose::Public))
}

/// The Gateway of PUBLIC outputs, when `--base-domain` gives them a host.
pub fn gateway(ctx: &Context<'_>) -> Option<Gateway> {
    let host = ctx.public_host.as_ref()?;
    let servers: Vec<Server> = public_outputs(ctx)
        .map(|output| Server {
            port: Port {
                number: u32::from(output.service_port),
                protocol: protocol_name(output.protocol).to_owned(),
                name: output.port_name.clone(),
            },
            hosts: vec![host.clone()],
        })
        .collect();
    if servers.is_empty() {
        return None;
    }
    Some(Resource {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: GatewaySpec {
            selector: BTreeMap::from([(
                INGRESS_SELECTOR.0.to_owned(),
                INGRESS_SELECTOR.1.to_owned(),
            )]),
            servers,
        },
    })
}

/// Routes to the Service's ports: in the mesh for INTERNAL and PUBLIC outputs, and
/// from the Gateway at the public host for PUBLIC ones.
pub fn virtual_service(ctx: &Context<'_>) -> Option<VirtualService> {
    if ctx.service_outputs.is_empty() {
        return None;
    }
    let service_host = ctx.service_host();
    let mut hosts = vec![service_host.clone()];
    let mut gateways = Vec::new();
    if let Some(public) = &ctx.public_host
        && public_outputs(ctx).next().is_some()
    {
        hosts.push(public.clone());
        gateways.push(ctx.full_name.clone());
    }
    gateways.push(MESH_GATEWAY.to_owned());

    let mut http = Vec::new();
    let mut tcp = Vec::new();
    for output in &ctx.service_outputs {
        let port = u32::from(output.service_port);
        let match_ = vec![PortMatch { port }];
        let route = vec![RouteDestination {
            destination: Destination {
                host: service_host.clone(),
                port: PortSelector { number: port },
            },
        }];
        match output.protocol {
            Protocol::Http | Protocol::Grpc => http.push(HttpRoute {
                name: output.port_name.clone(),
                match_,
                route,
            }),
            Protocol::Tcp => tcp.push(TcpRoute { match_, route }),
        }
    }
    Some(Resource {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: VirtualServiceSpec {
            hosts,
            gateways,
            http,
            tcp,
        },
    })
}

/// The ServiceEntry host of an EXTERNAL input: its host name, or for an IP address a
/// name that never resolves (RFC 2606 `.invalid`): Istio matches such an entry by its
/// address, and the name only identifies it.
fn external_host(ctx: &Context<'_>, wire: &Wire<'_>, address: &SocketAddress) -> String {
    match address.ip() {
        Some(_) => format!("{}.external.invalid", ctx.object_name(&[&wire.slug])),
        None => address.host.clone(),
    }
}

/// A ServiceEntry for each configured EXTERNAL input with a socket, in field order: a
/// host name is resolved by DNS, an IP address is a static endpoint.
pub fn service_entries(ctx: &Context<'_>) -> Vec<ServiceEntry> {
    ctx.inputs
        .iter()
        .filter(|w| w.reach() == Some(Reach::External))
        .filter_map(|wire| {
            let (protocol, address) = wire.socket.as_ref()?;
            let ip = address.ip().map(|ip| ip.to_string());
            Some(Resource {
                metadata: ctx.metadata(ctx.object_name(&[&wire.slug])),
                spec: ServiceEntrySpec {
                    hosts: vec![external_host(ctx, wire, address)],
                    addresses: ip.iter().cloned().collect(),
                    location: "MESH_EXTERNAL".to_owned(),
                    ports: vec![Port {
                        number: u32::from(address.port),
                        protocol: protocol_name(*protocol).to_owned(),
                        name: wire.port_name()?,
                    }],
                    resolution: if ip.is_some() { "STATIC" } else { "DNS" }.to_owned(),
                    endpoints: ip
                        .into_iter()
                        .map(|address| WorkloadEntry { address })
                        .collect(),
                },
            })
        })
        .collect()
}

/// The Sidecar: egress to `istio-system/*` and to each input's host by its reach.
pub fn sidecar(ctx: &Context<'_>) -> Sidecar {
    let mut hosts = vec!["istio-system/*".to_owned()];
    for wire in &ctx.inputs {
        let (Some(reach), Some((_, address))) = (wire.reach(), wire.socket.as_ref()) else {
            continue;
        };
        let egress = match reach {
            Reach::Localhost => continue,
            // Context::new made sure these name a Service.
            Reach::Namespace | Reach::Cluster => {
                match ServiceHost::parse(&address.host, &ctx.namespace) {
                    Some(service) if service.namespace == ctx.namespace => {
                        format!("./{}", service.fqdn())
                    }
                    Some(service) => format!("{}/{}", service.namespace, service.fqdn()),
                    None => continue,
                }
            }
            Reach::External => format!("./{}", external_host(ctx, wire, address)),
        };
        if !hosts.contains(&egress) {
            hosts.push(egress);
        }
    }
    Resource {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: SidecarSpec {
            workload_selector: WorkloadSelector {
                labels: ctx.selector_labels(),
            },
            egress: vec![EgressListener { hosts }],
        },
    }
}
