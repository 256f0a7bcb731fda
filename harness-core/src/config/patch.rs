//! `--patch`: RFC 6902 operations applied one by one, each checked first against the
//! bounds (see [`super::limits`]): a copy can double the configuration, and a handful of
//! them would otherwise exhaust memory.

use json_patch::{PatchErrorKind, PatchOperation};
use serde_json::Value;

use super::limits::{self, MAX_DEPTH, MAX_VALUES};
use super::yaml::{self, Step};
use super::{ConfigError, Diagnostic, Source, kind_of, redact};

/// Applies the operations of `patch` (read from `source`) to `value`.
pub fn apply(value: &mut Value, patch: &Value, source: &Source) -> Result<(), ConfigError> {
    // Positions are looked for only once something failed: reading the patch again for
    // every operation made long patches quadratic.
    let fail = |index: Option<usize>, message: String| {
        let position =
            index.and_then(|index| yaml::position_of(&source.text, &[Step::Index(index)]));
        ConfigError::Parse(Diagnostic {
            file: Some(source.path.clone()),
            position,
            path: None,
            message,
        })
    };
    let Value::Array(operations) = patch else {
        return Err(fail(
            None,
            format!(
                "a patch file must be a list of JSON Patch operations, found {}",
                kind_of(patch)
            ),
        ));
    };
    let parsed = parse(operations).map_err(|(index, message)| fail(Some(index), message))?;
    let mut values = limits::measure(value, MAX_VALUES).values;
    for (index, (operation, raw)) in parsed.iter().zip(operations).enumerate() {
        let op = raw.get("op").and_then(Value::as_str).unwrap_or("?");
        let path = raw.get("path").and_then(Value::as_str).unwrap_or_default();
        let described = format!("operation {index} ({op} {})", redact::capped(path));
        check_growth(value, operation, raw, &mut values)
            .map_err(|problem| fail(Some(index), format!("{described} {problem}")))?;
        json_patch::patch(value, std::slice::from_ref(operation)).map_err(|err| {
            fail(
                Some(index),
                format!("{described} failed: {}", reason(&err.kind)),
            )
        })?;
    }
    Ok(())
}

/// The operations, or the index of the first that is not one and why.
fn parse(operations: &[Value]) -> Result<Vec<PatchOperation>, (usize, String)> {
    operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            serde_json::from_value::<PatchOperation>(operation.clone()).map_err(|err| {
                // The value is not echoed: a patch usually carries secrets.
                let reason = err.to_string();
                let reason = reason.split(", expected").next().unwrap_or(&reason);
                let message = format!(
                    "operation {index} is not a JSON Patch operation: {}",
                    redact::without_values(reason)
                );
                (index, message)
            })
        })
        .collect()
}

/// Checks what `operation` writes against the bounds, and counts it into `values`.
fn check_growth(
    value: &Value,
    operation: &PatchOperation,
    raw: &Value,
    values: &mut usize,
) -> Result<(), String> {
    // What the operation writes: its value, or the value at `from` (copy and move).
    let written = match operation {
        PatchOperation::Add(add) => Some(&add.value),
        PatchOperation::Replace(replace) => Some(&replace.value),
        PatchOperation::Copy(_) | PatchOperation::Move(_) => raw
            .get("from")
            .and_then(Value::as_str)
            .and_then(|from| value.pointer(from)),
        _ => None,
    };
    let Some(written) = written else {
        return Ok(());
    };
    let size = limits::measure(written, MAX_VALUES - (*values).min(MAX_VALUES));
    let path = raw.get("path").and_then(Value::as_str).unwrap_or_default();
    if path.matches('/').count() + size.depth > MAX_DEPTH {
        return Err(format!(
            "would nest lists and mappings more than {MAX_DEPTH} levels deep"
        ));
    }
    // Only a copy adds values that are not in the patch file, which is bounded itself;
    // counting every write keeps the sum simple and an upper bound.
    *values += size.values;
    if *values > MAX_VALUES {
        return Err(format!(
            "would make the configuration hold more than {MAX_VALUES} values"
        ));
    }
    Ok(())
}

fn reason(kind: &PatchErrorKind) -> &'static str {
    match kind {
        PatchErrorKind::TestFailed => "the value does not match",
        PatchErrorKind::InvalidFromPointer => "its `from` path does not exist",
        PatchErrorKind::InvalidPointer => "its path does not exist",
        PatchErrorKind::CannotMoveInsideItself => "cannot move a value inside itself",
        _ => "it cannot be applied",
    }
}
