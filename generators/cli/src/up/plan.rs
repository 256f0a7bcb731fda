//! What `harness up` runs: the order to start the services in (a callee before its
//! callers), a free loopback port for every output, and the JSON Patch operations that
//! point each service's binds and NAMESPACE/CLUSTER inputs at those local addresses.
//! Everything comes from the system's resolved [`Graph`]; nothing is resolved again.

use harness_core::check::Checked;
use harness_core::path::{FieldPath, Segment};
use harness_core::socket::SocketAddress;
use harness_core::spec::{Protocol, SocketForm, SocketPart, WireSpec};
use prost_reflect::ReflectMessage;
use serde_json::{Value, json};

use crate::system::graph::{Graph, ServiceId};

/// Where every service listens locally: its host, always loopback.
pub const LOCAL_HOST: &str = "127.0.0.1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "the services {} call each other in a cycle: none of them can start first",
        .0.join(", ")
    )]
    Cycle(Vec<String>),
    #[error("service {service}: no free local port for output `{output}`: {reason}")]
    NoPort {
        service: String,
        output: String,
        reason: String,
    },
    #[error("service {service}: wire `{wire}`: {reason}")]
    Wire {
        service: String,
        wire: String,
        reason: String,
    },
}

/// One output of a service as it runs locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOutput {
    pub output: String,
    /// The wire's configuration message, e.g. `harness.http.Server`.
    pub config_type: String,
    pub protocol: Protocol,
    pub address: SocketAddress,
}

/// One service as `harness up` runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub id: ServiceId,
    pub name: String,
    pub outputs: Vec<LocalOutput>,
    /// RFC 6902 operations, applied after the service's own merge and patch files.
    pub operations: Vec<Value>,
}

/// The services in the order they start: every callee before its callers (Kahn's
/// algorithm; among services that are ready at once, the system file's order).
pub fn start_order(graph: &Graph) -> Result<Vec<ServiceId>, PlanError> {
    let count = graph.services.len();
    let mut started = vec![false; count];
    let mut order = Vec::with_capacity(count);
    while order.len() < count {
        let ready = (0..count).find(|&id| {
            !started[id]
                && graph
                    .callees(id)
                    .all(|edge| edge.to == id || started[edge.to])
        });
        let Some(id) = ready else {
            let cycle = (0..count).filter(|&id| !started[id]);
            return Err(PlanError::Cycle(
                cycle.map(|id| graph.services[id].name.clone()).collect(),
            ));
        };
        started[id] = true;
        order.push(id);
    }
    Ok(order)
}

/// A free port on the loopback interface, from the system.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind((LOCAL_HOST, 0))?
        .local_addr()?
        .port())
}

/// The local outputs of every service (indexed by [`ServiceId`]): each configured
/// output socket moves to [`LOCAL_HOST`] on a port from `next_port`, so that no two
/// services (nor two outputs of one) collide, whatever their configurations say.
pub fn local_outputs(
    graph: &Graph,
    mut next_port: impl FnMut() -> std::io::Result<u16>,
) -> Result<Vec<Vec<LocalOutput>>, PlanError> {
    let mut all = Vec::with_capacity(graph.services.len());
    for service in &graph.services {
        let mut outputs = Vec::new();
        for output in &service.outputs {
            let Some(socket) = &output.socket else {
                continue;
            };
            let port = next_port().map_err(|err| PlanError::NoPort {
                service: service.name.clone(),
                output: output.name.clone(),
                reason: err.to_string(),
            })?;
            outputs.push(LocalOutput {
                output: output.name.clone(),
                config_type: output.config_type.clone(),
                protocol: socket.protocol,
                address: local(port),
            });
        }
        all.push(outputs);
    }
    Ok(all)
}

fn local(port: u16) -> SocketAddress {
    SocketAddress {
        host: LOCAL_HOST.to_owned(),
        port,
    }
}

/// The plan of service `id`: its outputs on their local ports, its inputs that reach
/// another service on that service's local port, and those that reach an `outside`
/// peer on the same port of this machine. EXTERNAL and LOCALHOST inputs keep what the
/// configuration says. `checked` is the service's checked configuration.
pub fn service_plan(
    graph: &Graph,
    outputs: &[Vec<LocalOutput>],
    id: ServiceId,
    checked: &Checked,
) -> Result<ServicePlan, PlanError> {
    let service = &graph.services[id];
    let mut targets: Vec<(&str, SocketAddress)> = outputs[id]
        .iter()
        .map(|o| (o.output.as_str(), o.address.clone()))
        .collect();
    for edge in graph.callees(id) {
        let callee = outputs[edge.to].iter().find(|o| o.output == edge.output);
        if let Some(callee) = callee {
            targets.push((&edge.wire, callee.address.clone()));
        }
    }
    for edge in graph.outside_edges.iter().filter(|e| e.from == id) {
        targets.push((&edge.wire, local(graph.outside[edge.to].port)));
    }
    let mut operations = Vec::new();
    for (wire, address) in targets {
        let spec = checked.spec.wires.iter().find(|w| w.name == wire);
        let wire_error = |reason: String| PlanError::Wire {
            service: service.name.clone(),
            wire: wire.to_owned(),
            reason,
        };
        let spec = spec.ok_or_else(|| wire_error("not a wire of the service".to_owned()))?;
        operations.extend(socket_operations(spec, &checked.config, &address).map_err(wire_error)?);
    }
    Ok(ServicePlan {
        id,
        name: service.name.clone(),
        outputs: outputs[id].clone(),
        operations,
    })
}

/// The operations that set the socket of `spec` to `address`: its host and port, or for
/// a URL (a DSN), the URL with its host and port replaced and the rest kept.
fn socket_operations(
    spec: &WireSpec,
    config: &prost_reflect::DynamicMessage,
    address: &SocketAddress,
) -> Result<Vec<Value>, String> {
    let socket = spec.socket.as_ref().ok_or("it has no socket")?;
    let path = |part| {
        spec.socket_path(part)
            .map(|path| pointer(&path))
            .ok_or("its socket has no host or port field")
    };
    if socket.form != SocketForm::Url {
        return Ok(vec![
            add(path(SocketPart::Host)?, json!(address.host)),
            add(path(SocketPart::Port)?, json!(address.port)),
        ]);
    }
    let text = spec
        .value(config)
        .and_then(|value| {
            let field = value.descriptor().get_field_by_name(&socket.field)?;
            Some(value.get_field(&field).as_str()?.to_owned())
        })
        .ok_or("its URL is not set")?;
    // The URL may hold a password: the errors never quote it.
    let mut url = url::Url::parse(&text).map_err(|err| format!("not a URL: {err}"))?;
    url.set_host(Some(&address.host))
        .map_err(|err| format!("cannot set the URL's host: {err}"))?;
    url.set_port(Some(address.port))
        .map_err(|()| "the URL cannot have a port".to_owned())?;
    Ok(vec![add(path(SocketPart::Host)?, json!(url.as_str()))])
}

/// An `add` operation: it sets the member, replacing what is there.
fn add(path: String, value: Value) -> Value {
    json!({"op": "add", "path": path, "value": value})
}

/// The JSON Pointer (RFC 6901) of a configuration path, by proto field names.
fn pointer(path: &FieldPath) -> String {
    let escape = |text: &str| text.replace('~', "~0").replace('/', "~1");
    path.segments()
        .iter()
        .map(|segment| match segment {
            Segment::Field { name, .. } => format!("/{}", escape(name)),
            Segment::Index(index) => format!("/{index}"),
            Segment::Key(key) => format!("/{}", escape(key)),
        })
        .collect()
}

#[cfg(test)]
mod tests;
