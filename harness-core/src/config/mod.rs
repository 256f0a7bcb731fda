//! Loading a configuration: YAML → JSON, `--merge` (RFC 7386) and `--patch` (RFC 6902),
//! the proto3 JSON mapping onto the `Configuration` message, then validation.
//!
//! `harness check`, `harness kube-gen` and a running service all load through [`load`],
//! so a configuration that checks is the configuration that runs.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde_json::Value;

mod decode;
mod error;
pub mod limits;
mod patch;
mod prepare;
mod redact;
mod secrets;
mod yaml;

pub use error::{ConfigError, Diagnostic, ErrorKind, Position};
pub use redact::is_secret_field;
pub use yaml::Step;

use limits::MAX_FILE_BYTES;
use secrets::{Origin, SecretPaths};

/// One input file, kept as text: positions are found in it on errors, and kube-gen
/// ships it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// Reads `path`, at most [`MAX_FILE_BYTES`] of it: a larger file (or `/dev/zero`) is
    /// an error, not a process that reads without end.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let failed = |source: io::Error| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(failed)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_owned(),
                limit: MAX_FILE_BYTES,
            });
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| failed(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")))?;
        Ok(Source {
            path: path.to_owned(),
            text,
        })
    }

    /// A source from text, named `path` in messages.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The files that make up a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub config: Source,
    /// Merged into the configuration (RFC 7386); its values are secret.
    pub merge: Option<Source>,
    /// Applied after the merge (RFC 6902); the values it writes are secret.
    pub patch: Option<Source>,
}

impl Sources {
    pub fn read(
        config: &Path,
        merge: Option<&Path>,
        patch: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        Ok(Sources {
            config: Source::read(config)?,
            merge: merge.map(Source::read).transpose()?,
            patch: patch.map(Source::read).transpose()?,
        })
    }
}

/// Loads and validates a configuration message of type `descriptor` from `sources`.
pub fn load(
    descriptor: &MessageDescriptor,
    sources: &Sources,
) -> Result<DynamicMessage, ConfigError> {
    let mut loaded = Loaded::new(descriptor, sources)?;
    let message = decode::decode(descriptor, &mut loaded.value)
        .map_err(|failure| loaded.decode_error(failure))?;
    crate::validate::validate(&message)
        .map_err(|violations| loaded.validation_error(descriptor, &violations))?;
    Ok(message)
}

/// The configuration's JSON value with `--merge` and `--patch` applied, before the proto3
/// JSON mapping: what a JSON Schema of the configuration (`harness schema`) describes.
pub fn merged_value(
    descriptor: &MessageDescriptor,
    sources: &Sources,
) -> Result<Value, ConfigError> {
    Loaded::new(descriptor, sources).map(|loaded| loaded.value)
}

/// A diagnostic about the value at `path` of a configuration of `descriptor` that loaded
/// (for kube-gen's and the system graph's errors): located in the file that set the
/// value, the merge or patch file included. The files are parsed again: this is for the
/// error path only.
pub fn locate(
    descriptor: &MessageDescriptor,
    sources: &Sources,
    path: &crate::path::FieldPath,
    message: String,
) -> Diagnostic {
    let shown = Some(path.to_string());
    match Loaded::new(descriptor, sources) {
        Ok(loaded) => loaded
            .diagnostics(vec![(field_steps(path), shown, message)])
            .remove(0),
        Err(_) => Diagnostic {
            file: Some(sources.config.path.clone()),
            position: None,
            path: shown,
            message,
        },
    }
}

/// The file a value of the configuration was last written by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InFile {
    Config,
    Merge,
    Patch,
}

/// The merged and patched JSON value, with what is needed to explain errors in it.
struct Loaded<'a> {
    sources: &'a Sources,
    value: Value,
    secrets: SecretPaths,
}

impl<'a> Loaded<'a> {
    fn new(descriptor: &MessageDescriptor, sources: &'a Sources) -> Result<Self, ConfigError> {
        let mut value = parse(&sources.config, Some(descriptor))?;
        match value {
            Value::Object(_) => {}
            Value::Null => value = Value::Object(Default::default()),
            ref other => {
                return Err(ConfigError::Parse(Diagnostic {
                    file: Some(sources.config.path.clone()),
                    position: Some(Position { line: 1, column: 1 }),
                    path: None,
                    message: format!(
                        "the configuration must be a mapping, found {}",
                        kind_of(other)
                    ),
                }));
            }
        }
        // The values of merge and patch files are secret: the parser's errors in them
        // never show a value.
        let merge = sources.merge.as_ref().map(|s| parse(s, None)).transpose()?;
        if let (Some(merge), Some(source)) = (&merge, &sources.merge) {
            if !merge.is_object() {
                return Err(ConfigError::Parse(Diagnostic {
                    file: Some(source.path.clone()),
                    position: None,
                    path: None,
                    message: format!("a merge file must be a mapping, found {}", kind_of(merge)),
                }));
            }
            json_patch::merge(&mut value, merge);
        }
        let patch = sources.patch.as_ref().map(|s| parse(s, None)).transpose()?;
        if let (Some(patch), Some(source)) = (&patch, &sources.patch) {
            patch::apply(&mut value, patch, source)?;
        }
        Ok(Loaded {
            sources,
            value,
            secrets: SecretPaths::new(merge.as_ref(), patch.as_ref()),
        })
    }

    fn decode_error(&self, failure: decode::DecodeFailure) -> ConfigError {
        let found = decode::value_at(&self.value, &failure.steps).filter(|_| failure.show_value);
        let message = match found {
            Some(value) => format!(
                "invalid value {}: {}",
                self.render(&failure.steps, value, failure.field.as_ref()),
                failure.expected
            ),
            None => failure.expected,
        };
        let path = Some(failure.path.to_string());
        let mut diagnostics = self.diagnostics(vec![(failure.steps, path, message)]);
        ConfigError::Parse(diagnostics.remove(0))
    }

