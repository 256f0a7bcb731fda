use std::fs;

use prost_reflect::{MessageDescriptor, ReflectMessage, Value as ProtoValue};

use super::*;

const PROTO: &str = r#"
syntax = "proto3";
package svc;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import "harness/wire.proto";
import "harness/net.proto";
import "harness/postgres.proto";
import "harness/logging.proto";

message Configuration {
    bool debug = 1;
    harness.postgres.Pool db = 2;
    harness.net.Server server = 3;
    harness.logging.Console console = 4;
    int64 big = 5;
    uint64 huge = 6;
    google.protobuf.Duration timeout = 7;
    google.protobuf.Timestamp since = 8;
    google.protobuf.UInt32Value retries = 9;
    google.protobuf.Struct extra = 10;
    google.protobuf.Any any = 11;
    repeated string hosts = 12;
    map<string, harness.net.Socket> peers = 13;
    harness.postgres.DSN events = 14;
    double ratio = 15;
}
"#;

fn descriptor() -> MessageDescriptor {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("svc.proto");
    fs::write(&proto, PROTO).unwrap();
    let compiled = crate::protos::compile(&proto, &[]).unwrap();
    compiled
        .pool
        .get_message_by_name("svc.Configuration")
        .unwrap()
}

fn sources(config: &str, merge: Option<&str>, patch: Option<&str>) -> Sources {
    Sources {
        config: Source::new("svc.yaml", config),
        merge: merge.map(|text| Source::new("secret.yaml", text)),
        patch: patch.map(|text| Source::new("patch.yaml", text)),
    }
}

fn load_text(config: &str) -> Result<DynamicMessage, ConfigError> {
    load(&descriptor(), &sources(config, None, None))
}

fn error_text(config: &str) -> String {
    load_text(config).unwrap_err().to_string()
}

fn field(message: &DynamicMessage, path: &str) -> ProtoValue {
    let mut parts = path.split('.').peekable();
    let mut current = message.clone();
    loop {
        let name = parts.next().unwrap();
        let value = current.get_field_by_name(name).unwrap().into_owned();
        if parts.peek().is_none() {
            return value;
        }
        current = value.as_message().unwrap().clone();
    }
}

#[test]
fn maps_yaml_onto_the_message() {
    let message = load_text(
        "debug: true\n\
         db:\n  address: {host: db, port: 5432}\n  minSize: 2\n  max_size: 8\n\
         console: {level: WARNING, stream: 1}\n\
         big: \"-9007199254740993\"\n\
         huge: 18446744073709551615\n\
         timeout: 1.5s\n\
         since: 2025-01-31T12:00:00Z\n\
         retries: 3\n\
         extra: {a: [1, x]}\n\
         any: {'@type': type.googleapis.com/harness.net.Socket, host: h, port: 1}\n\
         hosts: [a, b]\n\
         peers: {x: {host: p, port: 2}}\n\
         ratio: .inf\n",
    )
    .unwrap();
    assert_eq!(field(&message, "debug"), ProtoValue::Bool(true));
    assert_eq!(field(&message, "db.min_size"), ProtoValue::U32(2));
    assert_eq!(field(&message, "db.max_size"), ProtoValue::U32(8));
    assert_eq!(field(&message, "db.address.port"), ProtoValue::U32(5432));
    assert_eq!(field(&message, "console.level"), ProtoValue::EnumNumber(3));
    assert_eq!(field(&message, "console.stream"), ProtoValue::EnumNumber(1));
    assert_eq!(field(&message, "big"), ProtoValue::I64(-9007199254740993));
    assert_eq!(field(&message, "huge"), ProtoValue::U64(u64::MAX));
    assert_eq!(field(&message, "timeout.seconds"), ProtoValue::I64(1));
    assert_eq!(
        field(&message, "timeout.nanos"),
        ProtoValue::I32(500_000_000)
    );
    assert_eq!(
        field(&message, "since.seconds"),
        ProtoValue::I64(1738324800)
    );
    assert_eq!(field(&message, "retries.value"), ProtoValue::U32(3));
    assert_eq!(field(&message, "ratio"), ProtoValue::F64(f64::INFINITY));
    let any = field(&message, "any");
    assert_eq!(
        any.as_message()
            .unwrap()
            .get_field_by_name("type_url")
            .unwrap()
            .as_str(),
        Some("type.googleapis.com/harness.net.Socket")
    );
    assert_eq!(field(&message, "hosts").as_list().unwrap().len(), 2);
    assert_eq!(field(&message, "peers").as_map().unwrap().len(), 1);
    assert_eq!(message.descriptor().name(), "Configuration");
}

#[test]
fn an_empty_file_is_an_empty_configuration() {
    let message = load_text("").unwrap();
    assert_eq!(field(&message, "debug"), ProtoValue::Bool(false));
}

