use std::fs;
use std::path::Path;

use harness_core::check::{Checked, check_files};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use serde_json::Value;

use super::*;

pub(super) const INPUTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/inputs");

pub(super) fn check(
    proto: &str,
    config: &str,
    merge: Option<&str>,
    patch: Option<&str>,
) -> Checked {
    let dir = Path::new(INPUTS);
    let merge = merge.map(|m| dir.join(m));
    let patch = patch.map(|p| dir.join(p));
    check_files(
        &dir.join(proto),
        &[],
        &dir.join(config),
        merge.as_deref(),
        patch.as_deref(),
    )
    .unwrap_or_else(|err| panic!("{proto} {config}: {err}"))
}

pub(super) fn generate_for(
    checked: &Checked,
    options: &Options,
) -> Result<Manifests, KubeGenError> {
    generate(&checked.spec, &checked.config, &checked.sources, options)
}

/// A service proto in a scratch directory, with `fields` inside `Configuration`.
pub(super) fn scratch_service(options: &str, fields: &str, yaml: &str) -> Checked {
    scratch_service_with(options, fields, yaml, None)
}

/// [`scratch_service`] with a merge file.
pub(super) fn scratch_service_with(
    options: &str,
    fields: &str,
    yaml: &str,
    merge: Option<&str>,
) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let proto = format!(
        r#"syntax = "proto3";
package scratch;
import "validate/validate.proto";
import "harness/wire.proto";
import "harness/net.proto";
import "harness/http.proto";
import "harness/grpc.proto";
import "harness/logging.proto";
import "harness/nats.proto";
import "harness/schedule.proto";
import "harness/redis.proto";
import "harness/metrics.proto";
message Configuration {{
{options}
{fields}
}}
"#
    );
    fs::write(dir.path().join("s.proto"), proto).unwrap();
    fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    if let Some(merge) = merge {
        fs::write(dir.path().join("m.yaml"), merge).unwrap();
    }
    let merge = merge.map(|_| dir.path().join("m.yaml"));
    check_files(
        &dir.path().join("s.proto"),
        &[],
        &dir.path().join("s.yaml"),
        merge.as_deref(),
        None,
    )
    .unwrap_or_else(|err| panic!("{err}"))
}

pub(super) const NAMED: &str = r#"option (harness.service).name = "web";
option (harness.service).container.repository = "registry.acme.dev/web";"#;

pub(super) fn kinds(manifests: &Manifests) -> Vec<(&'static str, String)> {
    manifests
        .objects
        .iter()
        .map(|o| (o.kind(), o.name().to_owned()))
        .collect()
}

pub(super) fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml).expect("the output parses as YAML")
}

#[test]
fn kirk_objects_in_order() {
    let checked = check(
        "kirk.proto",
        "kirk.yaml",
        Some("kirk-merge.yaml"),
        Some("kirk-patch.yaml"),
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let hash = names::content_hash(&checked.sources.config.text);
    let merge = names::content_hash(&checked.sources.merge.as_ref().unwrap().text);
    let patch = names::content_hash(&checked.sources.patch.as_ref().unwrap().text);
    assert_eq!(
        kinds(&manifests),
        vec![
            ("ConfigMap", format!("kirk-config-{hash}")),
            ("Secret", format!("kirk-config-merge-{merge}")),
            ("Secret", format!("kirk-config-patch-{patch}")),
            ("Deployment", "kirk".into()),
            ("Service", "kirk".into()),
            ("VirtualService", "kirk".into()),
            ("ServiceEntry", "kirk-db".into()),
            ("Sidecar", "kirk".into()),
            ("NetworkPolicy", "kirk".into()),
        ]
    );
    assert!(manifests.warnings.is_empty(), "{:?}", manifests.warnings);
}

#[test]
fn instance_names_objects_and_labels_them_as_the_python_harness() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let options = Options {
        instance: Some("blue".into()),
        base_domain: Some("acme.dev".into()),
        ..Options::new("v1")
    };
    let manifests = generate_for(&checked, &options).unwrap();
    let names: Vec<_> = kinds(&manifests).into_iter().map(|(_, n)| n).collect();
    assert!(
        names.iter().all(|n| n.starts_with("kirk-blue")),
        "{names:?}"
    );
    let Object::Deployment(deployment) = &manifests.objects[1] else {
        panic!("{:?}", kinds(&manifests))
    };
    // The instance label is the instance's name, as the Python harness sets it:
    // selectors are immutable, so a deployment moves over in place only with the same.
    let selector = deployment.spec.selector.match_labels.clone().unwrap();
    assert_eq!(selector["app.kubernetes.io/name"], "kirk");
    assert_eq!(selector["app.kubernetes.io/instance"], "blue");

    let Some(Object::Gateway(gateway)) = manifests.objects.iter().find(|o| o.kind() == "Gateway")
    else {
        panic!("no Gateway")
    };
    assert_eq!(gateway.spec.servers[0].hosts, vec!["kirk-blue.acme.dev"]);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Object::Deployment(deployment) = &manifests.objects[1] else {
        panic!("{:?}", kinds(&manifests))
    };
    let selector = deployment.spec.selector.match_labels.clone().unwrap();
    assert_eq!(
        selector.keys().collect::<Vec<_>>(),
        ["app.kubernetes.io/name"],
        "no instance label without --instance"
    );
}

