//! Nested messages, required fields and oneofs, disabled and ignored messages, wrappers,
//! Any, enums and bools, and rules that do not fit their field.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

use super::{assert_valid, broken, compile, compile_file, decode, single};
use crate::path::{FieldPath, Segment};
use crate::validate::{Violation, validate};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    compile(
        r#"
message Socket {
    string host = 1 [(validate.rules).string.address = true];
    uint32 port = 2 [(validate.rules).uint32.gt = 0];
}

message Bind {
    Socket bind = 1 [(validate.rules).message.required = true];
}

message Config {
    Bind server = 1;
    Socket skipped = 2 [(validate.rules).message.skip = true];
    oneof mode {
        option (validate.required) = true;
        string a = 3 [(validate.rules).string.min_len = 2];
        int32 b = 4 [(validate.rules).int32.gt = 0];
        Socket c = 5 [(validate.rules).message.required = true];
    }
    oneof free {
        int32 d = 6 [(validate.rules).int32.gt = 0];
    }
}

message Outer {
    Config inner = 1;
}

message Disabled {
    option (validate.disabled) = true;
    uint32 port = 1 [(validate.rules).uint32.gt = 0];
    Socket nested = 2;
}

message Ignored {
    option (validate.ignored) = true;
    uint32 port = 1 [(validate.rules).uint32.gt = 0];
}

message Holder {
    Disabled disabled = 1;
    Ignored ignored = 2;
    uint32 port = 3 [(validate.rules).uint32.gt = 0];
}

message Tree {
    Tree child = 1;
    int32 depth = 2 [(validate.rules).int32.lte = 2];
}

message Wrapped {
    google.protobuf.UInt32Value port = 1 [(validate.rules).uint32.gt = 0];
    google.protobuf.StringValue name = 2 [
        (validate.rules).message.required = true,
        (validate.rules).string.min_len = 2
    ];
    google.protobuf.DoubleValue ratio = 3 [(validate.rules).double = {lte: 1, ignore_empty: true}];
    google.protobuf.BoolValue on = 4 [(validate.rules).bool.const = true];
    google.protobuf.BytesValue raw = 5 [(validate.rules).bytes.max_len = 2];
    google.protobuf.Int64Value big = 6 [(validate.rules).int64 = {in: [1, 2]}];
}

message Anys {
    google.protobuf.Any payload = 1 [(validate.rules).any = {
        required: true, in: ["type.googleapis.com/t.Socket"]
    }];
    google.protobuf.Any other = 2 [(validate.rules).any = {not_in: ["type.googleapis.com/t.Socket"]}];
}

enum Color {
    COLOR_UNSPECIFIED = 0;
    RED = 1;
    GREEN = 2;
    BLUE = 3;
}

message Choices {
    bool enabled = 1 [(validate.rules).bool.const = true];
    optional Color konst = 2 [(validate.rules).enum.const = 2];
    optional Color defined = 3 [(validate.rules).enum.defined_only = true];
    optional Color one_of = 4 [(validate.rules).enum = {in: [1, 2]}];
    optional Color none_of = 5 [(validate.rules).enum = {not_in: [3]}];
}

message Misfits {
    int32 count = 1 [(validate.rules).string.min_len = 1];
    repeated Socket sockets = 2 [(validate.rules).repeated.unique = true];
    map<string, int32> labels = 3 [(validate.rules).map.no_sparse = true];
    string name = 4 [(validate.rules).message.required = true];
    repeated string names = 5 [(validate.rules).string.min_len = 1];
    repeated int32 numbers = 6 [(validate.rules).repeated.items.string.min_len = 1];
    google.protobuf.Int32Value wrapped = 7 [(validate.rules).uint32.gt = 0];
    string fine = 8 [(validate.rules).string.min_len = 1];
}
"#,
    )
});

#[test]
fn nested_paths_lead_from_the_root() {
    let json = r#"{"server": {"bind": {"host": "localhost", "port": 0}}, "a": "xy"}"#;
    let violation = single(&POOL, "Config", json);
    assert_eq!(violation.path.to_string(), "server.bind.port");
    assert_eq!(violation.rule, "uint32.gt");
    assert_eq!(
        violation.to_string(),
        "server.bind.port: must be greater than 0"
    );
    let field = |name: &str, json_name: &str| Segment::Field {
        name: name.into(),
        json_name: json_name.into(),
    };
    assert_eq!(
        violation.path,
        FieldPath(vec![
            field("server", "server"),
            field("bind", "bind"),
            field("port", "port")
        ])
    );
    let error: &dyn std::error::Error = &violation;
    assert_eq!(
        error.to_string(),
        "server.bind.port: must be greater than 0"
    );

    let deeper = r#"{"inner": {"server": {"bind": {"host": "-", "port": 1}}, "b": 1}}"#;
    assert_eq!(
        broken(&POOL, "Outer", deeper),
        [("inner.server.bind.host".into(), "string.address")]
    );
}

