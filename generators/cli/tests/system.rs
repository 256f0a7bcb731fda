//! `harness graph` and `harness kube-gen --system` on the real binary: the example
//! system pinned in golden files, and every problem a system can have, each located.
//!
//! After a deliberate change, rewrite the golden files with
//! `HARNESS_BLESS=1 cargo test -p harness-cli --test system` and review the diff.

mod kube_common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use kube_common::harness_in;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Compares `actual` with the golden file `name`, or rewrites it under HARNESS_BLESS=1.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/system")
        .join(name);
    if std::env::var_os("HARNESS_BLESS").is_some_and(|v| v == "1") {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}; run with HARNESS_BLESS=1", path.display()));
    assert!(
        actual == expected,
        "{name} differs from its golden file; if meant, run HARNESS_BLESS=1 cargo test -p harness-cli --test system\n--- actual\n{actual}"
    );
}

// ---------------------------------------------------------------- the example system

const EXAMPLE: &str = "examples/system.yaml";

#[test]
fn the_example_graph_matches_its_golden_files_in_every_format() {
    for (format, file) in [
        ("text", "graph.txt"),
        ("mermaid", "graph.mmd"),
        ("dot", "graph.dot"),
        ("json", "graph.json"),
    ] {
        let output = harness_in(&root(), &["graph", EXAMPLE, "--format", format]);
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        golden(file, &stdout(&output));
        let again = harness_in(&root(), &["graph", EXAMPLE, "--format", format]);
        assert_eq!(stdout(&again), stdout(&output), "{format} is deterministic");
    }
}

