//! The twelve number families: const, bounds, exclusive ranges, in, not_in, ignore_empty.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

use super::{assert_valid, broken, compile, single};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    compile(
        r#"
message Numbers {
    optional float f = 1 [(validate.rules).float = {gt: 0, lt: 1}];
    optional double d = 2 [(validate.rules).double.gte = 1.5];
    optional int32 i32 = 3 [(validate.rules).int32 = {lt: 10, gt: 20}];
    optional int64 i64 = 4 [(validate.rules).int64 = {in: [1, 2, 3]}];
    optional uint32 u32 = 5 [(validate.rules).uint32 = {gt: 0, lte: 65535}];
    optional uint64 u64 = 6 [(validate.rules).uint64 = {not_in: [0, 7]}];
    optional sint32 s32 = 7 [(validate.rules).sint32.const = -5];
    optional sint64 s64 = 8 [(validate.rules).sint64.lte = -1];
    optional fixed32 x32 = 9 [(validate.rules).fixed32.gte = 10];
    optional fixed64 x64 = 10 [(validate.rules).fixed64.lt = 100];
    optional sfixed32 sx32 = 11 [(validate.rules).sfixed32 = {lte: 10, gte: 20}];
    optional sfixed64 sx64 = 12 [(validate.rules).sfixed64 = {gte: -10, lt: 10}];
    optional uint32 port = 13 [(validate.rules).uint32.gt = 0];
    optional uint32 max = 14 [(validate.rules).uint32.lte = 65535];
    optional double ratio = 15 [(validate.rules).double = {gt: 0, lte: 1}];
    optional int32 hole = 16 [(validate.rules).int32 = {gt: 5, lt: 5}];
    optional int32 all = 17 [(validate.rules).int32 = {gte: 5, lte: 5}];
    optional int32 gt_lte = 18 [(validate.rules).int32 = {gt: 20, lte: 10}];
    optional int32 gte_lt = 19 [(validate.rules).int32 = {gte: 20, lt: 10}];
}

message Defaults {
    uint32 port = 1 [(validate.rules).uint32.gt = 0];
    fixed32 skipped = 2 [(validate.rules).fixed32 = {gte: 10, ignore_empty: true}];
    int64 count = 3 [(validate.rules).int64 = {in: [5, 6], ignore_empty: true}];
}
"#,
    )
});

/// `(field, good values, bad values, rule)`: each good value alone is valid, each bad one
/// breaks exactly `rule` at `field`.
const CASES: &[(&str, &[&str], &[&str], &str)] = &[
    (
        "f",
        &["0.5", "0.001"],
        &["0", "1", "-2", "\"NaN\""],
        "float.gt|float.lt",
    ),
    (
        "d",
        &["1.5", "1e9"],
        &["1.49", "\"-Infinity\""],
        "double.gte",
    ),
    ("i32", &["9", "21", "-100"], &["10", "15", "20"], "int32.lt"),
    ("i64", &["1", "\"3\""], &["0", "4"], "int64.in"),
    (
        "u32",
        &["1", "65535"],
        &["0", "65536"],
        "uint32.gt|uint32.lte",
    ),
    (
        "u64",
        &["1", "\"18446744073709551615\""],
        &["0", "7"],
        "uint64.not_in",
    ),
    ("s32", &["-5"], &["5", "0"], "sint32.const"),
    (
        "s64",
        &["-1", "\"-9223372036854775808\""],
        &["0", "1"],
        "sint64.lte",
    ),
    ("x32", &["10", "4294967295"], &["9", "0"], "fixed32.gte"),
    ("x64", &["0", "99"], &["100"], "fixed64.lt"),
    ("sx32", &["10", "20", "-3"], &["11", "19"], "sfixed32.lte"),
    (
        "sx64",
        &["-10", "9"],
        &["-11", "10"],
        "sfixed64.gte|sfixed64.lt",
    ),
];

