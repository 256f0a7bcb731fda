//! Repeated and map rules, items, keys and values, and the paths into them.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

use super::{assert_valid, broken, compile, single};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    compile(
        r#"
message Item {
    string name = 1 [(validate.rules).string.min_len = 1];
}

enum Level {
    LEVEL_UNSPECIFIED = 0;
    INFO = 1;
    WARN = 2;
}

message Lists {
    repeated string hosts = 1 [(validate.rules).repeated = {
        min_items: 1, max_items: 3, items: {string: {hostname: true}}
    }];
    repeated int32 ports = 2 [(validate.rules).repeated.unique = true];
    repeated Item items = 3;
    repeated Item skipped = 4 [(validate.rules).repeated.items.message.skip = true];
    repeated string tags = 5 [(validate.rules).repeated = {min_items: 2, ignore_empty: true}];
    repeated bytes blobs = 6 [(validate.rules).repeated.unique = true];
    repeated Level levels = 7 [(validate.rules).repeated = {
        unique: true, items: {enum: {defined_only: true}}
    }];
    repeated double weights = 8 [(validate.rules).repeated.max_items = 1];
    repeated google.protobuf.UInt32Value counts = 9 [(validate.rules).repeated.items.uint32.gt = 0];
}

message Maps {
    map<string, int32> labels = 1 [(validate.rules).map = {
        min_pairs: 1, max_pairs: 2,
        keys: {string: {pattern: "^[a-z]+$"}},
        values: {int32: {gt: 0}}
    }];
    map<string, Item> by_name = 2;
    map<string, Item> opaque = 3 [(validate.rules).map.values.message.skip = true];
    map<string, string> env = 4 [(validate.rules).map = {min_pairs: 2, ignore_empty: true}];
    map<int32, Item> sparse = 5 [(validate.rules).map.no_sparse = true];
    map<uint32, string> codes = 6 [(validate.rules).map.keys.uint32.lt = 600];
}
"#,
    )
});

const LISTS_OK: &str = r#"{"hosts": ["example.com"]}"#;