#[test]
fn the_example_graph_has_kirk_calling_scotty_and_warns_of_uhura() {
    let output = harness_in(&root(), &["graph", EXAMPLE, "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let edges = graph["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{edges:?}");
    let edge = &edges[0];
    assert_eq!(edge["from"], "kirk");
    assert_eq!(edge["wire"], "scotty");
    assert_eq!(edge["to"], "scotty");
    assert_eq!(edge["output"], "server");
    assert_eq!(edge["protocol"], "GRPC");
    assert_eq!(edge["port"], 50051);
    let names: Vec<&str> = graph["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["scotty", "kirk", "uhura"]);
    // uhura's INTERNAL server: nobody in the system calls it.
    let warnings = stderr(&output);
    assert!(
        warnings.contains("examples/uhura/uhura.prod.yaml:")
            && warnings.contains("server.bind.host: output `server` is INTERNAL, but no service of the system calls it"),
        "{warnings}"
    );
}

#[test]
fn the_example_manifests_match_their_golden_file() {
    let output = harness_in(&root(), &["kube-gen", "--system", EXAMPLE]);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    golden("kube-gen.yaml", &yaml);
    assert_eq!(
        stdout(&harness_in(&root(), &["kube-gen", "--system", EXAMPLE])),
        yaml,
        "deterministic"
    );
}

#[test]
fn each_service_in_the_stream_is_what_kube_gen_makes_of_it_alone() {
    let system = stdout(&harness_in(&root(), &["kube-gen", "--system", EXAMPLE]));
    let scotty = harness_in(
        &root(),
        &[
            "kube-gen",
            "examples/scotty/proto/scotty.proto",
            "examples/scotty/scotty.prod.yaml",
            "v1",
            "--namespace",
            "bridge",
            "--base-domain",
            "acme.dev",
            "--secret-merge",
            "examples/scotty/scotty.prod-secrets.yaml",
        ],
    );
    assert!(scotty.status.success(), "{}", stderr(&scotty));
    // What the graph does not change is byte for byte kube-gen's; the Deployment (its
    // ServiceAccount) and the policies (the peers) are the system's.
    let system = documents(&system);
    let mut compared = 0;
    for alone in documents(&stdout(&scotty)) {
        let kind = alone["kind"].as_str().unwrap();
        if ["Deployment", "NetworkPolicy"].contains(&kind) {
            continue;
        }
        let name = alone["metadata"]["name"].as_str().unwrap();
        assert_eq!(object(&system, kind, name), &alone, "{kind} {name}");
        compared += 1;
    }
    assert!(compared >= 5, "{compared}");
}

#[test]
fn kube_gen_takes_either_a_system_or_a_service() {
    let output = harness_in(
        &root(),
        &["kube-gen", "--system", EXAMPLE, "a.proto", "a.yaml", "v1"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = harness_in(
        &root(),
        &["kube-gen", "--system", EXAMPLE, "--instance", "x"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = harness_in(&root(), &["kube-gen"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

// ---------------------------------------------------------------- a system to break

/// The API of eng, as eng serves it; callers build against a copy.
const API: &str = r#"
service Eng {
    rpc Warp(WarpRequest) returns (WarpReply);
    rpc Status(StatusRequest) returns (StatusReply);
}
message WarpRequest {
    string ship = 1;
    uint32 factor = 2;
    repeated string crew = 3;
}
message WarpReply {
    string message = 1;
    Detail detail = 2;
}
message Detail {
    int64 stardate = 1;
}
message StatusRequest {}
message StatusReply {
    bool ready = 1;
}
"#;

const HEADER: &str = r#"syntax = "proto3";
import "validate/validate.proto";
import "harness/wire.proto";
import "harness/grpc.proto";
import "harness/http.proto";
import "harness/metrics.proto";
"#;

const ENG_CONFIGURATION: &str = r#"
message Configuration {
    option (harness.service).name = "eng";
    option (harness.service).container.repository = "registry.acme.dev/eng";
    harness.grpc.Server server = 1 [
        (validate.rules).message.required = true,
        (harness.wire).output.type = "harness_wires::grpc::Server",
        (harness.wire).output.expose = INTERNAL
    ];
    harness.http.Server api = 2 [
        (harness.wire).output.type = "harness_wires::http::Server",
        (harness.wire).output.expose = INTERNAL
    ];
    harness.metrics.Prometheus metrics = 3 [
        (harness.wire).output.type = "harness_wires::metrics::Prometheus",
        (harness.wire).output.expose = PRIVATE
    ];
}
"#;

const ENG_YAML: &str = "server:
  bind:
    host: 0.0.0.0
    port: 50051
api:
  bind:
    host: 0.0.0.0
    port: 8080
metrics:
  bind:
    host: 0.0.0.0
    port: 9100
";

const BRIDGE_PROTO: &str = r#"package bridge;
import "eng.proto";
message Configuration {
    option (harness.service).name = "bridge";
    option (harness.service).container.repository = "registry.acme.dev/bridge";
    harness.grpc.Channel eng = 1 [
        (validate.rules).message.required = true,
        (harness.wire).input.type = "harness_wires::grpc::Channel",
        (harness.wire).input.reach = NAMESPACE,
        (harness.wire).input.calls = "eng.Eng"
    ];
    harness.http.Connection web = 2 [
        (harness.wire).input.type = "harness_wires::http::Connection",
        (harness.wire).input.reach = NAMESPACE
    ];
    harness.http.Server server = 3 [
        (validate.rules).message.required = true,
        (harness.wire).output.type = "harness_wires::http::Server",
        (harness.wire).output.expose = PUBLIC
    ];
}
"#;

/// `eng.address.host` is at 3:11, `eng.address.port` at 4:11, `web.address.host` at 7:11.
const BRIDGE_YAML: &str = "eng:
  address:
    host: eng
    port: 50051
web:
  address:
    host: eng
    port: 80
server:
  bind:
    host: 0.0.0.0
    port: 8080
";

const SYSTEM: &str = "namespace: prod
services:
  - {proto: eng/eng.proto, config: eng/eng.yaml, version: v1}
  - {proto: bridge/bridge.proto, config: bridge/bridge.yaml, version: v1}
";

/// The files of a two-service system: bridge calls eng over gRPC and HTTP.
fn files() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("system.yaml", SYSTEM.to_owned()),
        (
            "eng/eng.proto",
            format!("{HEADER}package eng;\n{API}{ENG_CONFIGURATION}"),
        ),
        ("eng/eng.yaml", ENG_YAML.to_owned()),
        // bridge's copy of eng's API.
        (
            "bridge/eng.proto",
            format!("syntax = \"proto3\";\npackage eng;\n{API}"),
        ),
        ("bridge/bridge.proto", format!("{HEADER}{BRIDGE_PROTO}")),
        ("bridge/bridge.yaml", BRIDGE_YAML.to_owned()),
    ])
}

/// The files after `edit`, written to a new directory.
fn write_system(edit: impl FnOnce(&mut BTreeMap<&'static str, String>)) -> tempfile::TempDir {
    let mut files = files();
    edit(&mut files);
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in &files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// `harness graph system.yaml --format json` on the files after `edit`.
fn graph_of(edit: impl FnOnce(&mut BTreeMap<&'static str, String>)) -> Output {
    let dir = write_system(edit);
    harness_in(dir.path(), &["graph", "system.yaml", "--format", "json"])
}

/// Replaces `from` (which must be there) with `to` in `file`.
fn replace(files: &mut BTreeMap<&'static str, String>, file: &str, from: &str, to: &str) {
    let text = files.get_mut(file).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    *text = text.replacen(from, to, 1);
}

/// The run failed with exit status 1 and said `expected` (its position included).
fn fails_with(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert!(output.stdout.is_empty(), "no graph on failure");
}

#[test]
fn the_fixture_system_resolves_both_connections() {
    let output = graph_of(|_| {});
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "no warning");
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let edges: Vec<(String, String, String, u64, u64)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                format!(
                    "{}.{}",
                    e["from"].as_str().unwrap(),
                    e["wire"].as_str().unwrap()
                ),
                format!(
                    "{}.{}",
                    e["to"].as_str().unwrap(),
                    e["output"].as_str().unwrap()
                ),
                e["protocol"].as_str().unwrap().to_owned(),
                e["port"].as_u64().unwrap(),
                e["target_port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            (
                "bridge.eng".into(),
                "eng.server".into(),
                "GRPC".into(),
                50051,
                50051
            ),
            (
                "bridge.web".into(),
                "eng.api".into(),
                "HTTP".into(),
                80,
                8080
            ),
        ]
    );
}

/// A large system keeps the checked configuration of its first services only and checks
/// the others again to generate them: both give the same manifests.
#[test]
fn services_checked_again_generate_what_kept_checks_generate() {
    const PAIRS: usize = 40; // 80 services: more than are kept.
    let dir = write_system(|files| {
        let services: String = (0..PAIRS)
            .map(|n| {
                format!(
                    "  - {{proto: eng/eng.proto, config: eng/eng.yaml, version: v1, namespace: ns{n}}}\n\
                     \x20 - {{proto: bridge/bridge.proto, config: bridge/bridge.yaml, version: v1, namespace: ns{n}}}\n"
                )
            })
            .collect();
        files.insert("system.yaml", format!("services:\n{services}"));
    });
    let output = harness_in(dir.path(), &["kube-gen", "--system", "system.yaml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stream = documents(&stdout(&output));
    let in_namespace = |ns: &str| -> Vec<String> {
        (stream.iter())
            .filter(|doc| doc["metadata"]["namespace"] == ns)
            .map(|doc| serde_json::to_string(doc).unwrap().replace(ns, "NS"))
            .collect()
    };
    let first = in_namespace("ns0");
    assert!(first.len() >= 10, "{}", first.len());
    assert_eq!(in_namespace(&format!("ns{}", PAIRS - 1)), first);
}

#[test]
fn every_host_form_of_the_cluster_resolves() {
    for host in ["eng.prod", "eng.prod.svc", "eng.prod.svc.cluster.local"] {
        let output = graph_of(|f| {
            replace(
                f,
                "bridge/bridge.yaml",
                "host: eng\n",
                &format!("host: {host}\n"),
            )
        });
        assert!(output.status.success(), "{host}: {}", stderr(&output));
    }
}

#[test]
fn a_host_that_names_no_service_is_located_and_lists_what_resolves() {
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "host: eng\n", "host: engine\n"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: host `engine` names no service of the system (it is Service engine in namespace prod); would resolve: eng:50051;",
    );
}

#[test]
fn a_loopback_host_is_refused_as_kube_gen_refuses_it() {
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "host: eng\n", "host: 127.0.0.1\n"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: host `127.0.0.1` is a loopback address",
    );
}

#[test]
fn a_port_the_service_does_not_expose_is_located_and_lists_its_ports() {
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "port: 50051", "port: 50052"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:4:11: eng.address.port: port 50052 is not a port of Service eng in namespace prod; its ports: 50051 (gRPC `server`), 80 (HTTP `api`)",
    );
}

#[test]
fn a_protocol_mismatch_is_an_error() {
    // A gRPC channel to the HTTP output.
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "port: 50051", "port: 80"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: a gRPC input cannot call output `api` of eng, which serves HTTP",
    );
    // An HTTP connection to the gRPC output.
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "port: 80", "port: 50051"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:7:11: web.address.host: an HTTP input cannot call output `server` of eng, which serves gRPC",
    );
}

#[test]
fn a_private_output_is_no_target() {
    let output = graph_of(|f| replace(f, "bridge/bridge.yaml", "port: 80", "port: 9100"));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:7:11: web.address.host: output `metrics` of eng listens on port 9100, but it is PRIVATE",
    );
}

#[test]
fn namespace_reach_stops_at_the_namespace() {
    let output = graph_of(|f| {
        replace(
            f,
            "system.yaml",
            "config: eng/eng.yaml, version: v1",
            "config: eng/eng.yaml, version: v1, namespace: eng",
        );
        replace(f, "bridge/bridge.yaml", "host: eng\n", "host: eng.eng\n");
        replace(f, "bridge/bridge.yaml", "host: eng\n", "host: eng.eng\n");
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: host `eng.eng` is service eng in namespace eng, but the input's reach is NAMESPACE and bridge runs in namespace prod",
    );
    // CLUSTER reach crosses namespaces.
    let output = graph_of(|f| {
        replace(
            f,
            "system.yaml",
            "config: eng/eng.yaml, version: v1",
            "config: eng/eng.yaml, version: v1, namespace: eng",
        );
        replace(
            f,
            "bridge/bridge.yaml",
            "host: eng\n",
            "host: eng.eng.svc.cluster.local\n",
        );
        replace(f, "bridge/bridge.yaml", "host: eng\n", "host: eng.eng\n");
        let proto = f.get_mut("bridge/bridge.proto").unwrap();
        *proto = proto.replace("reach = NAMESPACE", "reach = CLUSTER");
    });
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn an_outside_peer_resolves_and_its_port_is_checked() {
    let system = |port: u16| {
        format!(
            "{SYSTEM}outside:\n  - {{host: auth.identity.svc.cluster.local, port: {port}, protocol: HTTP}}\n"
        )
    };
    let to_auth = |f: &mut BTreeMap<&'static str, String>, port: u16| {
        f.insert("system.yaml", system(port));
        replace(
            f,
            "bridge/bridge.yaml",
            "host: eng\n    port: 80",
            "host: auth.identity\n    port: 8000",
        );
    };
    let output = graph_of(|f| to_auth(f, 8000));
    assert!(output.status.success(), "{}", stderr(&output));
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(graph["outside_edges"][0]["wire"], "web");
    assert_eq!(
        graph["outside_edges"][0]["host"],
        "auth.identity.svc.cluster.local"
    );
    let output = graph_of(|f| to_auth(f, 8001));
    fails_with(
        &output,
        "error: bridge/bridge.yaml:8:11: web.address.port: port 8000 is not the port of the outside peer `auth.identity` in the system file (it lists: 8001)",
    );
}

#[test]
fn a_called_service_the_target_does_not_serve_is_an_error() {
    let output = graph_of(|f| {
        let copy = f.get_mut("bridge/eng.proto").unwrap();
        copy.push_str("service Other { rpc Status(StatusRequest) returns (StatusReply); }\n");
        replace(
            f,
            "bridge/bridge.proto",
            "calls = \"eng.Eng\"",
            "calls = \"eng.Other\"",
        );
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: calls gRPC service eng.Other, but output `server` of eng does not serve it (it serves: eng.Eng)",
    );
}

#[test]
fn a_called_service_defined_nowhere_is_an_error() {
    let output = graph_of(|f| {
        replace(
            f,
            "bridge/bridge.proto",
            "calls = \"eng.Eng\"",
            "calls = \"eng.Engine\"",
        )
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: (harness.wire).input.calls names gRPC service `eng.Engine`, which bridge.proto and its imports do not define (they define: eng.Eng)",
    );
}

#[test]
fn a_removed_method_fails() {
    let output = graph_of(|f| {
        replace(
            f,
            "eng/eng.proto",
            "    rpc Status(StatusRequest) returns (StatusReply);\n",
            "",
        );
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: calls method eng.Eng/Status, which eng's eng.Eng does not have (it has: Warp)",
    );
}

#[test]
fn a_renamed_or_added_field_is_wire_compatible() {
    let output = graph_of(|f| {
        replace(f, "eng/eng.proto", "string ship = 1;", "string vessel = 1;");
        replace(
            f,
            "eng/eng.proto",
            "int64 stardate = 1;",
            "int64 stardate = 1;\n    string captain = 2;",
        );
        replace(
            f,
            "eng/eng.proto",
            "bool ready = 1;",
            "bool ready = 1;\n    repeated string alerts = 7;",
        );
    });
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_field_number_reused_with_another_type_fails() {
    let output = graph_of(|f| {
        replace(
            f,
            "eng/eng.proto",
            "uint32 factor = 2;",
            "string factor = 2;",
        )
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: the request eng.WarpRequest of eng.Eng/Warp is not wire-compatible between bridge's copy (eng.proto) and eng's (eng.proto): field 2 (`factor`) is `uint32` in one and `string` in the other",
    );
    // In a nested message of the response.
    let output = graph_of(|f| {
        replace(
            f,
            "eng/eng.proto",
            "int64 stardate = 1;",
            "double stardate = 1;",
        )
    });
    fails_with(
        &output,
        "the response eng.WarpReply of eng.Eng/Warp is not wire-compatible between bridge's copy (eng.proto) and eng's (eng.proto): field 1 (`detail.stardate`) is `int64` in one and `double` in the other",
    );
}

#[test]
fn a_changed_cardinality_fails() {
    let output = graph_of(|f| {
        replace(
            f,
            "eng/eng.proto",
            "repeated string crew = 3;",
            "string crew = 3;",
        )
    });
    fails_with(
        &output,
        "field 3 (`crew`) is `repeated string` in one and `string` in the other",
    );
}

#[test]
fn an_uncalled_internal_output_and_a_doubtful_reach_are_warnings() {
    let output = graph_of(|f| {
        // An EXTERNAL input names eng (so nobody in the system calls eng's api).
        let proto = f.get_mut("bridge/bridge.proto").unwrap();
        *proto = proto.replacen(
            "reach = NAMESPACE\n    ];\n    harness.http.Server",
            "reach = EXTERNAL\n    ];\n    harness.http.Server",
            1,
        );
    });
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("warning: eng/eng.yaml:7:11: api.bind.host: output `api` is INTERNAL, but no service of the system calls it"),
        "{err}"
    );
    assert!(
        err.contains("warning: bridge/bridge.yaml:7:11: web.address.host: host `eng` is service eng of the system, but the input's reach is EXTERNAL"),
        "{err}"
    );
}

#[test]
fn a_localhost_input_whose_host_is_not_loopback_is_a_warning() {
    let output = graph_of(|f| {
        let proto = f.get_mut("bridge/bridge.proto").unwrap();
        *proto = proto.replacen(
            "reach = NAMESPACE\n    ];\n    harness.http.Server",
            "reach = LOCALHOST\n    ];\n    harness.http.Server",
            1,
        );
    });
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("warning: bridge/bridge.yaml:7:11: web.address.host: host `eng` is not a loopback address, but the input's reach is LOCALHOST"),
        "{err}"
    );
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let output = graph_of(|f| {
        replace(f, "bridge/bridge.yaml", "host: eng\n", "host: engine\n");
        replace(f, "bridge/bridge.yaml", "port: 80", "port: 81");
    });
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("bridge/bridge.yaml:3:11:"), "{err}");
    assert!(
        err.contains("bridge/bridge.yaml:8:11: web.address.port: port 81"),
        "{err}"
    );
}

#[test]
fn the_system_file_is_read_strictly_with_positions() {
    let output = graph_of(|f| {
        replace(
            f,
            "system.yaml",
            "version: v1}\n  - {proto: bridge",
            "version: v1, replicas: 2}\n  - {proto: bridge",
        )
    });
    fails_with(&output, "error: system.yaml:3:");
    fails_with(&output, "services[0].replicas: unknown field `replicas`");
    let output = graph_of(|f| replace(f, "system.yaml", "namespace: prod", "namespace: Prod"));
    fails_with(
        &output,
        "error: system.yaml:1:12: namespace: `Prod` is not a namespace",
    );
    let output = graph_of(|f| {
        f.insert(
            "system.yaml",
            format!("{SYSTEM}  - {{proto: eng/eng.proto, config: eng/eng.yaml, version: v2}}\n"),
        );
    });
    fails_with(
        &output,
        "error: system.yaml:5:5: services[2]: service eng in namespace prod is already services[0]",
    );
}

#[test]
fn a_service_is_checked_as_harness_check_checks_it() {
    let dir = write_system(|f| replace(f, "eng/eng.yaml", "port: 50051", "port: 50051a"));
    let output = harness_in(dir.path(), &["graph", "system.yaml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("Parse error: eng/eng.yaml:4:11: server.bind.port: invalid value"),
        "{err}"
    );
    // The very message of `harness check` (which prints its verdict on stdout).
    let check = harness_in(dir.path(), &["check", "eng/eng.proto", "eng/eng.yaml"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(stdout(&check), err);
}

#[test]
fn io_and_proto_errors_exit_2() {
    let output = graph_of(|f| replace(f, "system.yaml", "eng/eng.yaml", "eng/missing.yaml"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("eng/missing.yaml"),
        "{}",
        stderr(&output)
    );
    let output = graph_of(|f| replace(f, "eng/eng.proto", "message Detail {", "message Detail {{"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let dir = tempfile::tempdir().unwrap();
    let output = harness_in(dir.path(), &["graph", "nowhere.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nowhere.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn kube_gen_system_knows_the_callers_from_the_graph() {
    // eng asks to scale to zero; bridge calls it, which only the graph knows.
    let dir = write_system(|f| {
        replace(
            f,
            "eng/eng.proto",
            "option (harness.service).name = \"eng\";",
            "option (harness.service).name = \"eng\";\n    option (harness.service).scale.min_replicas = 0;",
        );
    });
    let output = harness_in(dir.path(), &["kube-gen", "--system", "system.yaml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: eng/eng.yaml: (harness.service).scale.min_replicas is 0, but")
            && err.contains("the system graph has services that call it"),
        "{err}"
    );
    assert!(output.stdout.is_empty(), "no partial stream");
}

#[test]
fn a_served_service_defined_nowhere_is_an_error_and_serves_narrows_what_is_served() {
    let serves = |name: &str| {
        let name = name.to_owned();
        move |f: &mut BTreeMap<&'static str, String>| {
            replace(
                f,
                "eng/eng.proto",
                "(harness.wire).output.expose = INTERNAL\n    ];\n    harness.http.Server api",
                &format!(
                    "(harness.wire).output.expose = INTERNAL,\n        (harness.wire).output.serves = \"{name}\"\n    ];\n    harness.http.Server api"
                ),
            );
        }
    };
    fails_with(
        &graph_of(serves("eng.Nope")),
        "error: eng/eng.yaml:3:11: server.bind.host: (harness.wire).output.serves names gRPC service `eng.Nope`, which eng.proto and its imports do not define (they define: eng.Eng)",
    );
    // A server that names what it serves serves only that.
    let output = graph_of(|f| {
        f.get_mut("eng/eng.proto")
            .unwrap()
            .push_str("service Admin { rpc Status(StatusRequest) returns (StatusReply); }\n");
        serves("eng.Admin")(f);
    });
    fails_with(
        &output,
        "error: bridge/bridge.yaml:3:11: eng.address.host: calls gRPC service eng.Eng, but output `server` of eng does not serve it (it serves: eng.Admin)",
    );
}

#[test]
fn an_instance_is_reached_by_its_full_name_and_a_headless_output_on_its_own_port() {
    // eng runs as instance blue; its api output is HEADLESS, reached at eng-blue-headless
    // on the container port.
    let output = graph_of(|f| {
        replace(
            f,
            "system.yaml",
            "config: eng/eng.yaml, version: v1",
            "config: eng/eng.yaml, version: v1, instance: blue",
        );
        let proto = f.get_mut("eng/eng.proto").unwrap();
        *proto = proto.replacen(
            "(harness.wire).output.type = \"harness_wires::http::Server\",\n        (harness.wire).output.expose = INTERNAL",
            "(harness.wire).output.type = \"harness_wires::http::Server\",\n        (harness.wire).output.expose = HEADLESS",
            1,
        );
        replace(f, "bridge/bridge.yaml", "host: eng\n", "host: eng-blue\n");
        replace(
            f,
            "bridge/bridge.yaml",
            "host: eng\n    port: 80",
            "host: eng-blue-headless\n    port: 8080",
        );
    });
    assert!(output.status.success(), "{}", stderr(&output));
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let edges = graph["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2, "{edges:?}");
    assert_eq!(edges[0]["to"], "eng-blue");
    assert_eq!(edges[1]["output"], "api");
    assert_eq!(edges[1]["port"], 8080);
    assert_eq!(graph["services"][0]["instance"], "blue");
    // The plain name no longer resolves, and says what would.
    let output = graph_of(|f| {
        replace(
            f,
            "system.yaml",
            "config: eng/eng.yaml, version: v1",
            "config: eng/eng.yaml, version: v1, instance: blue",
        );
    });
    fails_with(
        &output,
        "eng.address.host: host `eng` names no service of the system (it is Service eng in namespace prod); would resolve: eng-blue:50051;",
    );
}

#[test]
fn the_text_mermaid_and_dot_formats_draw_the_fixture() {
    let dir = write_system(|_| {});
    let text = stdout(&harness_in(dir.path(), &["graph", "system.yaml"]));
    assert!(
        text.contains("  bridge.eng -> eng.server gRPC port 50051\n"),
        "{text}"
    );
    assert!(
        text.contains("  bridge.web -> eng.api HTTP port 80\n"),
        "{text}"
    );
    let mermaid = stdout(&harness_in(
        dir.path(),
        &["graph", "system.yaml", "--format", "mermaid"],
    ));
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(
        mermaid.contains("  s1 -->|\"gRPC :50051\"| s0\n"),
        "{mermaid}"
    );
    let dot = stdout(&harness_in(
        dir.path(),
        &["graph", "system.yaml", "--format", "dot"],
    ));
    assert!(dot.contains("  s1 -> s0 [label=\"HTTP :80\"];\n"), "{dot}");
    assert!(
        dot.contains("  d0 -> s1 [label=\"HTTP :80\", style=dashed];\n"),
        "{dot}"
    );
}

/// The objects of a multi-document stream.
fn documents(yaml: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(yaml).expect("the stream parses")
}

fn object<'a>(objects: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The app.kubernetes.io/name of each pod selector among `peers`, with the ports.
fn pod_peers(rules: &serde_json::Value, peers_key: &str) -> Vec<(String, Vec<u64>)> {
    let mut found = Vec::new();
    for rule in rules.as_array().into_iter().flatten() {
        for peer in rule[peers_key].as_array().into_iter().flatten() {
            if peer.get("namespaceSelector").is_some() {
                continue;
            }
            if let Some(name) =
                peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str()
            {
                let ports = rule["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["port"].as_u64())
                    .collect();
                found.push((name.to_owned(), ports));
            }
        }
    }
    found
}

#[test]
fn the_policies_follow_the_graph_kirk_reaches_scotty_and_scotty_admits_only_kirk() {
    let output = harness_in(&root(), &["kube-gen", "--system", EXAMPLE]);
    assert!(output.status.success(), "{}", stderr(&output));
    let objects = documents(&stdout(&output));
    let kirk = object(&objects, "NetworkPolicy", "kirk");
    assert_eq!(
        pod_peers(&kirk["spec"]["egress"], "to"),
        [("scotty".to_owned(), vec![50051])],
        "kirk reaches scotty's pods on 50051, and no other pod of the system"
    );
    let scotty = object(&objects, "NetworkPolicy", "scotty");
    assert_eq!(
        pod_peers(&scotty["spec"]["ingress"], "from"),
        [("kirk".to_owned(), vec![50051])],
        "scotty admits kirk's pods on 50051, and no other pod of the system"
    );
    assert!(pod_peers(&scotty["spec"]["egress"], "to").is_empty());
    let uhura = object(&objects, "NetworkPolicy", "uhura");
    assert!(
        pod_peers(&uhura["spec"]["ingress"], "from").is_empty(),
        "nobody calls uhura"
    );
    // Istio: scotty allows kirk's identity only, on the gRPC port.
    let authz = object(&objects, "AuthorizationPolicy", "scotty");
    let principals: Vec<&str> = authz["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["from"].as_array().into_iter().flatten())
        .flat_map(|f| f["source"]["principals"].as_array().into_iter().flatten())
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(principals, ["cluster.local/ns/bridge/sa/kirk"], "{authz}");
    // One PeerAuthentication for the one namespace, last.
    let last = objects.last().unwrap();
    assert_eq!(last["kind"], "PeerAuthentication");
    assert_eq!(last["metadata"]["namespace"], "bridge");
    assert_eq!(
        objects
            .iter()
            .filter(|o| o["kind"] == "PeerAuthentication")
            .count(),
        1
    );
    for service in ["scotty", "kirk", "uhura"] {
        object(&objects, "ServiceAccount", service);
    }
    // The policy options apply to every service of the system.
    let output = harness_in(
        &root(),
        &[
            "kube-gen",
            "--system",
            EXAMPLE,
            "--monitoring-namespace",
            "telemetry",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let objects = documents(&stdout(&output));
    for service in ["scotty", "kirk", "uhura"] {
        let policy = object(&objects, "NetworkPolicy", service).to_string();
        assert!(
            policy.contains("\"kubernetes.io/metadata.name\":\"telemetry\"")
                && !policy.contains("\"kubernetes.io/metadata.name\":\"monitoring\""),
            "{service}: {policy}"
        );
    }
}
