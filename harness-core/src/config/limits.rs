//! Bounds on what a configuration may be, so that a hostile or broken file costs a clear
//! error instead of the stack, the memory or the time of the process reading it.
//!
//! The bounds are far above any real configuration (a Kubernetes ConfigMap, which
//! `harness kube-gen` ships the configuration in, holds at most 1 MiB).

use serde_json::Value;

/// Largest file read as a configuration, a merge or a patch file.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Deepest nesting of lists and mappings, in a file and after merge and patch.
pub const MAX_DEPTH: usize = 100;

/// Most values (scalars, lists and mappings, aliases expanded) in a document, and in the
/// configuration after merge and patch.
pub const MAX_VALUES: usize = 1_000_000;

/// How many values `value` holds and how deeply they nest; counting stops past `budget`
/// values (the count is then `budget + 1`), so measuring costs at most the budget.
pub fn measure(value: &Value, budget: usize) -> Size {
    let mut size = Size {
        values: 0,
        depth: 0,
    };
    // (value, depth of its collections): iterative, as `value` may be as deep as allowed.
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        size.values += 1;
        if size.values > budget {
            break;
        }
        match value {
            Value::Array(items) => {
                size.depth = size.depth.max(depth + 1);
                pending.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(object) => {
                size.depth = size.depth.max(depth + 1);
                pending.extend(object.values().map(|item| (item, depth + 1)));
            }
            _ => {}
        }
    }
    size
}

/// The size of a JSON value, as [`measure`] counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub values: usize,
    /// Nesting of lists and mappings: 0 for a scalar, 1 for a flat list.
    pub depth: usize,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn counts_values_and_depth() {
        let size = measure(&json!({"a": [1, {"b": 2}], "c": 3}), 100);
        assert_eq!(
            size,
            Size {
                values: 6,
                depth: 3
            }
        );
        assert_eq!(
            measure(&json!(1), 100),
            Size {
                values: 1,
                depth: 0
            }
        );
        assert_eq!(measure(&json!([1, 2, 3, 4]), 2).values, 3);
    }
}