fn lists(extra: &str) -> String {
    format!(r#"{{"hosts": ["example.com"], {extra}}}"#)
}

#[test]
fn a_valid_list_passes() {
    assert_valid(&POOL, "Lists", LISTS_OK);
    assert_valid(
        &POOL,
        "Lists",
        &lists(
            r#""ports": [1, 2, 3], "items": [{"name": "a"}], "tags": ["a", "b"],
               "blobs": ["YQ==", "Yg=="], "levels": ["INFO", "WARN"], "weights": [1],
               "counts": [1, 2]"#,
        ),
    );
}

#[test]
fn item_counts() {
    let none = single(&POOL, "Lists", "{}");
    assert_eq!(
        (none.path.to_string().as_str(), none.rule),
        ("hosts", "repeated.min_items")
    );
    assert_eq!(none.message, "must have between 1 and 3 items");
    assert_eq!(none.value, None);
    let many = r#"{"hosts": ["a.com", "b.com", "c.com", "d.com"]}"#;
    assert_eq!(
        broken(&POOL, "Lists", many),
        [("hosts".into(), "repeated.max_items")]
    );
    let heavy = single(&POOL, "Lists", &lists(r#""weights": [1, 2]"#));
    assert_eq!(
        (heavy.rule, heavy.message.as_str()),
        ("repeated.max_items", "must have at most 1 item")
    );
}

#[test]
fn items_are_checked_at_their_index() {
    let bad = single(&POOL, "Lists", r#"{"hosts": ["a.com", "b.com", "-bad"]}"#);
    assert_eq!(bad.path.to_string(), "hosts[2]");
    assert_eq!(bad.rule, "string.hostname");
    assert_eq!(bad.value.as_deref(), Some("\"-bad\""));
    assert_eq!(bad.to_string(), "hosts[2]: must be a valid hostname");

    let levels = single(&POOL, "Lists", &lists(r#""levels": ["INFO", 7]"#));
    assert_eq!(
        (levels.path.to_string().as_str(), levels.rule),
        ("levels[1]", "enum.defined_only")
    );
    assert_eq!(levels.value.as_deref(), Some("7"));

    let wrapped = single(&POOL, "Lists", &lists(r#""counts": [1, 0]"#));
    assert_eq!(
        (wrapped.path.to_string().as_str(), wrapped.rule),
        ("counts[1]", "uint32.gt")
    );
}

#[test]
fn unique_items() {
    let ports = single(&POOL, "Lists", &lists(r#""ports": [80, 443, 80]"#));
    assert_eq!(
        (ports.path.to_string().as_str(), ports.rule),
        ("ports", "repeated.unique")
    );
    assert_eq!(ports.message, "items must be unique");
    assert_eq!(ports.value.as_deref(), Some("80"));
    let blobs = single(&POOL, "Lists", &lists(r#""blobs": ["YQ==", "YQ=="]"#));
    assert_eq!(
        (blobs.rule, blobs.value.as_deref()),
        ("repeated.unique", Some("\"a\""))
    );
    let levels = single(&POOL, "Lists", &lists(r#""levels": ["WARN", "WARN"]"#));
    assert_eq!(levels.value.as_deref(), Some("WARN"));
}

#[test]
fn nested_messages_in_lists_are_validated_unless_skipped() {
    let found = broken(
        &POOL,
        "Lists",
        &lists(r#""items": [{"name": "a"}, {"name": ""}, {}]"#),
    );
    assert_eq!(
        found,
        [
            ("items[1].name".into(), "string.min_len"),
            ("items[2].name".into(), "string.min_len")
        ]
    );
    assert_valid(&POOL, "Lists", &lists(r#""skipped": [{"name": ""}]"#));
}

#[test]
fn ignore_empty_lists() {
    assert_valid(&POOL, "Lists", &lists(r#""tags": []"#));
    let one = single(&POOL, "Lists", &lists(r#""tags": ["a"]"#));
    assert_eq!(
        (one.rule, one.message.as_str()),
        ("repeated.min_items", "must have at least 2 items")
    );
}

const MAPS_OK: &str = r#"{"labels": {"app": 1}}"#;

fn maps(extra: &str) -> String {
    format!(r#"{{"labels": {{"app": 1}}, {extra}}}"#)
}

#[test]
fn a_valid_map_passes() {
    assert_valid(&POOL, "Maps", MAPS_OK);
    assert_valid(
        &POOL,
        "Maps",
        &maps(
            r#""by_name": {"k": {"name": "x"}}, "env": {"A": "1", "B": "2"}, "sparse": {"1": {"name": "x"}}, "codes": {"200": "ok"}"#,
        ),
    );
}

#[test]
fn entry_counts() {
    let none = single(&POOL, "Maps", "{}");
    assert_eq!(
        (none.path.to_string().as_str(), none.rule),
        ("labels", "map.min_pairs")
    );
    assert_eq!(none.message, "must have between 1 and 2 entries");
    let many = r#"{"labels": {"a": 1, "b": 2, "c": 3}}"#;
    assert_eq!(
        broken(&POOL, "Maps", many),
        [("labels".into(), "map.max_pairs")]
    );
    assert_valid(&POOL, "Maps", &maps(r#""env": {}"#));
    let one = single(&POOL, "Maps", &maps(r#""env": {"A": "1"}"#));
    assert_eq!(
        (one.rule, one.message.as_str()),
        ("map.min_pairs", "must have at least 2 entries")
    );
}

#[test]
fn keys_and_values_are_checked_at_their_key_in_key_order() {
    let found = super::violations(&POOL, "Maps", r#"{"labels": {"b": 0, "Bad": 1}}"#);
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
                "labels[\"Bad\"]".into(),
                "string.pattern",
                "key must match the pattern ^[a-z]+$"
            ),
            ("labels[\"b\"]".into(), "int32.gt", "must be greater than 0"),
        ]
    );
    assert_eq!(found[0].value.as_deref(), Some("\"Bad\""));
    let code = single(
        &POOL,
        "Maps",
        &maps(r#""codes": {"200": "ok", "700": "no"}"#),
    );
    assert_eq!(
        (code.path.to_string().as_str(), code.rule),
        ("codes[\"700\"]", "uint32.lt")
    );
}

#[test]
fn nested_messages_in_maps_are_validated_unless_skipped() {
    let found = broken(&POOL, "Maps", &maps(r#""by_name": {"k": {"name": ""}}"#));
    assert_eq!(found, [("by_name[\"k\"].name".into(), "string.min_len")]);
    assert_valid(&POOL, "Maps", &maps(r#""opaque": {"k": {"name": ""}}"#));
    // no_sparse cannot fail: a present value always holds a message, here an empty one,
    // which is still validated.
    let found = broken(&POOL, "Maps", &maps(r#""sparse": {"1": {}}"#));
    assert_eq!(found, [("sparse[\"1\"].name".into(), "string.min_len")]);
}
