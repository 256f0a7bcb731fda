//! Every NAMESPACE and CLUSTER input resolved to what it reaches, the way cluster DNS
//! and the Services kube-gen emits resolve it: the host names a Service (`NAME`,
//! `NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local`; `NAME-headless` for HEADLESS
//! outputs) and the port one of its ports. Each failure is located at the host (or port)
//! value in the caller's configuration and lists what would resolve.

use std::collections::HashMap;

use harness_core::config::{self, Diagnostic};
use harness_core::spec::{Expose, Protocol, Reach, SocketPart};

use crate::kube::names::ServiceHost;
use crate::kube::service::HEADLESS_SUFFIX;

use super::file::SystemFile;
use super::graph::{
    Edge, Graph, InputNode, OutputNode, OutsideEdge, ServiceId, ServiceNode, Socket,
};
use super::grpc_contract;
use super::load::Member;

/// The graph, and what is wrong or doubtful in it.
pub struct Resolution {
    pub graph: Graph,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Resolves the inputs of every member; a member's id is its index in `members`.
pub fn resolve(file: &SystemFile, members: &[Member]) -> Resolution {
    let nodes = Graph {
        services: members.iter().map(|m| m.node.clone()).collect(),
        outside: file.outside.clone(),
        edges: Vec::new(),
        outside_edges: Vec::new(),
    };
    let services = ServiceIndex::new(&nodes);
    let mut found = Found::default();
    for (id, member) in members.iter().enumerate() {
        check_serves(member, &mut found.errors);
        for input in &member.node.inputs {
            Resolver {
                members,
                graph: &nodes,
                services: &services,
                from: id,
                input,
            }
            .resolve(&mut found);
        }
    }
    let mut resolution = Resolution {
        graph: Graph {
            edges: found.edges,
            outside_edges: found.outside_edges,
            ..nodes
        },
        errors: found.errors,
        warnings: found.warnings,
    };
    warn_uncalled(members, &mut resolution);
    resolution
}

/// The Services of the system by namespace and name: each service's own, and its headless
/// one (`NAME-headless`).
struct ServiceIndex(HashMap<(String, String), Target>);

impl ServiceIndex {
    fn new(graph: &Graph) -> Self {
        let mut index = HashMap::with_capacity(graph.services.len() * 2);
        for (id, service) in graph.services.iter().enumerate() {
            let namespace = &service.namespace;
            let headless = Target::Service { id, headless: true };
            index.insert((namespace.clone(), headless_name(service)), headless);
            let own = Target::Service {
                id,
                headless: false,
            };
            index.insert((namespace.clone(), service.name.clone()), own);
        }
        ServiceIndex(index)
    }
}

/// What resolving the inputs found.
#[derive(Default)]
struct Found {
    edges: Vec<Edge>,
    outside_edges: Vec<OutsideEdge>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// The located diagnostic about the host or port of wire `wire` of `member`. The member
/// is checked again for it: this is the error path (and a rare warning's).
fn located(member: &Member, wire: &str, part: SocketPart, message: String) -> Diagnostic {
    if let Ok(checked) = member.check()
        && let Some(spec) = checked.spec.wires.iter().find(|w| w.name == wire)
    {
        let path = spec.socket_path(part).unwrap_or_default();
        return config::locate(&checked.spec.message, &checked.sources, &path, message);
    }
    Diagnostic {
        file: Some(member.entry.config.clone()),
        position: None,
        path: Some(wire.to_owned()),
        message,
    }
}

fn check_serves(member: &Member, errors: &mut Vec<Diagnostic>) {
    for output in &member.node.outputs {
        for problem in grpc_contract::unknown_serves(member, &output.serves) {
            errors.push(located(member, &output.name, SocketPart::Host, problem));
        }
    }
}

/// One input being resolved.
struct Resolver<'a> {
    members: &'a [Member],
    /// The services and outside entries, without edges.
    graph: &'a Graph,
    services: &'a ServiceIndex,
    from: ServiceId,
    input: &'a InputNode,
}

/// What a host names in the system.
#[derive(Debug, Clone)]
enum Target {
    /// A service's Service (`headless`: its headless Service).
    Service {
        id: ServiceId,
        headless: bool,
    },
    Outside(Vec<usize>),
    Nothing,
}

impl Resolver<'_> {
    fn caller(&self) -> &Member {
        &self.members[self.from]
    }

    fn at(&self, part: SocketPart, message: String) -> Diagnostic {
        located(self.caller(), &self.input.name, part, message)
    }

