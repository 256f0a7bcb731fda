//! The schema of a field: one value, a list or a map, with the field's rules, its comment
//! and whether it is a credential.

use harness_core::config::is_secret_field;
use harness_core::validate::read::{FamilyRules, FieldPlan, FieldRules, Shape, Sizes};
use prost_reflect::{FieldDescriptor, Kind};
use serde_json::{Map, Value, json};

use super::Builder;
use super::rules::{self, and, object};
use super::values::{self, nullable};

impl Builder {
    /// The schema of `field`'s value, with its rules (from `plan`, when it has any).
    pub(super) fn field_schema(
        &mut self,
        field: &FieldDescriptor,
        plan: Option<&FieldPlan>,
        required: bool,
    ) -> Value {
        let rules = plan.map(|plan| &plan.rules);
        let visited = plan.is_some_and(|plan| plan.visit);
        let family = rules.and_then(|rules| rules.family.as_ref());
        let mut schema = match Shape::of(field) {
            Shape::Single(kind) => {
                let skip = rules.is_some_and(|rules| rules.skip);
                self.value_schema(&kind, rules, visited && !skip)
            }
            Shape::List(kind) => self.list_schema(&kind, family, visited),
            Shape::Map(key, value) => self.map_schema(&key, &value, family, visited),
        };
        if !required {
            schema = nullable(schema);
        }
        let mut schema = object(schema);
        if let Some(description) = self.comment(&field.parent_file(), field.path()) {
            schema.insert("description".to_owned(), json!(description));
        }
        if is_secret_field(field) {
            schema.insert("writeOnly".to_owned(), json!(true));
        }
        Value::Object(schema)
    }

    /// A repeated field: an array of values that are never null.
    fn list_schema(&mut self, kind: &Kind, family: Option<&FamilyRules>, visited: bool) -> Value {
        let repeated = match family {
            Some(FamilyRules::Repeated(repeated)) => Some(repeated.as_ref()),
            _ => None,
        };
        let items = repeated.and_then(|repeated| repeated.items.as_ref());
        let skip = items.is_some_and(|items| items.skip);
        let item = self.value_schema(kind, items, visited && !skip);
        let mut list = object(json!({"type": "array", "items": item}));
        if let Some(repeated) = repeated {
            let mut said = Map::new();
            size_keywords(&mut said, &repeated.sizes, "Items");
            // JSON equality is stricter than proto equality for floats ("NaN").
            let floats = matches!(kind, Kind::Float | Kind::Double);
            if repeated.unique && !floats {
                said.insert("uniqueItems".to_owned(), json!(true));
            }
            with_ignore_empty(&mut list, said, repeated.ignore_empty, "maxItems");
        }
        Value::Object(list)
    }

    /// A map field: an object whose keys read as the key type.
    fn map_schema(
        &mut self,
        key: &Kind,
        value: &Kind,
        family: Option<&FamilyRules>,
        visited: bool,
    ) -> Value {
        let map = match family {
            Some(FamilyRules::Map(map)) => Some(map.as_ref()),
            _ => None,
        };
        let keys = map.and_then(|map| map.keys.as_ref());
        let values = map.and_then(|map| map.values.as_ref());
        let skip = values.is_some_and(|values| values.skip);
        let value = self.value_schema(value, values, visited && !skip);
        let mut key_schema = key_schema(key);
        if let (
            Some(FieldRules {
                family: Some(family),
                ..
            }),
            Kind::String,
        ) = (keys, key)
        {
            rules::apply(family, key, &mut key_schema);
        }
        let mut object_schema = object(json!({"type": "object", "additionalProperties": value}));
        if !key_schema.is_empty() {
            object_schema.insert("propertyNames".to_owned(), Value::Object(key_schema));
        }
        if let Some(map) = map {
            let mut said = Map::new();
            size_keywords(&mut said, &map.sizes, "Properties");
            with_ignore_empty(&mut object_schema, said, map.ignore_empty, "maxProperties");
        }
        Value::Object(object_schema)
    }

    /// The schema of one value of `kind` (a field's, an item, a map value), not null.
    fn value_schema(&mut self, kind: &Kind, rules: Option<&FieldRules>, validated: bool) -> Value {
        let family = rules.and_then(|rules| rules.family.as_ref());
        match kind {
            Kind::Message(message) => {
                let scalar = values::wrapped_scalar(message.full_name());
                match values::well_known(message) {
                    Some(schema) => {
                        let mut schema = object(schema);
                        if let Some(family) = family {
                            let kind = scalar.unwrap_or_else(|| kind.clone());
                            rules::apply(family, &kind, &mut schema);
                        }
                        Value::Object(schema)
                    }
                    None => self.message_ref(message, validated),
                }
            }
            kind => {
                let mut schema = values::scalar(kind);
                if let Some(family) = family {
                    rules::apply(family, kind, &mut schema);
                }
                Value::Object(schema)
            }
        }
    }
}

/// A map key as the JSON object's key: a string, of the key type's text form.
fn key_schema(kind: &Kind) -> Map<String, Value> {
    match kind {
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64 => object(json!({"pattern": values::SIGNED_TEXT})),
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => {
            object(json!({"pattern": values::UNSIGNED_TEXT}))
        }
        Kind::Bool => object(json!({"enum": ["true", "false"]})),
        _ => Map::new(),
    }
}

/// `minItems`/`maxItems` (or `…Properties`) from a repeated or map field's sizes.
fn size_keywords(said: &mut Map<String, Value>, sizes: &Sizes, noun: &str) {
    if let Some((min, _)) = sizes.min.filter(|(min, _)| *min > 0) {
        said.insert(format!("min{noun}"), json!(min));
    }
    if let Some((max, _)) = sizes.max {
        said.insert(format!("max{noun}"), json!(max));
    }
}

/// Adds `said` to `schema`, or when `ignore_empty`, says that an empty list or map is
/// exempt from it (`empty` is the keyword that says "empty": `maxItems`…).
fn with_ignore_empty(
    schema: &mut Map<String, Value>,
    said: Map<String, Value>,
    ignore_empty: bool,
    empty: &str,
) {
    if said.is_empty() {
        return;
    }
    if ignore_empty {
        let exempt = Map::from_iter([(empty.to_owned(), json!(0))]);
        and(schema, object(json!({"anyOf": [exempt, said]})));
    } else {
        and(schema, said);
    }
}
