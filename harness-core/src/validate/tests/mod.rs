//! Every rule family on messages of small protos compiled in the test, decoded from JSON.

mod collections;
mod messages;
mod numbers;
mod strings;
mod time;

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost_reflect::{DescriptorPool, DynamicMessage};

use super::{Violation, validate_at};

/// The "now" of the tests: 2024-05-01T12:00:00Z.
pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_564_800)
}

/// Compiles `source`, a whole proto file, as `test.proto`.
pub(super) fn compile_file(source: &str) -> DescriptorPool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.proto");
    fs::write(&path, source).unwrap();
    crate::protos::compile(&path, &[]).unwrap().pool
}

/// Compiles `body` in package `t`, importing validate.proto and the well-known types.
pub(super) fn compile(body: &str) -> DescriptorPool {
    compile_file(&format!(
        r#"syntax = "proto3";
package t;
import "validate/validate.proto";
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
{body}"#
    ))
}

/// A `t.<name>` decoded from proto3 JSON.
pub(super) fn decode(pool: &DescriptorPool, name: &str, json: &str) -> DynamicMessage {
    let descriptor = pool.get_message_by_name(&format!("t.{name}")).unwrap();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor, &mut deserializer).unwrap();
    deserializer.end().unwrap();
    message
}

/// The violations of a `t.<name>` decoded from `json`, at [`now`].
pub(super) fn violations(pool: &DescriptorPool, name: &str, json: &str) -> Vec<Violation> {
    match validate_at(&decode(pool, name, json), now()) {
        Ok(()) => Vec::new(),
        Err(violations) => {
            assert!(!violations.is_empty(), "Err holds at least one violation");
            violations
        }
    }
}

/// The paths and rules of the violations.
pub(super) fn broken(pool: &DescriptorPool, name: &str, json: &str) -> Vec<(String, &'static str)> {
    violations(pool, name, json)
        .into_iter()
        .map(|violation| (violation.path.to_string(), violation.rule))
        .collect()
}

/// The one violation of a `t.<name>` decoded from `json`.
pub(super) fn single(pool: &DescriptorPool, name: &str, json: &str) -> Violation {
    let mut found = violations(pool, name, json);
    assert_eq!(found.len(), 1, "one violation for {json}: {found:#?}");
    found.remove(0)
}

#[track_caller]
pub(super) fn assert_valid(pool: &DescriptorPool, name: &str, json: &str) {
    let found = violations(pool, name, json);
    assert!(found.is_empty(), "{json} should be valid: {found:#?}");
}