#[test]
fn every_family_accepts_and_refuses() {
    for (field, good, bad, rules) in CASES {
        for value in *good {
            assert_valid(&POOL, "Numbers", &format!(r#"{{"{field}": {value}}}"#));
        }
        for value in *bad {
            let json = format!(r#"{{"{field}": {value}}}"#);
            let found = broken(&POOL, "Numbers", &json);
            assert_eq!(found.len(), 1, "{json}: {found:?}");
            let (path, rule) = &found[0];
            assert_eq!(path, field);
            assert!(
                rules.split('|').any(|allowed| allowed == *rule),
                "{json}: {rule}"
            );
        }
    }
}

#[test]
fn messages_say_what_is_expected_and_values_show_what_is_there() {
    let port = single(&POOL, "Numbers", r#"{"port": 0}"#);
    assert_eq!(port.rule, "uint32.gt");
    assert_eq!(port.message, "must be greater than 0");
    assert_eq!(port.value.as_deref(), Some("0"));
    assert_eq!(port.to_string(), "port: must be greater than 0");

    let max = single(&POOL, "Numbers", r#"{"max": 70000}"#);
    assert_eq!(
        (max.rule, max.message.as_str()),
        ("uint32.lte", "must be at most 65535")
    );

    let d = single(&POOL, "Numbers", r#"{"d": 1}"#);
    assert_eq!(d.message, "must be at least 1.5");

    let range = single(&POOL, "Numbers", r#"{"u32": 65536}"#);
    assert_eq!(range.rule, "uint32.lte", "the bound crossed");
    assert_eq!(range.message, "must be greater than 0 and at most 65535");
    let range = single(&POOL, "Numbers", r#"{"u32": 0}"#);
    assert_eq!(range.rule, "uint32.gt");

    let ratio = single(&POOL, "Numbers", r#"{"ratio": 1.25}"#);
    assert_eq!(ratio.message, "must be greater than 0 and at most 1");
    assert_eq!(ratio.value.as_deref(), Some("1.25"));

    let within = single(&POOL, "Numbers", r#"{"i64": 4}"#);
    assert_eq!(within.message, "must be one of [1, 2, 3]");
    let outside = single(&POOL, "Numbers", r#"{"u64": 7}"#);
    assert_eq!(outside.message, "must not be one of [0, 7]");
    let konst = single(&POOL, "Numbers", r#"{"s32": 3}"#);
    assert_eq!(
        (konst.message.as_str(), konst.value.as_deref()),
        ("must equal -5", Some("3"))
    );
}

#[test]
fn exclusive_ranges_keep_values_outside() {
    let hole = single(&POOL, "Numbers", r#"{"i32": 15}"#);
    assert_eq!(hole.message, "must be less than 10 or greater than 20");
    let hole = single(&POOL, "Numbers", r#"{"sx32": 15}"#);
    assert_eq!(
        (hole.rule, hole.message.as_str()),
        ("sfixed32.lte", "must be at most 10 or at least 20")
    );

    // gt > lte: allowed is <= 10 or > 20.
    assert_valid(&POOL, "Numbers", r#"{"gt_lte": 10}"#);
    assert_valid(&POOL, "Numbers", r#"{"gt_lte": 21}"#);
    assert_eq!(
        broken(&POOL, "Numbers", r#"{"gt_lte": 20}"#),
        [("gt_lte".into(), "int32.lte")]
    );
    assert_eq!(
        broken(&POOL, "Numbers", r#"{"gt_lte": 11}"#),
        [("gt_lte".into(), "int32.lte")]
    );
    // gte > lt: allowed is < 10 or >= 20.
    assert_valid(&POOL, "Numbers", r#"{"gte_lt": 20}"#);
    assert_eq!(
        broken(&POOL, "Numbers", r#"{"gte_lt": 10}"#),
        [("gte_lt".into(), "int32.lt")]
    );
}

#[test]
fn equal_bounds_follow_pgv() {
    // gt = lt = 5 is an exclusive range refusing 5 alone.
    assert_valid(&POOL, "Numbers", r#"{"hole": 4}"#);
    assert_valid(&POOL, "Numbers", r#"{"hole": 6}"#);
    assert_eq!(
        broken(&POOL, "Numbers", r#"{"hole": 5}"#),
        [("hole".into(), "int32.lt")]
    );
    // gte = lte = 5 is an exclusive range too, which refuses nothing (a PGV quirk).
    for value in ["-1", "5", "100"] {
        assert_valid(&POOL, "Numbers", &format!(r#"{{"all": {value}}}"#));
    }
}

#[test]
fn nan_fails_bounds() {
    let nan = single(&POOL, "Numbers", r#"{"f": "NaN"}"#);
    assert_eq!((nan.rule, nan.value.as_deref()), ("float.gt", Some("NaN")));
}

#[test]
fn unset_scalars_are_checked_at_their_default_unless_ignore_empty() {
    assert_eq!(
        broken(&POOL, "Defaults", "{}"),
        [("port".into(), "uint32.gt")]
    );
    assert_valid(&POOL, "Defaults", r#"{"port": 1}"#);
    assert_eq!(
        broken(
            &POOL,
            "Defaults",
            r#"{"port": 1, "skipped": 3, "count": 7}"#
        ),
        [
            ("skipped".into(), "fixed32.gte"),
            ("count".into(), "int64.in")
        ]
    );
    assert_valid(
        &POOL,
        "Defaults",
        r#"{"port": 1, "skipped": 10, "count": 5}"#,
    );
}

#[test]
fn unset_optional_fields_are_not_checked() {
    assert_valid(&POOL, "Numbers", "{}");
}