    fn validation_error(
        &self,
        descriptor: &MessageDescriptor,
        violations: &[crate::validate::Violation],
    ) -> ConfigError {
        let items = violations
            .iter()
            .map(|violation| {
                let steps = field_steps(&violation.path);
                let message = match &violation.value {
                    Some(shown) => {
                        let field = decode::field_at(descriptor, &steps);
                        let rendered = match decode::value_at(&self.value, &steps) {
                            Some(value) => self.render(&steps, value, field.as_ref()),
                            // The validator's own rendering, for a value not written in
                            // any file (a default).
                            None if field.as_ref().is_some_and(redact::is_secret_field)
                                || self.secrets.is_secret(&steps) =>
                            {
                                redact::REDACTED.to_owned()
                            }
                            None => redact::capped(shown).into_owned(),
                        };
                        format!("invalid value {rendered}: {}", violation.message)
                    }
                    None => violation.message.clone(),
                };
                (steps, Some(violation.path.to_string()), message)
            })
            .collect();
        ConfigError::Validation(self.diagnostics(items))
    }

    /// Diagnostics located in the files their values came from, each file read once for
    /// the positions of all of them.
    fn diagnostics(&self, items: Vec<(Vec<Step>, Option<String>, String)>) -> Vec<Diagnostic> {
        // Each item: its file, and the paths to look for there, best first.
        let wanted: Vec<(InFile, Vec<Vec<Step>>)> = items
            .iter()
            .map(|(steps, _, _)| match self.secrets.origin(steps) {
                Origin::Config => (InFile::Config, vec![steps.clone()]),
                Origin::Merge => (InFile::Merge, vec![steps.clone()]),
                Origin::Patch { operation, rest } => {
                    let mut in_value =
                        vec![Step::Index(operation), Step::Key(vec!["value".to_owned()])];
                    in_value.extend(rest);
                    (InFile::Patch, vec![in_value, vec![Step::Index(operation)]])
                }
            })
            .collect();
        let mut positions: Vec<Option<Position>> = vec![None; items.len()];
        for file in [InFile::Config, InFile::Merge, InFile::Patch] {
            let paths: Vec<(usize, &[Step])> = wanted
                .iter()
                .enumerate()
                .filter(|(_, (in_file, _))| *in_file == file)
                .flat_map(|(item, (_, paths))| paths.iter().map(move |p| (item, p.as_slice())))
                .collect();
            if paths.is_empty() {
                continue;
            }
            let just_paths: Vec<&[Step]> = paths.iter().map(|(_, path)| *path).collect();
            let found = yaml::positions_of(&self.source(file).text, &just_paths);
            for ((item, _), position) in paths.iter().zip(found) {
                positions[*item] = positions[*item].or(position);
            }
        }
        items
            .into_iter()
            .zip(wanted)
            .zip(positions)
            .map(|(((_, path, message), (file, _)), position)| Diagnostic {
                file: Some(self.source(file).path.clone()),
                position,
                path: path.filter(|p| !p.is_empty() && p != "(root)"),
                message,
            })
            .collect()
    }

    fn source(&self, file: InFile) -> &Source {
        let source = match file {
            InFile::Config => Some(&self.sources.config),
            InFile::Merge => self.sources.merge.as_ref(),
            InFile::Patch => self.sources.patch.as_ref(),
        };
        source.expect("a value comes from a file that was given")
    }

    /// `value` as shown in a message: redacted when it is secret.
    fn render(
        &self,
        steps: &[Step],
        value: &Value,
        field: Option<&prost_reflect::FieldDescriptor>,
    ) -> String {
        if self.secrets.is_secret(steps) {
            return redact::REDACTED.to_owned();
        }
        redact::render(value, field)
    }
}

/// The JSON value of one YAML file, read by the same rules and bounds as [`load`]; no
/// value is quoted in its errors.
pub fn read_yaml(source: &Source) -> Result<Value, ConfigError> {
    parse(source, None)
}

/// Where the value at `path` starts in a file read with [`read_yaml`], for errors about
/// YAML files that are not configurations (a system file); `None` when it is not there.
pub fn position_in(source: &Source, path: &[Step]) -> Option<Position> {
    yaml::position_of(&source.text, path)
}

/// Parses one file. `descriptor` is the configuration's message for the configuration
/// file, so that a value of a secret field is not shown; `None` for a secret file, none
/// of whose values is shown.
fn parse(source: &Source, descriptor: Option<&MessageDescriptor>) -> Result<Value, ConfigError> {
    yaml::to_json(&source.text).map_err(|err| {
        let quote: &dyn Fn(&str) -> String = &redact::quote;
        let show = descriptor
            .filter(|descriptor| {
                !decode::field_at(descriptor, &err.steps)
                    .is_some_and(|field| redact::is_secret_field(&field))
            })
            .map(|_| quote);
        ConfigError::Parse(Diagnostic {
            file: Some(source.path.clone()),
            position: err.position,
            path: None,
            message: err.message(show),
        })
    })
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The document steps of a field path: each field by either of its names.
fn field_steps(path: &crate::path::FieldPath) -> Vec<Step> {
    use crate::path::Segment;
    path.segments()
        .iter()
        .map(|segment| match segment {
            Segment::Field { name, json_name } => Step::Key(vec![name.clone(), json_name.clone()]),
            Segment::Index(index) => Step::Index(*index),
            Segment::Key(key) => Step::Key(vec![key.clone()]),
        })
        .collect()
}

#[cfg(test)]
mod tests;
