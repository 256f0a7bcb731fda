//! The strict validators of generated manifests (scripts/validate-manifests/): core kinds
//! with kubernetes-validate, custom resources with the @kubernetes-models schemas.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn validators_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-manifests")
}

/// The installed validators, or a failure that says how to install them.
pub fn require_validators() -> PathBuf {
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

pub fn core(files: &[PathBuf]) -> Output {
    let dir = require_validators();
    Command::new(dir.join(".venv/bin/python"))
        .arg(dir.join("validate_core.py"))
        .args(files)
        .output()
        .expect("validate_core.py runs")
}

/// The custom resources' validator (Istio, Gateway API, KEDA, Knative).
pub fn custom_resources(files: &[PathBuf]) -> Output {
    let dir = require_validators();
    Command::new("node")
        .arg(dir.join("validate_crds.mjs"))
        .args(files)
        .output()
        .expect("node runs validate_crds.mjs")
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
