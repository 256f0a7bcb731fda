//! A JSON Schema (draft 2020-12) of a service's configuration, from its `Configuration`
//! message: what `harness schema` prints and what an editor checks a YAML file against.
//!
//! The schema describes the JSON value harness maps onto the message (the YAML, merged and
//! patched): each field under its proto name and its JSON name, in the JSON forms harness
//! decodes, with the protoc-gen-validate rules that JSON Schema can say (see `rules`). Each
//! message type is one entry of `$defs`, so recursive types are fine. A field is required
//! when leaving it out fails validation, found by validating an empty message: a required
//! message, or a scalar whose default value breaks its rules.

mod fields;
mod pattern;
mod rules;
mod values;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use harness_core::check::CheckError;
use harness_core::path::Segment;
use harness_core::spec::ConfigSpec;
use harness_core::validate::read::{FieldPlan, Step, plan};
use prost_reflect::{DynamicMessage, FieldDescriptor, MessageDescriptor};
use serde_json::{Map, Value, json};

use rules::object;

/// The dialect of the schemas written here.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schema of the configuration described by `spec`.
pub fn json_schema(spec: &ConfigSpec) -> Value {
    let mut builder = Builder::default();
    let root = builder.message_ref(&spec.message, true);
    let mut schema = Map::new();
    schema.insert("$schema".to_owned(), json!(DRAFT));
    let title = match &spec.service.name {
        Some(name) => format!("Configuration of {name}"),
        None => format!("Configuration {}", spec.message.full_name()),
    };
    schema.insert("title".to_owned(), json!(title));
    if let Some(description) = builder.comment(&spec.message.parent_file(), spec.message.path()) {
        schema.insert("description".to_owned(), json!(description));
    }
    schema.extend(object(root));
    schema.insert("$defs".to_owned(), Value::Object(builder.defs));
    Value::Object(schema)
}

/// `schema` as `harness schema` prints it (and as a file holding it is best written):
/// indented, with a final line feed.
pub fn to_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// The JSON Schema of the configuration of the service proto `proto`, compiled with the
/// bundled protos, `includes` and its own directory (as `harness check` does).
pub fn json_schema_of_proto(proto: &Path, includes: &[PathBuf]) -> Result<Value, CheckError> {
    let compiled = harness_core::protos::compile(proto, includes)?;
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name)?;
    Ok(json_schema(&spec))
}

#[derive(Default)]
struct Builder {
    defs: Map<String, Value>,
    /// The comments of each file, by file name, read once.
    comments: HashMap<String, HashMap<Vec<i32>, String>>,
}

impl Builder {
    fn comment(&mut self, file: &prost_reflect::FileDescriptor, path: &[i32]) -> Option<String> {
        self.comments
            .entry(file.name().to_owned())
            .or_insert_with(|| harness_core::protos::comments(file))
            .get(path)
            .cloned()
    }

    /// A `$ref` to the entry of `message` in `$defs`, written on first use. `validated` is
    /// false under a field whose messages harness does not validate (`message.skip`, a
    /// message with `(validate.disabled)`): there, no rule applies.
    fn message_ref(&mut self, message: &MessageDescriptor, validated: bool) -> Value {
        let name = if validated {
            message.full_name().to_owned()
        } else {
            // `-` is in no proto name.
            format!("{}-unvalidated", message.full_name())
        };
        if !self.defs.contains_key(&name) {
            // Taken before it is built, for recursive types.
            self.defs.insert(name.clone(), Value::Bool(true));
            let def = self.message_def(message, validated);
            self.defs.insert(name.clone(), def);
        }
        json!({"$ref": format!("#/$defs/{name}")})
    }

