//! checkov's Kubernetes scan of kube-gen's manifests: every failed check is one that
//! docs/security-scan.md explains, and nothing else fails.

mod kube_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use kube_common::{write_all, write_system};
use serde_json::Value;

/// The checks that may fail, each for the reason docs/security-scan.md gives.
const EXPLAINED: &[&str] = &[
    // Only where the user deployed to `default` (no --namespace): their choice.
    "CKV_K8S_21",
    // The image is REPOSITORY:VERSION by contract; a digest needs the registry.
    "CKV_K8S_43",
    // Only for a service with no exposed HTTP or gRPC output: it has no health endpoint.
    "CKV_K8S_8",
    "CKV_K8S_9",
];

/// The golden cases whose service exposes no HTTP or gRPC output (so has no probes).
const WITHOUT_PROBES: &[&str] = &["mccoy", "riley"];

fn checkov() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/validate-manifests/.venv-checkov/bin/checkov");
    assert!(
        path.exists(),
        "checkov is not installed at {}: run scripts/validate-manifests/setup.sh",
        path.display()
    );
    path
}

#[test]
fn checkov_finds_only_the_explained_failures() {
    let checkov = checkov();
    // checkov skips hidden directories, as tempdir()'s `.tmpXXXX` would be.
    let dir = tempfile::Builder::new()
        .prefix("kube-gen-scan")
        .tempdir()
        .unwrap();
    write_all(dir.path());
    write_system(dir.path());
    let output = Command::new(checkov)
        .args([
            "--framework",
            "kubernetes",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "-d",
        ])
        .arg(dir.path())
        .output()
        .expect("checkov runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "checkov's report is not JSON ({err}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let reports = match report {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut passed = 0;
    let mut failed_count = 0;
    let mut resources = 0;
    let mut unexplained = Vec::new();
    for report in &reports {
        let results = &report["results"];
        passed += report["summary"]["passed"].as_u64().unwrap_or(0);
        failed_count += report["summary"]["failed"].as_u64().unwrap_or(0);
        resources += report["summary"]["resource_count"].as_u64().unwrap_or(0);
        for failed in results["failed_checks"].as_array().into_iter().flatten() {
            let id = failed["check_id"].as_str().unwrap_or_default();
            let resource = failed["resource"].as_str().unwrap_or_default();
            let explained = EXPLAINED.contains(&id)
                && match id {
                    "CKV_K8S_21" => resource.split('.').nth(1) == Some("default"),
                    "CKV_K8S_8" | "CKV_K8S_9" => resource
                        .rsplit('.')
                        .next()
                        .is_some_and(|name| WITHOUT_PROBES.contains(&name)),
                    _ => true,
                };
            if !explained {
                unexplained.push(format!("{id} {resource}: {}", failed["check_name"]));
            }
        }
    }
    // The figures docs/security-scan.md reports (`--nocapture` shows them).
    println!("checkov: {passed} passed, {failed_count} failed, {resources} resources");
    assert!(passed > 0, "checkov checked nothing");
    assert!(
        unexplained.is_empty(),
        "checkov failures not explained in docs/security-scan.md:\n{}",
        unexplained.join("\n")
    );
}