#[test]
fn output_is_deterministic() {
    let render = || {
        let checked = check("spock.proto", "spock.yaml", Some("spock-merge.yaml"), None);
        let options = Options {
            base_domain: Some("acme.dev".into()),
            ..Options::new("v1")
        };
        generate_for(&checked, &options).unwrap().to_yaml().unwrap()
    };
    let first = render();
    for _ in 0..5 {
        assert_eq!(render(), first);
    }
}

/// Every document reads back as the typed object it was written from.
#[test]
fn core_objects_round_trip_through_yaml() {
    let checked = check("spock.proto", "spock.yaml", Some("spock-merge.yaml"), None);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let yaml = manifests.to_yaml().unwrap();
    let docs = documents(&yaml);
    assert_eq!(docs.len(), manifests.objects.len());
    for (object, doc) in manifests.objects.iter().zip(docs) {
        match object {
            Object::ConfigMap(o) => {
                assert_eq!(&serde_json::from_value::<ConfigMap>(doc).unwrap(), o)
            }
            Object::Secret(o) => assert_eq!(&serde_json::from_value::<Secret>(doc).unwrap(), o),
            Object::Deployment(o) => {
                assert_eq!(
                    &serde_json::from_value::<Deployment>(doc).unwrap(),
                    o.as_ref()
                )
            }
            Object::Service(o) => {
                assert_eq!(&serde_json::from_value::<Service>(doc).unwrap(), o.as_ref())
            }
            other => assert_eq!(doc, other.to_value().unwrap()),
        }
    }
}

