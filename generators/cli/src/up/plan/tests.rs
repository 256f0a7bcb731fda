use std::path::Path;

use super::*;
use crate::system::System;
use crate::system::graph::{Edge, ServiceNode};

fn example() -> System {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/system.yaml");
    System::load(&path).unwrap_or_else(|problems| panic!("{}", problems.report()))
}

/// Ports handed out in turn from 20000, so that the plan is known in advance.
fn counting_ports() -> impl FnMut() -> std::io::Result<u16> {
    let mut next = 20000;
    move || {
        next += 1;
        Ok(next)
    }
}

fn id(system: &System, name: &str) -> ServiceId {
    system.graph.service(name, "bridge").unwrap()
}

fn plan_of(system: &System, name: &str) -> ServicePlan {
    let outputs = local_outputs(&system.graph, counting_ports()).unwrap();
    let id = id(system, name);
    let checked = system.members[id].check().unwrap();
    service_plan(&system.graph, &outputs, id, &checked).unwrap()
}

fn op(path: &str, value: Value) -> Value {
    json!({"op": "add", "path": path, "value": value})
}

#[test]
fn a_callee_starts_before_its_callers() {
    let system = example();
    let order = start_order(&system.graph).unwrap();
    let names: Vec<&str> = order
        .iter()
        .map(|&id| system.graph.services[id].name.as_str())
        .collect();
    assert_eq!(names, ["scotty", "kirk", "uhura"]);
    // The file's order is not what decides: kirk listed first still starts second.
    let mut graph = system.graph.clone();
    graph.services.swap(0, 1);
    for edge in &mut graph.edges {
        (edge.from, edge.to) = (1 - edge.from, 1 - edge.to);
    }
    let order = start_order(&graph).unwrap();
    assert_eq!(graph.services[order[0]].name, "scotty");
}

#[test]
fn a_cycle_is_an_error_naming_its_services() {
    let node = |name: &str| ServiceNode {
        name: name.to_owned(),
        base_name: name.to_owned(),
        instance: None,
        namespace: "bridge".to_owned(),
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let edge = |from, to| Edge {
        from,
        wire: "peer".to_owned(),
        to,
        output: "server".to_owned(),
        protocol: Protocol::Grpc,
        port: 50051,
        target_port: 50051,
    };
    let graph = Graph {
        services: vec![node("a"), node("b"), node("c")],
        outside: Vec::new(),
        edges: vec![edge(1, 2), edge(2, 1)],
        outside_edges: Vec::new(),
    };
    let error = start_order(&graph).unwrap_err();
    assert_eq!(error, PlanError::Cycle(vec!["b".into(), "c".into()]));
    assert!(
        error
            .to_string()
            .contains("b, c call each other in a cycle")
    );
}

#[test]
fn every_output_gets_its_own_loopback_port() {
    let system = example();
    let outputs = local_outputs(&system.graph, free_port).unwrap();
    let mut ports: Vec<u16> = outputs.iter().flatten().map(|o| o.address.port).collect();
    // scotty: server, metrics; kirk: server, metrics; uhura: server, metrics.
    assert_eq!(ports.len(), 6);
    assert!(
        outputs
            .iter()
            .flatten()
            .all(|o| o.address.host == LOCAL_HOST)
    );
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 6, "two outputs share a port");
}

#[test]
fn a_caller_is_pointed_at_its_callee_and_outside_peers_at_this_machine() {
    let system = example();
    let scotty = plan_of(&system, "scotty");
    let kirk = plan_of(&system, "kirk");
    let scotty_server = &scotty
        .outputs
        .iter()
        .find(|o| o.output == "server")
        .unwrap();
    assert_eq!(scotty_server.protocol, Protocol::Grpc);
    let kirk_server = kirk.outputs.iter().find(|o| o.output == "server").unwrap();
    let kirk_metrics = kirk.outputs.iter().find(|o| o.output == "metrics").unwrap();
    assert_eq!(
        kirk.operations,
        [
            op("/server/bind/host", json!("127.0.0.1")),
            op("/server/bind/port", json!(kirk_server.address.port)),
            op("/metrics/bind/host", json!("127.0.0.1")),
            op("/metrics/bind/port", json!(kirk_metrics.address.port)),
            op("/scotty/address/host", json!("127.0.0.1")),
            op("/scotty/address/port", json!(scotty_server.address.port)),
            op("/tracing/address/host", json!("127.0.0.1")),
            op("/tracing/address/port", json!(4317)),
        ]
    );
    // kirk's database is EXTERNAL: it keeps the configured URL.
    assert!(!kirk.operations.iter().any(|o| o["path"] == "/db/value"));
}

#[test]
fn a_url_socket_keeps_everything_but_its_host_and_port() {
    let system = example();
    let uhura = plan_of(&system, "uhura");
    let nats = uhura
        .operations
        .iter()
        .find(|o| o["path"] == "/nats/url")
        .unwrap();
    assert_eq!(nats["value"], "nats://127.0.0.1:4222");
    let redis = uhura
        .operations
        .iter()
        .find(|o| o["path"] == "/redis/address/host");
    assert!(redis.is_some());

    // A DSN with a password and options: only the authority's host and port change.
    let checked = system.members[id(&system, "kirk")].check().unwrap();
    let db = checked.spec.wires.iter().find(|w| w.name == "db").unwrap();
    let target = SocketAddress {
        host: LOCAL_HOST.into(),
        port: 6543,
    };
    let operations = socket_operations(db, &checked.config, &target).unwrap();
    assert_eq!(
        operations,
        [op(
            "/db/value",
            json!("postgres://kirk:change-me@127.0.0.1:6543/bridge?sslmode=require")
        )]
    );
}

#[test]
fn a_port_that_cannot_be_had_names_the_service_and_output() {
    let system = example();
    let error = local_outputs(&system.graph, || {
        Err(std::io::Error::other("no ports left"))
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "service scotty: no free local port for output `server`: no ports left"
    );
}

#[test]
fn pointers_escape_their_segments() {
    let path = FieldPath(vec![
        Segment::Field {
            name: "labels".into(),
            json_name: "labels".into(),
        },
        Segment::Key("a/b~c".into()),
        Segment::Index(2),
    ]);
    assert_eq!(pointer(&path), "/labels/a~1b~0c/2");
}
