//! The system's graph: its services with their wires, and the resolved connections
//! between them. One owned value, the only owner of "who talks to whom": the renderings,
//! `kube-gen --system` (autoscaling, policies) and running the system locally read it.

use harness_core::spec::{Expose, Protocol, Reach};

use crate::kube::context::{Context, Wire};
use crate::kube::{Peer, PeerPort, Peers};

use super::file::OutsideEntry;

/// A service's position in [`Graph::services`].
pub type ServiceId = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// In the order of the system file.
    pub services: Vec<ServiceNode>,
    /// The system file's `outside` entries, in its order.
    pub outside: Vec<OutsideEntry>,
    /// Connections between services of the system, by caller then by input field order.
    pub edges: Vec<Edge>,
    /// Connections to `outside` entries, in the same order.
    pub outside_edges: Vec<OutsideEdge>,
}

/// A service of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNode {
    /// `NAME[-INSTANCE]`: its Deployment's and Service's name.
    pub name: String,
    /// `(harness.service).name`.
    pub base_name: String,
    pub instance: Option<String>,
    pub namespace: String,
    /// Every input wire, in field order.
    pub inputs: Vec<InputNode>,
    /// Every output wire, in field order.
    pub outputs: Vec<OutputNode>,
}

/// An input wire as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputNode {
    /// The field's name.
    pub name: String,
    /// The wire's configuration message, e.g. `harness.grpc.Channel`.
    pub config_type: String,
    pub reach: Reach,
    /// The socket's protocol, host and port, when the wire has a socket and is set.
    pub socket: Option<Socket>,
    /// `(harness.wire).input.calls`.
    pub calls: Vec<String>,
}

/// An output wire as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputNode {
    pub name: String,
    pub config_type: String,
    pub expose: Expose,
    pub socket: Option<Socket>,
    /// The port of the Service that exposes it (its own port on the headless Service);
    /// `None` when no Service does.
    pub service_port: Option<u16>,
    /// `(harness.wire).output.serves`, as declared.
    pub serves: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
}

/// An input of `from` that reaches an output of `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: ServiceId,
    /// The input's field.
    pub wire: String,
    pub to: ServiceId,
    /// The output's field.
    pub output: String,
    pub protocol: Protocol,
    /// The port the caller dials: the Service's port.
    pub port: u16,
    /// The port the callee's pods listen on, which network policies name.
    pub target_port: u16,
}

/// An input that reaches an `outside` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideEdge {
    pub from: ServiceId,
    pub wire: String,
    /// Index in [`Graph::outside`].
    pub to: usize,
}

impl Graph {
    /// The service named `NAME[-INSTANCE]` in `namespace`.
    pub fn service(&self, name: &str, namespace: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.name == name && s.namespace == namespace)
    }

    /// The connections into `id`.
    pub fn callers(&self, id: ServiceId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to == id)
    }

    /// The connections out of `id` to other services of the system.
    pub fn callees(&self, id: ServiceId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.from == id)
    }

    /// Whether another service of the system connects to `id` (every connection is a
    /// synchronous call: a caller waits on it). Callers from outside the system are not
    /// known here; kube-gen counts PUBLIC outputs as called anyway.
    pub fn has_synchronous_callers(&self, id: ServiceId) -> bool {
        self.callers(id).next().is_some()
    }

    /// The callers and callees of `id`, each once, in service order, with the callee's
    /// container ports the pair uses, and the outside peers it reaches: what the policies
    /// of `id` admit and reach (kube-gen's `Options::peers`).
    pub fn peers(&self, id: ServiceId) -> Peers {
        let mut outside = Vec::new();
        for edge in self.outside_edges.iter().filter(|e| e.from == id) {
            let host = &self.outside[edge.to].service;
            if !outside.contains(host) {
                outside.push(host.clone());
            }
        }
        Peers {
            callers: self.peers_by(self.callers(id), |e| e.from),
            callees: self.peers_by(self.callees(id), |e| e.to),
            outside,
        }
    }

    fn peers_by<'a>(
        &'a self,
        edges: impl Iterator<Item = &'a Edge>,
        peer_of: impl Fn(&Edge) -> ServiceId,
    ) -> Vec<Peer> {
        let mut by_service: std::collections::BTreeMap<ServiceId, Vec<PeerPort>> =
            Default::default();
        for edge in edges {
            let ports = by_service.entry(peer_of(edge)).or_default();
            let port = PeerPort {
                port: edge.target_port,
                protocol: edge.protocol,
            };
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        by_service
            .into_iter()
            .map(|(id, mut ports)| {
                ports.sort_by_key(|p| (p.port, p.protocol));
                let service = &self.services[id];
                Peer {
                    service: service.base_name.clone(),
                    instance: service.instance.clone(),
                    namespace: service.namespace.clone(),
                    ports,
                }
            })
            .collect()
    }
}

