//! YAML documents to JSON values, and back from a path to a position in the text.
//!
//! Scalars are resolved by the YAML 1.2 core schema, as most current YAML libraries do,
//! with one guard: a plain scalar that YAML 1.1 (PyYAML, and so the Python harness) reads
//! as a *different* value of the same kind is an error, never a silent change of value.
//! That is a leading-zero integer such as `0755` (octal 493 in YAML 1.1, 755 in 1.2).
//! Words such as `yes`/`no`/`on`/`off` are strings in YAML 1.2; where a boolean is
//! expected the decoder says so and suggests `true`/`false`, so they cannot slip through.
//!
//! The JSON value is built straight from the parser's events, with an explicit stack:
//! nesting costs no native stack, and depth and size are checked as the text is read
//! (see [`super::limits`]).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScanError, Span};
use serde_json::{Map, Value};

use super::limits::{MAX_DEPTH, MAX_VALUES};
use crate::path::{FieldPath, Segment};

mod locate;
mod scalar;

pub use locate::{position_of, positions_of};
pub use scalar::ScalarProblem;

/// A line and column in a text, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn of(span: &Span) -> Self {
        Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A YAML text that is not a configuration document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub position: Option<Position>,
    /// The value the error is about, from the document's root (empty when it is about no
    /// one value): the caller decides from it whether the value may be shown.
    pub steps: Vec<Step>,
    pub problem: Problem,
}

/// What is wrong with a YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The parser's own message.
    Syntax(String),
    Scalar(ScalarProblem),
    MultipleDocuments,
    KeyNotScalar,
    DuplicateKey(String),
    AliasToItself,
    TooDeep,
    TooManyValues,
}

impl YamlError {
    /// What is wrong, in words; `show` quotes a value's text, or is `None` when the value
    /// must not be shown.
    pub fn message(&self, show: Option<&dyn Fn(&str) -> String>) -> String {
        match &self.problem {
            Problem::Syntax(info) => {
                // The one parser message that quotes the text: a single character.
                match info
                    .strip_prefix("unexpected character: `")
                    .and_then(|rest| rest.strip_suffix('\''))
                {
                    Some(c) => match show {
                        Some(quote) => format!("unexpected character {}", quote(c)),
                        None => "unexpected character".to_owned(),
                    },
                    None => info.clone(),
                }
            }
            Problem::Scalar(problem) => problem.message(show),
            Problem::MultipleDocuments => "expected one YAML document, found several".to_owned(),
            Problem::KeyNotScalar => {
                "a mapping key must be a plain value, not a list or a mapping".to_owned()
            }
            Problem::DuplicateKey(key) => {
                format!("duplicated key `{}`", super::redact::capped(key))
            }
            Problem::AliasToItself => "an alias refers to a value that holds it".to_owned(),
            Problem::TooDeep => {
                format!("lists and mappings are nested more than {MAX_DEPTH} levels deep")
            }
            Problem::TooManyValues => format!(
                "the document holds more than {MAX_VALUES} values (aliases counted expanded)"
            ),
        }
    }
}

/// One step down a document: a mapping key or a sequence index.
///
/// The document's own view of a [`FieldPath`]: the parser knows no fields, so a step
/// carries the names a key may be written with; [`Step::along`] derives the steps from a
/// field path, so the schema side owns the path and the document side only reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A mapping key; the first of the names that is present is taken (a field may be
    /// written by its proto name or its JSON name).
    Key(Vec<String>),
    Index(usize),
}

impl Step {
    /// The steps down a document to the value at `path`: a field by its proto name or
    /// its JSON name, a map key as written.
    pub fn along(path: &FieldPath) -> Vec<Step> {
        path.segments()
            .iter()
            .map(|segment| match segment {
                Segment::Field { name, json_name } => {
                    Step::Key(vec![name.clone(), json_name.clone()])
                }
                Segment::Index(index) => Step::Index(*index),
                Segment::Key(key) => Step::Key(vec![key.clone()]),
            })
            .collect()
    }

    /// Whether a JSON pointer token designates this step.
    pub fn matches(&self, token: &str) -> bool {
        match self {
            Step::Key(names) => names.iter().any(|name| name == token),
            Step::Index(index) => token == "-" || token.parse() == Ok(*index),
        }
    }
}

/// Parses one YAML document into a JSON value; an empty text is `null`.
pub fn to_json(text: &str) -> Result<Value, YamlError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|err| builder.scan_error(&err))?;
        builder.on_event(event, &span)?;
    }
    Ok(builder.document.unwrap_or(Value::Null))
}

