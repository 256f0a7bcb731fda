//! Writing a project whole or not at all: into a staging directory beside the target,
//! renamed into place once every file is written.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{File, ScaffoldError};

/// Checks that `dir` can receive a new project: it does not exist, or is an empty
/// directory. Nothing is written.
pub fn check_target(dir: &Path) -> Result<(), ScaffoldError> {
    let refuse = |reason: &str| ScaffoldError::Target {
        path: dir.to_owned(),
        reason: reason.to_owned(),
    };
    match fs::symlink_metadata(dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(refuse(&error.to_string())),
        Ok(meta) if !meta.is_dir() => Err(refuse("exists and is not a directory")),
        Ok(_) => match fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(refuse("exists and is not empty")),
            Err(error) => Err(refuse(&error.to_string())),
        },
    }
}

/// Writes `files` as the directory `dir` (see [`check_target`]): all of them, or, on an
/// error, nothing.
pub fn write_project(dir: &Path, files: &[File]) -> Result<(), ScaffoldError> {
    check_target(dir)?;
    if dir.exists() {
        // An empty directory, maybe the working directory: fill it, keep it.
        let staging = Staging::create(dir.join(".harness-new")).map_err(failed(dir))?;
        write_files(&staging.path, files)?;
        return move_entries(&staging.path, dir);
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(failed(&parent))?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let staging =
        Staging::create(parent.join(format!(".{name}.harness-new"))).map_err(failed(&parent))?;
    write_files(&staging.path, files)?;
    fs::rename(&staging.path, dir).map_err(failed(dir))
}

fn failed(path: &Path) -> impl FnOnce(io::Error) -> ScaffoldError {
    let path = path.to_owned();
    move |source| ScaffoldError::Write { path, source }
}

fn write_files(root: &Path, files: &[File]) -> Result<(), ScaffoldError> {
    for file in files {
        let path = root.join(&file.path);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(failed(&path))?;
        }
        fs::write(&path, &file.text).map_err(failed(&path))?;
    }
    Ok(())
}

/// Moves the entries of `from` into `to`; on an error, takes back those it moved.
fn move_entries(from: &Path, to: &Path) -> Result<(), ScaffoldError> {
    let entries: Vec<PathBuf> = fs::read_dir(from)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .map_err(failed(from))?;
    let mut moved = Vec::new();
    for entry in entries {
        let target = to.join(entry.file_name().unwrap_or_default());
        if let Err(source) = fs::rename(&entry, &target) {
            for target in moved {
                let _ = fs::remove_dir_all(&target).or_else(|_| fs::remove_file(&target));
            }
            return Err(ScaffoldError::Write {
                path: target,
                source,
            });
        }
        moved.push(target);
    }
    Ok(())
}

/// A hidden directory the files are written into first, removed when dropped (it is gone
/// already when renamed into place).
struct Staging {
    path: PathBuf,
}

impl Staging {
    /// `path` with this process's id appended, so that two runs do not meet.
    fn create(path: PathBuf) -> io::Result<Staging> {
        let mut path = path.into_os_string();
        path.push(format!("-{}", std::process::id()));
        let path = PathBuf::from(path);
        fs::create_dir(&path)?;
        Ok(Staging { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
