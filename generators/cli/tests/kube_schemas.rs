//! Every object kube-gen writes, checked against the upstream schemas in strict mode
//! (unknown fields fail): core kinds with kubernetes-validate (PyPI), custom resources
//! (Istio, Gateway API, KEDA, Knative) with the schemas of the @kubernetes-models
//! packages (npm) plus a closed-object check of our own. Both live in
//! scripts/validate-manifests/; its setup.sh installs them.

mod kube_common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube_common::{CASES, kube_gen, write_all, write_system};

fn validators_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-manifests")
}

/// The installed validators, or a failure that says how to install them.
fn require_validators() -> PathBuf {
    let dir = validators_dir();
    let missing: Vec<&str> = [
        ".venv/bin/python",
        "node_modules/@kubernetes-models/istio/package.json",
        "node_modules/@kubernetes-models/gateway-api/package.json",
        "node_modules/@kubernetes-models/keda/package.json",
        "node_modules/@kubernetes-models/knative/package.json",
        "node_modules/yaml/package.json",
    ]
    .into_iter()
    .filter(|p| !dir.join(p).exists())
    .collect();
    assert!(
        missing.is_empty(),
        "the manifest validators are not installed ({missing:?} missing under {}): \
         run scripts/validate-manifests/setup.sh",
        dir.display()
    );
    dir
}

fn core(files: &[PathBuf]) -> Output {
    let dir = require_validators();
    Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join("validate_core.py"))
        .args(files)
        .output()
        .expect("validate_core.py runs")
}

/// The custom resources' validator (Istio, Gateway API, KEDA, Knative).
fn custom_resources(files: &[PathBuf]) -> Output {
    let dir = require_validators();
    Command::new("node")
        .arg(dir.join("validate_crds.mjs"))
        .args(files)
        .output()
        .expect("node runs validate_crds.mjs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The `N valid` figure of a validator's last line.
fn valid_count(output: &Output) -> usize {
    let out = String::from_utf8_lossy(&output.stdout);
    let last = out.lines().last().unwrap_or_default();
    last.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in: {out}"))
}

#[test]
fn every_generated_object_passes_the_upstream_schemas_strictly() {
    require_validators();
    let dir = tempfile::tempdir().unwrap();
    let mut files = write_all(dir.path());
    files.push(write_system(dir.path()));
    let objects: usize = files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap().matches("---\n").count())
        .sum();

    let core = core(&files);
    assert!(core.status.success(), "core kinds:\n{}", text(&core));
    let crds = custom_resources(&files);
    assert!(crds.status.success(), "custom resources:\n{}", text(&crds));
    assert_eq!(
        valid_count(&core) + valid_count(&crds),
        objects,
        "every object is validated by exactly one validator\n{}{}",
        text(&core),
        text(&crds)
    );
    // Each kind the golden cases hold was validated: none slipped past as unknown.
    let report = format!("{}{}", text(&core), text(&crds));
    for kind in [
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ScaledObject",
        "TriggerAuthentication",
        "HTTPRoute",
        "GRPCRoute",
        "DomainMapping",
        "Sidecar",
        "NetworkPolicy",
        "ServiceAccount",
        "AuthorizationPolicy",
        "PeerAuthentication",
    ] {
        assert!(
            report.contains(&format!(" {kind}/")),
            "no {kind} validated:\n{report}"
        );
    }
}

/// A manifest from a golden case with one field renamed.
fn misspelled(dir: &Path, from: &str, to: &str) -> PathBuf {
    misspelled_in("spock", dir, from, to)
}

/// The manifests of the golden case `name` with the first `from` renamed `to`.
fn misspelled_in(name: &str, dir: &Path, from: &str, to: &str) -> PathBuf {
    let case = CASES.iter().find(|c| c.name == name).unwrap();
    let yaml = kube_gen(case);
    assert!(yaml.contains(from), "{name}'s manifests have {from:?}");
    let path = dir.join(format!("{name}-misspelled.yaml"));
    fs::write(&path, yaml.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn the_core_validator_rejects_a_misspelled_field() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("        readinessProbe:", "        readynessProbe:"),
        ("    targetPort: http-api", "    targetport: http-api"),
        ("immutable: true", "imutable: true"),
        (
            "      terminationGracePeriodSeconds:",
            "      terminationGracePeriod:",
        ),
    ] {
        let file = misspelled(dir.path(), &format!("\n{from}"), &format!("\n{to}"));
        let output = core(&[file]);
        let report = text(&output);
        assert!(!output.status.success(), "{to} passed:\n{report}");
        let field = to.trim().trim_end_matches(':').split(':').next().unwrap();
        assert!(report.contains(field), "{field} not named:\n{report}");
    }
}

#[test]
fn the_istio_validator_rejects_a_misspelled_field() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("  gateways:", "  gateway:"),
        ("    - port: 80", "    - prot: 80"),
        ("  location: MESH_EXTERNAL", "  locaton: MESH_EXTERNAL"),
        ("  workloadSelector:", "  workloadselector:"),
        ("  resolution: DNS", "  resoluton: DNS"),
        ("  namespace: bridge", "  namespac: bridge"),
    ] {
        // Start after the core objects, so the rename lands in an Istio object.
        let case = CASES.iter().find(|c| c.name == "spock").unwrap();
        let yaml = kube_gen(case);
        let istio_start = yaml.find("apiVersion: networking.istio.io").unwrap();
        let (core_part, istio_part) = yaml.split_at(istio_start);
        let from = format!("\n{from}");
        assert!(
            istio_part.contains(&from),
            "no {from:?} in spock's Istio objects"
        );
        let path = dir.path().join("bad.yaml");
        fs::write(
            &path,
            format!(
                "{core_part}{}",
                istio_part.replacen(&from, &format!("\n{to}"), 1)
            ),
        )
        .unwrap();
        assert_unknown_field(&custom_resources(&[path]), to);
    }
}

