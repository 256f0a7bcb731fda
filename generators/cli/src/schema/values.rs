//! The JSON forms of proto values, as harness decodes them (the proto3 JSON mapping, read
//! by prost-reflect): what a scalar, an enum or a well-known type may be written as.

use prost_reflect::{EnumDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

/// A signed integer written as a string: what Rust's `str::parse` reads.
pub const SIGNED_TEXT: &str = "^[+-]?[0-9]+$";
/// An unsigned integer written as a string.
pub const UNSIGNED_TEXT: &str = r"^\+?[0-9]+$";
/// A float written as a string: a decimal number, `Infinity`, `-Infinity`, `NaN` (and the
/// other spellings Rust's float parser takes: `inf`, `nan`, any case).
pub const FLOAT_TEXT: &str = r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])$";
/// Base64, standard or URL-safe, padding optional.
pub const BASE64: &str = "^(?:(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}={0,2}|[A-Za-z0-9+/]{3}=?)?|(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}={0,2}|[A-Za-z0-9_-]{3}=?)?)$";
/// A `google.protobuf.Duration`: seconds with up to nine decimals (more are cut), then `s`.
pub const DURATION: &str = r"^-?[0-9]+(?:\.[0-9]+)?s$";
/// A `google.protobuf.Timestamp`: RFC 3339 with an upper-case `T` and `Z` or an offset.
pub const TIMESTAMP: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$";

/// The largest finite `float`, the bound of a float written as a number.
const FLOAT_MAX: f64 = f32::MAX as f64;

/// The schema of one value of a scalar or enum `kind`, with no rules.
pub fn scalar(kind: &Kind) -> Map<String, Value> {
    let schema = match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            integer(i64::from(i32::MIN).into(), i32::MAX.into(), SIGNED_TEXT)
        }
        Kind::Uint32 | Kind::Fixed32 => integer(0.into(), u32::MAX.into(), UNSIGNED_TEXT),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            integer(i64::MIN.into(), i64::MAX.into(), SIGNED_TEXT)
        }
        Kind::Uint64 | Kind::Fixed64 => integer(0.into(), u64::MAX.into(), UNSIGNED_TEXT),
        Kind::Float => json!({
            "type": ["number", "string"],
            "minimum": -FLOAT_MAX,
            "maximum": FLOAT_MAX,
            "pattern": FLOAT_TEXT,
        }),
        Kind::Double => json!({"type": ["number", "string"], "pattern": FLOAT_TEXT}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({
            "type": "string",
            "contentEncoding": "base64",
            "pattern": BASE64,
        }),
        Kind::Enum(enumeration) => enumeration_schema(enumeration),
        // Messages are the caller's: a `$ref`, or a well-known type's own form.
        Kind::Message(_) => json!({}),
    };
    into_map(schema)
}

fn integer(min: Value, max: Value, text: &str) -> Value {
    json!({"type": ["integer", "string"], "minimum": min, "maximum": max, "pattern": text})
}

