//! `harness kube-gen` on bad input: a clear message on stderr, the documented exit
//! status, and nothing at all on stdout (a half stream must never reach kubectl).

mod kube_common;

use std::fs;
use std::process::Output;

use kube_common::{harness, harness_in, inputs_dir};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs kube-gen and checks the failure's shape; returns stderr.
fn fails(output: Output, code: i32) -> String {
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(
        output.stdout.is_empty(),
        "stdout must be empty on error, got: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!err.trim().is_empty(), "an error needs a message");
    err
}

/// A scratch copy of the golden inputs with `file` replaced by `text`.
fn inputs_with(file: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(inputs_dir()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    fs::write(dir.path().join(file), text).unwrap();
    dir
}

fn kirk_proto_with(from: &str, to: &str) -> tempfile::TempDir {
    let text = fs::read_to_string(inputs_dir().join("kirk.proto")).unwrap();
    assert!(text.contains(from), "kirk.proto has {from:?}");
    inputs_with("kirk.proto", &text.replacen(from, to, 1))
}

fn kirk_yaml_with(from: &str, to: &str) -> tempfile::TempDir {
    let text = fs::read_to_string(inputs_dir().join("kirk.yaml")).unwrap();
    assert!(text.contains(from), "kirk.yaml has {from:?}");
    inputs_with("kirk.yaml", &text.replacen(from, to, 1))
}

const KIRK: [&str; 4] = ["kube-gen", "kirk.proto", "kirk.yaml", "v1"];

#[test]
fn an_invalid_value_is_a_validation_error() {
    let dir = kirk_yaml_with("port: 8000", "port: 70000");
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert!(err.starts_with("Validation error: "), "{err}");
    assert!(err.contains("server.bind.port"), "{err}");
}

#[test]
fn unparsable_yaml_is_a_parse_error() {
    let dir = kirk_yaml_with("port: 8000", "port: [8000");
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert!(err.starts_with("Parse error: "), "{err}");
}

#[test]
fn a_secret_that_breaks_the_config_is_refused_without_leaking_it() {
    let dir = inputs_with("bad-merge.yaml", "db:\n  min_size: not-a-number-s3cr3t\n");
    let mut args = KIRK.to_vec();
    args.extend(["--secret-merge", "bad-merge.yaml"]);
    let err = fails(harness_in(dir.path(), &args), 1);
    assert!(err.contains("db.min_size"), "{err}");
}

#[test]
fn missing_files_are_usage_errors() {
    let err = fails(harness(&["kube-gen", "nope.proto", "kirk.yaml", "v1"]), 2);
    assert!(err.contains("nope.proto"), "{err}");
    let err = fails(harness(&["kube-gen", "kirk.proto", "nope.yaml", "v1"]), 2);
    assert!(err.contains("nope.yaml"), "{err}");
    let mut args = KIRK.to_vec();
    args.extend(["--secret-patch", "nope-patch.yaml"]);
    let err = fails(harness(&args), 2);
    assert!(err.contains("nope-patch.yaml"), "{err}");
}

#[test]
fn a_missing_version_is_a_usage_error() {
    let err = fails(harness(&["kube-gen", "kirk.proto", "kirk.yaml"]), 2);
    assert!(err.contains("VERSION"), "{err}");
}

#[test]
fn a_proto_that_does_not_compile_is_a_usage_error() {
    let dir = kirk_proto_with("bool debug = 1;", "bool debug = 1");
    fails(harness_in(dir.path(), &KIRK), 2);
}

#[test]
fn a_missing_repository_is_refused() {
    let dir = kirk_proto_with(
        "    option (harness.service).container.repository = \"registry.acme.dev/team/kirk\";\n",
        "",
    );
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert_eq!(
        err,
        "error: kirk.proto: (harness.service).container.repository is not set on kirk.Configuration; \
         kube-gen needs it for the image REPOSITORY:VERSION\n"
    );
}

#[test]
fn a_base_domain_that_is_not_a_domain_is_refused() {
    for domain in [
        "acme",
        "https://acme.dev",
        "acme..dev",
        "ACME.dev",
        "10.0.0.1",
    ] {
        let mut args = KIRK.to_vec();
        args.extend(["--base-domain", domain]);
        let err = fails(harness(&args), 1);
        assert!(
            err.starts_with(&format!(
                "error: --base-domain `{domain}` is not a domain: "
            )),
            "{err}"
        );
    }
}

#[test]
fn an_instance_that_is_not_dns_1123_is_refused() {
    for instance in ["Blue", "blue_green", "-blue", "blue.green", &"b".repeat(64)] {
        let flag = format!("--instance={instance}");
        let mut args = KIRK.to_vec();
        args.push(&flag);
        let err = fails(harness(&args), 1);
        assert!(err.contains(&format!("`{instance}`")), "{err}");
        assert!(err.contains("DNS-1"), "{err}");
    }
}

#[test]
fn a_namespace_or_version_kubernetes_refuses_is_refused() {
    let mut args = KIRK.to_vec();
    args.extend(["--namespace", "Prod"]);
    let err = fails(harness(&args), 1);
    assert!(
        err.contains("--namespace `Prod` is not a DNS-1123 label"),
        "{err}"
    );

    let err = fails(
        harness(&["kube-gen", "kirk.proto", "kirk.yaml", "1.0+build.7"]),
        1,
    );
    assert!(err.contains("VERSION `1.0+build.7`"), "{err}");
}

#[test]
fn a_public_output_without_socket_is_refused() {
    let dir = kirk_proto_with(
        "(harness.wire).input.type = \"harness_wires::logging::Console\"\n",
        "(harness.wire).output.type = \"harness_wires::logging::Console\",\n        (harness.wire).output.expose = PUBLIC\n",
    );
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert_eq!(
        err,
        "error: output `console` is PUBLIC but has no socket: its type harness.logging.Console \
         has no harness.net.Socket field\n"
    );
}

#[test]
fn warnings_go_to_stderr_and_the_manifests_still_to_stdout() {
    let dir = kirk_yaml_with(
        "host: 0.0.0.0\n    port: 8000",
        "host: 127.0.0.1\n    port: 8000",
    );
    let output = harness_in(dir.path(), &KIRK);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).starts_with("warning: output `server` binds 127.0.0.1"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("kind: Deployment"));
}

#[test]
fn a_loopback_host_on_a_namespace_input_is_refused_at_its_position() {
    let dir = kirk_yaml_with("host: scotty", "host: 127.0.0.1");
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert!(
        err.contains(
            "kirk.yaml:12:11: scotty.address.host: host `127.0.0.1` is a loopback address"
        ),
        "{err}"
    );
    assert!(err.contains("NAME, NAME.NS, NAME.NS.svc"), "{err}");
}

#[test]
fn an_ip_or_an_outside_name_on_a_namespace_input_is_refused() {
    for host in ["10.0.0.7", "scotty.example.com"] {
        let dir = kirk_yaml_with("host: scotty", &format!("host: {host}"));
        let err = fails(harness_in(dir.path(), &KIRK), 1);
        assert!(
            err.contains("kirk.yaml:12:11: scotty.address.host"),
            "{err}"
        );
        assert!(err.contains(host), "{err}");
    }
}

#[test]
fn a_loopback_host_set_by_the_merge_file_is_located_there() {
    let dir = inputs_with(
        "loopback-merge.yaml",
        "scotty:\n  address:\n    host: localhost\n",
    );
    let mut args = KIRK.to_vec();
    args.extend(["--secret-merge", "loopback-merge.yaml"]);
    let err = fails(harness_in(dir.path(), &args), 1);
    assert!(
        err.contains("loopback-merge.yaml:3:11: scotty.address.host"),
        "{err}"
    );
}

#[test]
fn a_loopback_host_on_an_external_input_is_refused() {
    let dir = kirk_yaml_with("host: db.acme.dev", "host: 127.0.0.1");
    let err = fails(harness_in(dir.path(), &KIRK), 1);
    assert!(err.contains("kirk.yaml:4:11: db.address.host"), "{err}");
    assert!(err.contains("EXTERNAL"), "{err}");
}

#[test]
fn an_external_ip_is_a_static_service_entry() {
    let dir = kirk_yaml_with("host: db.acme.dev", "host: 10.1.2.3");
    let output = harness_in(dir.path(), &KIRK);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = String::from_utf8(output.stdout).unwrap();
    let entry = yaml
        .split("\n---\n")
        .find(|doc| doc.contains("kind: ServiceEntry"))
        .expect("a ServiceEntry");
    assert!(entry.contains("resolution: STATIC"), "{entry}");
    assert!(entry.contains("addresses:\n  - 10.1.2.3"), "{entry}");
    assert!(
        entry.contains("endpoints:\n  - address: 10.1.2.3"),
        "{entry}"
    );
    assert!(entry.contains("- kirk-db.external.invalid"), "{entry}");
    assert!(!entry.contains("resolution: DNS"), "{entry}");
    assert!(
        yaml.contains("./kirk-db.external.invalid"),
        "sidecar egress"
    );
}

#[test]
fn the_python_harness_command_line_with_its_runtime_word_is_accepted() {
    let plain = harness(&KIRK);
    let python = harness(&["kube-gen", "python", "kirk.proto", "kirk.yaml", "v1"]);
    assert!(python.status.success(), "{}", stderr(&python));
    assert!(!python.stdout.is_empty());
    assert_eq!(python.stdout, plain.stdout);

    let err = fails(
        harness(&["kube-gen", "java", "kirk.proto", "kirk.yaml", "v1"]),
        2,
    );
    assert!(
        err.contains("`java` is not a runtime of the Python harness"),
        "{err}"
    );
}

#[test]
fn scale_to_zero_of_a_service_with_callers_is_refused() {
    // rand's web output is PUBLIC, and its scale option asks for zero replicas.
    let err = fails(harness(&["kube-gen", "rand.proto", "rand.yaml", "v1"]), 1);
    assert!(
        err.starts_with(
            "error: (harness.service).scale.min_replicas is 0, but output `web` is PUBLIC"
        ),
        "{err}"
    );
    assert!(err.contains("--target knative"), "{err}");
}

#[test]
fn a_service_knative_cannot_serve_is_refused() {
    let err = fails(
        harness(&[
            "kube-gen",
            "spock.proto",
            "spock.yaml",
            "v1",
            "--target",
            "knative",
        ]),
        1,
    );
    assert!(err.starts_with("error: --target knative: "), "{err}");
    let err = fails(
        harness(&[
            "kube-gen",
            "rand.proto",
            "rand.yaml",
            "v1",
            "--target",
            "knative",
            "--router",
            "gateway-api",
        ]),
        1,
    );
    assert!(err.contains("--router gateway-api"), "{err}");
}

#[test]
fn an_unknown_router_target_or_gateway_is_refused() {
    let mut args = KIRK.to_vec();
    args.extend(["--router", "nginx"]);
    let err = fails(harness(&args), 2);
    assert!(err.contains("istio, gateway-api"), "{err}");
    let mut args = KIRK.to_vec();
    args.extend(["--target", "lambda"]);
    let err = fails(harness(&args), 2);
    assert!(err.contains("deployment, knative"), "{err}");
    let mut args = KIRK.to_vec();
    args.extend(["--router", "gateway-api", "--gateway", "a/b/c"]);
    let err = fails(harness(&args), 1);
    assert!(err.starts_with("error: --gateway `a/b/c`"), "{err}");
}

#[test]
fn a_password_in_config_is_a_warning_that_names_the_field_not_the_value() {
    let text = fs::read_to_string(inputs_dir().join("scotty.yaml")).unwrap();
    let dir = inputs_with(
        "scotty.yaml",
        &text.replacen(
            "  username: postgres\n",
            "  username: postgres\n  password: tr0ub4dor\n",
            1,
        ),
    );
    let output = harness_in(
        dir.path(),
        &["kube-gen", "scotty.proto", "scotty.yaml", "v2"],
    );
    assert_eq!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(
        err.starts_with("warning: scotty.yaml:6:13: db.password: a credential is written in the configuration file"),
        "{err}"
    );
    assert!(
        err.contains("--secret-merge") && !err.contains("tr0ub4dor"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("kind: Deployment"));
}

#[test]
fn policy_options_kubernetes_would_refuse_are_refused() {
    for (option, value, code) in [
        ("--monitoring-namespace", "Monitoring", 1),
        ("--ingress-namespace", "istio_system", 1),
        ("--ingress-service-account", "Gateway SA", 1),
        ("--ingress-labels", "istio", 2),
        ("--ingress-labels", "app=in gress", 2),
    ] {
        let mut args = KIRK.to_vec();
        args.extend([option, value]);
        let err = fails(harness(&args), code);
        assert!(err.contains(option), "{option} {value}: {err}");
        assert!(err.contains(value), "{option} {value}: {err}");
    }
}

#[test]
fn policy_options_reach_the_network_policy() {
    let mut args = KIRK.to_vec();
    args.extend([
        "--monitoring-namespace",
        "observability",
        "--ingress-namespace",
        "edge",
        "--ingress-labels",
        "app=gateway,tier=edge",
    ]);
    let output = harness(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = String::from_utf8(output.stdout).unwrap();
    let policy = &yaml[yaml.find("kind: NetworkPolicy").expect("a NetworkPolicy")..];
    for expected in [
        "kubernetes.io/metadata.name: observability",
        "kubernetes.io/metadata.name: edge",
        "app: gateway",
        "tier: edge",
    ] {
        assert!(policy.contains(expected), "no {expected:?} in:\n{policy}");
    }
    assert!(!policy.contains("istio: ingressgateway"), "{policy}");
}