/// A list or mapping being read.
struct Frame {
    collection: Collection,
    anchor: usize,
    /// [`Builder::values`] before this collection, to count what its alias would copy.
    values_before: usize,
}

enum Collection {
    List(Vec<Value>),
    Mapping {
        object: Map<String, Value>,
        /// The key read, waiting for its value, and where it is.
        key: Option<(String, Position)>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Anchored values, with how many values each holds.
    anchors: HashMap<usize, (Value, usize)>,
    values: usize,
    document: Option<Value>,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: &Span) -> Result<(), YamlError> {
        let list = matches!(event, Event::SequenceStart(..));
        match event {
            Event::DocumentStart(_) if self.document.is_some() => {
                Err(self.error(span, Problem::MultipleDocuments))
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame {
                    collection:
                        Collection::Mapping {
                            key: key @ None, ..
                        },
                    ..
                }) = self.stack.last_mut()
                {
                    *key = Some((text.into_owned(), Position::of(span)));
                    return Ok(());
                }
                self.count(span, 1)?;
                let value = scalar::resolve(&text, style, tag.as_deref())
                    .map_err(|problem| self.error(span, Problem::Scalar(problem)))?;
                self.anchor(anchor, &value, 1);
                self.push(value)
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if self.at_key() {
                    return Err(self.error(span, Problem::KeyNotScalar));
                }
                if let Some(tag) = tag.filter(|tag| {
                    !tag.is_yaml_core_schema() || tag.suffix != if list { "seq" } else { "map" }
                }) {
                    let tag = scalar::tag_text(&tag);
                    return Err(self.error(span, Problem::Scalar(ScalarProblem::Tag(tag))));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.error(span, Problem::TooDeep));
                }
                let values_before = self.values;
                self.count(span, 1)?;
                self.stack.push(Frame {
                    collection: if list {
                        Collection::List(Vec::new())
                    } else {
                        Collection::Mapping {
                            object: Map::new(),
                            key: None,
                        }
                    },
                    anchor,
                    values_before,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().expect("the parser balances collections");
                let value = match frame.collection {
                    Collection::List(items) => Value::Array(items),
                    Collection::Mapping { object, .. } => Value::Object(object),
                };
                self.anchor(frame.anchor, &value, self.values - frame.values_before);
                self.push(value)
            }
            Event::Alias(anchor) => {
                if self.at_key() {
                    return Err(self.error(span, Problem::KeyNotScalar));
                }
                let Some((value, values)) = self.anchors.get(&anchor) else {
                    return Err(self.error(span, Problem::AliasToItself));
                };
                let (value, values) = (value.clone(), *values);
                self.count(span, values)?;
                self.push(value)
            }
            _ => Ok(()),
        }
    }

    fn at_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                collection: Collection::Mapping { key: None, .. },
                ..
            })
        )
    }

    fn count(&mut self, span: &Span, values: usize) -> Result<(), YamlError> {
        self.values = self.values.saturating_add(values);
        if self.values > MAX_VALUES {
            return Err(self.error(span, Problem::TooManyValues));
        }
        Ok(())
    }

    fn anchor(&mut self, anchor: usize, value: &Value, values: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), values));
        }
    }

    fn push(&mut self, value: Value) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            self.document = Some(value);
            return Ok(());
        };
        match &mut frame.collection {
            Collection::List(items) => items.push(value),
            Collection::Mapping { object, key } => {
                let (name, position) = key.take().expect("a value follows its key");
                if object.contains_key(&name) {
                    let steps = self.steps();
                    return Err(YamlError {
                        position: Some(position),
                        steps,
                        problem: Problem::DuplicateKey(name),
                    });
                }
                object.insert(name, value);
            }
        }
        Ok(())
    }

    /// The path to the value being read.
    fn steps(&self) -> Vec<Step> {
        self.stack
            .iter()
            .map(|frame| match &frame.collection {
                Collection::List(items) => Step::Index(items.len()),
                Collection::Mapping { key, .. } => {
                    Step::Key(key.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>())
                }
            })
            .collect()
    }

    fn error(&self, span: &Span, problem: Problem) -> YamlError {
        YamlError {
            position: Some(Position::of(span)),
            steps: self.steps(),
            problem,
        }
    }

    fn scan_error(&self, err: &ScanError) -> YamlError {
        YamlError {
            position: Some(Position {
                line: err.marker().line(),
                column: err.marker().col() + 1,
            }),
            steps: self.steps(),
            problem: Problem::Syntax(err.info().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
