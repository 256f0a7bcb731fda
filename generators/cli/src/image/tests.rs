//! The image of a real dynamically linked binary of this machine (a small one, so the
//! tests compress little).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::*;

fn executable() -> PathBuf {
    PathBuf::from("/bin/true")
}

fn request(binary: &Path, epoch: u64) -> Request<'_> {
    Request {
        name: "svc",
        version: "v1",
        repository: Some("registry.acme.dev/svc"),
        binary,
        ca_bundle: Path::new(rootfs::CA_CERTIFICATES),
        epoch,
    }
}

/// The paths of a layer's entries.
fn paths(blob: &oci::Blob) -> Vec<String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(blob.bytes.as_slice())
        .read_to_end(&mut tar)
        .unwrap();
    tar::Archive::new(tar.as_slice())
        .entries()
        .unwrap()
        .map(|e| format!("/{}", e.unwrap().path().unwrap().display()))
        .collect()
}

#[test]
fn the_base_layer_holds_the_loader_libraries_certificates_and_users() {
    let binary = executable();
    let image = build(&request(&binary, 0)).unwrap();
    assert_eq!(image.layers.len(), 2);
    let base = paths(&image.layers[0]);
    let runtime = elf::runtime_files(
        &binary,
        &loader::SystemDirs::read(Path::new(loader::LD_SO_CONF)),
    )
    .unwrap();
    let interpreter = runtime.interpreter.unwrap();
    for expected in runtime.libraries.iter().chain([&interpreter]) {
        let expected = expected.display().to_string();
        assert!(base.contains(&expected), "{expected} not in {base:?}");
    }
    for expected in [
        rootfs::CA_CERTIFICATES,
        "/etc/passwd",
        "/etc/group",
        "/tmp/",
    ] {
        assert!(
            base.iter().any(|p| p == expected),
            "{expected} not in {base:?}"
        );
    }
    assert_eq!(
        paths(&image.layers[1]),
        [
            "/usr/",
            "/usr/local/",
            "/usr/local/bin/",
            "/usr/local/bin/svc"
        ]
    );
    let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/svc"])
    );
    assert_eq!(config["config"]["User"], "65532:65532");
    let labels = &config["config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.title"], "svc");
    assert_eq!(labels["org.opencontainers.image.version"], "v1");
    assert_eq!(labels[LABEL_SERVICE_REPOSITORY], "registry.acme.dev/svc");
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
}

#[test]
fn the_same_inputs_give_the_same_digest_and_another_time_another() {
    let binary = executable();
    let first = build(&request(&binary, 0)).unwrap();
    let second = build(&request(&binary, 0)).unwrap();
    assert_eq!(first.manifest.digest, second.manifest.digest);
    assert_eq!(first, second);
    let later = build(&request(&binary, 1_700_000_000)).unwrap();
    assert_ne!(first.manifest.digest, later.manifest.digest);
    let config: serde_json::Value = serde_json::from_slice(&later.config.bytes).unwrap();
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
}

#[test]
fn a_layout_is_written_whole_and_read_back_for_its_digest() {
    let binary = executable();
    let image = build(&request(&binary, 0)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("svc.oci");
    layout::write(&out, &image, "v1").unwrap();
    assert_eq!(
        layout::manifest_digest(&out).unwrap(),
        image.manifest.digest
    );
    for blob in image.blobs() {
        let stored = std::fs::read(out.join("blobs/sha256").join(blob.hex())).unwrap();
        assert_eq!(layer::sha256_digest(&stored), blob.digest);
    }
    // Written again over itself: replaced, not merged.
    layout::write(&out, &image, "v1").unwrap();
    assert_eq!(
        layout::manifest_digest(&out).unwrap(),
        image.manifest.digest
    );
    // Nothing left beside it.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}

#[test]
fn a_directory_that_is_not_a_layout_is_left_alone() {
    let binary = executable();
    let image = build(&request(&binary, 0)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = layout::write(dir.path(), &image, "v1").unwrap_err();
    assert!(
        matches!(err, layout::LayoutError::NotALayout { .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
    let err = layout::manifest_digest(dir.path()).unwrap_err();
    assert!(err.to_string().contains("index.json"), "{err}");
}
