//! Loading a configuration: YAML → JSON, `--merge` (RFC 7386) and `--patch` (RFC 6902),
//! the proto3 JSON mapping onto the `Configuration` message, then validation.
//!
//! `harness check`, `harness kube-gen` and a running service all load through [`load`],
//! so a configuration that checks is the configuration that runs.

use std::fs;
use std::path::{Path, PathBuf};

use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde_json::Value;

mod decode;
mod error;
mod redact;
mod secrets;
mod yaml;

pub use error::{ConfigError, Diagnostic, ErrorKind, Position};
pub use redact::is_secret_field;

use secrets::{Origin, SecretPaths};
use yaml::Step;

/// One input file, kept as text: positions are found in it on errors, and kube-gen
/// ships it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
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
    let loaded = Loaded::new(sources)?;
    let message = decode::decode(descriptor, &loaded.value).map_err(|failure| {
        let found = decode::value_at(&loaded.value, &failure.steps).filter(|_| failure.show_value);
        let message = match found {
            Some(value) => format!(
                "invalid value {}: {}",
                loaded.render(&failure.steps, value, failure.field.as_ref()),
                failure.expected
            ),
            None => failure.expected,
        };
        ConfigError::Parse(loaded.diagnostic(
            &failure.steps,
            Some(failure.path.to_string()),
            message,
        ))
    })?;
    crate::validate::validate(&message).map_err(|violations| {
        let diagnostics = violations
            .iter()
            .map(|violation| {
                let steps = field_steps(&violation.path);
                let field = redact::field_at(descriptor, &violation.path);
                let message = match &violation.value {
                    Some(shown) => {
                        let value = decode::value_at(&loaded.value, &steps);
                        let rendered = match value {
                            Some(value) => loaded.render(&steps, value, field.as_ref()),
                            None => shown.clone(),
                        };
                        format!("invalid value {rendered}: {}", violation.message)
                    }
                    None => violation.message.clone(),
                };
                loaded.diagnostic(&steps, Some(violation.path.to_string()), message)
            })
            .collect();
        ConfigError::Validation(diagnostics)
    })?;
    Ok(message)
}

/// A diagnostic about the value at `path` of a configuration that loaded (for kube-gen's
/// and the system graph's errors): located in the file that set the value, the merge or
/// patch file included. The files are parsed again: this is for the error path only.
pub fn locate(sources: &Sources, path: &crate::path::FieldPath, message: String) -> Diagnostic {
    let shown = Some(path.to_string());
    match Loaded::new(sources) {
        Ok(loaded) => loaded.diagnostic(&field_steps(path), shown, message),
        Err(_) => Diagnostic {
            file: Some(sources.config.path.clone()),
            position: None,
            path: shown,
            message,
        },
    }
}

/// The merged and patched JSON value, with what is needed to explain errors in it.
struct Loaded<'a> {
    sources: &'a Sources,
    value: Value,
    secrets: SecretPaths,
}

impl<'a> Loaded<'a> {
    fn new(sources: &'a Sources) -> Result<Self, ConfigError> {
        let mut value = parse(&sources.config)?;
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
        let merge = sources.merge.as_ref().map(parse).transpose()?;
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
        let patch = sources.patch.as_ref().map(parse).transpose()?;
        if let (Some(patch), Some(source)) = (&patch, &sources.patch) {
            apply_patch(&mut value, patch, source)?;
        }
        Ok(Loaded {
            sources,
            value,
            secrets: SecretPaths::new(merge.as_ref(), patch.as_ref()),
        })
    }

    /// A diagnostic located in the file the value at `steps` came from.
    fn diagnostic(&self, steps: &[Step], path: Option<String>, message: String) -> Diagnostic {
        let (source, position) = match self.secrets.origin(steps) {
            Origin::Config => (
                &self.sources.config,
                yaml::position_of(&self.sources.config.text, steps),
            ),
            Origin::Merge => {
                let source = self
                    .sources
                    .merge
                    .as_ref()
                    .expect("a merge origin has a merge file");
                (source, yaml::position_of(&source.text, steps))
            }
            Origin::Patch { operation, rest } => {
                let source = self
                    .sources
                    .patch
                    .as_ref()
                    .expect("a patch origin has a patch file");
                let mut in_value =
                    vec![Step::Index(operation), Step::Key(vec!["value".to_owned()])];
                in_value.extend(rest);
                let position = yaml::position_of(&source.text, &in_value)
                    .or_else(|| yaml::position_of(&source.text, &[Step::Index(operation)]));
                (source, position)
            }
        };
        Diagnostic {
            file: Some(source.path.clone()),
            position,
            path: path.filter(|p| !p.is_empty() && p != "(root)"),
            message,
        }
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

fn parse(source: &Source) -> Result<Value, ConfigError> {
    yaml::to_json(&source.text).map_err(|err| {
        ConfigError::Parse(Diagnostic {
            file: Some(source.path.clone()),
            position: err.position,
            path: None,
            message: err.message,
        })
    })
}

fn apply_patch(value: &mut Value, patch: &Value, source: &Source) -> Result<(), ConfigError> {
    let fail = |position: Option<Position>, message: String| {
        ConfigError::Parse(Diagnostic {
            file: Some(source.path.clone()),
            position,
            path: None,
            message,
        })
    };
    let Value::Array(operations) = patch else {
        return Err(fail(
            None,
            format!(
                "a patch file must be a list of JSON Patch operations, found {}",
                kind_of(patch)
            ),
        ));
    };
    let mut parsed = Vec::with_capacity(operations.len());
    for (index, operation) in operations.iter().enumerate() {
        let at = yaml::position_of(&source.text, &[Step::Index(index)]);
        // The value is not echoed: a patch usually carries secrets.
        let operation = serde_json::from_value::<json_patch::PatchOperation>(operation.clone())
            .map_err(|err| {
                let reason = err.to_string();
                let reason = reason
                    .split(", expected")
                    .next()
                    .unwrap_or(&reason)
                    .to_owned();
                fail(
                    at,
                    format!(
                        "operation {index} is not a JSON Patch operation: {}",
                        redact::without_values(&reason)
                    ),
                )
            })?;
        parsed.push(operation);
    }
    json_patch::patch(value, &parsed).map_err(|err| {
        let index = err.operation;
        let at = yaml::position_of(&source.text, &[Step::Index(index)]);
        let op = operations[index]
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let reason = match err.kind {
            json_patch::PatchErrorKind::TestFailed => "the value does not match".to_owned(),
            json_patch::PatchErrorKind::InvalidFromPointer => {
                "its `from` path does not exist".to_owned()
            }
            json_patch::PatchErrorKind::InvalidPointer => "its path does not exist".to_owned(),
            json_patch::PatchErrorKind::CannotMoveInsideItself => {
                "cannot move a value inside itself".to_owned()
            }
            _ => "it cannot be applied".to_owned(),
        };
        fail(
            at,
            format!("operation {index} ({op} {}) failed: {reason}", err.path),
        )
    })
}

fn kind_of(value: &Value) -> &'static str {
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
