//! The files a service runs with: its configuration, its merge file (the system's, or the
//! system's and `--merge NAME=FILE` merged into one generated file) and one generated
//! JSON Patch (its own patch file's operations, then the plan's), in a temporary
//! directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::system::file::ServiceEntry;

use super::Failure;
use super::plan::ServicePlan;

/// The files a service's configuration is made of.
pub struct Files<'a> {
    pub entry: &'a ServiceEntry,
    /// `--merge NAME=FILE`, merged after the entry's merge file.
    pub local_merge: Option<&'a Path>,
    /// Where the generated files go.
    pub dir: &'a Path,
}

/// The service's command line: its binary, configuration, merge file (the entry's, or
/// the entry's and the local one merged into one file) and the generated patch (its own
/// patch file's operations, then the plan's).
pub fn command(files: &Files<'_>, binary: &Path, plan: &ServicePlan) -> Result<Command, Failure> {
    let entry = files.entry;
    let mut operations = match &entry.patch {
        Some(path) => match read_yaml(path)? {
            Value::Array(operations) => operations,
            _ => {
                return Err(unreadable(
                    path,
                    "a patch file must be a list of operations",
                ));
            }
        },
        None => Vec::new(),
    };
    operations.extend(plan.operations.iter().cloned());
    let patch = write(
        files.dir,
        &format!("{}.patch.json", plan.name),
        Value::Array(operations),
    )?;
    let merge = match (&entry.merge, files.local_merge) {
        (merge, None) => merge.clone(),
        (merge, Some(local)) => {
            let mut merged = match merge {
                Some(path) => read_mapping(path)?,
                None => Value::Object(Default::default()),
            };
            json_patch::merge(&mut merged, &read_mapping(local)?);
            Some(write(
                files.dir,
                &format!("{}.merge.json", plan.name),
                merged,
            )?)
        }
    };
    let mut command = Command::new(binary);
    command.arg(&entry.config);
    if let Some(merge) = merge {
        command.arg("--merge").arg(merge);
    }
    command.arg("--patch").arg(&patch);
    Ok(command)
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> Failure {
    Failure(format!("{}: {reason}", path.display()))
}

/// A YAML (or JSON) file as JSON. It may hold secrets: a parse error never quotes it.
fn read_yaml(path: &Path) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path).map_err(|err| unreadable(path, err))?;
    serde_saphyr::from_str(&text).map_err(|_| unreadable(path, "not a YAML document"))
}

fn read_mapping(path: &Path) -> Result<Value, Failure> {
    let value = read_yaml(path)?;
    if !value.is_object() {
        return Err(unreadable(path, "a merge file must be a mapping"));
    }
    Ok(value)
}

/// Writes `value` as JSON (which YAML reads) to `dir/name`.
fn write(dir: &Path, name: &str, value: Value) -> Result<PathBuf, Failure> {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).map_err(|err| unreadable(&path, err))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(dir: &Path) -> ServiceEntry {
        let merge = dir.join("secrets.yaml");
        std::fs::write(&merge, "db:\n  password: s3cret\n  username: app\n").unwrap();
        let patch = dir.join("patch.yaml");
        std::fs::write(&patch, "- {op: add, path: /db/database, value: prod}\n").unwrap();
        ServiceEntry {
            index: 0,
            proto: dir.join("svc.proto"),
            include: Vec::new(),
            config: dir.join("svc.yaml"),
            merge: Some(merge),
            patch: Some(patch),
            version: "v1".into(),
            instance: None,
            namespace: "default".into(),
        }
    }

    fn plan() -> ServicePlan {
        ServicePlan {
            id: 0,
            name: "svc".into(),
            outputs: Vec::new(),
            operations: vec![json!({"op": "add", "path": "/server/bind/port", "value": 40000})],
        }
    }

    fn read(path: &std::ffi::OsStr) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_services_patch_comes_first_and_the_local_merge_last() {
        let dir = tempfile::tempdir().unwrap();
        let entry = entry(dir.path());
        let local = dir.path().join("local.yaml");
        std::fs::write(&local, "db:\n  username: postgres\n").unwrap();
        let generated = dir.path().join("generated");
        std::fs::create_dir(&generated).unwrap();
        let files = Files {
            entry: &entry,
            local_merge: Some(&local),
            dir: &generated,
        };
        let command = command(&files, Path::new("/bin/svc"), &plan()).unwrap();
        let args: Vec<&std::ffi::OsStr> = command.get_args().collect();
        assert_eq!(args[0], entry.config.as_os_str());
        assert_eq!((args[1], args[3]), ("--merge".as_ref(), "--patch".as_ref()));
        assert_eq!(
            read(args[2]),
            json!({"db": {"password": "s3cret", "username": "postgres"}})
        );
        assert_eq!(
            read(args[4]),
            json!([
                {"op": "add", "path": "/db/database", "value": "prod"},
                {"op": "add", "path": "/server/bind/port", "value": 40000}
            ])
        );
    }

    #[test]
    fn without_a_local_merge_the_services_merge_file_is_passed_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let entry = entry(dir.path());
        let files = Files {
            entry: &entry,
            local_merge: None,
            dir: dir.path(),
        };
        let command = command(&files, Path::new("/bin/svc"), &plan()).unwrap();
        let args: Vec<&std::ffi::OsStr> = command.get_args().collect();
        assert_eq!(args[2], entry.merge.as_ref().unwrap().as_os_str());
    }

    #[test]
    fn a_patch_file_that_is_no_list_is_an_error_without_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let entry = entry(dir.path());
        std::fs::write(entry.patch.as_ref().unwrap(), "password: hunter2\n").unwrap();
        let files = Files {
            entry: &entry,
            local_merge: None,
            dir: dir.path(),
        };
        let Err(Failure(message)) = command(&files, Path::new("/bin/svc"), &plan()) else {
            panic!("a mapping is no patch");
        };
        assert!(message.ends_with("a patch file must be a list of operations"));
        assert!(!message.contains("hunter2"));
    }
}