/// An enum by name, or by any 32-bit number (proto3 enums are open).
fn enumeration_schema(enumeration: &EnumDescriptor) -> Value {
    let names: Vec<String> = enumeration
        .values()
        .map(|value| value.name().to_owned())
        .collect();
    json!({
        "anyOf": [
            {"enum": names},
            {"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX},
        ]
    })
}

/// The name and the number of an enum's value `number`, as the values `enum` lists.
pub fn enum_forms(enumeration: &EnumDescriptor, number: i32) -> Vec<Value> {
    let mut forms = Vec::with_capacity(2);
    if let Some(value) = enumeration.get_value(number) {
        forms.push(json!(value.name()));
    }
    forms.push(json!(number));
    forms
}

/// The schema of a message of `google.protobuf` that has a JSON form of its own, or `None`
/// for a message written as an object of its fields. Wrappers are scalars, with the
/// field's rules: see [`wrapped`].
pub fn well_known(message: &MessageDescriptor) -> Option<Value> {
    let schema = match message.full_name() {
        "google.protobuf.Duration" => json!({
            "type": "string",
            "pattern": DURATION,
            "description": "A duration: seconds with up to nine decimals, e.g. \"1.5s\".",
        }),
        "google.protobuf.Timestamp" => json!({
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP,
            "description": "An RFC 3339 timestamp, e.g. \"2025-01-31T12:00:00Z\".",
        }),
        "google.protobuf.FieldMask" => json!({
            "type": "string",
            "description": "Comma-separated field paths, e.g. \"user.displayName,photo\".",
        }),
        "google.protobuf.Struct" => json!({"type": "object"}),
        "google.protobuf.ListValue" => json!({"type": "array"}),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.Empty" => json!({"type": "object", "maxProperties": 0}),
        "google.protobuf.Any" => json!({
            "type": "object",
            "properties": {"@type": {"type": "string"}},
            "anyOf": [{"maxProperties": 0}, {"required": ["@type"]}],
            "description": "A message of any type, named by \"@type\" (its type URL), or {}.",
        }),
        name => return wrapped_scalar(name).map(|kind| Value::Object(scalar(&kind))),
    };
    Some(schema)
}

/// The scalar kind a `google.protobuf.*Value` wrapper is written as.
pub fn wrapped_scalar(message: &str) -> Option<Kind> {
    harness_core::validate::read::wrapped_kind(message)
}

/// `schema` that also accepts `null`, which harness reads as an unset field.
pub fn nullable(schema: Value) -> Value {
    let Value::Object(mut map) = schema else {
        return schema;
    };
    // Every other keyword of a schema that has a `type` only constrains values of its
    // types, so adding "null" to `type` is enough.
    const TYPED: &[&str] = &[
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "minLength",
        "maxLength",
        "format",
        "contentEncoding",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "propertyNames",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "properties",
        "description",
    ];
    if map.contains_key("type") && map.keys().all(|key| TYPED.contains(&key.as_str())) {
        let types = match map.remove("type") {
            Some(Value::Array(types)) => types,
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let mut types: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        types.push(json!("null"));
        // `type` first, where a reader looks for it.
        let mut typed = Map::from_iter([("type".to_owned(), Value::Array(types))]);
        typed.extend(map);
        return Value::Object(typed);
    }
    if map.is_empty() {
        return Value::Object(map);
    }
    json!({"anyOf": [{"type": "null"}, map]})
}

pub fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn text_forms_follow_rusts_parsers() {
        for text in ["1", "+1", "-0", "0042"] {
            assert!(matches(SIGNED_TEXT, text), "{text}");
            assert!(text.parse::<i64>().is_ok(), "{text}");
        }
        for text in ["", "1.0", "1e3", " 1", "0x1"] {
            assert!(!matches(SIGNED_TEXT, text), "{text}");
            assert!(text.parse::<i64>().is_err(), "{text}");
        }
        for text in [
            "1", "1.", ".5", "-1.5e-3", "Infinity", "-inf", "NaN", "+nan", "1E5",
        ] {
            assert!(matches(FLOAT_TEXT, text), "{text}");
            assert!(text.parse::<f64>().is_ok(), "{text}");
        }
        for text in ["", ".", "e5", "1e", "Inf1", "one"] {
            assert!(!matches(FLOAT_TEXT, text), "{text}");
            assert!(text.parse::<f64>().is_err(), "{text}");
        }
    }

    #[test]
    fn durations_and_timestamps_follow_prost() {
        for text in ["1s", "-1.5s", "0.000000001s", "3600s"] {
            assert!(matches(DURATION, text), "{text}");
            assert!(text.parse::<prost_types::Duration>().is_ok(), "{text}");
        }
        for text in ["1", "1.s", "1m", "s", "+1s"] {
            assert!(!matches(DURATION, text), "{text}");
            assert!(text.parse::<prost_types::Duration>().is_err(), "{text}");
        }
        assert!(matches(TIMESTAMP, "2025-01-31T12:00:00.5+01:00"));
        assert!(!matches(TIMESTAMP, "2025-01-31 12:00:00Z"));
    }

    #[test]
    fn null_joins_the_types_or_wraps() {
        assert_eq!(
            nullable(json!({"type": "string", "minLength": 1})),
            json!({"type": ["string", "null"], "minLength": 1})
        );
        assert_eq!(
            nullable(json!({"$ref": "#/$defs/a.B"})),
            json!({"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a.B"}]})
        );
        assert_eq!(nullable(json!({})), json!({}));
    }
}
