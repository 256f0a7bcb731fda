//! Duration and timestamp rules, the relative ones at a fixed "now".

use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use prost_reflect::DescriptorPool;

use super::{assert_valid, broken, compile, decode, single};
use crate::validate::{validate, validate_at};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    compile(
        r#"
message Durations {
    google.protobuf.Duration timeout = 1 [(validate.rules).duration = {
        required: true, gt: {}, lte: {seconds: 30}
    }];
    google.protobuf.Duration konst = 2 [(validate.rules).duration.const = {seconds: 1, nanos: 500000000}];
    google.protobuf.Duration one_of = 3 [(validate.rules).duration = {in: [{seconds: 1}, {seconds: 2}]}];
    google.protobuf.Duration none_of = 4 [(validate.rules).duration = {not_in: [{}]}];
    google.protobuf.Duration outside = 5 [(validate.rules).duration = {lt: {seconds: 1}, gt: {seconds: 5}}];
    google.protobuf.Duration at_least = 6 [(validate.rules).duration.gte = {nanos: 1000000}];
}

message Timestamps {
    google.protobuf.Timestamp created = 1 [(validate.rules).timestamp = {required: true, lt_now: true}];
    google.protobuf.Timestamp expires = 2 [(validate.rules).timestamp.gt_now = true];
    google.protobuf.Timestamp near = 3 [(validate.rules).timestamp.within = {seconds: 3600}];
    google.protobuf.Timestamp recent = 4 [(validate.rules).timestamp = {lt_now: true, within: {seconds: 3600}}];
    google.protobuf.Timestamp soon = 5 [(validate.rules).timestamp = {gt_now: true, within: {seconds: 3600}}];
    google.protobuf.Timestamp since = 6 [(validate.rules).timestamp.gte = {seconds: 1704067200}];
    google.protobuf.Timestamp exact = 7 [(validate.rules).timestamp.const = {}];
    google.protobuf.Timestamp window = 8 [(validate.rules).timestamp = {gt: {seconds: 1704067200}, lt: {seconds: 1735689600}}];
}
"#,
    )
});

