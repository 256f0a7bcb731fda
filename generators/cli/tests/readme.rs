//! The README's first command (the main job) works as written and from a prod-shaped
//! configuration: it generates manifests without an error or a warning.

use std::path::Path;
use std::process::Command;

#[test]
fn the_readme_main_command_generates_manifests_quietly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|line| line.starts_with("cargo run") && line.contains("kube-gen"))
        .expect("the README's main command");
    let args: Vec<&str> = command
        .split_once(" -- ")
        .expect("cargo run ... -- ARGS")
        .1
        .split_whitespace()
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(&args)
        .current_dir(&root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command}\n{stderr}");
    assert!(stderr.is_empty(), "{command}\n{stderr}");
    let yaml = String::from_utf8(output.stdout).unwrap();
    assert!(yaml.contains("kind: Deployment"), "{yaml}");
    assert!(
        !yaml.contains("127.0.0.1"),
        "a prod-shaped configuration: {yaml}"
    );
}
