//! `kubectl kustomize` builds a kustomization that lists kube-gen's output.

mod kube_common;

use std::fs;
use std::path::Path;
use std::process::Command;

use kube_common::{CASES, kube_gen};

const KUBECTL: &str = "kubectl";

#[test]
fn kustomize_builds_the_generated_manifests() {
    let version = Command::new(KUBECTL).args(["version", "--client"]).output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "kubectl is needed on PATH for this test"
    );
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let manifests = kube_gen(case);
        fs::write(dir.path().join("manifests.yaml"), &manifests).unwrap();
        fs::write(
            dir.path().join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- manifests.yaml\n",
        )
        .unwrap();
        let output = kustomize(dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {stderr}", case.name);
        let built = String::from_utf8_lossy(&output.stdout);
        for line in manifests.lines().filter(|l| l.starts_with("kind: ")) {
            assert!(
                built.contains(line),
                "{}: {line} missing from\n{built}",
                case.name
            );
        }
        // Kustomize keeps every object: one `kind:` line per document.
        assert_eq!(
            built.lines().filter(|l| l.starts_with("kind: ")).count(),
            manifests.matches("---\n").count(),
            "{}",
            case.name
        );
    }
}

fn kustomize(dir: &Path) -> std::process::Output {
    Command::new(KUBECTL)
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs")
}
