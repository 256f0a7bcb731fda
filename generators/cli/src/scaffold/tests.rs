//! Every combination of wires gives a project whose proto compiles with the wires asked
//! for, whose configurations pass `harness check`, whose Rust is formatted and whose
//! Cargo.toml turns on exactly the wires' features. (tests/new.rs builds and runs some.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use harness_core::check::check_files;
use harness_core::protos;
use harness_core::spec::ConfigSpec;

use super::*;

fn render_into(dir: &Path, name: &str, wires: Wires) -> (Service, Vec<File>) {
    let service = Service::new(name, wires).unwrap();
    let source = Source::Version("0.1.0".into());
    let files = render(&service, &source).unwrap();
    write_project(dir, &files).unwrap();
    (service, files)
}

fn text<'a>(files: &'a [File], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap().text
}

/// The wires' field names and Rust types that `wires` should give.
fn expected_wires(wires: Wires) -> BTreeSet<(String, String)> {
    [
        (wires.postgres, "db", "postgres::Pool"),
        (wires.redis, "redis", "redis::Connection"),
        (wires.nats, "nats", "nats::Publisher"),
        (wires.nats, "events", "nats::Subscriber"),
        (wires.schedule, "scheduler", "schedule::Scheduler"),
        (wires.http, "http", "http::Server"),
        (wires.grpc, "grpc", "grpc::Server"),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, name, path)| (name.to_owned(), format!("harness_wires::{path}")))
    .collect()
}

#[test]
fn every_combination_compiles_and_its_configurations_check() {
    for wires in Wires::every_combination() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("demo");
        let (service, _) = render_into(&project, "demo", wires);
        let wires = service.wires;
        let proto = project.join(service.proto());

        let compiled = protos::compile(&proto, &[]).unwrap();
        let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();
        let found: BTreeSet<(String, String)> = spec
            .wires
            .iter()
            .map(|w| (w.name.clone(), w.rust_type.clone()))
            .collect();
        assert_eq!(found, expected_wires(wires), "{wires:?}");
        assert!(spec.wires.iter().all(|w| w.required), "{wires:?}");
        assert_eq!(spec.service.name.as_deref(), Some("demo"));
        assert_eq!(
            spec.service.repository.as_deref(),
            Some("registry.example.com/demo")
        );
        let services: Vec<String> = compiled
            .pool
            .services()
            .map(|s| s.full_name().to_owned())
            .collect();
        let expected: Vec<String> = wires
            .grpc
            .then(|| "demo.DemoApi".to_owned())
            .into_iter()
            .collect();
        assert_eq!(services, expected, "{wires:?}");

        let schema = std::fs::read_to_string(project.join("demo.schema.json")).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        assert_eq!(
            schema["$defs"]["demo.Configuration"]["properties"]["greeting"]["type"], "string",
            "{wires:?}: {schema}"
        );

        let local = project.join(service.local_config());
        check_files(&proto, &[], &local, None, None)
            .unwrap_or_else(|e| panic!("{wires:?} local: {}", e.report()));
        let prod = project.join(service.prod_config());
        let secrets = project.join(service.secrets_example());
        check_files(&proto, &[], &prod, Some(&secrets), None)
            .unwrap_or_else(|e| panic!("{wires:?} prod: {}", e.report()));
    }
}

#[test]
fn the_configurations_are_loopback_locally_and_named_hosts_in_production() {
    let all = Wires {
        http: true,
        grpc: true,
        postgres: true,
        redis: true,
        nats: true,
        schedule: true,
    };
    let service = Service::new("demo", all).unwrap();
    let files = render(&service, &Source::Version("0.1.0".into())).unwrap();
    let local = text(&files, "demo.yaml");
    let prod = text(&files, "demo.prod.yaml");
    for yaml in [local, prod] {
        assert!(
            yaml.starts_with("# yaml-language-server: $schema=./demo.schema.json\n"),
            "{yaml}"
        );
    }
    assert!(!local.contains("0.0.0.0"), "{local}");
    for host in ["postgres", "redis", "nats://nats:4222", "0.0.0.0"] {
        assert!(prod.contains(host), "{host}: {prod}");
    }
    assert!(!prod.contains("127.0.0.1"), "{prod}");
    assert!(
        !prod.contains("password:"),
        "secrets belong in the merge file: {prod}"
    );
    let secrets = text(&files, "demo.prod-secrets.example.yaml");
    assert!(secrets.contains("db:\n  password:"), "{secrets}");
}