#[test]
fn a_type_mismatch_names_file_position_path_and_expectation() {
    let text = error_text("server:\n  bind:\n    host: 0.0.0.0\n    port: eighty\n");
    assert_eq!(
        text,
        "svc.yaml:4:11: server.bind.port: invalid value \"eighty\": expected an unsigned integer up to 4294967295"
    );
    let err = load_text("server: {bind: {port: 80a}}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
}

#[test]
fn a_string_field_does_not_take_a_number() {
    let text = error_text("db:\n  username: 1234\n");
    assert_eq!(
        text,
        "svc.yaml:2:13: db.username: invalid value 1234: expected a string"
    );
}

#[test]
fn an_unknown_field_is_located_and_known_fields_listed() {
    let text = error_text("server:\n  bind:\n    hots: x\n");
    assert_eq!(
        text,
        "svc.yaml:3:11: server.bind.hots: unknown field; expected one of: host, port"
    );
}

#[test]
fn a_wrong_enum_name_lists_the_names() {
    let text = error_text("console:\n  level: LOUD\n");
    assert_eq!(
        text,
        "svc.yaml:2:10: console.level: invalid value \"LOUD\": expected one of NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL"
    );
}

#[test]
fn yes_is_not_silently_a_boolean() {
    let text = error_text("debug: yes\n");
    assert!(
        text.starts_with("svc.yaml:1:8: debug: invalid value \"yes\": expected true or false"),
        "{text}"
    );
    assert!(text.contains("write true or false"), "{text}");
}

#[test]
fn items_of_lists_and_maps_have_paths() {
    let text = error_text("hosts: [a, 2]\n");
    assert_eq!(
        text,
        "svc.yaml:1:12: hosts[1]: invalid value 2: expected a string"
    );
    let text = error_text("peers:\n  x: {host: h, port: -1}\n");
    assert_eq!(
        text,
        "svc.yaml:2:22: peers[\"x\"].port: invalid value -1: expected an unsigned integer up to 4294967295"
    );
}

#[test]
fn well_known_types_say_what_they_expect() {
    let text = error_text("timeout: 5 minutes\n");
    assert_eq!(
        text,
        "svc.yaml:1:10: timeout: invalid value \"5 minutes\": expected a duration such as \"1.5s\""
    );
}

#[test]
fn the_document_must_be_a_mapping() {
    for text in ["- a\n- b\n", "just text\n", "42\n"] {
        let err = load_text(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse);
        assert!(
            err.to_string()
                .contains("the configuration must be a mapping"),
            "{err}"
        );
    }
}

#[test]
fn malformed_yaml_is_a_parse_error_with_a_position() {
    let err = load_text("server:\n  bind: [\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().starts_with("svc.yaml:"), "{err}");
}

#[test]
fn merge_overrides_and_its_values_are_secret() {
    let descriptor = descriptor();
    let base = "db:\n  address: {host: db, port: 5432}\n  username: app\n  password: placeholder\n";
    let message = load(
        &descriptor,
        &sources(base, Some("db:\n  password: hunter2\n"), None),
    )
    .unwrap();
    assert_eq!(
        field(&message, "db.password"),
        ProtoValue::String("hunter2".into())
    );
    assert_eq!(
        field(&message, "db.username"),
        ProtoValue::String("app".into())
    );

    let err = load(
        &descriptor,
        &sources(base, Some("db:\n  username: 12345\n"), None),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret.yaml:2:13: db.username: invalid value <redacted>: expected a string"
    );
}

#[test]
fn a_merge_null_removes_a_value() {
    let merge = Some("db: null\n");
    let message = load(&descriptor(), &sources("db: {username: a}\n", merge, None)).unwrap();
    assert!(!message.has_field_by_name("db"));
}

#[test]
fn a_merge_file_must_be_a_mapping() {
    let err = load(
        &descriptor(),
        &sources("debug: true\n", Some("- a\n"), None),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret.yaml: a merge file must be a mapping, found a list"
    );
}

#[test]
fn patch_applies_after_merge() {
    let patch = "- {op: test, path: /db/username, value: app}\n- {op: replace, path: /db/password, value: s3cret}\n";
    let message = load(
        &descriptor(),
        &sources(
            "db: {address: {host: db, port: 5432}, username: app, password: x}\n",
            Some("db: {password: y}\n"),
            Some(patch),
        ),
    )
    .unwrap();
    assert_eq!(
        field(&message, "db.password"),
        ProtoValue::String("s3cret".into())
    );
}

#[test]
fn a_failing_patch_test_names_the_operation_not_the_value() {
    let patch = "- op: test\n  path: /db/password\n  value: guess\n";
    let err = load(
        &descriptor(),
        &sources("db: {password: real}\n", None, Some(patch)),
    )
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "patch.yaml:1:3: operation 0 (test /db/password) failed: the value does not match"
    );
    assert!(!text.contains("real") && !text.contains("guess"));
}

#[test]
fn a_patch_path_that_does_not_exist() {
    let patch = "- {op: replace, path: /db/nothing/here, value: 1}\n";
    let err = load(&descriptor(), &sources("debug: true\n", None, Some(patch))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch.yaml:1:3: operation 0 (replace /db/nothing/here) failed: its path does not exist"
    );
}

#[test]
fn a_patch_must_be_a_list_of_operations() {
    let err = load(
        &descriptor(),
        &sources("debug: true\n", None, Some("op: add\n")),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("must be a list of JSON Patch operations"),
        "{err}"
    );
    let err = load(
        &descriptor(),
        &sources("debug: true\n", None, Some("- {op: jump, path: /a}\n")),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("patch.yaml:1:3: operation 0 is not a JSON Patch operation"),
        "{err}"
    );
}

#[test]
fn a_value_written_by_a_patch_is_located_in_the_patch_and_redacted() {
    let patch = "- op: add\n  path: /server\n  value:\n    bind: {host: h, port: x}\n";
    let err = load(&descriptor(), &sources("debug: true\n", None, Some(patch))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch.yaml:4:27: server.bind.port: invalid value <redacted>: expected an unsigned integer up to 4294967295"
    );
}

#[test]
fn a_password_is_never_shown() {
    let text = error_text("db:\n  password: 1234\n");
    assert_eq!(
        text,
        "svc.yaml:2:13: db.password: invalid value <redacted>: expected a string"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = Sources::read(Path::new("/nonexistent/svc.yaml"), None, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/svc.yaml: "),
        "{err}"
    );
}
