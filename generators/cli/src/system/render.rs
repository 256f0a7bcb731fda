//! The graph as text, Mermaid, Graphviz DOT or JSON; every format lists things in the
//! graph's own order, so the same system prints the same bytes.

use std::fmt::Write as _;

use harness_core::spec::{Expose, Reach};
use serde_json::{Value, json};

use super::graph::{Graph, ServiceNode, Socket};
use super::resolve::protocol_name;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Each service with its wires, then the connections.
    #[default]
    Text,
    /// A Mermaid flowchart, for Markdown pages.
    Mermaid,
    /// Graphviz DOT: `dot -Tsvg`.
    Dot,
    /// Services, outside peers and connections, for other tools.
    Json,
}

pub fn render(graph: &Graph, format: Format) -> String {
    match format {
        Format::Text => text(graph),
        Format::Mermaid => mermaid(graph),
        Format::Dot => dot(graph),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(&json(graph)).unwrap_or_default();
            out.push('\n');
            out
        }
    }
}

fn address(socket: &Socket) -> String {
    format!("{}:{}", socket.host, socket.port)
}

fn text(graph: &Graph) -> String {
    let mut out = String::new();
    for service in &graph.services {
        let _ = writeln!(
            out,
            "service {} (namespace {})",
            service.name, service.namespace
        );
        for input in &service.inputs {
            let _ = write!(out, "  input  {} {}", input.name, input.reach.as_str_name());
            if let Some(socket) = &input.socket {
                let _ = write!(
                    out,
                    " {} {}",
                    protocol_name(socket.protocol),
                    address(socket)
                );
            }
            out.push('\n');
        }
        for output in &service.outputs {
            let _ = write!(
                out,
                "  output {} {}",
                output.name,
                output.expose.as_str_name()
            );
            if let Some(socket) = &output.socket {
                let _ = write!(
                    out,
                    " {} {}",
                    protocol_name(socket.protocol),
                    address(socket)
                );
            }
            if let Some(port) = output.service_port {
                let _ = write!(out, " (Service port {port})");
            }
            out.push('\n');
        }
    }
    out.push_str("connections\n");
    for edge in &graph.edges {
        let (from, to) = (&graph.services[edge.from], &graph.services[edge.to]);
        let _ = writeln!(
            out,
            "  {}.{} -> {}.{} {} port {}",
            from.name,
            edge.wire,
            to.name,
            edge.output,
            protocol_name(edge.protocol),
            edge.port
        );
    }
    for edge in &graph.outside_edges {
        let entry = &graph.outside[edge.to];
        let _ = writeln!(
            out,
            "  {}.{} -> outside {}:{} {}",
            graph.services[edge.from].name,
            edge.wire,
            entry.host,
            entry.port,
            protocol_name(entry.protocol)
        );
    }
    out
}

/// A node that is not a service of the system: an outside peer, an EXTERNAL input's
/// host, or the clients of PUBLIC outputs.
struct Dependency {
    id: String,
    label: String,
    /// The clients of PUBLIC outputs, drawn apart from the peers.
    clients: bool,
}

/// The label of the clients' node.
const CLIENTS: &str = "clients";

/// The edges of a picture: from node, to node, label, and whether it leaves the system.
struct Picture {
    dependencies: Vec<Dependency>,
    edges: Vec<(String, String, String, bool)>,
}

fn service_id(index: usize) -> String {
    format!("s{index}")
}

/// A service's name and namespace, joined by the format's line break.
fn service_label(service: &ServiceNode, line_break: &str) -> String {
    format!("{}{line_break}{}", service.name, service.namespace)
}

/// What both pictures draw, in graph order.
fn picture(graph: &Graph) -> Picture {
    let mut picture = Picture {
        dependencies: Vec::new(),
        edges: Vec::new(),
    };
    let dependency = |picture: &mut Picture, label: String, clients: bool| -> String {
        if let Some(found) =
            (picture.dependencies.iter()).find(|d| d.label == label && d.clients == clients)
        {
            return found.id.clone();
        }
        let id = format!("d{}", picture.dependencies.len());
        picture.dependencies.push(Dependency {
            id: id.clone(),
            clients,
            label,
        });
        id
    };
    for (index, service) in graph.services.iter().enumerate() {
        for output in &service.outputs {
            if let (Expose::Public, Some(socket), Some(port)) =
                (output.expose, &output.socket, output.service_port)
            {
                let clients = dependency(&mut picture, CLIENTS.to_owned(), true);
                let label = format!("{} :{port}", protocol_name(socket.protocol));
                picture
                    .edges
                    .push((clients, service_id(index), label, true));
            }
        }
    }
    for edge in &graph.edges {
        let label = format!("{} :{}", protocol_name(edge.protocol), edge.port);
        picture
            .edges
            .push((service_id(edge.from), service_id(edge.to), label, false));
    }
    for edge in &graph.outside_edges {
        let entry = &graph.outside[edge.to];
        let to = dependency(&mut picture, entry.host.clone(), false);
        let label = format!("{} :{}", protocol_name(entry.protocol), entry.port);
        picture.edges.push((service_id(edge.from), to, label, true));
    }
    for (index, service) in graph.services.iter().enumerate() {
        for input in &service.inputs {
            if let (Reach::External, Some(socket)) = (input.reach, &input.socket) {
                let to = dependency(&mut picture, socket.host.clone(), false);
                let label = format!("{} :{}", protocol_name(socket.protocol), socket.port);
                picture.edges.push((service_id(index), to, label, true));
            }
        }
    }
    picture
}