/// No `null`, `{}` or `[]` anywhere: an unset field is left out.
#[test]
fn no_nulls_or_empty_collections() {
    fn walk(value: &Value, path: &str) {
        match value {
            Value::Null => panic!("null at {path}"),
            Value::Object(map) => {
                assert!(!map.is_empty(), "empty mapping at {path}");
                for (k, v) in map {
                    walk(v, &format!("{path}.{k}"));
                }
            }
            Value::Array(items) => {
                assert!(!items.is_empty(), "empty list at {path}");
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }
    for (proto, config) in [
        ("kirk.proto", "kirk.yaml"),
        ("scotty.proto", "scotty.yaml"),
        ("spock.proto", "spock.yaml"),
    ] {
        let checked = check(proto, config, None, None);
        let yaml = generate_for(&checked, &Options::new("v1"))
            .unwrap()
            .to_yaml()
            .unwrap();
        for doc in documents(&yaml) {
            walk(&doc, &format!("{proto}:{}", doc["kind"]));
        }
    }
}

/// The ConfigMap carries the file byte for byte, however odd its text.
#[test]
fn config_text_survives_yaml() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let texts = [
        "plain: 1\n",
        "no: trailing newline",
        "two trailing newlines: 1\n\n",
        "\n\nleading: blank lines\n",
        "  indented: first line\nnext: 2\n",
        "trailing spaces:   \n  x: 1   \n",
        "tabs:\t1\n\tx: 2\n",
        "windows: 1\r\nline: 2\r\n",
        "---\ndocument: marker\n...\n",
        "# only a comment\n",
        "unicode: \"żółć ✓\"\nquote: 'a''b'\n",
        "",
        "true",
        "a: |\n  nested block\n  text\n",
        "bell: \u{7}\n",
    ];
    for text in texts {
        let sources = Sources {
            config: harness_core::config::Source::new("c.yaml", text),
            merge: Some(harness_core::config::Source::new("m.yaml", text)),
            patch: None,
        };
        let manifests = generate(
            &checked.spec,
            &checked.config,
            &sources,
            &Options::new("v1"),
        )
        .unwrap();
        let yaml = manifests.to_yaml().unwrap();
        let docs = documents(&yaml);
        assert_eq!(
            docs[0]["data"]["config.yaml"],
            Value::String(text.into()),
            "{yaml}"
        );
        let secret: Secret = serde_json::from_value(docs[1].clone()).unwrap();
        assert_eq!(secret.data.unwrap()["config.yaml"].0, text.as_bytes());
    }
}

#[test]
fn multi_line_config_is_a_literal_block() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let yaml = generate_for(&checked, &Options::new("v1"))
        .unwrap()
        .to_yaml()
        .unwrap();
    assert!(
        yaml.contains("  config.yaml: |\n    # kirk's runtime values"),
        "{yaml}"
    );
}

#[test]
fn strings_that_look_like_other_things_are_quoted() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    for version in ["1.0", "true", "on", "no", "1e3", "0x10", "012"] {
        let yaml = generate_for(&checked, &Options::new(version))
            .unwrap()
            .to_yaml()
            .unwrap();
        assert!(
            yaml.contains(&format!("app.kubernetes.io/version: \"{version}\""))
                || yaml.contains(&format!("app.kubernetes.io/version: '{version}'")),
            "{version}: {yaml}"
        );
    }
}

#[test]
fn scotty_grpc_probes_are_native() {
    let checked = check("scotty.proto", "scotty.yaml", None, None);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Some(Object::Deployment(deployment)) =
        manifests.objects.iter().find(|o| o.kind() == "Deployment")
    else {
        panic!()
    };
    let container = &deployment.spec.template.spec.as_ref().unwrap().containers[0];
    for probe in [
        &container.readiness_probe,
        &container.liveness_probe,
        &container.startup_probe,
    ] {
        let probe = probe.as_ref().unwrap();
        assert_eq!(probe.grpc.as_ref().unwrap().port, 50051);
        assert!(probe.exec.is_none());
    }
    // No Syslog configured: no host path.
    let volumes = deployment
        .spec
        .template
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .as_ref()
        .unwrap();
    assert!(volumes.iter().all(|v| v.host_path.is_none()));
}

#[test]
fn restricted_pod_security() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Object::Deployment(deployment) = &manifests.objects[1] else {
        panic!()
    };
    let pod = deployment.spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(
        pod.termination_grace_period_seconds,
        Some(deployment::RUNTIME_DRAIN_SECONDS + deployment::SHUTDOWN_MARGIN_SECONDS)
    );
    let security = pod.containers[0].security_context.as_ref().unwrap();
    assert_eq!(security.run_as_non_root, Some(true));
    assert!(security.run_as_user.is_some_and(|uid| uid > 0));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(
        security.capabilities.as_ref().unwrap().drop,
        Some(vec!["ALL".to_owned()])
    );
    assert_eq!(
        security.seccomp_profile.as_ref().unwrap().type_,
        "RuntimeDefault"
    );
}

#[test]
fn sidecar_egress_by_reach() {
    let checked = check("spock.proto", "spock.yaml", None, None);
    let options = Options {
        namespace: "bridge".into(),
        ..Options::new("v1")
    };
    let manifests = generate_for(&checked, &options).unwrap();
    let Some(Object::Sidecar(sidecar)) = manifests
        .objects
        .iter()
        .find(|o| matches!(o, Object::Sidecar(_)))
    else {
        panic!()
    };
    assert_eq!(
        sidecar.spec.egress[0].hosts,
        vec![
            "istio-system/*",
            "./pg.eu-1.acme-db.net",
            "cache/redis.cache.svc.cluster.local",
            "./scotty.bridge.svc.cluster.local",
            "./partner.example",
        ]
    );
}

