//! The proto3 JSON mapping from a configuration's JSON value onto its message, with
//! errors that say which field was wrong and what it expects.

use prost_reflect::{DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;
use serde_path_to_error::Segment as JsonSegment;

use super::yaml::Step;
use crate::path::{FieldPath, Segment};

/// A value that does not map onto the message.
#[derive(Debug)]
pub struct DecodeFailure {
    /// Where the value is, for positions and secrets.
    pub steps: Vec<Step>,
    /// The same, as a user reads it: `server.bind.port`.
    pub path: FieldPath,
    /// The field the value is for, when the path ends at one.
    pub field: Option<FieldDescriptor>,
    /// Whether the value helps to understand the error.
    pub show_value: bool,
    /// What is wrong, without the value.
    pub expected: String,
}

/// Maps `value` onto a message of type `descriptor`; unknown fields are errors.
///
/// `value` is checked and adjusted first where the mapping differs from prost-reflect's
/// (see [`super::prepare`]).
pub fn decode(
    descriptor: &MessageDescriptor,
    value: &mut Value,
) -> Result<DynamicMessage, DecodeFailure> {
    let placeholder = super::prepare::prepare(descriptor, value)?;
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(&*value, &mut track);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let mut message =
        DynamicMessage::deserialize_with_options(descriptor.clone(), deserializer, &options)
            .map_err(|err| failure(descriptor, value, &track.path(), &err.to_string()))?;
    if let Some(placeholder) = placeholder {
        super::prepare::clear_empty_any(&mut message, &placeholder);
    }
    Ok(message)
}

/// The field that the value at `steps` is for, when the steps lead to one (an item of a
/// list or a map is for its field).
pub fn field_at(root: &MessageDescriptor, steps: &[Step]) -> Option<FieldDescriptor> {
    let mut walker = Walker::new(root);
    for step in steps {
        match step {
            Step::Key(names) => walker.key(names.first()?),
            Step::Index(index) => walker.index(*index),
        }
    }
    match walker.target {
        Target::Field { field, .. } if walker.steps.len() == steps.len() => Some(field),
        _ => None,
    }
}

fn failure(
    root: &MessageDescriptor,
    value: &Value,
    json_path: &serde_path_to_error::Path,
    detail: &str,
) -> DecodeFailure {
    let mut walker = Walker::new(root);
    for segment in json_path.iter() {
        match segment {
            JsonSegment::Map { key } => walker.key(key),
            JsonSegment::Seq { index } => walker.index(*index),
            JsonSegment::Enum { .. } | JsonSegment::Unknown => {}
        }
    }
    // prost-reflect reports an unknown field at its parent; point at the field itself.
    if let Some(name) = quoted_after(detail, "unrecognized field name ") {
        let parent = match &walker.target {
            Target::Message(message) => Some(message.clone()),
            Target::Field { field, .. } => field.kind().as_message().cloned(),
        };
        let known: Vec<String> = parent
            .iter()
            .flat_map(|message| message.fields().map(|f| f.name().to_owned()))
            .collect();
        walker.steps.push(Step::Key(vec![name.to_owned()]));
        walker.path.0.push(Segment::Field {
            name: name.to_owned(),
            json_name: name.to_owned(),
        });
        let expected = if known.is_empty() {
            "unknown field".to_owned()
        } else {
            format!("unknown field; expected one of: {}", known.join(", "))
        };
        return DecodeFailure {
            steps: walker.steps,
            path: walker.path,
            field: None,
            show_value: false,
            expected,
        };
    }
    let found = value_at(value, &walker.steps);
    let mut expected = match &walker.target {
        Target::Message(message) => format!("expected {}", describe_message(message)),
        Target::Field { field, item } => format!("expected {}", describe_field(field, *item)),
    };
    if let (Target::Field { field, .. }, Some(Value::String(text))) = (&walker.target, found)
        && field.kind() == Kind::Bool
        && matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        )
    {
        expected.push_str(
            " (YAML 1.2 reads unquoted yes, no, on and off as strings: write true or false)",
        );
    }
    let field = match walker.target {
        Target::Field { field, .. } => Some(field),
        Target::Message(_) => None,
    };
    DecodeFailure {
        steps: walker.steps,
        path: walker.path,
        field,
        show_value: true,
        expected,
    }
}

/// Follows a JSON path through the message's descriptors.
struct Walker {
    target: Target,
    steps: Vec<Step>,
    path: FieldPath,
}

enum Target {
    Message(MessageDescriptor),
    /// A field; `item` when the path is at one item (or map value) of it.
    Field {
        field: FieldDescriptor,
        item: bool,
    },
}