#[test]
fn required_messages() {
    let missing = single(&POOL, "Config", r#"{"server": {}, "a": "xy"}"#);
    assert_eq!(
        missing,
        Violation {
            path: missing.path.clone(),
            rule: "message.required",
            message: "is required".into(),
            value: None,
        }
    );
    assert_eq!(missing.path.to_string(), "server.bind");
    // An unset message without `required` is neither required nor visited.
    assert_valid(&POOL, "Config", r#"{"a": "xy"}"#);
}

#[test]
fn skip_does_not_visit() {
    assert_valid(&POOL, "Config", r#"{"skipped": {"port": 0}, "a": "xy"}"#);
}

#[test]
fn required_oneofs() {
    let none = single(&POOL, "Config", "{}");
    assert_eq!(
        (none.path.to_string().as_str(), none.rule),
        ("(root)", "oneof.required")
    );
    assert!(none.path.is_root());
    assert_eq!(none.message, "one of a, b or c must be set");
    assert_eq!(none.value, None);
    let nested = single(&POOL, "Outer", r#"{"inner": {}}"#);
    assert_eq!(
        (nested.path.to_string().as_str(), nested.rule),
        ("inner", "oneof.required")
    );
    // Only the member that is set is checked, even at its default value.
    assert_eq!(
        broken(&POOL, "Config", r#"{"b": 0}"#),
        [("b".into(), "int32.gt")]
    );
    assert_eq!(
        broken(&POOL, "Config", r#"{"a": "x"}"#),
        [("a".into(), "string.min_len")]
    );
    assert_eq!(
        broken(&POOL, "Config", r#"{"c": {"host": "h"}}"#),
        [("c.port".into(), "uint32.gt")]
    );
    assert_valid(&POOL, "Config", r#"{"c": {"host": "h", "port": 1}}"#);
    // A oneof without `required` may stay unset; set, its member is checked.
    assert_eq!(
        broken(&POOL, "Config", r#"{"a": "xy", "d": 0}"#),
        [("d".into(), "int32.gt")]
    );
}

#[test]
fn disabled_and_ignored_messages_are_not_checked() {
    let json =
        r#"{"disabled": {"port": 0, "nested": {"port": 0}}, "ignored": {"port": 0}, "port": 1}"#;
    assert_valid(&POOL, "Holder", json);
    let json = r#"{"disabled": {"port": 0}, "ignored": {"port": 0}, "port": 0}"#;
    assert_eq!(
        broken(&POOL, "Holder", json),
        [("port".into(), "uint32.gt")]
    );
}

#[test]
fn recursion_goes_as_deep_as_the_message() {
    let json = r#"{"child": {"child": {"child": {"depth": 3}, "depth": 2}}, "depth": 9}"#;
    assert_eq!(
        broken(&POOL, "Tree", json),
        [
            ("child.child.child.depth".into(), "int32.lte"),
            ("depth".into(), "int32.lte")
        ],
        "nested violations come at their field, in field order"
    );
}

#[test]
fn wrappers_apply_the_rules_of_what_they_hold() {
    assert_eq!(
        broken(&POOL, "Wrapped", "{}"),
        [("name".into(), "message.required")]
    );
    assert_valid(
        &POOL,
        "Wrapped",
        r#"{"name": "ab", "ratio": 0, "on": true, "raw": "YWI=", "big": 2}"#,
    );
    let port = single(&POOL, "Wrapped", r#"{"name": "ab", "port": 0}"#);
    assert_eq!(
        (port.path.to_string().as_str(), port.rule),
        ("port", "uint32.gt")
    );
    assert_eq!(port.value.as_deref(), Some("0"));
    let cases = [
        (r#"{"name": "a"}"#, "name", "string.min_len"),
        (r#"{"name": "ab", "ratio": 1.5}"#, "ratio", "double.lte"),
        (r#"{"name": "ab", "on": false}"#, "on", "bool.const"),
        (r#"{"name": "ab", "raw": "YWJj"}"#, "raw", "bytes.max_len"),
        (r#"{"name": "ab", "big": "3"}"#, "big", "int64.in"),
    ];
    for (json, path, rule) in cases {
        assert_eq!(
            broken(&POOL, "Wrapped", json),
            [(path.into(), rule)],
            "{json}"
        );
    }
}

#[test]
fn any_type_urls() {
    let socket = r#"{"@type": "type.googleapis.com/t.Socket", "host": "h", "port": 1}"#;
    let duration = r#"{"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1s"}"#;
    assert_valid(
        &POOL,
        "Anys",
        &format!(r#"{{"payload": {socket}, "other": {duration}}}"#),
    );
    let missing = single(&POOL, "Anys", "{}");
    assert_eq!(
        (missing.path.to_string().as_str(), missing.rule),
        ("payload", "any.required")
    );
    let wrong = single(&POOL, "Anys", &format!(r#"{{"payload": {duration}}}"#));
    assert_eq!(wrong.rule, "any.in");
    assert_eq!(
        wrong.message,
        r#"must hold one of the types ["type.googleapis.com/t.Socket"]"#
    );
    assert_eq!(
        wrong.value.as_deref(),
        Some(r#""type.googleapis.com/google.protobuf.Duration""#)
    );
    let refused = single(
        &POOL,
        "Anys",
        &format!(r#"{{"payload": {socket}, "other": {socket}}}"#),
    );
    assert_eq!(
        (refused.path.to_string().as_str(), refused.rule),
        ("other", "any.not_in")
    );
}

#[test]
fn enums_and_bools() {
    assert_valid(
        &POOL,
        "Choices",
        r#"{"enabled": true, "konst": "GREEN", "defined": "BLUE", "one_of": 1, "none_of": "RED"}"#,
    );
    let off = single(&POOL, "Choices", "{}");
    assert_eq!(
        (off.rule, off.message.as_str(), off.value.as_deref()),
        ("bool.const", "must be true", Some("false"))
    );
    let cases = [
        (
            r#""konst": "RED""#,
            "konst",
            "enum.const",
            "must equal GREEN",
            "RED",
        ),
        (
            r#""defined": 9"#,
            "defined",
            "enum.defined_only",
            "must be one of the defined values [COLOR_UNSPECIFIED, RED, GREEN, BLUE]",
            "9",
        ),
        (
            r#""one_of": "BLUE""#,
            "one_of",
            "enum.in",
            "must be one of [RED, GREEN]",
            "BLUE",
        ),
        (
            r#""none_of": 3"#,
            "none_of",
            "enum.not_in",
            "must not be one of [BLUE]",
            "BLUE",
        ),
    ];
    for (field, path, rule, message, value) in cases {
        let violation = single(
            &POOL,
            "Choices",
            &format!(r#"{{"enabled": true, {field}}}"#),
        );
        assert_eq!(violation.path.to_string(), path);
        assert_eq!(
            (violation.rule, violation.message.as_str()),
            (rule, message)
        );
        assert_eq!(violation.value.as_deref(), Some(value));
    }
}

#[test]
fn rules_that_do_not_fit_the_field_are_violations() {
    let found = super::violations(
        &POOL,
        "Misfits",
        r#"{"fine": "x", "names": ["a"], "numbers": [1]}"#,
    );
    let summary: Vec<_> = found
        .iter()
        .map(|violation| {
            (
                violation.path.to_string(),
                violation.rule,
                violation.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "count".into(),
                "string",
                "rules of type string do not apply to a field of type int32"
            ),
            (
                "sockets".into(),
                "repeated.unique",
                "rules of type repeated.unique do not apply to a field of type repeated t.Socket"
            ),
            (
                "labels".into(),
                "map.no_sparse",
                "rules of type map.no_sparse do not apply to a field of type map<string, int32>"
            ),
            (
                "name".into(),
                "message",
                "rules of type message do not apply to a field of type string"
            ),
            (
                "names".into(),
                "string",
                "rules of type string do not apply to a field of type repeated string"
            ),
            (
                "numbers".into(),
                "string",
                "rules of type string do not apply to a field of type int32"
            ),
            (
                "wrapped".into(),
                "uint32",
                "rules of type uint32 do not apply to a field of type google.protobuf.Int32Value"
            ),
        ]
    );
    assert!(found.iter().all(|violation| violation.value.is_none()));
    // The rules that fit are still checked.
    assert_eq!(
        broken(&POOL, "Misfits", "{}").last(),
        Some(&("fine".into(), "string.min_len"))
    );
}

#[test]
fn protos_without_validate_have_no_rules() {
    let pool = compile_file(
        r#"syntax = "proto3";
package t;
message Inner { uint32 port = 1; }
message Plain { Inner inner = 1; repeated Inner list = 2; map<string, Inner> map = 3; }
"#,
    );
    assert!(pool.get_extension_by_name("validate.rules").is_none());
    let message = decode(
        &pool,
        "Plain",
        r#"{"inner": {}, "list": [{}], "map": {"k": {}}}"#,
    );
    assert_eq!(validate(&message), Ok(()));
}

#[test]
fn the_same_message_gives_the_same_violations_again() {
    let message = decode(
        &POOL,
        "Config",
        r#"{"server": {"bind": {"port": 0}}, "b": -1}"#,
    );
    let first = validate(&message).unwrap_err();
    assert_eq!(first.len(), 3, "{first:#?}");
    assert_eq!(validate(&message).unwrap_err(), first);
}
