//! The shape of a field (one value, a list, a map) and the violation for rules that do not
//! fit it: a leaf the rule families and the compiler of field rules share.

use prost_reflect::Kind;

use super::Failure;

/// What a field holds: one value, a list, or a map.
#[derive(Debug, Clone)]
pub enum Shape {
    Single(Kind),
    List(Kind),
    Map(Kind, Kind),
}

impl Shape {
    pub fn of(field: &prost_reflect::FieldDescriptor) -> Self {
        let kind = field.kind();
        if field.is_map() {
            let entry = kind.as_message().expect("a map field holds entries");
            Shape::Map(
                entry.map_entry_key_field().kind(),
                entry.map_entry_value_field().kind(),
            )
        } else if field.is_list() {
            Shape::List(kind)
        } else {
            Shape::Single(kind)
        }
    }

    /// The type as written in a proto: `int32`, `repeated string`, `map<string, a.B>`.
    pub fn describe(&self) -> String {
        match self {
            Shape::Single(kind) => kind_name(kind),
            Shape::List(kind) => format!("repeated {}", kind_name(kind)),
            Shape::Map(key, value) => format!("map<{}, {}>", kind_name(key), kind_name(value)),
        }
    }
}

/// A field kind as written in a proto: `uint32`, `a.B`.
pub(crate) fn kind_name(kind: &Kind) -> String {
    let name = match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(message) => return message.full_name().to_owned(),
        Kind::Enum(enumeration) => return enumeration.full_name().to_owned(),
    };
    name.to_owned()
}

/// The violation for rules of `family` on a field of `shape`.
pub(crate) fn misfit(family: &'static str, shape: &Shape) -> Failure {
    Failure::new(
        family,
        format!(
            "rules of type {family} do not apply to a field of type {}",
            shape.describe()
        ),
    )
}
