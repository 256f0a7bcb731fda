use std::fs;

use super::*;
use crate::protos::compile;

fn spec_of(source: &str) -> Result<(ConfigSpec, DescriptorPool), SpecError> {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("svc.proto");
    fs::write(&proto, source).unwrap();
    let compiled = compile(&proto, &[]).unwrap();
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name)?;
    Ok((spec, compiled.pool))
}

const KIRK: &str = r#"
syntax = "proto3";
package kirk;
import "validate/validate.proto";
import "harness/wire.proto";
import "harness/postgres.proto";
import "harness/grpc.proto";
import "harness/http.proto";
import "harness/tracing.proto";

message Configuration {
    option (harness.service).name = "kirk";
    option (harness.service).container.repository = "registry.acme.dev/kirk";
    option (harness.service).container.resources.limits.memory = "64Mi";
    bool debug = 1;
    harness.postgres.Pool db = 2 [
        (validate.rules).message.required = true,
        (harness.wire).input.type = "harness_wires::postgres::Pool",
        (harness.wire).input.reach = EXTERNAL
    ];
    harness.grpc.Channel scotty = 3 [
        (harness.wire).input.type = "harness_wires::grpc::Channel",
        (harness.wire).input.reach = NAMESPACE
    ];
    harness.tracing.Jaeger tracing = 4 [(harness.wire).input.type = "my::Jaeger"];
    harness.postgres.DSN events = 5 [(harness.wire).input.type = "harness_wires::postgres::Pool"];
    harness.http.Server server = 6 [
        (validate.rules).message.required = true,
        (harness.wire).output.type = "harness_wires::http::Server",
        (harness.wire).output.expose = PUBLIC
    ];
}
"#;

#[test]
fn reads_service_and_wires() {
    let (spec, _) = spec_of(KIRK).unwrap();
    assert_eq!(spec.service.name.as_deref(), Some("kirk"));
    assert_eq!(
        spec.service.repository.as_deref(),
        Some("registry.acme.dev/kirk")
    );
    assert_eq!(spec.service.limits.memory.as_deref(), Some("64Mi"));
    assert_eq!(spec.service.requests, Resource::default());

    let names: Vec<_> = spec.wires.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["db", "scotty", "tracing", "events", "server"]);

    let db = &spec.wires[0];
    assert_eq!(db.config_type, "harness.postgres.Pool");
    assert_eq!(db.rust_type, "harness_wires::postgres::Pool");
    assert_eq!(db.direction, Direction::Input(Reach::External));
    assert!(db.required);
    let socket = db.socket.as_ref().unwrap();
    assert_eq!(
        (socket.field.as_str(), socket.protocol, &socket.form),
        ("address", Protocol::Tcp, &SocketForm::Socket)
    );

    let scotty = &spec.wires[1];
    assert!(!scotty.required);
    assert_eq!(scotty.direction, Direction::Input(Reach::Namespace));
    assert_eq!(scotty.socket.as_ref().unwrap().protocol, Protocol::Grpc);

    // Jaeger's address carries no mark: the first Socket field, TCP.
    let tracing = &spec.wires[2];
    assert_eq!(tracing.direction, Direction::Input(Reach::Localhost));
    assert_eq!(tracing.socket.as_ref().unwrap().field, "address");

    let events = &spec.wires[3];
    assert_eq!(events.socket.as_ref().unwrap().form, SocketForm::Url);

    let server = &spec.wires[4];
    assert_eq!(server.direction, Direction::Output(Expose::Public));
    assert_eq!(server.socket.as_ref().unwrap().protocol, Protocol::Http);
    assert_eq!(spec.inputs().count(), 4);
    assert_eq!(spec.outputs().count(), 1);
}

#[test]
fn reads_socket_addresses_from_values() {
    let (spec, _) = spec_of(KIRK).unwrap();
    let config = DynamicMessage::deserialize(
        spec.message.clone(),
        serde_json::json!({
            "db": {"address": {"host": "db.acme.dev", "port": 5432}},
            "events": {"value": "postgres://app:s3cret@events.acme.dev/app"},
            "server": {"bind": {"host": "0.0.0.0", "port": 8000}},
        }),
    )
    .unwrap();
    let address = |i: usize| spec.wires[i].socket_address(&config).unwrap();
    assert_eq!(
        address(0),
        Some(SocketAddress {
            host: "db.acme.dev".into(),
            port: 5432
        })
    );
    assert_eq!(address(1), None, "unset optional wire");
    assert_eq!(
        address(3),
        Some(SocketAddress {
            host: "events.acme.dev".into(),
            port: 5432
        })
    );
    assert_eq!(
        address(4),
        Some(SocketAddress {
            host: "0.0.0.0".into(),
            port: 8000
        })
    );
}