/// The key of a renamed YAML line: `    - sources:` -> `sources`.
fn renamed_key(line: &str) -> &str {
    line.trim()
        .trim_start_matches("- ")
        .split(':')
        .next()
        .unwrap()
}

/// The validator failed, naming as an unknown field the key of the renamed line `to`.
fn assert_unknown_field(output: &Output, to: &str) {
    let report = text(output);
    assert!(!output.status.success(), "{to} passed:\n{report}");
    let field = renamed_key(to);
    assert!(
        report.contains(&format!("{field}: unknown field")),
        "{field} not named:\n{report}"
    );
}

#[test]
fn the_istio_validator_still_checks_types_and_enums() {
    let dir = tempfile::tempdir().unwrap();
    let file = misspelled(
        dir.path(),
        "location: MESH_EXTERNAL",
        "location: MESH_EXTRNAL",
    );
    let output = custom_resources(&[file]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("allowedValues"), "{}", text(&output));
}

#[test]
fn the_core_validator_rejects_a_misspelled_autoscaler_field() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("  maxReplicas: 6", "  maxReplica: 6"),
        (
            "        averageUtilization: 70",
            "        averageUtilisation: 70",
        ),
        ("  maxUnavailable: 1", "  maxUnavailble: 1"),
    ] {
        let file = misspelled_in(
            "chapel",
            dir.path(),
            &format!("\n{from}"),
            &format!("\n{to}"),
        );
        let output = core(&[file]);
        let report = text(&output);
        assert!(!output.status.success(), "{to} passed:\n{report}");
        let field = to.trim().split(':').next().unwrap();
        assert!(report.contains(field), "{field} not named:\n{report}");
    }
}