    fn resolve(&self, resolution: &mut Found) {
        let calls = &self.input.calls;
        for problem in grpc_contract::unknown_calls(self.caller(), calls) {
            resolution.errors.push(self.at(SocketPart::Host, problem));
        }
        let Some(socket) = &self.input.socket else {
            return;
        };
        let namespace = &self.caller().node.namespace;
        // kube-gen's check already refused a NAMESPACE/CLUSTER host that names no Service.
        let Some(host) = ServiceHost::parse(&socket.host, namespace) else {
            return;
        };
        let target = self.target(&host);
        match (self.input.reach, target) {
            (Reach::Namespace | Reach::Cluster, Target::Service { id, headless }) => {
                match self.to_service(socket, &host, id, headless) {
                    Ok(edge) => resolution.edges.push(edge),
                    Err(errors) => resolution.errors.extend(errors),
                }
            }
            (Reach::Namespace | Reach::Cluster, Target::Outside(entries)) => {
                match self.to_outside(socket, &entries) {
                    Ok(to) => resolution.outside_edges.push(OutsideEdge {
                        from: self.from,
                        wire: self.input.name.clone(),
                        to,
                    }),
                    Err(error) => resolution.errors.push(error),
                }
            }
            (Reach::Namespace | Reach::Cluster, Target::Nothing) => {
                let message = format!(
                    "host `{}` names no service of the system (it is Service {} in namespace {}); {}",
                    socket.host,
                    host.name,
                    host.namespace,
                    self.candidates(socket.protocol)
                );
                resolution.errors.push(self.at(SocketPart::Host, message));
            }
            (Reach::External, Target::Service { id, .. }) => {
                let message = format!(
                    "host `{}` is service {} of the system, but the input's reach is EXTERNAL: with NAMESPACE or CLUSTER the connection is checked and allowed as the system's",
                    socket.host, self.graph.services[id].name
                );
                resolution.warnings.push(self.at(SocketPart::Host, message));
            }
            _ => {}
        }
    }

    fn target(&self, host: &ServiceHost) -> Target {
        let key = (host.namespace.clone(), host.name.clone());
        if let Some(service) = self.services.0.get(&key) {
            return service.clone();
        }
        let entries: Vec<usize> = (self.graph.outside.iter().enumerate())
            .filter(|(_, o)| o.service == *host)
            .map(|(i, _)| i)
            .collect();
        if entries.is_empty() {
            Target::Nothing
        } else {
            Target::Outside(entries)
        }
    }

    /// The edge to the output of service `id` at the input's port, or why there is none.
    fn to_service(
        &self,
        socket: &Socket,
        host: &ServiceHost,
        id: ServiceId,
        headless: bool,
    ) -> Result<Edge, Vec<Diagnostic>> {
        let callee = &self.members[id];
        let service = &callee.node;
        let caller_namespace = &self.caller().node.namespace;
        if self.input.reach == Reach::Namespace && service.namespace != *caller_namespace {
            return Err(vec![self.at(
                SocketPart::Host,
                format!(
                    "host `{}` is service {} in namespace {}, but the input's reach is NAMESPACE and {} runs in namespace {caller_namespace}; make the reach CLUSTER, or move one of them",
                    socket.host, service.name, host.namespace, self.caller().node.name
                ),
            )]);
        }
        let exposed = |expose: Expose| {
            if headless {
                expose == Expose::Headless
            } else {
                matches!(expose, Expose::Internal | Expose::Public)
            }
        };
        let Some(output) = service
            .outputs
            .iter()
            .find(|o| exposed(o.expose) && o.service_port == Some(socket.port))
        else {
            return Err(vec![self.port_error(socket, service, headless)]);
        };
        let served = (output.socket.as_ref()).expect("an exposed output has a socket");
        self.check_call(socket, callee, output, served)?;
        Ok(Edge {
            from: self.from,
            wire: self.input.name.clone(),
            to: id,
            output: output.name.clone(),
            protocol: served.protocol,
            port: socket.port,
            target_port: served.port,
        })
    }

    /// The protocol and gRPC contract of a call from the input to `output` of `callee`.
    fn check_call(
        &self,
        socket: &Socket,
        callee: &Member,
        output: &OutputNode,
        served: &Socket,
    ) -> Result<(), Vec<Diagnostic>> {
        if !compatible(socket.protocol, served.protocol) {
            return Err(vec![self.at(
                SocketPart::Host,
                format!(
                    "{} input cannot call output `{}` of {}, which serves {}; {}",
                    a_protocol(socket.protocol),
                    output.name,
                    callee.node.name,
                    protocol_name(served.protocol),
                    self.candidates(socket.protocol)
                ),
            )]);
        }
        if self.input.calls.is_empty() {
            return Ok(());
        }
        let contract = grpc_contract::check(
            self.caller(),
            &self.input.calls,
            callee,
            &output.name,
            &output.serves,
        );
        if contract.is_empty() {
            return Ok(());
        }
        Err(contract
            .into_iter()
            .map(|problem| self.at(SocketPart::Host, problem))
            .collect())
    }

