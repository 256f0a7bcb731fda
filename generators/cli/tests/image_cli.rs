//! `harness image` as a command, with a given binary (no cargo, no container tools): the
//! digest on stdout and nothing else, the layout it names, and clear refusals that leave no
//! output behind.

use std::path::Path;
use std::process::{Command, Output};

/// A small dynamically linked binary of this machine.
const BINARY: &str = "/bin/true";

fn harness(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the harness binary runs")
}

/// A service proto in `dir` with the given service options.
fn proto(dir: &Path, options: &str) {
    std::fs::write(
        dir.join("svc.proto"),
        format!(
            "syntax = \"proto3\";\npackage svc;\nimport \"harness/wire.proto\";\nmessage Configuration {{\n{options}\n}}\n"
        ),
    )
    .unwrap();
}

fn failed(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing on stdout on error");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn prints_the_digest_of_the_layout_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    proto(dir.path(), r#"option (harness.service).name = "svc";"#);
    let output = harness(
        dir.path(),
        &[
            "image",
            "svc.proto",
            "--binary",
            BINARY,
            "--tag",
            "acme/svc:v2",
            "--output",
            "out",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let digest = String::from_utf8(output.stdout).unwrap();
    let index = std::fs::read_to_string(dir.path().join("out/index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    assert_eq!(digest.trim(), index["manifests"][0]["digest"]);
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v2"
    );
    assert!(stderr.contains("wrote out"), "{stderr}");
}

#[test]
fn a_push_without_a_repository_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    proto(dir.path(), r#"option (harness.service).name = "svc";"#);
    let stderr = failed(&harness(
        dir.path(),
        &["image", "svc.proto", "--binary", BINARY, "--push"],
    ));
    assert!(
        stderr.contains("--tag") && stderr.contains("repository"),
        "{stderr}"
    );
}

#[test]
fn a_service_without_a_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    proto(dir.path(), "");
    let stderr = failed(&harness(
        dir.path(),
        &["image", "svc.proto", "--binary", BINARY],
    ));
    assert!(stderr.contains("(harness.service).name"), "{stderr}");
}

#[test]
fn a_binary_that_is_not_elf_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    proto(dir.path(), r#"option (harness.service).name = "svc";"#);
    std::fs::write(dir.path().join("run.sh"), "#!/bin/sh\n").unwrap();
    let stderr = failed(&harness(
        dir.path(),
        &[
            "image",
            "svc.proto",
            "--binary",
            "run.sh",
            "--output",
            "out",
        ],
    ));
    assert!(
        stderr.contains("run.sh") && stderr.contains("not an ELF"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_tag_with_a_digest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    proto(dir.path(), r#"option (harness.service).name = "svc";"#);
    let tag = format!("acme/svc@sha256:{}", "0".repeat(64));
    let stderr = failed(&harness(
        dir.path(),
        &["image", "svc.proto", "--binary", BINARY, "--tag", &tag],
    ));
    assert!(stderr.contains("REPOSITORY:VERSION"), "{stderr}");
}