#[test]
fn the_custom_resource_validator_rejects_misspelled_gateway_api_keda_and_knative_fields() {
    let dir = tempfile::tempdir().unwrap();
    for (case, from, to) in [
        ("chapel-gateway-api", "  parentRefs:", "  parentRef:"),
        ("chapel-gateway-api", "  - backendRefs:", "  - backendRef:"),
        ("chapel-gateway-api", "  hostnames:", "  hostname:"),
        ("mccoy", "  minReplicaCount: 0", "  minReplicas: 0"),
        ("mccoy", "  maxReplicaCount: 5", "  maxReplicaCnt: 5"),
        ("riley", "    authenticationRef:", "    authRef:"),
        ("riley", "  secretTargetRef:", "  secretTargetRefs:"),
        (
            "mccoy",
            "    metricType: Utilization",
            "    metrictype: Utilization",
        ),
        (
            "rand-knative",
            "      containerConcurrency: 50",
            "      concurrency: 50",
        ),
        (
            "rand-knative",
            "          readOnlyRootFilesystem: true",
            "          readOnlyRootFileSystem: true",
        ),
        (
            "rand-knative",
            "    apiVersion: serving.knative.dev/v1",
            "    apiVersoin: serving.knative.dev/v1",
        ),
    ] {
        let file = misspelled_in(case, dir.path(), &format!("\n{from}"), &format!("\n{to}"));
        assert_unknown_field(&custom_resources(&[file]), to);
    }
}

#[test]
fn the_system_stream_passes_the_upstream_schemas_strictly() {
    require_validators();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = kube_common::harness_in(&root, &["kube-gen", "--system", "examples/system.yaml"]);
    assert!(output.status.success(), "{}", text(&output));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("system.yaml");
    fs::write(&file, &output.stdout).unwrap();
    let objects = String::from_utf8_lossy(&output.stdout)
        .matches("---\n")
        .count();
    let core = core(std::slice::from_ref(&file));
    assert!(core.status.success(), "core kinds:\n{}", text(&core));
    let crds = custom_resources(&[file]);
    assert!(crds.status.success(), "custom resources:\n{}", text(&crds));
    assert_eq!(
        valid_count(&core) + valid_count(&crds),
        objects,
        "every object of the stream is validated\n{}{}",
        text(&core),
        text(&crds)
    );
}

#[test]
fn the_validators_reject_misspelled_policy_fields() {
    let dir = tempfile::tempdir().unwrap();
    let system = fs::read_to_string(write_system(dir.path())).unwrap();
    let path = dir.path().join("bad.yaml");
    // NetworkPolicy and ServiceAccount: the core validator.
    for (from, to) in [
        ("  policyTypes:", "  policyType:"),
        ("    - namespaceSelector:", "    - namespaceSelecter:"),
        (
            "automountServiceAccountToken: false",
            "automountServiceAccountTokens: false",
        ),
    ] {
        let from = format!("\n{from}");
        assert!(
            system.contains(&from),
            "no {from:?} in the system's objects"
        );
        fs::write(&path, system.replacen(&from, &format!("\n{to}"), 1)).unwrap();
        let output = core(std::slice::from_ref(&path));
        let report = text(&output);
        assert!(!output.status.success(), "{to} passed:\n{report}");
        let field = renamed_key(to);
        assert!(report.contains(field), "{field} not named:\n{report}");
    }
    // AuthorizationPolicy and PeerAuthentication: the custom resource validator.
    for (from, to) in [
        ("    - source:", "    - sources:"),
        ("        principals:", "        principal:"),
        ("    - operation:", "    - operations:"),
        ("    matchLabels:", "    matchLabel:"),
        ("  mtls:", "  mTLS:"),
    ] {
        // Start at the first AuthorizationPolicy, so the rename lands in an Istio object.
        let (before, istio) = system.split_at(system.find("kind: AuthorizationPolicy").unwrap());
        let from = format!("\n{from}");
        assert!(istio.contains(&from), "no {from:?} in the Istio objects");
        let renamed = istio.replacen(&from, &format!("\n{to}"), 1);
        fs::write(&path, format!("{before}{renamed}")).unwrap();
        assert_unknown_field(&custom_resources(std::slice::from_ref(&path)), to);
    }
    // A mode that is not one of Istio's.
    fs::write(&path, system.replacen("mode: STRICT", "mode: STRICTEST", 1)).unwrap();
    let output = custom_resources(std::slice::from_ref(&path));
    assert!(!output.status.success(), "{}", text(&output));
}