impl ServiceNode {
    /// The node of a service as kube-gen's checked context sees it.
    pub fn from_context(ctx: &Context<'_>) -> Self {
        let socket = |wire: &Wire<'_>| {
            wire.socket.as_ref().map(|(protocol, address)| Socket {
                protocol: *protocol,
                host: address.host.clone(),
                port: address.port,
            })
        };
        let inputs = ctx
            .inputs
            .iter()
            .map(|wire| InputNode {
                name: wire.spec.name.clone(),
                config_type: wire.spec.config_type.clone(),
                reach: wire.reach().unwrap_or(Reach::Localhost),
                socket: socket(wire),
                calls: wire.spec.calls.clone(),
            })
            .collect();
        let service_port = |wire: &Wire<'_>| {
            ctx.service_outputs
                .iter()
                .chain(&ctx.headless_outputs)
                .find(|exposed| exposed.wire.spec.name == wire.spec.name)
                .map(|exposed| match exposed.wire.expose() {
                    Some(Expose::Headless) => exposed.container_port,
                    _ => exposed.service_port,
                })
        };
        let outputs = ctx
            .outputs
            .iter()
            .map(|wire| OutputNode {
                name: wire.spec.name.clone(),
                config_type: wire.spec.config_type.clone(),
                expose: wire.expose().unwrap_or(Expose::Private),
                socket: socket(wire),
                service_port: service_port(wire),
                serves: wire.spec.serves.clone(),
            })
            .collect();
        ServiceNode {
            name: ctx.full_name.clone(),
            base_name: ctx.name.clone(),
            instance: ctx.instance.clone(),
            namespace: ctx.namespace.clone(),
            inputs,
            outputs,
        }
    }

    pub fn output(&self, name: &str) -> Option<&OutputNode> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, instance: Option<&str>, namespace: &str) -> ServiceNode {
        ServiceNode {
            name: match instance {
                Some(instance) => format!("{name}-{instance}"),
                None => name.to_owned(),
            },
            base_name: name.to_owned(),
            instance: instance.map(str::to_owned),
            namespace: namespace.to_owned(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    fn edge(from: ServiceId, to: ServiceId, protocol: Protocol, target_port: u16) -> Edge {
        Edge {
            from,
            wire: format!("to{to}"),
            to,
            output: "server".to_owned(),
            protocol,
            port: 1,
            target_port,
        }
    }

    /// kirk calls scotty twice (gRPC and HTTP) and uhura-blue once; nobody calls kirk.
    fn graph() -> Graph {
        Graph {
            services: vec![
                service("kirk", None, "bridge"),
                service("scotty", None, "eng"),
                service("uhura", Some("blue"), "bridge"),
            ],
            outside: Vec::new(),
            edges: vec![
                edge(0, 1, Protocol::Http, 8080),
                edge(0, 1, Protocol::Grpc, 50051),
                edge(0, 2, Protocol::Http, 8090),
                edge(2, 1, Protocol::Grpc, 50051),
            ],
            outside_edges: Vec::new(),
        }
    }

    #[test]
    fn callers_and_callees() {
        let graph = graph();
        assert!(!graph.has_synchronous_callers(0));
        assert!(graph.has_synchronous_callers(1));
        assert_eq!(graph.callers(1).count(), 3);
        assert_eq!(graph.callees(0).count(), 3);
        assert_eq!(graph.service("uhura-blue", "bridge"), Some(2));
        assert_eq!(graph.service("uhura-blue", "eng"), None);
    }

    #[test]
    fn peers_carry_labels_namespaces_and_the_callee_ports() {
        let graph = graph();
        let scotty = graph.peers(1);
        assert!(scotty.callees.is_empty());
        let callers: Vec<(&str, Option<&str>, Vec<u16>)> = scotty
            .callers
            .iter()
            .map(|p| {
                let ports = p.ports.iter().map(|p| p.port).collect();
                (p.service.as_str(), p.instance.as_deref(), ports)
            })
            .collect();
        assert_eq!(
            callers,
            [
                ("kirk", None, vec![8080, 50051]),
                ("uhura", Some("blue"), vec![50051])
            ]
        );
        let kirk = graph.peers(0);
        assert!(kirk.callers.is_empty());
        assert_eq!(kirk.callees.len(), 2);
        assert_eq!(kirk.callees[0].namespace, "eng");
        assert_eq!(
            kirk.callees[1].ports,
            [PeerPort {
                port: 8090,
                protocol: Protocol::Http
            }]
        );
    }
}