fn durations(extra: &str) -> String {
    format!(r#"{{"timeout": "1.5s"{extra}}}"#)
}

#[test]
fn durations_accept_and_refuse() {
    assert_valid(&POOL, "Durations", &durations(""));
    assert_valid(
        &POOL,
        "Durations",
        &durations(
            r#", "konst": "1.5s", "one_of": "2s", "none_of": "1s", "outside": "0.5s", "at_least": "0.001s""#,
        ),
    );
    assert_valid(&POOL, "Durations", &durations(r#", "outside": "6s""#));
    let cases = [
        (
            r#", "konst": "1s""#,
            "konst",
            "duration.const",
            "must equal 1.5s",
            "1s",
        ),
        (
            r#", "one_of": "3s""#,
            "one_of",
            "duration.in",
            "must be one of [1s, 2s]",
            "3s",
        ),
        (
            r#", "none_of": "0s""#,
            "none_of",
            "duration.not_in",
            "must not be one of [0s]",
            "0s",
        ),
        (
            r#", "outside": "3s""#,
            "outside",
            "duration.lt",
            "must be shorter than 1s or longer than 5s",
            "3s",
        ),
        (
            r#", "at_least": "0.000999s""#,
            "at_least",
            "duration.gte",
            "must be at least 0.001s",
            "0.000999s",
        ),
    ];
    for (extra, path, rule, message, value) in cases {
        let violation = single(&POOL, "Durations", &durations(extra));
        assert_eq!(violation.path.to_string(), path);
        assert_eq!(
            (violation.rule, violation.message.as_str()),
            (rule, message)
        );
        assert_eq!(violation.value.as_deref(), Some(value));
    }
}

#[test]
fn duration_bounds_and_required() {
    let missing = single(&POOL, "Durations", "{}");
    assert_eq!(
        (missing.path.to_string().as_str(), missing.rule),
        ("timeout", "duration.required")
    );
    assert_eq!(
        (missing.message.as_str(), missing.value),
        ("is required", None)
    );
    let zero = single(&POOL, "Durations", r#"{"timeout": "0s"}"#);
    assert_eq!(
        (zero.rule, zero.message.as_str()),
        ("duration.gt", "must be longer than 0s and at most 30s")
    );
    let long = single(&POOL, "Durations", r#"{"timeout": "30.001s"}"#);
    assert_eq!(
        (long.rule, long.value.as_deref()),
        ("duration.lte", Some("30.001s"))
    );
    assert_valid(&POOL, "Durations", r#"{"timeout": "30s"}"#);
}

#[test]
fn an_invalid_duration_is_refused() {
    let mut message = decode(&POOL, "Durations", r#"{"timeout": "1s"}"#);
    let mut timeout = message
        .get_field_by_name("timeout")
        .unwrap()
        .as_message()
        .unwrap()
        .clone();
    timeout.set_field_by_name("nanos", prost_reflect::Value::I32(-5));
    message.set_field_by_name("timeout", prost_reflect::Value::Message(timeout));
    let found = validate(&message).unwrap_err();
    assert_eq!(
        (found[0].rule, found[0].value.as_deref()),
        ("duration.valid", Some("{ seconds: 1, nanos: -5 }"))
    );
}

fn at(offset_seconds: i64) -> String {
    let now = super::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let timestamp = prost_types::Timestamp {
        seconds: now + offset_seconds,
        nanos: 0,
    };
    format!("\"{timestamp}\"")
}

fn timestamps(field: &str, offset_seconds: i64) -> String {
    format!(
        r#"{{"created": {}, "{field}": {}}}"#,
        at(-60),
        at(offset_seconds)
    )
}

#[test]
fn relative_timestamps_at_a_fixed_now() {
    assert_valid(
        &POOL,
        "Timestamps",
        &format!(r#"{{"created": {}}}"#, at(-1)),
    );
    let now = single(&POOL, "Timestamps", &format!(r#"{{"created": {}}}"#, at(0)));
    assert_eq!(
        (now.path.to_string().as_str(), now.rule),
        ("created", "timestamp.lt_now")
    );
    assert_eq!(now.message, "must be in the past");
    assert_eq!(now.value.as_deref(), Some("2024-05-01T12:00:00Z"));
    let missing = single(&POOL, "Timestamps", "{}");
    assert_eq!(
        (missing.rule, missing.message.as_str()),
        ("timestamp.required", "is required")
    );

    // (field, offset from now in seconds, the rule broken or None)
    let cases: &[(&str, i64, Option<&str>)] = &[
        ("expires", 1, None),
        ("expires", 0, Some("timestamp.gt_now")),
        ("expires", -1, Some("timestamp.gt_now")),
        ("near", 3599, None),
        ("near", -3599, None),
        ("near", 3600, Some("timestamp.within")),
        ("near", -3600, Some("timestamp.within")),
        ("recent", -1, None),
        ("recent", -3600, None),
        ("recent", -3601, Some("timestamp.within")),
        ("recent", 0, Some("timestamp.lt_now")),
        ("soon", 1, None),
        ("soon", 3600, None),
        ("soon", 3601, Some("timestamp.within")),
        ("soon", 0, Some("timestamp.gt_now")),
    ];
    for (field, offset, rule) in cases {
        let json = timestamps(field, *offset);
        let expected: Vec<(String, &str)> =
            rule.iter().map(|rule| (field.to_string(), *rule)).collect();
        assert_eq!(
            broken(&POOL, "Timestamps", &json),
            expected,
            "{field} at now{offset:+}s"
        );
    }
    let near = single(&POOL, "Timestamps", &timestamps("near", 7200));
    assert_eq!(near.message, "must be within 3600s of now");
    let recent = single(&POOL, "Timestamps", &timestamps("recent", -7200));
    assert_eq!(recent.message, "must be in the past, at most 3600s ago");
    let soon = single(&POOL, "Timestamps", &timestamps("soon", 7200));
    assert_eq!(
        soon.message,
        "must be in the future, at most 3600s from now"
    );
}

#[test]
fn now_is_the_one_given() {
    let message = decode(
        &POOL,
        "Timestamps",
        &format!(r#"{{"created": {}}}"#, at(10)),
    );
    assert!(validate_at(&message, super::now()).is_err());
    assert!(validate_at(&message, super::now() + Duration::from_secs(11)).is_ok());
    assert!(
        validate(&message).is_ok(),
        "2024 is in the past of the clock"
    );
}

#[test]
fn absolute_timestamps() {
    let base = format!(r#""created": {}"#, at(-1));
    let ok = format!(
        r#"{{{base}, "since": "2024-01-01T00:00:00Z", "exact": "1970-01-01T00:00:00Z", "window": "2024-06-01T00:00:00Z"}}"#
    );
    assert_valid(&POOL, "Timestamps", &ok);
    let early = single(
        &POOL,
        "Timestamps",
        &format!(r#"{{{base}, "since": "2023-12-31T23:59:59.5Z"}}"#),
    );
    assert_eq!(
        (early.rule, early.message.as_str()),
        ("timestamp.gte", "must be at or after 2024-01-01T00:00:00Z")
    );
    assert_eq!(early.value.as_deref(), Some("2023-12-31T23:59:59.500Z"));
    let exact = single(
        &POOL,
        "Timestamps",
        &format!(r#"{{{base}, "exact": "1970-01-01T00:00:01Z"}}"#),
    );
    assert_eq!(
        (exact.rule, exact.message.as_str()),
        ("timestamp.const", "must equal 1970-01-01T00:00:00Z")
    );
    let late = single(
        &POOL,
        "Timestamps",
        &format!(r#"{{{base}, "window": "2025-01-01T00:00:00Z"}}"#),
    );
    assert_eq!(late.rule, "timestamp.lt");
    assert_eq!(
        late.message,
        "must be after 2024-01-01T00:00:00Z and before 2025-01-01T00:00:00Z"
    );
}
