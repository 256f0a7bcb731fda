//! `harness new` from an empty directory to a running, deployable service: the project
//! builds with cargo (into target/scaffold-e2e, kept between runs), runs against the
//! machine's services, answers, stops cleanly on SIGTERM, and its configurations pass
//! `harness check` and its JSON Schema, and become manifests that pass the strict
//! validators.

mod kube_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness_core::config::{Sources, merged_value};
use harness_core::protos;
use harness_core::spec::ConfigSpec;
use harness_tests::{Service, free_port, http_get};
use kube_common::harness_in;
use kube_common::validators::{core, custom_resources, text, validators_dir};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The target directory of the generated projects: beside this test's own (cargo test
/// holds the lock of that one), kept between runs so that only the project rebuilds.
fn project_target() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/new-HASH
    exe.ancestors().nth(3).unwrap().join("scaffold-e2e")
}

/// `harness new NAME FLAGS` in a new temporary directory, then `cargo build`; returns the
/// temporary directory, the project's directory and its binary.
fn new_and_build(name: &str, flags: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let repository = repository();
    let mut args = vec!["new", name];
    args.extend_from_slice(flags);
    args.extend(["--harness-path", repository.to_str().unwrap()]);
    let output = harness_in(root.path(), &args);
    assert!(output.status.success(), "{}", text(&output));
    let project = root.path().join(name);

    let target = project_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .arg("build")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo build failed:\n{log}");
    assert!(
        !log.contains("warning"),
        "the project builds without warnings:\n{log}"
    );
    (root, project.clone(), target.join("debug").join(name))
}

/// A JSON Patch moving the server `wire` to `port`.
fn port_patch(project: &Path, wire: &str, port: u16) {
    let patch = format!("- op: replace\n  path: /{wire}/bind/port\n  value: {port}\n");
    std::fs::write(project.join("port.yaml"), patch).unwrap();
}

/// The standard JSON Schema validator (jsonschema, PyPI) finds the local configuration and
/// the production one with the secrets merged valid against the project's schema file,
/// which `harness new` wrote.
fn schema_accepts_the_configurations(project: &Path, name: &str) {
    let proto = project.join(format!("proto/{name}.proto"));
    let compiled = protos::compile(&proto, &[]).unwrap();
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();
    let secrets = project.join(format!("{name}.prod-secrets.example.yaml"));
    let instances: Vec<serde_json::Value> = [
        (project.join(format!("{name}.yaml")), None),
        (
            project.join(format!("{name}.prod.yaml")),
            Some(secrets.as_path()),
        ),
    ]
    .iter()
    .map(|(config, merge)| {
        let sources = Sources::read(config, *merge, None).unwrap();
        merged_value(&spec.message, &sources).unwrap()
    })
    .collect();
    let instances_file = project.join("instances.json");
    std::fs::write(&instances_file, serde_json::to_vec(&instances).unwrap()).unwrap();
    let validators = validators_dir();
    let output = Command::new(validators.join(".venv/bin/python"))
        .arg(validators.join("validate_json_schema.py"))
        .arg(project.join(format!("{name}.schema.json")))
        .arg(&instances_file)
        .output()
        .expect("python runs validate_json_schema.py");
    assert!(output.status.success(), "{}", text(&output));
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdicts.len(), 2);
    for verdict in verdicts {
        assert_eq!(verdict["valid"], true, "{verdict}");
    }
}