pub(super) fn error_of(checked: &Checked, options: &Options) -> String {
    generate_for(checked, options).unwrap_err().to_string()
}

#[test]
fn refuses_names_kubernetes_would_refuse() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let cases = [
        (
            Options {
                instance: Some("Blue".into()),
                ..Options::new("v1")
            },
            "--instance `Blue`",
        ),
        (
            Options {
                instance: Some("blue_1".into()),
                ..Options::new("v1")
            },
            "DNS-1123",
        ),
        (
            Options {
                instance: Some("x".repeat(60)),
                ..Options::new("v1")
            },
            "NAME-INSTANCE",
        ),
        (
            Options {
                namespace: "Prod".into(),
                ..Options::new("v1")
            },
            "--namespace `Prod`",
        ),
        (Options::new("v1+build"), "VERSION `v1+build`"),
        (
            Options {
                base_domain: Some("acme".into()),
                ..Options::new("v1")
            },
            "--base-domain `acme` is not a domain",
        ),
        (
            Options {
                base_domain: Some("https://acme.dev".into()),
                ..Options::new("v1")
            },
            "is not a domain",
        ),
    ];
    for (options, expected) in cases {
        let err = error_of(&checked, &options);
        assert!(err.contains(expected), "{options:?}: {err}");
    }
}

#[test]
fn refuses_a_service_without_name_or_repository() {
    let checked = scratch_service(
        r#"option (harness.service).name = "web";"#,
        "bool debug = 1;",
        "debug: true\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("(harness.service).container.repository is not set"),
        "{err}"
    );

    let checked = scratch_service(
        r#"option (harness.service).container.repository = "registry.acme.dev/web";"#,
        "bool debug = 1;",
        "debug: true\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(err.contains("(harness.service).name is not set"), "{err}");

    let checked = scratch_service(
        r#"option (harness.service).name = "Web_App";
option (harness.service).container.repository = "registry.acme.dev/web";"#,
        "bool debug = 1;",
        "debug: true\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("(harness.service).name `Web_App` is not a DNS-1035 label"),
        "{err}"
    );
}

#[test]
fn refuses_a_public_output_without_socket() {
    let checked = scratch_service(
        NAMED,
        r#"harness.logging.Console console = 1 [
    (harness.wire).output.type = "my::Console",
    (harness.wire).output.expose = PUBLIC
];"#,
        "console:\n  level: INFO\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("output `console` is PUBLIC but has no socket"),
        "{err}"
    );
    assert!(
        err.contains("harness.logging.Console has no harness.net.Socket field"),
        "{err}"
    );

    // A server without its bind does not even check: every field a wire needs to run
    // is required by its message's rules.
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("s.proto");
    fs::write(
        &proto,
        "syntax = \"proto3\";\nimport \"harness/wire.proto\";\nimport \"harness/http.proto\";\n\
         message Configuration { harness.http.Server server = 1 [(harness.wire).output.type = \"x::S\"]; }\n",
    )
    .unwrap();
    fs::write(dir.path().join("s.yaml"), "server: {}\n").unwrap();
    let err = check_files(&proto, &[], &dir.path().join("s.yaml"), None, None).unwrap_err();
    assert!(
        err.to_string().contains("server.bind: is required"),
        "{err}"
    );

    // Not configured at all: nothing to serve, nothing to refuse.
    let checked = scratch_service(
        NAMED,
        r#"harness.http.Server server = 1 [
    (harness.wire).output.type = "harness_wires::http::Server",
    (harness.wire).output.expose = PUBLIC
];"#,
        "{}\n",
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert!(!manifests.objects.iter().any(|o| o.kind() == "Service"));
}

