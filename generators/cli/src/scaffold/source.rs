//! Where the generated project takes the harness crates from: a checkout by path, or the
//! registry by this command's version.

use std::path::{Path, PathBuf};

use super::ScaffoldError;

/// The harness crates a service depends on and their folders in a checkout.
const CRATES: [(&str, &str); 3] = [
    ("harness", "harness"),
    ("harness-wires", "wires"),
    ("harness-build", "generators/build"),
];

/// The source of the `harness`, `harness-wires` and `harness-build` dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A harness checkout (absolute, UTF-8).
    Path(PathBuf),
    /// The registry, at this version.
    Version(String),
}

impl Source {
    /// The checkout `dir` when given (it must be one), else the checkout this command
    /// was built from when it is still there, else the registry at this command's version.
    pub fn choose(dir: Option<&Path>) -> Result<Source, ScaffoldError> {
        match dir {
            Some(dir) => Source::checkout(dir),
            None => {
                let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
                Ok(Source::checkout(&built_from)
                    .unwrap_or_else(|_| Source::Version(env!("CARGO_PKG_VERSION").to_owned())))
            }
        }
    }

    /// A harness checkout: `dir` holds each crate's Cargo.toml.
    pub fn checkout(dir: &Path) -> Result<Source, ScaffoldError> {
        let not_a_checkout = |reason: String| ScaffoldError::HarnessPath {
            path: dir.to_owned(),
            reason,
        };
        let dir = dir
            .canonicalize()
            .map_err(|error| not_a_checkout(error.to_string()))?;
        if dir.to_str().is_none() {
            return Err(not_a_checkout("the path is not UTF-8".into()));
        }
        for (name, folder) in CRATES {
            if !dir.join(folder).join("Cargo.toml").is_file() {
                return Err(not_a_checkout(format!(
                    "no {folder}/Cargo.toml (crate {name})"
                )));
            }
        }
        Ok(Source::Path(dir))
    }

    /// The TOML value of the dependency on `name` (one of the harness crates), with
    /// `features`: `"0.1.0"`, `{ path = "/src/harness/wires", features = ["http"] }`.
    pub fn dependency(&self, name: &str, features: &[&str]) -> String {
        let location = match self {
            Source::Path(dir) => {
                let folder = CRATES
                    .iter()
                    .find(|(crate_name, _)| *crate_name == name)
                    .map_or(name, |(_, folder)| folder);
                format!(
                    "path = {}",
                    toml_string(&dir.join(folder).to_string_lossy())
                )
            }
            Source::Version(version) => format!("version = {}", toml_string(version)),
        };
        if features.is_empty() {
            return format!("{{ {location} }}");
        }
        let features: Vec<String> = features.iter().map(|f| toml_string(f)).collect();
        format!("{{ {location}, features = [{}] }}", features.join(", "))
    }
}

impl Source {
    /// The checkout's Cargo.lock, as a new project's starting point: the versions the
    /// harness crates were tested with, and no second copy of a crate that a newer
    /// release would bring in. None for the registry or a checkout without one.
    pub fn lockfile(&self) -> Result<Option<String>, ScaffoldError> {
        let Source::Path(dir) = self else {
            return Ok(None);
        };
        let path = dir.join("Cargo.lock");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ScaffoldError::Read { path, source }),
        }
    }
}

/// A TOML basic string: JSON's escapes are TOML's.
fn toml_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn the_checkout_this_command_was_built_from_is_the_default() {
        let expected = repository().canonicalize().unwrap();
        assert_eq!(Source::choose(None).unwrap(), Source::Path(expected));
    }

    #[test]
    fn a_folder_without_the_crates_is_not_a_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let error = Source::choose(Some(dir.path())).unwrap_err().to_string();
        assert!(error.contains("no harness/Cargo.toml"), "{error}");
        let error = Source::checkout(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing"), "{error}");
    }

    #[test]
    fn dependencies_are_toml_values() {
        let source = Source::Path(PathBuf::from("/src/a \"b\""));
        assert_eq!(
            source.dependency("harness-wires", &["http", "postgres"]),
            r#"{ path = "/src/a \"b\"/wires", features = ["http", "postgres"] }"#
        );
        let source = Source::Version("0.1.0".into());
        assert_eq!(
            source.dependency("harness", &[]),
            r#"{ version = "0.1.0" }"#
        );
    }
}
