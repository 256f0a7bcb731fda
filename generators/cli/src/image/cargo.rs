//! Finding the service binary when `--binary` is not given: `cargo build [--release] --bin
//! NAME` in the service's package (the nearest directory above the proto with a
//! Cargo.toml), and the executable that cargo reports having built.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, TargetKind};

/// Why the binary could not be built or found.
#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    #[error(
        "no Cargo.toml in {} or above it: give the service binary with --binary PATH",
        proto_dir.display()
    )]
    NoPackage { proto_dir: PathBuf },
    #[error("cannot run cargo: {0}")]
    Spawn(std::io::Error),
    #[error("cannot read cargo's messages: {0}")]
    Messages(std::io::Error),
    #[error("`cargo build --bin {bin}` in {} failed ({status})", dir.display())]
    Failed {
        bin: String,
        dir: PathBuf,
        status: std::process::ExitStatus,
    },
    #[error(
        "cargo built no binary named `{bin}` in {}: name it with --bin NAME, or give it with --binary PATH",
        dir.display()
    )]
    NoBinary { bin: String, dir: PathBuf },
}

/// The nearest directory holding `proto` that has a Cargo.toml: the service's package.
pub fn package_dir(proto: &Path) -> Result<PathBuf, CargoError> {
    let proto_dir = std::path::absolute(proto)
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_default();
    proto_dir
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file())
        .map(Path::to_owned)
        .ok_or(CargoError::NoPackage { proto_dir })
}

/// Builds the binary `bin` of the package in `dir` and returns the executable's path.
/// cargo's own progress and diagnostics go to stderr as usual.
pub fn build(dir: &Path, bin: &str, release: bool) -> Result<PathBuf, CargoError> {
    // CARGO is set when this runs under cargo (`cargo run`, tests): the same toolchain.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(dir).args([
        "build",
        "--message-format=json-render-diagnostics",
        "--bin",
        bin,
    ]);
    if release {
        command.arg("--release");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(CargoError::Spawn)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut executable = None;
    for message in Message::parse_stream(BufReader::new(stdout)) {
        if let Message::CompilerArtifact(artifact) = message.map_err(CargoError::Messages)? {
            let is_bin = artifact.target.kind.contains(&TargetKind::Bin);
            if is_bin && artifact.target.name == bin {
                executable = artifact.executable.map(PathBuf::from);
            }
        }
    }
    let status = child.wait().map_err(CargoError::Spawn)?;
    if !status.success() {
        return Err(CargoError::Failed {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            status,
        });
    }
    executable.ok_or_else(|| CargoError::NoBinary {
        bin: bin.to_owned(),
        dir: dir.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_is_the_nearest_directory_with_a_cargo_toml() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("svc");
        std::fs::create_dir_all(package.join("proto/deep")).unwrap();
        std::fs::write(package.join("Cargo.toml"), "").unwrap();
        let proto = package.join("proto/deep/svc.proto");
        assert_eq!(package_dir(&proto).unwrap(), package);
    }

    #[test]
    fn no_package_asks_for_the_binary() {
        let err = package_dir(Path::new("/svc.proto")).unwrap_err();
        assert!(err.to_string().contains("--binary"), "{err}");
    }
}