#[test]
fn cargo_toml_turns_on_the_wires_features() {
    for wires in Wires::every_combination() {
        let service = Service::new("demo", wires).unwrap();
        let files = render(&service, &Source::Version("9.8.7".into())).unwrap();
        let cargo = text(&files, "Cargo.toml");
        let features: Vec<String> = service
            .wires
            .features()
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect();
        let line = format!(
            "harness-wires = {{ version = \"9.8.7\", features = [{}] }}",
            features.join(", ")
        );
        assert!(cargo.contains(&line), "{line}\n{cargo}");
        assert_eq!(cargo.contains("tonic-prost-build"), service.wires.grpc);
        assert_eq!(cargo.contains("\naxum = "), service.wires.http);
        assert!(
            cargo.contains("harness-build = { version = \"9.8.7\" }"),
            "{cargo}"
        );
    }
}

#[test]
fn the_generated_rust_is_formatted() {
    for wires in Wires::every_combination() {
        let service = Service::new("demo-svc", wires).unwrap();
        let files = render(&service, &Source::Version("0.1.0".into())).unwrap();
        for path in ["src/main.rs", "build.rs"] {
            let mut rustfmt = Command::new("rustfmt")
                .args(["--edition", "2024", "--check"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("rustfmt runs (rustup component add rustfmt)");
            use std::io::Write as _;
            let mut stdin = rustfmt.stdin.take().unwrap();
            stdin.write_all(text(&files, path).as_bytes()).unwrap();
            drop(stdin);
            let output = rustfmt.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{wires:?} {path}:\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}

#[test]
fn the_third_party_versions_are_the_workspace_ones() {
    let workspace =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
            .unwrap();
    for (name, version) in [
        ("axum", templates::VERSIONS.axum),
        ("tonic", templates::VERSIONS.tonic),
        ("tonic-prost", templates::VERSIONS.tonic),
        ("tonic-prost-build", templates::VERSIONS.tonic),
    ] {
        let line = workspace
            .lines()
            .find(|line| line.starts_with(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("{name} in the workspace's dependencies"));
        assert!(line.contains(&format!("\"{version}\"")), "{line}");
    }
}

#[test]
fn a_bad_name_or_a_used_directory_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let error = Service::new("Demo_1", Wires::default()).unwrap_err();
    assert!(
        error.to_string().contains("not a valid service name"),
        "{error}"
    );

    let used = dir.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("keep.txt"), "mine").unwrap();
    let service = Service::new("used", Wires::default()).unwrap();
    let files = render(&service, &Source::Version("0.1.0".into())).unwrap();
    let error = write_project(&used, &files).unwrap_err().to_string();
    assert!(error.contains("exists and is not empty"), "{error}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the used directory: {left:?}");
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1);

    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let error = write_project(&file, &files).unwrap_err().to_string();
    assert!(error.contains("not a directory"), "{error}");
}

#[test]
fn an_empty_directory_is_filled_and_a_new_one_created_with_its_parents() {
    let dir = tempfile::tempdir().unwrap();
    let (_, files) = render_into(dir.path(), "demo", Wires::default());
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let expected: BTreeSet<String> = files
        .iter()
        .map(|f| f.path.split('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(written, expected.iter().cloned().collect::<Vec<_>>());

    let nested = dir.path().join("a/b/demo");
    render_into(&nested, "demo", Wires::default());
    assert!(nested.join("src/main.rs").is_file());
    let siblings: Vec<_> = std::fs::read_dir(dir.path().join("a/b")).unwrap().collect();
    assert_eq!(siblings.len(), 1, "no staging directory left: {siblings:?}");
}

#[test]
fn a_checkout_gives_its_lockfile_and_the_registry_none() {
    let service = Service::new("demo", Wires::default()).unwrap();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = render(&service, &Source::checkout(&repository).unwrap()).unwrap();
    let lock = std::fs::read_to_string(repository.join("Cargo.lock")).unwrap();
    assert_eq!(text(&files, "Cargo.lock"), lock);
    let files = render(&service, &Source::Version("0.1.0".into())).unwrap();
    assert!(files.iter().all(|f| f.path != "Cargo.lock"));
}
