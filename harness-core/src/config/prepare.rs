//! What the configuration's JSON value is checked for, and adjusted in, before and after
//! prost-reflect maps it onto the message, where its proto3 JSON mapping is not ours:
//!
//! - a YAML float (`8.0`, `8.0e0`, `1e3`) is not an integer, even when it is integral;
//! - two members of one oneof, and a map key that is not of the key's type, are errors
//!   that name the field (prost-reflect reports them at the enclosing message);
//! - `{}` is the empty `google.protobuf.Any`, as protobuf-go's protojson reads it
//!   (prost-reflect requires an `@type`). It is decoded through a placeholder type URL,
//!   then cleared.

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage};
use serde_json::Value;

use super::decode::{DecodeFailure, describe_kind, is_well_known};
use super::yaml::Step;
use crate::path::{FieldPath, Segment};

const ANY: &str = "google.protobuf.Any";

/// Checks `value` against `root` and rewrites its empty `Any`s; `Ok(Some(url))` when some
/// were rewritten, to be cleared by [`clear_empty_any`] with that placeholder URL.
pub fn prepare(
    root: &MessageDescriptor,
    value: &mut Value,
) -> Result<Option<String>, DecodeFailure> {
    let mut walk = Walk {
        crumbs: Vec::new(),
        placeholder: format!("harness.invalid/{}", root.full_name()),
        in_any: 0,
        rewritten: false,
    };
    walk.message(root, value)?;
    Ok(walk.rewritten.then_some(walk.placeholder))
}

/// Clears every `Any` of `message` that [`prepare`] rewrote, back to the empty `Any`.
pub fn clear_empty_any(message: &mut DynamicMessage, placeholder: &str) {
    if message.descriptor().full_name() == ANY {
        let url = message
            .get_field_by_name("type_url")
            .and_then(|url| url.as_str().map(str::to_owned))
            .unwrap_or_default();
        if url == placeholder {
            message.clear_field_by_name("type_url");
        }
        return;
    }
    for (_, value) in message.fields_mut() {
        clear_in(value, placeholder);
    }
}

fn clear_in(value: &mut prost_reflect::Value, placeholder: &str) {
    match value {
        prost_reflect::Value::Message(message) => clear_empty_any(message, placeholder),
        prost_reflect::Value::List(items) => {
            for item in items {
                clear_in(item, placeholder);
            }
        }
        prost_reflect::Value::Map(entries) => {
            for item in entries.values_mut() {
                clear_in(item, placeholder);
            }
        }
        _ => {}
    }
}

/// One step of the walk, turned into steps and a field path only for an error.
enum Crumb {
    Field(FieldDescriptor),
    Index(usize),
    Key(String),
}

struct Walk {
    crumbs: Vec<Crumb>,
    placeholder: String,
    /// Inside an `Any`'s payload, which is encoded as bytes: an empty `Any` there cannot be
    /// cleared afterwards, so it is left for prost-reflect to reject.
    in_any: usize,
    rewritten: bool,
}

impl Walk {
    fn message(
        &mut self,
        message: &MessageDescriptor,
        value: &mut Value,
    ) -> Result<(), DecodeFailure> {
        if message.full_name() == ANY {
            return self.any(message, value);
        }
        if is_well_known(message) {
            return Ok(());
        }
        let Value::Object(object) = value else {
            return Ok(());
        };
        self.fields(message, object.iter_mut())
    }