impl Walker {
    fn new(root: &MessageDescriptor) -> Self {
        Walker {
            target: Target::Message(root.clone()),
            steps: Vec::new(),
            path: FieldPath::root(),
        }
    }

    fn key(&mut self, key: &str) {
        if let Target::Field { field, item } = &self.target {
            if field.is_map() && !item {
                let value_field = match field.kind() {
                    Kind::Message(entry) => entry.map_entry_value_field(),
                    _ => return,
                };
                self.steps.push(Step::Key(vec![key.to_owned()]));
                self.path.0.push(Segment::Key(key.to_owned()));
                self.target = Target::Field {
                    field: value_field,
                    item: true,
                };
                return;
            }
            match field.kind() {
                Kind::Message(message) if !is_well_known(&message) => {
                    self.target = Target::Message(message)
                }
                _ => return,
            }
        }
        let Target::Message(message) = &self.target else {
            return;
        };
        let Some(field) = message
            .get_field_by_name(key)
            .or_else(|| message.get_field_by_json_name(key))
        else {
            return;
        };
        self.steps.push(Step::Key(vec![
            field.name().to_owned(),
            field.json_name().to_owned(),
        ]));
        self.path = self.path.field(&field);
        self.target = Target::Field { field, item: false };
    }

    fn index(&mut self, index: usize) {
        if let Target::Field { field, item: false } = &self.target
            && field.is_list()
        {
            self.steps.push(Step::Index(index));
            self.path.0.push(Segment::Index(index));
            self.target = Target::Field {
                field: field.clone(),
                item: true,
            };
        }
    }
}

/// The JSON value at `steps`, if present.
pub fn value_at<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps
        .iter()
        .try_fold(value, |node, step| match (node, step) {
            (Value::Object(object), Step::Key(names)) => {
                names.iter().find_map(|name| object.get(name))
            }
            (Value::Array(items), Step::Index(index)) => items.get(*index),
            _ => None,
        })
}

fn describe_field(field: &FieldDescriptor, item: bool) -> String {
    if !item && field.is_map() {
        return "a mapping".to_owned();
    }
    if !item && field.is_list() {
        return format!("a list of {}", plural(&describe_kind(&field.kind())));
    }
    describe_kind(&field.kind())
}

fn plural(text: &str) -> String {
    text.strip_prefix("a ")
        .or_else(|| text.strip_prefix("an "))
        .unwrap_or(text)
        .to_owned()
}

pub(super) fn describe_kind(kind: &Kind) -> String {
    match kind {
        Kind::Bool => "true or false".to_owned(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            "an integer from -2147483648 to 2147483647".to_owned()
        }
        Kind::Uint32 | Kind::Fixed32 => "an unsigned integer up to 4294967295".to_owned(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => "a 64-bit integer".to_owned(),
        Kind::Uint64 | Kind::Fixed64 => "an unsigned 64-bit integer".to_owned(),
        Kind::Float | Kind::Double => "a number".to_owned(),
        Kind::String => "a string".to_owned(),
        Kind::Bytes => "base64-encoded bytes".to_owned(),
        Kind::Enum(enumeration) => {
            let names: Vec<String> = enumeration.values().map(|v| v.name().to_owned()).collect();
            format!("one of {}", names.join(", "))
        }
        Kind::Message(message) => describe_message(message),
    }
}

fn describe_message(message: &MessageDescriptor) -> String {
    match message.full_name() {
        "google.protobuf.Duration" => "a duration such as \"1.5s\"".to_owned(),
        "google.protobuf.Timestamp" => {
            "an RFC 3339 timestamp such as \"2025-01-31T12:00:00Z\"".to_owned()
        }
        "google.protobuf.Struct" => "a mapping".to_owned(),
        "google.protobuf.ListValue" => "a list".to_owned(),
        "google.protobuf.Value" => "any value".to_owned(),
        "google.protobuf.FieldMask" => "a comma-separated list of field paths".to_owned(),
        "google.protobuf.Any" => "a mapping with an \"@type\" key, or {}".to_owned(),
        "google.protobuf.Empty" => "an empty mapping".to_owned(),
        name if name.starts_with("google.protobuf.") && name.ends_with("Value") => message
            .get_field_by_name("value")
            .map(|value| describe_kind(&value.kind()))
            .unwrap_or_else(|| "a value".to_owned()),
        _ => "a mapping".to_owned(),
    }
}

pub(super) fn is_well_known(message: &MessageDescriptor) -> bool {
    message.package_name() == "google.protobuf"
}

/// The text inside quotes after `prefix` in `detail`: `unrecognized field name 'x'` → `x`.
fn quoted_after<'a>(detail: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &detail[detail.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('\'')?;
    Some(&rest[..rest.find('\'')?])
}
