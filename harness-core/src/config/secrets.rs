//! Which values of a configuration came from a secret file (`--merge`, `--patch`).
//!
//! A value is secret when the merge document holds it (or replaced a whole subtree
//! holding it), or when an `add`, `replace`, `copy` or `move` operation wrote at or
//! above its path. Those values are never shown, and positions point into the secret
//! file the value came from.

use serde_json::Value;

use super::yaml::Step;

/// The file a value was last written by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Config,
    Merge,
    /// Written by the patch operation at this index; `rest` is the path below the
    /// operation's own path, inside its `value`.
    Patch {
        operation: usize,
        rest: Vec<Step>,
    },
}

#[derive(Debug, Default)]
pub struct SecretPaths {
    merge: Option<Value>,
    /// `(index, pointer tokens)` of every operation that writes a value.
    writes: Vec<(usize, Vec<String>)>,
}

impl SecretPaths {
    pub fn new(merge: Option<&Value>, patch: Option<&Value>) -> Self {
        let writes = patch
            .and_then(Value::as_array)
            .map(|operations| {
                operations
                    .iter()
                    .enumerate()
                    .filter(|(_, op)| {
                        matches!(
                            op.get("op").and_then(Value::as_str),
                            Some("add" | "replace" | "copy" | "move")
                        )
                    })
                    .filter_map(|(index, op)| {
                        Some((index, pointer_tokens(op.get("path")?.as_str()?)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        SecretPaths {
            merge: merge.cloned(),
            writes,
        }
    }

    pub fn origin(&self, path: &[Step]) -> Origin {
        for (operation, tokens) in self.writes.iter().rev() {
            if tokens.len() <= path.len()
                && tokens
                    .iter()
                    .zip(path)
                    .all(|(token, step)| step.matches(token))
            {
                return Origin::Patch {
                    operation: *operation,
                    rest: path[tokens.len()..].to_vec(),
                };
            }
        }
        if let Some(merge) = &self.merge
            && merged_at(merge, path)
        {
            return Origin::Merge;
        }
        Origin::Config
    }

    pub fn is_secret(&self, path: &[Step]) -> bool {
        self.origin(path) != Origin::Config
    }
}

/// Whether merging `merge` set the value at `path` (or a subtree holding it).
fn merged_at(merge: &Value, path: &[Step]) -> bool {
    let mut node = merge;
    for step in path {
        match (node, step) {
            (Value::Object(object), Step::Key(names)) => {
                match names.iter().find_map(|name| object.get(name)) {
                    Some(next) => node = next,
                    None => return false,
                }
            }
            // A merge replaces anything that is not an object as a whole.
            (Value::Object(_), Step::Index(_)) => return false,
            _ => return true,
        }
    }
    true
}

/// RFC 6901 reference tokens of a JSON pointer.
fn pointer_tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(name: &str) -> Step {
        Step::Key(vec![name.to_owned()])
    }

    #[test]
    fn merge_marks_what_it_holds() {
        let merge = json!({"db": {"password": "x"}, "tokens": ["a"]});
        let secrets = SecretPaths::new(Some(&merge), None);
        assert!(secrets.is_secret(&[key("db"), key("password")]));
        assert!(!secrets.is_secret(&[key("db"), key("address"), key("host")]));
        assert!(secrets.is_secret(&[key("tokens"), Step::Index(0)]));
        assert!(!secrets.is_secret(&[key("server")]));
    }

    #[test]
    fn patch_marks_what_it_writes() {
        let patch = json!([
            {"op": "test", "path": "/db/username", "value": "u"},
            {"op": "replace", "path": "/db/password", "value": "x"},
            {"op": "add", "path": "/a~1b", "value": {"c": 1}},
        ]);
        let secrets = SecretPaths::new(None, Some(&patch));
        assert_eq!(
            secrets.origin(&[key("db"), key("password")]),
            Origin::Patch {
                operation: 1,
                rest: vec![]
            }
        );
        assert!(!secrets.is_secret(&[key("db"), key("username")]));
        assert_eq!(
            secrets.origin(&[key("a/b"), key("c")]),
            Origin::Patch {
                operation: 2,
                rest: vec![key("c")]
            }
        );
    }
}
