//! `harness kube-gen --image-digest` and `--image-layout`: the pod runs
//! `REPOSITORY@DIGEST`, the version label stays VERSION, and a bad digest or layout is a
//! usage error with nothing on stdout.

mod kube_common;

use kube_common::harness;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn kube_gen(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["kube-gen", "kirk.proto", "kirk.yaml", "v1.2.3"];
    args.extend_from_slice(extra);
    harness(&args)
}

fn succeeded(output: std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn failed(output: std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing on stdout on error");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_digest_pins_the_image_and_keeps_the_version_label() {
    let yaml = succeeded(kube_gen(&["--image-digest", DIGEST]));
    assert!(
        yaml.contains(&format!("image: registry.acme.dev/team/kirk@{DIGEST}\n")),
        "{yaml}"
    );
    assert!(yaml.contains("app.kubernetes.io/version: v1.2.3"), "{yaml}");
    assert!(!yaml.contains("kirk:v1.2.3"), "{yaml}");
    let unpinned = succeeded(kube_gen(&[]));
    assert!(
        unpinned.contains("image: registry.acme.dev/team/kirk:v1.2.3\n"),
        "{unpinned}"
    );
}

#[test]
fn a_knative_service_is_pinned_too() {
    let yaml = succeeded(kube_gen(&["--image-digest", DIGEST, "--target", "knative"]));
    assert!(yaml.contains(&format!("@{DIGEST}\n")), "{yaml}");
}

#[test]
fn a_bad_digest_is_a_usage_error_naming_it() {
    for bad in ["v1", "sha256:xyz", "sha256:0123"] {
        let stderr = failed(kube_gen(&["--image-digest", bad]));
        assert!(stderr.contains(&format!("`{bad}`")), "{stderr}");
    }
}

#[test]
fn a_directory_that_is_not_a_layout_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failed(kube_gen(&["--image-layout", dir.path().to_str().unwrap()]));
    assert!(stderr.contains("index.json"), "{stderr}");
}

#[test]
fn digest_and_layout_exclude_each_other() {
    let stderr = failed(kube_gen(&["--image-digest", DIGEST, "--image-layout", "."]));
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