    fn fields<'v>(
        &mut self,
        message: &MessageDescriptor,
        entries: impl Iterator<Item = (&'v String, &'v mut Value)>,
    ) -> Result<(), DecodeFailure> {
        let mut oneofs_set: Vec<FieldDescriptor> = Vec::new();
        for (key, child) in entries {
            let Some(field) = message
                .get_field_by_name(key)
                .or_else(|| message.get_field_by_json_name(key))
            else {
                continue;
            };
            self.crumbs.push(Crumb::Field(field.clone()));
            if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic())
                && !child.is_null()
            {
                if let Some(first) = oneofs_set
                    .iter()
                    .find(|f| f.containing_oneof().as_ref() == Some(&oneof))
                {
                    let expected = format!(
                        "`{}` and `{}` are both set, but they are members of oneof `{}`: set only one",
                        first.name(),
                        field.name(),
                        oneof.name()
                    );
                    return Err(self.failure(None, false, expected));
                }
                oneofs_set.push(field.clone());
            }
            self.field(&field, child)?;
            self.crumbs.pop();
        }
        Ok(())
    }

    fn field(&mut self, field: &FieldDescriptor, value: &mut Value) -> Result<(), DecodeFailure> {
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                return Ok(());
            };
            let Value::Object(object) = value else {
                return Ok(());
            };
            let key_kind = entry.map_entry_key_field().kind();
            let value_field = entry.map_entry_value_field();
            for (key, child) in object.iter_mut() {
                self.crumbs.push(Crumb::Key(key.clone()));
                if !is_map_key(&key_kind, key) {
                    let expected = format!("invalid key: expected {}", describe_key(&key_kind));
                    return Err(self.failure(None, false, expected));
                }
                self.single(&value_field.kind(), Some(&value_field), child)?;
                self.crumbs.pop();
            }
            return Ok(());
        }
        if field.is_list() {
            let Value::Array(items) = value else {
                return Ok(());
            };
            for (index, item) in items.iter_mut().enumerate() {
                self.crumbs.push(Crumb::Index(index));
                self.single(&field.kind(), Some(field), item)?;
                self.crumbs.pop();
            }
            return Ok(());
        }
        self.single(&field.kind(), Some(field), value)
    }

    /// One value of `kind`, for `field` when it is one (an `Any`'s payload is not).
    fn single(
        &mut self,
        kind: &Kind,
        field: Option<&FieldDescriptor>,
        value: &mut Value,
    ) -> Result<(), DecodeFailure> {
        let integer = match kind {
            Kind::Message(message) if message.full_name() == ANY => {
                return self.any(message, value);
            }
            Kind::Message(message) if is_well_known(message) => {
                // A wrapper (`google.protobuf.UInt32Value`) is written as its plain value.
                match message.get_field_by_name("value") {
                    Some(inner) if is_integer(&inner.kind()) => inner.kind(),
                    _ => return Ok(()),
                }
            }
            Kind::Message(message) => return self.message(message, value),
            kind if is_integer(kind) => kind.clone(),
            _ => return Ok(()),
        };
        match value {
            Value::Number(number) if number.is_f64() => {
                let expected = format!(
                    "expected {} (a number with a fraction or an exponent is a float)",
                    describe_kind(&integer)
                );
                Err(self.failure(field.cloned(), true, expected))
            }
            _ => Ok(()),
        }
    }

    fn any(&mut self, any: &MessageDescriptor, value: &mut Value) -> Result<(), DecodeFailure> {
        let Value::Object(object) = value else {
            return Ok(());
        };
        if object.is_empty() {
            if self.in_any == 0 {
                object.insert("@type".to_owned(), Value::String(self.placeholder.clone()));
                self.rewritten = true;
            }
            return Ok(());
        }
        let Some(payload) = object
            .get("@type")
            .and_then(Value::as_str)
            .and_then(|url| url.rsplit('/').next())
            .and_then(|name| any.parent_pool().get_message_by_name(name))
        else {
            return Ok(());
        };
        self.in_any += 1;
        let result = if is_well_known(&payload) {
            match object.get_mut("value") {
                Some(inner) => self.single(&Kind::Message(payload), None, inner),
                None => Ok(()),
            }
        } else {
            let entries = object.iter_mut().filter(|(key, _)| key.as_str() != "@type");
            self.fields(&payload, entries)
        };
        self.in_any -= 1;
        result
    }

    fn failure(
        &self,
        field: Option<FieldDescriptor>,
        show_value: bool,
        expected: String,
    ) -> DecodeFailure {
        let mut path = FieldPath::root();
        for crumb in &self.crumbs {
            match crumb {
                Crumb::Field(field) => path = path.field(field),
                Crumb::Index(index) => path.0.push(Segment::Index(*index)),
                Crumb::Key(key) => path.0.push(Segment::Key(key.clone())),
            }
        }
        DecodeFailure {
            steps: Step::along(&path),
            path,
            field,
            show_value,
            expected,
        }
    }
}

fn is_integer(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Int32
            | Kind::Sint32
            | Kind::Sfixed32
            | Kind::Int64
            | Kind::Sint64
            | Kind::Sfixed64
            | Kind::Uint32
            | Kind::Fixed32
            | Kind::Uint64
            | Kind::Fixed64
    )
}

/// Whether `key` reads as a map key of `kind`, as prost-reflect parses it.
fn is_map_key(kind: &Kind, key: &str) -> bool {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => key.parse::<i32>().is_ok(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => key.parse::<i64>().is_ok(),
        Kind::Uint32 | Kind::Fixed32 => key.parse::<u32>().is_ok(),
        Kind::Uint64 | Kind::Fixed64 => key.parse::<u64>().is_ok(),
        Kind::Bool => matches!(key, "true" | "false"),
        _ => true,
    }
}

fn describe_key(kind: &Kind) -> String {
    match kind {
        Kind::Bool => "true or false".to_owned(),
        kind => describe_kind(kind),
    }
}