    fn message_def(&mut self, message: &MessageDescriptor, validated: bool) -> Value {
        let plan = validated.then(|| plan(message));
        let steps = plan
            .as_ref()
            .map(|plan| plan.steps.as_slice())
            .unwrap_or_default();
        let field_plans: HashMap<u32, &FieldPlan> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Field(field) => Some((field.field.number(), field.as_ref())),
                Step::RequiredOneof(_) => None,
            })
            .collect();
        let mut def = object(json!({"type": "object", "additionalProperties": false}));
        if let Some(description) = self.comment(&message.parent_file(), message.path()) {
            def.insert("description".to_owned(), json!(description));
        }
        if field_plans.values().any(|field| !field.misfits.is_empty()) {
            // A rule that does not fit its field fails wherever the message is.
            def.insert("not".to_owned(), json!({}));
            return Value::Object(def);
        }
        let required = if validated {
            failing_at_default(message)
        } else {
            HashSet::new()
        };
        let mut properties = Map::new();
        let mut required_names = Vec::new();
        let mut all_of = Vec::new();
        for field in message.fields() {
            let needed = required.contains(field.name());
            let schema =
                self.field_schema(&field, field_plans.get(&field.number()).copied(), needed);
            let names = names_of(&field);
            // The field's own schema refuses null when it is needed.
            match names.as_slice() {
                [name] if needed => required_names.push(json!(name)),
                names if needed => all_of.push(json!({
                    "anyOf": names.iter().map(|name| json!({"required": [name]})).collect::<Vec<_>>()
                })),
                _ => {}
            }
            if let [name, json_name] = names.as_slice() {
                let mut alias = object(schema.clone());
                alias.insert(
                    "description".to_owned(),
                    json!(format!("Same as `{json_name}`.")),
                );
                properties.insert(name.clone(), Value::Object(alias));
                properties.insert(json_name.clone(), schema);
            } else {
                properties.insert(names[0].clone(), schema);
            }
        }
        all_of.extend(oneofs(message, steps));
        def.insert("properties".to_owned(), Value::Object(properties));
        if !required_names.is_empty() {
            def.insert("required".to_owned(), Value::Array(required_names));
        }
        if !all_of.is_empty() {
            def.insert("allOf".to_owned(), Value::Array(all_of));
        }
        Value::Object(def)
    }
}

/// The names a field is read under: its proto name, then its JSON name when different.
fn names_of(field: &FieldDescriptor) -> Vec<String> {
    let mut names = vec![field.name().to_owned()];
    if field.json_name() != field.name() {
        names.push(field.json_name().to_owned());
    }
    names
}

/// The fields of `message` that an empty message fails on: harness checks a scalar even
/// at its default value, and a required message must be set.
fn failing_at_default(message: &MessageDescriptor) -> HashSet<String> {
    let empty = DynamicMessage::new(message.clone());
    let Err(violations) = harness_core::validate::validate(&empty) else {
        return HashSet::new();
    };
    violations
        .iter()
        .filter_map(|violation| match violation.path.segments() {
            [Segment::Field { name, .. }, ..] => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The field named `names` is there, under one of its names, and not null.
fn present(names: &[String]) -> Value {
    let each: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "required": [name],
                "properties": {name: {"not": {"type": "null"}}},
            })
        })
        .collect();
    match <[Value; 1]>::try_from(each) {
        Ok([one]) => one,
        Err(each) => json!({"anyOf": each}),
    }
}

/// At most one member of each oneof is set (`null` is unset), and one at least of those
/// with `(validate.required)`.
fn oneofs(message: &MessageDescriptor, steps: &[Step]) -> Vec<Value> {
    let mut said = Vec::new();
    for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
        // harness refuses two keys of one oneof, even one field under both its names.
        let keys: Vec<String> = oneof.fields().flat_map(|field| names_of(&field)).collect();
        let mut pairs = Vec::new();
        for (i, first) in keys.iter().enumerate() {
            for second in &keys[i + 1..] {
                pairs.push(json!({
                    "required": [first, second],
                    "properties": {
                        first: {"not": {"type": "null"}},
                        second: {"not": {"type": "null"}},
                    },
                }));
            }
        }
        if !pairs.is_empty() {
            said.push(json!({"not": {"anyOf": pairs}}));
        }
    }
    for step in steps {
        if let Step::RequiredOneof(oneof) = step {
            let each: Vec<Value> = oneof
                .fields
                .iter()
                .map(|field| present(&names_of(field)))
                .collect();
            said.push(json!({"anyOf": each}));
        }
    }
    said
}

#[cfg(test)]
mod tests;
