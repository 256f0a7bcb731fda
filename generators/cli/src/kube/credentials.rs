//! Credentials written in CONFIG itself, which kube-gen ships verbatim in a ConfigMap
//! (readable by whoever may read the namespace's ConfigMaps, and often committed with
//! the service): a non-empty value of a secret field (`(harness.mark).secret`, or a field
//! named `password`) that is not a URL, and a URL with a password in any field. Each is a warning that
//! names the file, position and path, never the value, and says how to move it to a
//! `--secret-merge` file, which kube-gen ships as a Secret.

use harness_core::config::{self, Sources, is_secret_field};
use harness_core::path::{FieldPath, Segment};
use harness_core::spec::ConfigSpec;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

/// A warning for each credential in CONFIG, in the order of the file.
pub fn in_config(spec: &ConfigSpec, sources: &Sources) -> Vec<String> {
    // The file already loaded (kube-gen runs after the check), so it parses.
    let Ok(value) = config::read_yaml(&sources.config) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&spec.message, &value, &FieldPath::root(), &mut found);
    let config_only = Sources {
        config: sources.config.clone(),
        merge: None,
        patch: None,
    };
    found
        .into_iter()
        .map(|(path, what)| {
            let overridden = config::locate(&spec.message, sources, &path, String::new()).file.as_ref()
                != Some(&sources.config.path);
            let message = if overridden {
                format!(
                    "{what} is written in the configuration file, which kube-gen ships in a ConfigMap, although a secret file sets it too: remove it from the configuration file"
                )
            } else {
                format!(
                    "{what} is written in the configuration file, which kube-gen ships in a ConfigMap; move it to a file passed with --secret-merge (shipped as a Secret), e.g. `{}`",
                    merge_example(&path)
                )
            };
            config::locate(&spec.message, &config_only, &path, message).to_string()
        })
        .collect()
}

/// What a credential is, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    SecretField,
    UrlPassword,
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::SecretField => "a credential",
            Credential::UrlPassword => "a URL with a password",
        })
    }
}

fn walk(
    message: &MessageDescriptor,
    value: &Value,
    path: &FieldPath,
    found: &mut Vec<(FieldPath, Credential)>,
) {
    let Value::Object(map) = value else { return };
    for (key, item) in map {
        let Some(field) = message
            .get_field_by_name(key)
            .or_else(|| message.get_field_by_json_name(key))
        else {
            continue;
        };
        let path = path.field(&field);
        match item {
            Value::Array(items) if field.is_list() => {
                for (index, item) in items.iter().enumerate() {
                    visit(&field, item, &path.join(Segment::Index(index)), found);
                }
            }
            Value::Object(entries) if field.is_map() => {
                let Kind::Message(entry) = field.kind() else {
                    continue;
                };
                let value_field = entry.map_entry_value_field();
                for (key, item) in entries {
                    visit(
                        &value_field,
                        item,
                        &path.join(Segment::Key(key.clone())),
                        found,
                    );
                }
            }
            item => visit(&field, item, &path, found),
        }
    }
}

fn visit(
    field: &FieldDescriptor,
    value: &Value,
    path: &FieldPath,
    found: &mut Vec<(FieldPath, Credential)>,
) {
    // A URL is judged by its password, in a secret field too (a DSN without one is not).
    let url = match value {
        Value::String(text) => url::Url::parse(text).ok().filter(url::Url::has_host),
        _ => None,
    };
    match url {
        Some(url) if url.password().is_some_and(|p| !p.is_empty()) => {
            found.push((path.clone(), Credential::UrlPassword));
        }
        None if is_secret_field(field) && !is_empty(value) => {
            found.push((path.clone(), Credential::SecretField));
        }
        _ => {}
    }
    if let Kind::Message(message) = field.kind() {
        walk(&message, value, path, found);
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// The path as a one-line YAML mapping, the value elided: `db: {password: …}`.
fn merge_example(path: &FieldPath) -> String {
    let mut example = "…".to_owned();
    for segment in path.segments().iter().rev() {
        example = match segment {
            Segment::Field { name, .. } => format!("{{{name}: {example}}}"),
            Segment::Key(key) => format!("{{{key:?}: {example}}}"),
            // A merge replaces a list as a whole.
            Segment::Index(_) => format!("[{example}]"),
        };
    }
    match example.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
        Some(inner) => inner.to_owned(),
        None => example,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Segment {
        Segment::Field {
            name: name.into(),
            json_name: name.into(),
        }
    }

    #[test]
    fn merge_examples_follow_the_path() {
        let path = FieldPath(vec![field("db"), field("password")]);
        assert_eq!(merge_example(&path), "db: {password: …}");
        let path = FieldPath(vec![field("hosts"), Segment::Index(1), field("password")]);
        assert_eq!(merge_example(&path), "hosts: [{password: …}]");
    }
}