fn mermaid(graph: &Graph) -> String {
    let quote = |text: &str| text.replace('"', "#quot;");
    let picture = picture(graph);
    let mut out = String::from("flowchart LR\n");
    for (index, service) in graph.services.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}[\"{}\"]",
            service_id(index),
            service_label(service, "<br/>")
        );
    }
    for dependency in &picture.dependencies {
        let (open, close) = if dependency.clients {
            ("((", "))")
        } else {
            ("[(", ")]")
        };
        let label = quote(&dependency.label);
        let _ = writeln!(out, "  {}{open}\"{label}\"{close}", dependency.id);
    }
    for (from, to, label, leaves) in &picture.edges {
        let arrow = if *leaves { "-.->" } else { "-->" };
        let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", quote(label));
    }
    out
}

fn dot(graph: &Graph) -> String {
    let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let picture = picture(graph);
    let mut out = String::from(
        "digraph system {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for (index, service) in graph.services.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {} [label=\"{}\", shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\"];",
            service_id(index),
            service_label(service, "\\n")
        );
    }
    for dependency in &picture.dependencies {
        let _ = writeln!(
            out,
            "  {} [label=\"{}\", shape={}, style=filled, fillcolor=\"#f3f4f6\"];",
            dependency.id,
            quote(&dependency.label),
            if dependency.clients {
                "ellipse"
            } else {
                "cylinder"
            }
        );
    }
    for (from, to, label, leaves) in &picture.edges {
        let style = if *leaves { ", style=dashed" } else { "" };
        let _ = writeln!(out, "  {from} -> {to} [label=\"{}\"{style}];", quote(label));
    }
    out.push_str("}\n");
    out
}

fn socket_json(socket: Option<&Socket>) -> (Value, Value, Value) {
    match socket {
        Some(s) => (
            json!(s.protocol.as_str_name()),
            json!(s.host),
            json!(s.port),
        ),
        None => (Value::Null, Value::Null, Value::Null),
    }
}

/// `{"services": [...], "outside": [...], "edges": [...], "outside_edges": [...]}`.
pub fn json(graph: &Graph) -> Value {
    let services: Vec<Value> = graph.services.iter().map(service_json).collect();
    let outside: Vec<Value> = graph
        .outside
        .iter()
        .map(|o| json!({"host": o.host, "port": o.port, "protocol": o.protocol.as_str_name()}))
        .collect();
    let edges: Vec<Value> = graph
        .edges
        .iter()
        .map(|e| {
            let (from, to) = (&graph.services[e.from], &graph.services[e.to]);
            json!({
                "from": from.name,
                "from_namespace": from.namespace,
                "wire": e.wire,
                "to": to.name,
                "to_namespace": to.namespace,
                "output": e.output,
                "protocol": e.protocol.as_str_name(),
                "port": e.port,
                "target_port": e.target_port,
            })
        })
        .collect();
    let outside_edges: Vec<Value> = graph
        .outside_edges
        .iter()
        .map(|e| {
            let (from, entry) = (&graph.services[e.from], &graph.outside[e.to]);
            json!({
                "from": from.name,
                "from_namespace": from.namespace,
                "wire": e.wire,
                "host": entry.host,
                "port": entry.port,
                "protocol": entry.protocol.as_str_name(),
            })
        })
        .collect();
    json!({
        "services": services,
        "outside": outside,
        "edges": edges,
        "outside_edges": outside_edges,
    })
}

fn service_json(service: &ServiceNode) -> Value {
    let inputs: Vec<Value> = service
        .inputs
        .iter()
        .map(|input| {
            let (protocol, host, port) = socket_json(input.socket.as_ref());
            json!({
                "name": input.name,
                "type": input.config_type,
                "reach": input.reach.as_str_name(),
                "protocol": protocol,
                "host": host,
                "port": port,
                "calls": input.calls,
            })
        })
        .collect();
    let outputs: Vec<Value> = service
        .outputs
        .iter()
        .map(|output| {
            let (protocol, host, port) = socket_json(output.socket.as_ref());
            json!({
                "name": output.name,
                "type": output.config_type,
                "expose": output.expose.as_str_name(),
                "protocol": protocol,
                "host": host,
                "port": port,
                "service_port": output.service_port,
                "serves": output.serves,
            })
        })
        .collect();
    json!({
        "name": service.name,
        "service": service.base_name,
        "instance": service.instance,
        "namespace": service.namespace,
        "inputs": inputs,
        "outputs": outputs,
    })
}