#[test]
fn a_dsn_that_is_not_a_url_is_an_error_without_its_value() {
    let (spec, _) = spec_of(KIRK).unwrap();
    let config = DynamicMessage::deserialize(
        spec.message.clone(),
        serde_json::json!({"events": {"value": "user s3cret at db"}}),
    )
    .unwrap();
    let err = spec.wires[3].socket_address(&config).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("events.value: not a URL"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn an_unset_socket_of_a_configured_wire_is_an_error() {
    let (spec, _) = spec_of(KIRK).unwrap();
    let config =
        DynamicMessage::deserialize(spec.message.clone(), serde_json::json!({"server": {}}))
            .unwrap();
    let err = spec.wires[4].socket_address(&config).unwrap_err();
    assert_eq!(err.to_string(), "server.bind is not set");
}

#[test]
fn an_endpoint_is_its_own_socket() {
    let (spec, _) = spec_of(
        r#"syntax = "proto3";
        import "harness/wire.proto";
        import "harness/grpc.proto";
        message Configuration {
            harness.grpc.Endpoint bind = 1 [(harness.wire).output.type = "harness_wires::grpc::Server"];
        }"#,
    )
    .unwrap();
    let socket = spec.wires[0].socket.as_ref().unwrap();
    assert_eq!(
        (socket.protocol, &socket.form),
        (Protocol::Grpc, &SocketForm::Inline)
    );
    let config = DynamicMessage::deserialize(
        spec.message.clone(),
        serde_json::json!({"bind": {"host": "0.0.0.0", "port": 80}}),
    )
    .unwrap();
    assert_eq!(
        spec.wires[0].socket_address(&config).unwrap(),
        Some(SocketAddress {
            host: "0.0.0.0".into(),
            port: 80
        })
    );
}

#[test]
fn reads_calls_serves_and_scale() {
    let (spec, _) = spec_of(
        r#"syntax = "proto3";
        import "harness/wire.proto";
        import "harness/grpc.proto";
        message Configuration {
            option (harness.service).scale.min_replicas = 3;
            harness.grpc.Channel scotty = 1 [
                (harness.wire).input.type = "harness_wires::grpc::Channel",
                (harness.wire).input.calls = "scotty.Scotty",
                (harness.wire).input.calls = "scotty.Engine"
            ];
            harness.grpc.Server api = 2 [
                (harness.wire).output.type = "harness_wires::grpc::Server",
                (harness.wire).output.serves = "kirk.Bridge"
            ];
        }"#,
    )
    .unwrap();
    assert_eq!(spec.wires[0].calls, ["scotty.Scotty", "scotty.Engine"]);
    assert!(spec.wires[0].serves.is_empty());
    assert_eq!(spec.wires[1].serves, ["kirk.Bridge"]);
    let scale = spec.service.scale.unwrap();
    assert_eq!(
        (
            scale.min_replicas,
            scale.max_replicas,
            scale.cpu_utilization
        ),
        (3, 3, ScaleSpec::DEFAULT_CPU_UTILIZATION)
    );
}

#[test]
fn no_configuration_message() {
    let err = spec_of("syntax = \"proto3\";\nmessage Config {}\n").unwrap_err();
    assert_eq!(
        err,
        SpecError::NoConfiguration {
            file: "svc.proto".into()
        }
    );
    assert!(err.to_string().contains("no message named `Configuration`"));
}

#[test]
fn wire_on_a_scalar_field() {
    let err = spec_of(
        r#"syntax = "proto3";
        import "harness/wire.proto";
        message Configuration { string db = 1 [(harness.wire).input.type = "x::Y"]; }"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, SpecError::WireNotMessage { field, kind, .. } if field == "db" && kind == "string"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "svc.proto: Configuration.db: (harness.wire) is set on a field of type string; a wire's field must be a message"
    );
}

#[test]
fn wire_on_a_repeated_field() {
    let err = spec_of(
        r#"syntax = "proto3";
        import "harness/wire.proto";
        import "harness/net.proto";
        message Configuration { repeated harness.net.Server s = 1 [(harness.wire).output.type = "x::Y"]; }"#,
    )
    .unwrap_err();
    assert!(matches!(err, SpecError::WireNotSingular { .. }), "{err:?}");
}

#[test]
fn a_proto_without_harness_options_has_no_wires() {
    let (spec, _) =
        spec_of("syntax = \"proto3\";\nmessage Configuration { bool debug = 1; }\n").unwrap();
    assert!(spec.wires.is_empty());
    assert_eq!(spec.service, ServiceSpec::default());
}
