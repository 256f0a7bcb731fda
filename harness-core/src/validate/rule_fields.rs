//! Reading one field of a rules message (a `validate.*Rules`) by name: the leaf every rule
//! family reads its options with, so that the families do not depend on the compiler of
//! field rules that depends on them.

use std::borrow::Cow;

use prost_reflect::{DynamicMessage, Value};

/// The value of a set field of a rules message (`None` when unset).
pub(crate) fn field<'a>(rules: &'a DynamicMessage, name: &str) -> Option<Cow<'a, Value>> {
    if rules.has_field_by_name(name) {
        rules.get_field_by_name(name)
    } else {
        None
    }
}

/// A set field holding a message.
pub(crate) fn message_field(rules: &DynamicMessage, name: &str) -> Option<DynamicMessage> {
    field(rules, name).and_then(|value| value.as_message().cloned())
}

/// A bool rule, false when unset.
pub(crate) fn flag(rules: &DynamicMessage, name: &str) -> bool {
    field(rules, name)
        .and_then(|value| value.as_bool())
        .unwrap_or(false)
}

/// A set scalar rule, converted by `convert`.
pub(crate) fn scalar<T>(
    rules: &DynamicMessage,
    name: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    field(rules, name).and_then(|value| convert(&value))
}

/// A repeated rule, each item converted by `convert`.
pub(crate) fn list<T>(
    rules: &DynamicMessage,
    name: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Vec<T> {
    match field(rules, name) {
        Some(value) => value
            .as_list()
            .unwrap_or_default()
            .iter()
            .filter_map(convert)
            .collect(),
        None => Vec::new(),
    }
}

/// A `uint64` rule (a length or a count).
pub(crate) fn count(rules: &DynamicMessage, name: &str) -> Option<u64> {
    scalar(rules, name, Value::as_u64)
}
