//! Errors of loading a configuration: each names the file, the position and the path.

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use super::yaml::Position;

/// One problem in a configuration, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the offending value comes from.
    pub file: Option<PathBuf>,
    pub position: Option<Position>,
    /// Path of the value inside the configuration, e.g. `server.bind.port`.
    pub path: Option<String>,
    /// What is wrong, in words; a secret's value is never part of it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(Position { line, column }) = self.position {
                write!(f, ":{line}:{column}")?;
            }
            f.write_str(": ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Which stage failed, for exit codes and message prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// The YAML, a merge or a patch, or the mapping onto the message failed.
    Parse,
    /// The configuration decoded, but breaks a rule.
    Validation,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot read {}: it is larger than {} MiB, the most a configuration file may be",
        path.display(),
        limit / (1024 * 1024)
    )]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{0}")]
    Parse(Diagnostic),
    #[error("{}", lines(.0))]
    Validation(Vec<Diagnostic>),
}

impl ConfigError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::Read { .. } | ConfigError::TooLarge { .. } => ErrorKind::Io,
            ConfigError::Parse(_) => ErrorKind::Parse,
            ConfigError::Validation(_) => ErrorKind::Validation,
        }
    }

    /// Every located problem; empty for I/O errors.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read { .. } | ConfigError::TooLarge { .. } => &[],
            ConfigError::Parse(diagnostic) => std::slice::from_ref(diagnostic),
            ConfigError::Validation(diagnostics) => diagnostics,
        }
    }
}

fn lines(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}