#[test]
fn ports_get_their_own_numbers_and_valid_names() {
    let two_http = r#"harness.http.Server api = 1 [
    (harness.wire).output.type = "harness_wires::http::Server",
    (harness.wire).output.expose = INTERNAL
];
harness.http.Server admin = 2 [
    (harness.wire).output.type = "harness_wires::http::Server",
    (harness.wire).output.expose = INTERNAL
];"#;
    let checked = scratch_service(
        NAMED,
        two_http,
        "api: {bind: {host: 0.0.0.0, port: 8000}}\nadmin: {bind: {host: 0.0.0.0, port: 8001}}\n",
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Some(Object::Service(service)) = manifests.objects.iter().find(|o| o.kind() == "Service")
    else {
        panic!()
    };
    let ports: Vec<i32> = service
        .spec
        .as_ref()
        .unwrap()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| p.port)
        .collect();
    assert_eq!(ports, vec![80, 8001]);

    let checked = scratch_service(
        NAMED,
        two_http,
        "api: {bind: {host: 0.0.0.0, port: 8000}}\nadmin: {bind: {host: 0.0.0.0, port: 8000}}\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(err.contains("share port 8000"), "{err}");

    let checked = scratch_service(
        NAMED,
        r#"harness.grpc.Server administration = 1 [
    (harness.wire).output.type = "harness_wires::grpc::Server",
    (harness.wire).output.expose = INTERNAL
];"#,
        "administration: {bind: {host: 0.0.0.0, port: 9000}}\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("`grpc-administration` is not a port name"),
        "{err}"
    );
    assert!(err.contains("at most 15"), "{err}");
}

#[test]
fn warns_about_exposed_outputs_on_loopback() {
    let checked = scratch_service(
        NAMED,
        r#"harness.grpc.Server server = 1 [
    (harness.wire).output.type = "harness_wires::grpc::Server",
    (harness.wire).output.expose = INTERNAL
];"#,
        "server: {bind: {host: 127.0.0.1, port: 50051}}\n",
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert_eq!(manifests.warnings.len(), 1, "{:?}", manifests.warnings);
    assert!(manifests.warnings[0].contains("binds 127.0.0.1"));
}

#[test]
fn resources_come_from_the_service_option() {
    let checked = check("spock.proto", "spock.yaml", None, None);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Some(Object::Deployment(deployment)) =
        manifests.objects.iter().find(|o| o.kind() == "Deployment")
    else {
        panic!()
    };
    let resources = deployment.spec.template.spec.as_ref().unwrap().containers[0]
        .resources
        .clone()
        .unwrap();
    let requests = resources.requests.unwrap();
    let limits = resources.limits.unwrap();
    assert_eq!(requests["cpu"].0, "250m");
    assert_eq!(requests["memory"].0, "256Mi");
    assert_eq!(limits["cpu"].0, "250m");
    assert_eq!(limits["memory"].0, "512Mi");

    let checked = scratch_service(
        r#"option (harness.service).name = "web";
option (harness.service).container.repository = "registry.acme.dev/web";
option (harness.service).container.resources.requests.memory = "1Gi";
option (harness.service).container.resources.limits.memory = "512Mi";"#,
        "bool debug = 1;",
        "debug: true\n",
    );
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("the memory request 1Gi is above its limit 512Mi"),
        "{err}"
    );
}

#[test]
fn syslog_mounts_the_socket_it_names_unless_it_sends_over_the_network() {
    let syslog = r#"harness.logging.Syslog syslog = 1 [
    (harness.wire).input.type = "harness_wires::logging::Syslog"
];"#;
    let host_path = |yaml: &str| {
        let checked = scratch_service(NAMED, syslog, yaml);
        let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
        let Object::Deployment(deployment) = &manifests.objects[1] else {
            panic!()
        };
        let pod = deployment.spec.template.spec.as_ref().unwrap();
        let volume = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find_map(|v| v.host_path.clone());
        volume.map(|h| h.path)
    };
    assert_eq!(
        host_path("syslog: {app: web}\n"),
        Some("/dev/log".to_owned())
    );
    assert_eq!(
        host_path("syslog: {path: /run/systemd/journal/syslog}\n"),
        Some("/run/systemd/journal/syslog".to_owned())
    );
    assert_eq!(
        host_path("syslog: {address: {host: logs.acme.dev, port: 514}}\n"),
        None
    );
    assert_eq!(host_path("{}\n"), None);
}
