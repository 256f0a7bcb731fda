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
    oneof choice {
        string name = 16;
        int32 number = 17;
    }
    map<int32, string> codes = 18;
    repeated google.protobuf.Any anys = 19;
    google.protobuf.Int32Value count = 20;
    map<bool, string> flags = 21;
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

/// Every way the YAML reader once quoted a value in its own errors, each in a merge file,
/// a patch file and a password field of the configuration file.
const PARSER_SECRETS: &[&str] = &[
    "!Q9tag",
    "0731337924",
    "123456789012345678901234567890",
    "!!int hunter2",
    "!!float hunter2",
    "!!bool hunter2",
    "!!null hunter2",
    "!hunter2 x",
];

#[test]
fn the_parser_never_shows_a_secret_value() {
    let descriptor = descriptor();
    for secret in PARSER_SECRETS {
        let in_merge = format!("db:\n  password: {secret}\n");
        let in_patch = format!("- {{op: add, path: /db/password, value: {secret}}}\n");
        let in_config = format!("db:\n  password: {secret}\n");
        let cases = [
            sources("debug: true\n", Some(&in_merge), None),
            sources("db: {}\n", None, Some(&in_patch)),
            sources(&in_config, None, None),
        ];
        for case in cases {
            let text = load(&descriptor, &case).unwrap_err().to_string();
            let hidden = secret
                .trim_start_matches("!!int ")
                .trim_start_matches("!!float ");
            let hidden = hidden
                .trim_start_matches("!!bool ")
                .trim_start_matches("!!null ");
            let hidden = hidden.trim_start_matches('!').trim_end_matches(" x");
            assert!(!text.contains(hidden), "{secret}: {text}");
            assert!(!text.contains("731337924"), "{secret}: {text}");
            assert!(text.contains("<redacted>"), "{secret}: {text}");
        }
    }
}

