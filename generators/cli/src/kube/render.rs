//! The multi-document YAML stream.
//!
//! Every object is serialized to a JSON value first, so its keys can be put in the
//! order people read manifests in (apiVersion, kind, metadata, then the rest; in every
//! mapping `name` and then `namespace` first, the other keys in the type's own order),
//! then written as YAML by serde-saphyr, which quotes every
//! string a YAML 1.1 reader (kubectl) would take for something else (`"true"`, `"on"`,
//! `"1.0"`) and writes multi-line strings (the config file) as literal blocks.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Object;

/// Keys that lead every object, in this order.
const LEADING_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];
/// Keys that lead every mapping inside an object, in this order.
const LEADING_INNER_KEYS: [&str; 2] = ["name", "namespace"];

/// Why an object could not be written; a bug, never a user's mistake.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {kind} {name} as YAML: {reason}")]
pub struct RenderError {
    pub kind: &'static str,
    pub name: String,
    pub reason: String,
}

/// The objects as one YAML stream, each document starting with `---`.
pub fn to_yaml(objects: &[Object]) -> Result<String, RenderError> {
    let mut out = String::with_capacity(objects.len() * 1024);
    for object in objects {
        let fail = |reason: String| RenderError {
            kind: object.kind(),
            name: object.name().to_owned(),
            reason,
        };
        let value = object.to_value().map_err(|e| fail(e.to_string()))?;
        out.push_str("---\n");
        let options = serde_saphyr::ser_options! {
            // Long one-line strings (a Secret's base64) stay on one line, never folded.
            folded_wrap_chars: usize::MAX,
        };
        let document =
            serde_saphyr::to_string_with_options(&reorder(value, &LEADING_KEYS), options)
                .map_err(|e| fail(e.to_string()))?;
        out.push_str(&document);
        if !document.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

pub(super) fn to_value<T: Serialize>(object: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(object)
}

/// `value` with `leading` keys first in its mapping, and [`LEADING_INNER_KEYS`] first in
/// every mapping below it.
fn reorder(value: Value, leading: &[&str]) -> Value {
    match value {
        Value::Object(mut map) => {
            let mut ordered = Map::with_capacity(map.len());
            for key in leading {
                if let Some(v) = map.shift_remove(*key) {
                    ordered.insert((*key).to_owned(), reorder(v, &LEADING_INNER_KEYS));
                }
            }
            for (key, v) in map {
                ordered.insert(key, reorder(v, &LEADING_INNER_KEYS));
            }
            Value::Object(ordered)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| reorder(v, &LEADING_INNER_KEYS))
                .collect(),
        ),
        other => other,
    }
}
