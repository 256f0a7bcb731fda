//! Every object kube-gen writes, checked against the upstream schemas in strict mode
//! (unknown fields fail): core kinds with kubernetes-validate (PyPI), Istio kinds with
//! the schemas of @kubernetes-models/istio (npm) plus a closed-object check of our own.
//! Both live in scripts/validate-manifests/; its setup.sh installs them.

mod kube_common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube_common::{CASES, kube_gen, write_all};

fn validators_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-manifests")
}

/// The installed validators, or a failure that says how to install them.
fn require_validators() -> PathBuf {
    let dir = validators_dir();
    let missing: Vec<&str> = [
        ".venv/bin/python",
        "node_modules/@kubernetes-models/istio/package.json",
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

fn istio(files: &[PathBuf]) -> Output {
    let dir = require_validators();
    Command::new("node")
        .arg(dir.join("validate_istio.mjs"))
        .args(files)
        .output()
        .expect("node runs validate_istio.mjs")
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
    let files = write_all(dir.path());
    let objects: usize = files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap().matches("---\n").count())
        .sum();

    let core = core(&files);
    assert!(core.status.success(), "core kinds:\n{}", text(&core));
    let istio = istio(&files);
    assert!(istio.status.success(), "Istio kinds:\n{}", text(&istio));
    assert_eq!(
        valid_count(&core) + valid_count(&istio),
        objects,
        "every object is validated by exactly one validator\n{}{}",
        text(&core),
        text(&istio)
    );
}

/// A manifest from a golden case with one field renamed.
fn misspelled(dir: &Path, from: &str, to: &str) -> PathBuf {
    let case = CASES.iter().find(|c| c.name == "spock").unwrap();
    let yaml = kube_gen(case);
    assert!(yaml.contains(from), "spock's manifests have {from:?}");
    let path = dir.join(format!("{}.yaml", to.trim().trim_end_matches(':')));
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
        let output = istio(&[path]);
        let report = text(&output);
        assert!(!output.status.success(), "{to} passed:\n{report}");
        let field = to
            .trim()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap();
        assert!(
            report.contains(&format!("{field}: unknown field")),
            "{field} not named:\n{report}"
        );
    }
}

#[test]
fn the_istio_validator_still_checks_types_and_enums() {
    let dir = tempfile::tempdir().unwrap();
    let file = misspelled(
        dir.path(),
        "location: MESH_EXTERNAL",
        "location: MESH_EXTRNAL",
    );
    let output = istio(&[file]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("allowedValues"), "{}", text(&output));
}
