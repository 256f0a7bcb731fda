//! The services' binaries: each service's Cargo package is the nearest `Cargo.toml`
//! above its proto, whose name and binary cargo itself reports (`cargo metadata`); the
//! packages of one workspace are built in one `cargo build`, its progress on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// A service's Cargo package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// The binary the service runs as.
    pub bin: String,
    pub workspace_root: PathBuf,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The package whose directory holds `proto` (or a directory above it).
pub fn package_of(proto: &Path) -> Result<Package, String> {
    let proto = std::path::absolute(proto).map_err(|err| format!("{}: {err}", proto.display()))?;
    let manifest = proto
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("Cargo.toml"))
        .find(|manifest| manifest.is_file())
        .ok_or_else(|| format!("no Cargo.toml in a directory above {}", proto.display()))?;
    let output = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed on {}", manifest.display()));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("cargo metadata printed no JSON: {err}"))?;
    package_in(&metadata, &manifest)
        .ok_or_else(|| format!("{} names no package with a binary", manifest.display()))
}

/// The package of `manifest` in cargo's metadata, with its binary (the one named as the
/// package, or else its first).
fn package_in(metadata: &Value, manifest: &Path) -> Option<Package> {
    let same = |path: &str| {
        let path = Path::new(path);
        path == manifest || path.canonicalize().ok() == manifest.canonicalize().ok()
    };
    let package = metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["manifest_path"].as_str().is_some_and(same))?;
    let name = package["name"].as_str()?.to_owned();
    let bins: Vec<&str> = package["targets"]
        .as_array()?
        .iter()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect();
    let bin = bins
        .iter()
        .find(|b| **b == name)
        .or(bins.first())?
        .to_string();
    Some(Package {
        name,
        bin,
        workspace_root: PathBuf::from(metadata["workspace_root"].as_str()?),
    })
}

/// Builds `packages` (debug, or with `release`) and returns each binary's path by name.
pub fn build(packages: &[Package], release: bool) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut by_workspace: BTreeMap<&Path, Vec<&Package>> = BTreeMap::new();
    for package in packages {
        by_workspace
            .entry(&package.workspace_root)
            .or_default()
            .push(package);
    }
    let mut binaries = BTreeMap::new();
    for (root, packages) in by_workspace {
        let mut command = cargo();
        command
            .current_dir(root)
            .args(["build", "--message-format=json-render-diagnostics"]);
        // Two instances of one service are one package, built once.
        let mut names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in &names {
            command.args(["-p", name]);
        }
        if release {
            command.arg("--release");
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if !output.status.success() {
            return Err(format!("cargo build of {} failed", names.join(", ")));
        }
        binaries.extend(executables(&output.stdout));
    }
    Ok(binaries)
}

/// The executables cargo's JSON messages report, by target name.
fn executables(messages: &[u8]) -> impl Iterator<Item = (String, PathBuf)> + '_ {
    messages.split(|b| *b == b'\n').filter_map(|line| {
        let message: Value = serde_json::from_slice(line).ok()?;
        let executable = message["executable"].as_str()?;
        let name = message["target"]["name"].as_str()?;
        Some((name.to_owned(), PathBuf::from(executable)))
    })
}