#[test]
fn the_parser_shows_other_values_of_the_configuration_file() {
    let text = error_text("debug: 0755\n");
    assert!(
        text.starts_with("svc.yaml:1:8: `0755` is ambiguous"),
        "{text}"
    );
    let text = error_text("debug: !!int postgres://app:hunter2@db/app\n");
    assert!(text.contains("postgres://app:***@db/app"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn a_dsn_starting_with_0o_is_a_string() {
    let merge = "events:\n  value: 0opostgres://u:hunter2@db/app\n";
    let err = load(&descriptor(), &sources("debug: true\n", Some(merge), None)).unwrap_err();
    let text = err.to_string();
    // It reaches validation as the string it is, and stays hidden there.
    assert_eq!(err.kind(), ErrorKind::Validation, "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("0opostgres"),
        "{text}"
    );
}

#[test]
fn a_float_is_not_an_integer() {
    for value in ["8.0e0", "8.0", "1e3"] {
        let text = error_text(&format!("server: {{bind: {{port: {value}}}}}\n"));
        assert!(
            text.starts_with("svc.yaml:1:23: server.bind.port: invalid value "),
            "{text}"
        );
        assert!(
            text.contains("expected an unsigned integer up to 4294967295"),
            "{text}"
        );
    }
    let text = error_text("count: 2.0\n");
    assert!(
        text.starts_with("svc.yaml:1:8: count: invalid value 2.0: expected an integer"),
        "{text}"
    );
    let text = error_text("peers: {a: {port: 1.5e1}}\n");
    assert!(
        text.starts_with("svc.yaml:1:19: peers[\"a\"].port"),
        "{text}"
    );
    let message = load_text("ratio: 8\nbig: 8\n").unwrap();
    assert_eq!(field(&message, "ratio"), ProtoValue::F64(8.0));
}

#[test]
fn two_members_of_a_oneof_name_the_second() {
    let text = error_text("name: a\nnumber: 1\n");
    assert_eq!(
        text,
        "svc.yaml:2:9: number: `name` and `number` are both set, but they are members of oneof `choice`: set only one"
    );
    let message = load_text("name: a\nnumber: null\n").unwrap();
    assert_eq!(field(&message, "name"), ProtoValue::String("a".into()));
}

#[test]
fn a_map_key_of_the_wrong_type_names_the_key() {
    let text = error_text("codes:\n  200: ok\n  abc: nope\n");
    assert_eq!(
        text,
        "svc.yaml:3:8: codes[\"abc\"]: invalid key: expected an integer from -2147483648 to 2147483647"
    );
    let text = error_text("codes: {'99999999999': x}\n");
    assert!(
        text.starts_with("svc.yaml:1:24: codes[\"99999999999\"]: invalid key"),
        "{text}"
    );
    let text = error_text("flags: {yes: x}\n");
    assert!(
        text.contains("flags[\"yes\"]: invalid key: expected true or false"),
        "{text}"
    );
    let message = load_text("codes: {200: ok, -1: bad}\nflags: {true: x}\n").unwrap();
    assert_eq!(field(&message, "codes").as_map().unwrap().len(), 2);
}

#[test]
fn an_empty_any_is_the_empty_any() {
    let message = load_text(
        "any: {}\nanys: [{}, {'@type': type.googleapis.com/harness.net.Socket, port: 1}]\n",
    )
    .unwrap();
    assert!(message.has_field_by_name("any"));
    let any = field(&message, "any");
    let any = any.as_message().unwrap();
    assert_eq!(
        any.get_field_by_name("type_url").unwrap().as_str(),
        Some("")
    );
    assert!(
        any.get_field_by_name("value")
            .unwrap()
            .as_bytes()
            .unwrap()
            .is_empty()
    );
    let anys = field(&message, "anys");
    let anys = anys.as_list().unwrap();
    let urls: Vec<String> = anys
        .iter()
        .map(|any| {
            any.as_message()
                .unwrap()
                .get_field_by_name("type_url")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(urls, ["", "type.googleapis.com/harness.net.Socket"]);
}

#[test]
fn deep_nesting_stops_at_every_stage() {
    let deep = format!("extra:\n  x:\n    {} 1\n", "- ".repeat(8_000));
    let base = "debug: true\n";
    let patch = format!(
        "- op: add\n  path: /extra\n  value:\n    x:\n      {} 1\n",
        "- ".repeat(8_000)
    );
    for (case, at) in [
        (sources(&deep, None, None), "svc.yaml:3:"),
        (sources(base, Some(&deep), None), "secret.yaml:3:"),
        (sources(base, None, Some(&patch)), "patch.yaml:5:"),
    ] {
        let err = load(&descriptor(), &case).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse);
        let text = err.to_string();
        assert!(text.starts_with(at), "{text}");
        assert!(text.contains("nested more than 100 levels deep"), "{text}");
    }
}

#[test]
fn a_patch_cannot_grow_the_configuration_past_the_bounds() {
    // Each copy doubles the configuration.
    let mut patch =
        String::from("- {op: add, path: /extra, value: {a: [1, 2, 3, 4, 5, 6, 7, 8]}}\n");
    for i in 0..40 {
        patch.push_str(&format!(
            "- {{op: copy, from: /extra, path: /extra/c{i}}}\n"
        ));
    }
    let err = load(&descriptor(), &sources("debug: true\n", None, Some(&patch))).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("would make the configuration hold more than 1000000 values"),
        "{text}"
    );
    // Copies that nest deeper each time.
    let mut patch = String::from("- {op: add, path: /extra, value: {a: {b: [1]}}}\n");
    let mut path = "/extra/a".to_owned();
    for _ in 0..60 {
        patch.push_str(&format!("- {{op: copy, from: /extra/a, path: {path}/a}}\n"));
        path.push_str("/a");
    }
    let err = load(&descriptor(), &sources("debug: true\n", None, Some(&patch))).unwrap_err();
    assert!(
        err.to_string().contains("more than 100 levels deep"),
        "{err}"
    );
}

#[test]
fn ten_thousand_patch_operations_are_read_once() {
    // Positions were once looked for in the whole patch for every operation, which made
    // 10,000 operations take minutes. This completes; docs/configuration.md has the time.
    let patch = "- {op: test, path: /debug, value: true}\n".repeat(10_000);
    load(&descriptor(), &sources("debug: true\n", None, Some(&patch))).unwrap();
    let failing = format!("{patch}- {{op: test, path: /debug, value: false}}\n");
    let err = load(
        &descriptor(),
        &sources("debug: true\n", None, Some(&failing)),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch.yaml:10001:3: operation 10000 (test /debug) failed: the value does not match"
    );
}

#[test]
fn files_are_read_up_to_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let file = fs::File::create(&big).unwrap();
    file.set_len(limits::MAX_FILE_BYTES + 1).unwrap();
    let err = Source::read(&big).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string()
            .ends_with("larger than 4 MiB, the most a configuration file may be"),
        "{err}"
    );
    // A device that never ends.
    if Path::new("/dev/zero").exists() {
        let err = Source::read(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, ConfigError::TooLarge { .. }), "{err}");
    }
}

#[test]
fn a_long_value_is_cut_in_messages() {
    let digits = "9".repeat(1_000_000);
    let text = error_text(&format!("db:\n  username: {digits}\n"));
    assert!(text.len() < 300, "{} bytes", text.len());
    let text = error_text(&format!("db:\n  min_size: '{digits}'\n"));
    assert!(text.contains("invalid value \"9999"), "{text}");
    assert!(text.len() < 300, "{} bytes", text.len());
}
