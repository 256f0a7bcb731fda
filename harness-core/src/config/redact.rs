//! Showing values in messages without showing secrets.
//!
//! A value is never shown when it came from a secret file (see `secrets`), when its
//! field is marked `(harness.mark).secret` or is named `password`; the credentials in
//! any URL are masked, so a DSN's host stays readable and its password does not.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

use crate::path::{FieldPath, Segment};

/// What a message shows in place of a secret value.
pub const REDACTED: &str = "<redacted>";

/// `value` as shown in a message about `field`.
pub fn render(value: &Value, field: Option<&FieldDescriptor>) -> String {
    let secret = field.is_some_and(is_secret_field);
    match value {
        Value::String(text) => match masked_url(text) {
            Some(url) => format!("{url:?}"),
            None if secret => REDACTED.to_owned(),
            None => format!("{text:?}"),
        },
        _ if secret => REDACTED.to_owned(),
        Value::Object(_) => "(a mapping)".to_owned(),
        Value::Array(_) => "(a list)".to_owned(),
        other => other.to_string(),
    }
}

/// Whether values of `field` are credentials.
pub fn is_secret_field(field: &FieldDescriptor) -> bool {
    if field.name() == "password" {
        return true;
    }
    let pool = field.parent_pool();
    let Some(mark) = pool.get_extension_by_name("harness.mark") else {
        return false;
    };
    let options = field.options();
    options.has_extension(&mark)
        && options
            .get_extension(&mark)
            .as_message()
            .and_then(|mark| mark.get_field_by_name("secret")?.as_bool())
            .unwrap_or(false)
}

/// `text` with the password of its URL replaced, when it is a URL with a password.
fn masked_url(text: &str) -> Option<String> {
    let mut url = url::Url::parse(text).ok()?;
    url.password()?;
    url.set_password(Some("***")).ok()?;
    Some(url.to_string())
}

/// The field a path ends at, if it ends at a field (or an item of one).
pub fn field_at(root: &MessageDescriptor, path: &FieldPath) -> Option<FieldDescriptor> {
    let mut message = root.clone();
    let mut field: Option<FieldDescriptor> = None;
    for segment in path.segments() {
        match segment {
            Segment::Field { name, .. } => {
                if let Some(current) = &field {
                    match current.kind() {
                        Kind::Message(inner) => message = inner,
                        _ => return None,
                    }
                }
                field = Some(message.get_field_by_name(name)?);
            }
            Segment::Index(_) => {}
            Segment::Key(_) => {
                let entry = match field.as_ref()?.kind() {
                    Kind::Message(entry) => entry,
                    _ => return None,
                };
                field = Some(entry.map_entry_value_field());
            }
        }
    }
    field
}

/// A library's error text with its quoted parts (which may be values) elided.
pub fn without_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(open) if c == open => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn masks_url_passwords_and_quotes_strings() {
        assert_eq!(
            render(&json!("postgres://u:pw@db/app"), None),
            "\"postgres://u:***@db/app\""
        );
        assert_eq!(render(&json!("80a"), None), "\"80a\"");
        assert_eq!(render(&json!(7), None), "7");
        assert_eq!(render(&json!({"a": 1}), None), "(a mapping)");
    }

    #[test]
    fn elides_quoted_parts() {
        assert_eq!(
            without_values("unknown variant `hunter2`, expected"),
            "unknown variant `…`, expected"
        );
        assert_eq!(
            without_values("invalid type: string \"x\""),
            "invalid type: string \"…\""
        );
    }
}
