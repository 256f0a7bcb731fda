//! Showing values in messages without showing secrets.
//!
//! A value is never shown when it came from a secret file (see `secrets`), when its
//! field is marked `(harness.mark).secret` or is named `password`; the credentials in
//! any URL are masked, so a DSN's host stays readable and its password does not. Text
//! that looks like a URL with credentials but does not parse as one is not shown at all.
//! What is shown is cut to [`MAX_SHOWN`] characters.

use prost_reflect::FieldDescriptor;
use serde_json::Value;

/// What a message shows in place of a secret value.
pub const REDACTED: &str = "<redacted>";

/// Most characters of a value shown in a message.
pub const MAX_SHOWN: usize = 64;

/// `value` as shown in a message about `field`.
pub fn render(value: &Value, field: Option<&FieldDescriptor>) -> String {
    let secret = field.is_some_and(is_secret_field);
    match value {
        Value::String(text) => match masked_url(text) {
            Some(url) => format!("{:?}", capped(&url)),
            None if secret || looks_like_credentials(text) => REDACTED.to_owned(),
            None => format!("{:?}", capped(text)),
        },
        _ if secret => REDACTED.to_owned(),
        Value::Object(_) => "(a mapping)".to_owned(),
        Value::Array(_) => "(a list)".to_owned(),
        other => capped(&other.to_string()).into_owned(),
    }
}

/// A YAML scalar's text, as shown in a message: in backticks, with a URL's password
/// masked, or [`REDACTED`] when it looks like credentials that cannot be masked.
pub fn quote(text: &str) -> String {
    match masked_url(text) {
        Some(url) => format!("`{}`", capped(&url)),
        None if looks_like_credentials(text) => REDACTED.to_owned(),
        None => format!("`{}`", capped(text)),
    }
}

/// `text` cut to [`MAX_SHOWN`] characters, with `…` when it was longer.
pub fn capped(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// `scheme://…@…`: a URL's user information, which a URL parser could not mask.
fn looks_like_credentials(text: &str) -> bool {
    text.find("://").is_some_and(|at| text[at..].contains('@'))
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
        // Credentials the URL parser rejects (a port out of range) are not shown at all.
        assert_eq!(
            render(&json!("postgres://u:pw@db:99999/app"), None),
            REDACTED
        );
        assert_eq!(quote("0opostgres://u:pw@db/app"), REDACTED);
        assert_eq!(quote("postgres://u:pw@db/app"), "`postgres://u:***@db/app`");
    }

    #[test]
    fn long_values_are_cut() {
        let digits = "7".repeat(1_000_000);
        let shown = render(&json!(digits), None);
        assert_eq!(shown.chars().count(), MAX_SHOWN + 3, "{shown}");
        assert!(shown.ends_with("…\""), "{shown}");
        assert_eq!(quote(&digits).chars().count(), MAX_SHOWN + 3);
        assert_eq!(capped("short"), "short");
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