/// `harness check` passes on the local configuration, and on the production one with
/// the secrets example; kube-gen's manifests of the latter pass the strict validators.
fn check_and_deploy(project: &Path, name: &str) {
    schema_accepts_the_configurations(project, name);
    let proto = format!("proto/{name}.proto");
    let secrets = format!("{name}.prod-secrets.example.yaml");
    let local = format!("{name}.yaml");
    let prod = format!("{name}.prod.yaml");
    for args in [
        vec!["check", &proto, &local],
        vec!["check", &proto, &prod, "--merge", &secrets],
    ] {
        let output = harness_in(project, &args);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "OK\n");
    }
    let output = harness_in(
        project,
        &[
            "kube-gen",
            &proto,
            &prod,
            "0.1.0",
            "--secret-merge",
            &secrets,
        ],
    );
    assert!(output.status.success(), "kube-gen: {}", text(&output));
    let manifests = project.join("manifests.yaml");
    std::fs::write(&manifests, &output.stdout).unwrap();
    let yaml = String::from_utf8_lossy(&output.stdout);
    assert!(
        yaml.contains(&format!("image: registry.example.com/{name}:0.1.0")),
        "{yaml}"
    );
    let core = core(std::slice::from_ref(&manifests));
    assert!(core.status.success(), "core kinds:\n{}", text(&core));
    let crds = custom_resources(&[manifests]);
    assert!(crds.status.success(), "custom resources:\n{}", text(&crds));
}

#[test]
fn an_http_and_postgres_service_builds_answers_from_postgres_and_deploys() {
    let (_root, project, binary) = new_and_build("demo", &["--http", "--postgres"]);
    let port = free_port();
    port_patch(&project, "http", port);
    let mut service = Service::spawn(
        "demo",
        &binary,
        &project,
        &["demo.yaml", "--patch", "port.yaml"],
    );
    service.wait_listening(port);
    let (status, body) = http_get(port, "/", "127.0.0.1").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("Hello from demo\n"), "{body}");
    assert!(body.contains("postgres: database test at 2"), "{body}");
    let exit = service.stop();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);

    check_and_deploy(&project, "demo");
}

/// The generated API's messages, as the service's proto declares them.
#[derive(Clone, PartialEq, prost::Message)]
struct ReportRequest {}

#[derive(Clone, PartialEq, prost::Message)]
struct ReportReply {
    #[prost(string, tag = "1")]
    text: String,
}

async fn connect(port: u16) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn report(port: u16) -> ReportReply {
    let channel = connect(port).await;
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<ReportRequest, ReportReply>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/relay.RelayApi/Report");
    client
        .unary(tonic::Request::new(ReportRequest {}), path, codec)
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grpc_redis_nats_service_builds_answers_and_deploys() {
    let flags = ["--grpc", "--redis", "--nats", "--schedule"];
    let (_root, project, binary) =
        tokio::task::spawn_blocking(move || new_and_build("relay", &flags))
            .await
            .unwrap();
    let port = free_port();
    port_patch(&project, "grpc", port);
    let mut service = Service::spawn(
        "relay",
        &binary,
        &project,
        &["relay.yaml", "--patch", "port.yaml"],
    );
    service.wait_listening(port);

    let mut health = tonic_health::pb::health_client::HealthClient::new(connect(port).await);
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "relay.RelayApi".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let first = report(port).await.text;
    assert!(first.starts_with("Hello from relay\n"), "{first}");
    let count = |text: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with("redis: report "))
            .unwrap();
        line.trim_start_matches("redis: report ").parse().unwrap()
    };
    let second = report(port).await.text;
    assert_eq!(count(&second), count(&first) + 1, "{first}{second}");
    assert!(
        second.contains("nats: ") && second.contains("schedule: "),
        "{second}"
    );
    let exit = service.stop();
    assert_eq!(exit.code(), Some(0), "{}", exit.stderr);

    check_and_deploy(&project, "relay");
}

#[test]
fn a_bad_name_or_a_used_directory_exits_2_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let output = harness_in(root.path(), &["new", "My_Service", "--http"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a valid service name"), "{stderr}");
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

    std::fs::create_dir(root.path().join("taken")).unwrap();
    std::fs::write(root.path().join("taken/notes.txt"), "mine").unwrap();
    let output = harness_in(root.path(), &["new", "taken"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("taken: exists and is not empty"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("taken"))
            .unwrap()
            .count(),
        1
    );

    let output = harness_in(
        root.path(),
        &["new", "fresh", "--harness-path", "/nonexistent"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!root.path().join("fresh").exists());
}