    fn port_error(&self, socket: &Socket, service: &ServiceNode, headless: bool) -> Diagnostic {
        if let Some(private) = service.outputs.iter().find(|o| {
            o.service_port.is_none() && o.socket.as_ref().is_some_and(|s| s.port == socket.port)
        }) {
            return self.at(
                SocketPart::Host,
                format!(
                    "output `{}` of {} listens on port {}, but it is {}: no Service exposes it to other pods; make it INTERNAL to call it",
                    private.name,
                    service.name,
                    socket.port,
                    private.expose.as_str_name()
                ),
            );
        }
        let name = if headless {
            headless_name(service)
        } else {
            service.name.clone()
        };
        let ports: Vec<String> = service
            .outputs
            .iter()
            .filter(|o| (o.expose == Expose::Headless) == headless)
            .filter_map(|o| {
                let served = o.socket.as_ref()?;
                Some(format!(
                    "{} ({} `{}`)",
                    o.service_port?,
                    protocol_name(served.protocol),
                    o.name
                ))
            })
            .collect();
        let exposes = if ports.is_empty() {
            "it has no such Service".to_owned()
        } else {
            format!("its ports: {}", ports.join(", "))
        };
        self.at(
            SocketPart::Port,
            format!(
                "port {} is not a port of Service {name} in namespace {}; {exposes}",
                socket.port, service.namespace
            ),
        )
    }

    fn to_outside(&self, socket: &Socket, entries: &[usize]) -> Result<usize, Diagnostic> {
        let graph = self.graph;
        let matching = entries
            .iter()
            .find(|&&i| graph.outside[i].port == socket.port);
        let Some(&index) = matching else {
            let ports: Vec<String> = entries
                .iter()
                .map(|&i| graph.outside[i].port.to_string())
                .collect();
            return Err(self.at(
                SocketPart::Port,
                format!(
                    "port {} is not the port of the outside peer `{}` in the system file (it lists: {})",
                    socket.port,
                    socket.host,
                    ports.join(", ")
                ),
            ));
        };
        let entry = &graph.outside[index];
        if !compatible(socket.protocol, entry.protocol) {
            return Err(self.at(
                SocketPart::Host,
                format!(
                    "{} input cannot call the outside peer `{}:{}`, which the system file says speaks {}",
                    a_protocol(socket.protocol),
                    entry.host,
                    entry.port,
                    protocol_name(entry.protocol)
                ),
            ));
        }
        Ok(index)
    }

    /// What the input could name instead: `would resolve: scotty:50051, …`.
    fn candidates(&self, protocol: Protocol) -> String {
        let graph = self.graph;
        let caller_namespace = &self.caller().node.namespace;
        let mut list = Vec::new();
        for service in &graph.services {
            if self.input.reach == Reach::Namespace && service.namespace != *caller_namespace {
                continue;
            }
            let host = |name: &str| {
                if service.namespace == *caller_namespace {
                    name.to_owned()
                } else {
                    format!("{name}.{}", service.namespace)
                }
            };
            for output in &service.outputs {
                let (Some(port), Some(served)) = (output.service_port, &output.socket) else {
                    continue;
                };
                if !compatible(protocol, served.protocol) {
                    continue;
                }
                let name = if output.expose == Expose::Headless {
                    host(&headless_name(service))
                } else {
                    host(&service.name)
                };
                list.push(format!("{name}:{port}"));
            }
        }
        for entry in &graph.outside {
            if compatible(protocol, entry.protocol) {
                list.push(format!("{}:{} (outside)", entry.host, entry.port));
            }
        }
        if list.is_empty() {
            format!(
                "nothing in the system serves {} to it; list the peer under `outside:` in the system file",
                protocol_name(protocol)
            )
        } else {
            format!(
                "would resolve: {}; or list the peer under `outside:` in the system file",
                list.join(", ")
            )
        }
    }
}

fn headless_name(service: &ServiceNode) -> String {
    format!("{}-{HEADLESS_SUFFIX}", service.name)
}

/// Whether an input speaking `input` can use an output speaking `output`: the same, or
/// plain TCP on either side (which carries anything).
fn compatible(input: Protocol, output: Protocol) -> bool {
    input == output || input == Protocol::Tcp || output == Protocol::Tcp
}

pub fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "TCP",
        Protocol::Http => "HTTP",
        Protocol::Grpc => "gRPC",
    }
}

/// `a TCP`, `an HTTP`, `a gRPC`.
fn a_protocol(protocol: Protocol) -> String {
    let article = if protocol == Protocol::Http {
        "an"
    } else {
        "a"
    };
    format!("{article} {}", protocol_name(protocol))
}

/// Warns of each INTERNAL output that no service of the system calls.
fn warn_uncalled(members: &[Member], resolution: &mut Resolution) {
    for (id, member) in members.iter().enumerate() {
        for output in &member.node.outputs {
            if output.expose != Expose::Internal || output.service_port.is_none() {
                continue;
            }
            let called = resolution
                .graph
                .callers(id)
                .any(|edge| edge.output == output.name);
            if !called {
                let message = format!(
                    "output `{}` is INTERNAL, but no service of the system calls it",
                    output.name
                );
                resolution
                    .warnings
                    .push(located(member, &output.name, SocketPart::Host, message));
            }
        }
    }
}
