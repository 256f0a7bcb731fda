//! The whole check of a service's configuration: compile the proto, read its spec, load
//! and validate the configuration. `harness check` and `harness kube-gen` both run it.

use std::path::{Path, PathBuf};

use prost_reflect::DynamicMessage;

use crate::config::{self, ConfigError, ErrorKind, Sources};
use crate::protos::{self, CompileError, Compiled};
use crate::spec::{ConfigSpec, SpecError};

/// A configuration that passed every check, with everything it was checked against.
#[derive(Debug, Clone)]
pub struct Checked {
    pub compiled: Compiled,
    pub spec: ConfigSpec,
    pub sources: Sources,
    /// Merged, patched and validated.
    pub config: DynamicMessage,
}

/// Why a check failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Proto(#[from] CompileError),
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{0}")]
    Config(#[from] ConfigError),
}

impl CheckError {
    /// 1 for a configuration that does not parse or validate; 2 for everything else
    /// (unreadable files, a proto that does not compile or describe a service).
    pub fn exit_code(&self) -> u8 {
        match self {
            CheckError::Config(err) if err.kind() != ErrorKind::Io => 1,
            _ => 2,
        }
    }

    /// How the command line introduces the error: `Parse error: `, `Validation error: `,
    /// or `error: `.
    pub fn prefix(&self) -> &'static str {
        match self {
            CheckError::Config(err) => match err.kind() {
                ErrorKind::Parse => "Parse error: ",
                ErrorKind::Validation => "Validation error: ",
                ErrorKind::Io => "error: ",
            },
            _ => "error: ",
        }
    }

    /// Every line of the error, each with its prefix.
    pub fn report(&self) -> String {
        let text = self.to_string();
        let prefix = self.prefix();
        text.lines()
            .map(|line| format!("{prefix}{line}\n"))
            .collect()
    }
}

/// Checks the configuration in `config` (with `merge` and `patch` applied) against the
/// `Configuration` message of `proto`.
pub fn check_files(
    proto: &Path,
    includes: &[PathBuf],
    config: &Path,
    merge: Option<&Path>,
    patch: Option<&Path>,
) -> Result<Checked, CheckError> {
    let sources = Sources::read(config, merge, patch)?;
    check_sources(proto, includes, sources)
}

/// [`check_files`] with the configuration files already read.
pub fn check_sources(
    proto: &Path,
    includes: &[PathBuf],
    sources: Sources,
) -> Result<Checked, CheckError> {
    let compiled = protos::compile(proto, includes)?;
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name)?;
    let config = config::load(&spec.message, &sources)?;
    Ok(Checked {
        compiled,
        spec,
        sources,
        config,
    })
}
