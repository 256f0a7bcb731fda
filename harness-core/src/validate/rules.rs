//! The rules of one field, read from its `validate.FieldRules` option into checkable form.
//!
//! Options are read dynamically, by field name, so a genuine PGV `validate.proto` in the
//! user's pool works as well as the bundled one.

use prost_reflect::{DynamicMessage, Kind, Value};

use super::Failure;
use super::any::AnyRules;
use super::collections::{MapRules, RepeatedRules};
use super::enums::{BoolRules, EnumRules};
use super::numbers::NumberRules;
use super::rule_fields::{flag, message_field};
use super::shape::{Shape, misfit};
use super::strings::{BytesRules, StringRules};
use super::time::{DurationRules, TimestampRules};

/// The scalar kind a `google.protobuf.*Value` wrapper holds.
pub fn wrapped_kind(message: &str) -> Option<Kind> {
    Some(match message {
        "google.protobuf.DoubleValue" => Kind::Double,
        "google.protobuf.FloatValue" => Kind::Float,
        "google.protobuf.Int64Value" => Kind::Int64,
        "google.protobuf.UInt64Value" => Kind::Uint64,
        "google.protobuf.Int32Value" => Kind::Int32,
        "google.protobuf.UInt32Value" => Kind::Uint32,
        "google.protobuf.BoolValue" => Kind::Bool,
        "google.protobuf.StringValue" => Kind::String,
        "google.protobuf.BytesValue" => Kind::Bytes,
        _ => return None,
    })
}

/// The rules of one field, or of the items, keys or values of one.
#[derive(Debug, Default)]
pub struct FieldRules {
    /// `message.required`.
    pub required: bool,
    /// `message.skip`: do not validate the nested message.
    pub skip: bool,
    /// The rules of the field's family.
    pub family: Option<FamilyRules>,
}

/// The rules of one family: `FieldRules.type`.
#[derive(Debug)]
pub enum FamilyRules {
    Number(NumberRules),
    Bool(BoolRules),
    String(Box<StringRules>),
    Bytes(Box<BytesRules>),
    Enum(EnumRules),
    Any(AnyRules),
    Duration(DurationRules),
    Timestamp(TimestampRules),
    Repeated(Box<RepeatedRules>),
    Map(Box<MapRules>),
}

impl FamilyRules {
    /// Whether the rules are about a scalar, found inside a wrapper message when the field
    /// is one.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            FamilyRules::Number(_)
                | FamilyRules::Bool(_)
                | FamilyRules::String(_)
                | FamilyRules::Bytes(_)
        )
    }

    /// The family's own `required` rule, set: `duration.required`, …
    pub fn required_rule(&self) -> Option<&'static str> {
        match self {
            FamilyRules::Any(rules) if rules.required => Some("any.required"),
            FamilyRules::Duration(rules) if rules.required => Some("duration.required"),
            FamilyRules::Timestamp(rules) if rules.required => Some("timestamp.required"),
            _ => None,
        }
    }
}

/// Reads `rules` (a `validate.FieldRules`) for a field of `shape`. Rules that do not fit
/// the shape are left out and described in `misfits`.
pub(crate) fn compile(
    rules: &DynamicMessage,
    shape: &Shape,
    misfits: &mut Vec<Failure>,
) -> FieldRules {
    let mut compiled = FieldRules::default();
    if let Some(message) = message_field(rules, "message") {
        if matches!(shape, Shape::Single(Kind::Message(_))) {
            compiled.required = flag(&message, "required");
            compiled.skip = flag(&message, "skip");
        } else {
            misfits.push(misfit("message", shape));
        }
    }
    let family = rules
        .fields()
        .find(|(field, _)| field.containing_oneof().is_some());
    if let Some((field, Value::Message(family_rules))) = family {
        compiled.family = compile_family(field.name(), family_rules, shape, misfits);
    }
    compiled
}

fn compile_family(
    family: &str,
    rules: &DynamicMessage,
    shape: &Shape,
    misfits: &mut Vec<Failure>,
) -> Option<FamilyRules> {
    // The family a field of this shape takes, or a misfit.
    let single = match shape {
        Shape::Single(kind) => Some(kind),
        _ => None,
    };
    let scalar = single.and_then(|kind| match kind {
        Kind::Message(message) => wrapped_kind(message.full_name()),
        kind => Some(kind.clone()),
    });
    let message = single
        .and_then(Kind::as_message)
        .map(|message| message.full_name());
    let (fits, name) = match family {
        "float" => (scalar == Some(Kind::Float), "float"),
        "double" => (scalar == Some(Kind::Double), "double"),
        "int32" => (scalar == Some(Kind::Int32), "int32"),
        "int64" => (scalar == Some(Kind::Int64), "int64"),
        "uint32" => (scalar == Some(Kind::Uint32), "uint32"),
        "uint64" => (scalar == Some(Kind::Uint64), "uint64"),
        "sint32" => (scalar == Some(Kind::Sint32), "sint32"),
        "sint64" => (scalar == Some(Kind::Sint64), "sint64"),
        "fixed32" => (scalar == Some(Kind::Fixed32), "fixed32"),
        "fixed64" => (scalar == Some(Kind::Fixed64), "fixed64"),
        "sfixed32" => (scalar == Some(Kind::Sfixed32), "sfixed32"),
        "sfixed64" => (scalar == Some(Kind::Sfixed64), "sfixed64"),
        "bool" => (scalar == Some(Kind::Bool), "bool"),
        "string" => (scalar == Some(Kind::String), "string"),
        "bytes" => (scalar == Some(Kind::Bytes), "bytes"),
        "enum" => (matches!(single, Some(Kind::Enum(_))), "enum"),
        "any" => (message == Some("google.protobuf.Any"), "any"),
        "duration" => (message == Some("google.protobuf.Duration"), "duration"),
        "timestamp" => (message == Some("google.protobuf.Timestamp"), "timestamp"),
        "repeated" => (matches!(shape, Shape::List(_)), "repeated"),
        "map" => (matches!(shape, Shape::Map(..)), "map"),
        unknown => {
            misfits.push(Failure::new(
                "unknown",
                format!("rules of type {unknown} are not supported"),
            ));
            return None;
        }
    };
    if !fits {
        misfits.push(misfit(name, shape));
        return None;
    }
    Some(match (name, shape) {
        ("bool", _) => FamilyRules::Bool(BoolRules::compile(rules)),
        ("string", _) => FamilyRules::String(Box::new(StringRules::compile(rules))),
        ("bytes", _) => FamilyRules::Bytes(Box::new(BytesRules::compile(rules))),
        ("enum", Shape::Single(Kind::Enum(enumeration))) => {
            FamilyRules::Enum(EnumRules::compile(rules, enumeration.clone()))
        }
        ("any", _) => FamilyRules::Any(AnyRules::compile(rules)),
        ("duration", _) => FamilyRules::Duration(DurationRules::compile(rules)),
        ("timestamp", _) => FamilyRules::Timestamp(TimestampRules::compile(rules)),
        ("repeated", Shape::List(item)) => FamilyRules::Repeated(Box::new(RepeatedRules::compile(
            rules, item, shape, misfits,
        ))),
        ("map", Shape::Map(key, value)) => FamilyRules::Map(Box::new(MapRules::compile(
            rules, key, value, shape, misfits,
        ))),
        (number, _) => FamilyRules::Number(NumberRules::compile(number, rules)?),
    })
}
