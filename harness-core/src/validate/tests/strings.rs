//! String rules, the well-known formats, and bytes rules.

use std::sync::LazyLock;

use prost::bytes::Bytes;
use prost_reflect::{DescriptorPool, DynamicMessage, Value};

use super::{assert_valid, broken, compile, decode, now, single};
use crate::validate::validate_at;

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    compile(
        r#"
message Strings {
    optional string konst = 1 [(validate.rules).string.const = "abc"];
    optional string len = 2 [(validate.rules).string.len = 3];
    optional string min_len = 3 [(validate.rules).string.min_len = 3];
    optional string max_len = 4 [(validate.rules).string.max_len = 3];
    optional string len_bytes = 5 [(validate.rules).string.len_bytes = 4];
    optional string min_bytes = 6 [(validate.rules).string.min_bytes = 3];
    optional string max_bytes = 7 [(validate.rules).string.max_bytes = 3];
    optional string pattern = 8 [(validate.rules).string.pattern = "^[a-z]+$"];
    optional string prefix = 9 [(validate.rules).string.prefix = "ab"];
    optional string suffix = 10 [(validate.rules).string.suffix = "yz"];
    optional string contains = 11 [(validate.rules).string.contains = "mid"];
    optional string not_contains = 12 [(validate.rules).string.not_contains = "bad"];
    optional string one_of = 13 [(validate.rules).string = {in: ["a", "b"]}];
    optional string none_of = 14 [(validate.rules).string = {not_in: ["root"]}];
    optional string email = 15 [(validate.rules).string.email = true];
    optional string hostname = 16 [(validate.rules).string.hostname = true];
    optional string ip = 17 [(validate.rules).string.ip = true];
    optional string ipv4 = 18 [(validate.rules).string.ipv4 = true];
    optional string ipv6 = 19 [(validate.rules).string.ipv6 = true];
    optional string uri = 20 [(validate.rules).string.uri = true];
    optional string uri_ref = 21 [(validate.rules).string.uri_ref = true];
    optional string address = 22 [(validate.rules).string.address = true];
    optional string uuid = 23 [(validate.rules).string.uuid = true];
    optional string header_name = 24 [(validate.rules).string.well_known_regex = HTTP_HEADER_NAME];
    optional string header_value = 25 [(validate.rules).string.well_known_regex = HTTP_HEADER_VALUE];
    optional string loose_name = 26 [(validate.rules).string = {well_known_regex: HTTP_HEADER_NAME, strict: false}];
    optional string min_max = 27 [(validate.rules).string = {min_len: 2, max_len: 4}];
    optional string bad_pattern = 28 [(validate.rules).string.pattern = "^[a-"];
    optional string digits = 29 [(validate.rules).string.pattern = "^\\d+$"];
}

message Empty {
    string name = 1 [(validate.rules).string = {min_len: 3, ignore_empty: true}];
    string required = 2 [(validate.rules).string.min_len = 1];
}

message Blobs {
    optional bytes konst = 1 [(validate.rules).bytes.const = "\x01\x02"];
    optional bytes len = 2 [(validate.rules).bytes.len = 2];
    optional bytes min_len = 3 [(validate.rules).bytes.min_len = 2];
    optional bytes max_len = 4 [(validate.rules).bytes.max_len = 2];
    optional bytes pattern = 5 [(validate.rules).bytes.pattern = "^[a-z]+$"];
    optional bytes prefix = 6 [(validate.rules).bytes.prefix = "\x01"];
    optional bytes suffix = 7 [(validate.rules).bytes.suffix = "\xff"];
    optional bytes contains = 8 [(validate.rules).bytes.contains = "mid"];
    optional bytes one_of = 9 [(validate.rules).bytes = {in: ["a", "b"]}];
    optional bytes none_of = 10 [(validate.rules).bytes = {not_in: ["x"]}];
    optional bytes ip = 11 [(validate.rules).bytes.ip = true];
    optional bytes ipv4 = 12 [(validate.rules).bytes.ipv4 = true];
    optional bytes ipv6 = 13 [(validate.rules).bytes.ipv6 = true];
    bytes ignored = 14 [(validate.rules).bytes = {len: 4, ignore_empty: true}];
}
"#,
    )
});

/// `(field, good values, bad values, rule)`, as in the number tests.
const CASES: &[(&str, &[&str], &[&str], &str)] = &[
    ("konst", &["abc"], &["abd", ""], "string.const"),
    ("len", &["abc", "ééé"], &["ab", "abcd"], "string.len"),
    ("min_len", &["abc", "日本語"], &["ab", ""], "string.min_len"),
    ("max_len", &["abc", "日本語"], &["abcd"], "string.max_len"),
    (
        "len_bytes",
        &["abcd", "éé"],
        &["abc", "ééé"],
        "string.len_bytes",
    ),
    ("min_bytes", &["abc", "é."], &["é", ""], "string.min_bytes"),
    ("max_bytes", &["abc", "é."], &["éé"], "string.max_bytes"),
    ("pattern", &["abc"], &["ab1", ""], "string.pattern"),
    ("prefix", &["ab", "abc"], &["a", "ba"], "string.prefix"),
    ("suffix", &["yz", "xyz"], &["zy"], "string.suffix"),
    ("contains", &["mid", "amidst"], &["mi-d"], "string.contains"),
    (
        "not_contains",
        &["good", ""],
        &["bad", "abadb"],
        "string.not_contains",
    ),
    ("one_of", &["a", "b"], &["c", ""], "string.in"),
    ("none_of", &["user"], &["root"], "string.not_in"),
    (
        "email",
        &[
            "a@example.com",
            "Jane Doe <jane@example.com>",
            "\"j d\"@example.com",
        ],
        &["a", "a@", "@example.com", "a@b_c.com", "a@[127.0.0.1]", ""],
        "string.email",
    ),
    (
        "hostname",
        &[
            "example.com",
            "localhost",
            "example.com.",
            "xn--bcher-kva.ch",
        ],
        &["-a.com", "a..com", "a_b.com", "bücher.ch", ""],
        "string.hostname",
    ),
    (
        "ip",
        &["10.0.0.1", "::1", "2001:db8::1"],
        &["10.0.0", "1.2.3.4.5", "::g", ""],
        "string.ip",
    ),
    (
        "ipv4",
        &["10.0.0.1", "0.0.0.0"],
        &["::1", "256.0.0.1", "01.2.3.4"],
        "string.ipv4",
    ),
    (
        "ipv6",
        &["::1", "fe80::1", "::ffff:1.2.3.4"],
        &["10.0.0.1", "fe80::1%eth0"],
        "string.ipv6",
    ),
    (
        "uri",
        &[
            "https://example.com/a?b=c#d",
            "postgres://u@h:5432/db",
            "mailto:a@b.c",
        ],
        &["/relative", "example.com", "http://a b/", ""],
        "string.uri",
    ),
    (
        "uri_ref",
        &["/relative", "a/b?c", "https://example.com", ""],
        &["http://[::1", "%zz", "://x"],
        "string.uri_ref",
    ),
    (
        "address",
        &["example.com", "10.0.0.1", "::1"],
        &["a_b", "-x", ""],
        "string.address",
    ),
    (
        "uuid",
        &[
            "123e4567-e89b-12d3-a456-426614174000",
            "123E4567-E89B-12D3-A456-426614174000",
        ],
        &[
            "123e4567e89b12d3a456426614174000",
            "123e4567-e89b-12d3-a456-42661417400z",
        ],
        "string.uuid",
    ),
    (
        "header_name",
        &["content-type", ":path", "X-Trace_1"],
        &["", "a b", "a:b", "é"],
        "string.well_known_regex",
    ),
    (
        "header_value",
        &["text/html; q=0.9", "a\tb", ""],
        &["a\nb", "a\u{1}b", "\u{7f}"],
        "string.well_known_regex",
    ),
    (
        "loose_name",
        &["a b", "é:x", ""],
        &["a\rb", "a\u{0}b", "a\nb"],
        "string.well_known_regex",
    ),
    (
        "min_max",
        &["ab", "abcd"],
        &["a", "abcde"],
        "string.min_len|string.max_len",
    ),
    ("digits", &["0123"], &["12a", "١٢"], "string.pattern"),
];

fn json(field: &str, value: &str) -> String {
    serde_json::json!({ field: value }).to_string()
}

#[test]
fn every_string_rule_accepts_and_refuses() {
    for (field, good, bad, rules) in CASES {
        for value in *good {
            assert_valid(&POOL, "Strings", &json(field, value));
        }
        for value in *bad {
            let json = json(field, value);
            let found = broken(&POOL, "Strings", &json);
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
fn string_messages_read_plainly() {
    let expect = |field: &str, value: &str, message: &str| {
        let violation = single(&POOL, "Strings", &json(field, value));
        assert_eq!(violation.message, message, "{field}");
        assert_eq!(violation.value, Some(format!("{value:?}")), "{field}");
    };
    expect("min_len", "ab", "must be at least 3 characters long");
    expect("max_len", "abcd", "must be at most 3 characters long");
    expect("len", "ab", "must be exactly 3 characters long");
    expect("min_max", "a", "must be between 2 and 4 characters long");
    expect("len_bytes", "abc", "must be exactly 4 bytes long");
    expect("pattern", "A", "must match the pattern ^[a-z]+$");
    expect("konst", "x", "must equal \"abc\"");
    expect("one_of", "c", "must be one of [\"a\", \"b\"]");
    expect("none_of", "root", "must not be one of [\"root\"]");
    expect("prefix", "x", "must start with \"ab\"");
    expect("suffix", "x", "must end with \"yz\"");
    expect("contains", "x", "must contain \"mid\"");
    expect("not_contains", "bad", "must not contain \"bad\"");
    expect("email", "x", "must be a valid email address");
    expect("ipv4", "::1", "must be a valid IPv4 address");
    expect("uri", "/a", "must be an absolute URI");
    expect(
        "header_value",
        "a\nb",
        "must be a valid HTTP header value, without control characters other than tab",
    );
    expect(
        "loose_name",
        "a\nb",
        "must not contain NUL, CR or LF characters",
    );
}

#[test]
fn an_invalid_pattern_is_a_violation_not_a_panic() {
    let violation = single(&POOL, "Strings", &json("bad_pattern", "a"));
    assert_eq!(violation.rule, "string.pattern");
    assert!(
        violation.message.starts_with(
            "cannot be checked: the pattern ^[a- in the proto is not a valid regular expression"
        ),
        "{}",
        violation.message
    );
}

#[test]
fn ignore_empty_skips_the_empty_string_only() {
    assert_eq!(
        broken(&POOL, "Empty", "{}"),
        [("required".into(), "string.min_len")]
    );
    assert_valid(&POOL, "Empty", r#"{"required": "x"}"#);
    assert_eq!(
        broken(&POOL, "Empty", r#"{"name": "ab", "required": "x"}"#),
        [("name".into(), "string.min_len")]
    );
}

/// A `t.Blobs` with `field` set to `value`.
fn blobs(field: &str, value: &[u8]) -> DynamicMessage {
    let mut message = decode(&POOL, "Blobs", "{}");
    message.set_field_by_name(field, Value::Bytes(Bytes::copy_from_slice(value)));
    message
}

/// `(field, good values, bad values, rule)`.
type BytesCase = (
    &'static str,
    &'static [&'static [u8]],
    &'static [&'static [u8]],
    &'static str,
);

const BYTES_CASES: &[BytesCase] = &[
    ("konst", &[b"\x01\x02"], &[b"\x01", b""], "bytes.const"),
    ("len", &[b"ab"], &[b"a", b"abc"], "bytes.len"),
    ("min_len", &[b"ab", b"abc"], &[b"a"], "bytes.min_len"),
    ("max_len", &[b"ab", b""], &[b"abc"], "bytes.max_len"),
    (
        "pattern",
        &[b"abc"],
        &[b"ab1", b"\xff\xfe"],
        "bytes.pattern",
    ),
    (
        "prefix",
        &[b"\x01", b"\x01\x02"],
        &[b"\x02\x01"],
        "bytes.prefix",
    ),
    ("suffix", &[b"a\xff"], &[b"\xffa"], "bytes.suffix"),
    ("contains", &[b"amidst"], &[b"mi"], "bytes.contains"),
    ("one_of", &[b"a", b"b"], &[b"c"], "bytes.in"),
    ("none_of", &[b"y"], &[b"x"], "bytes.not_in"),
    (
        "ip",
        &[&[10, 0, 0, 1], &[0; 16]],
        &[&[1, 2, 3], &[0; 5]],
        "bytes.ip",
    ),
    ("ipv4", &[&[10, 0, 0, 1]], &[&[0; 16], &[1]], "bytes.ipv4"),
    (
        "ipv6",
        &[&[0; 16]],
        &[&[10, 0, 0, 1], &[0; 15]],
        "bytes.ipv6",
    ),
    ("ignored", &[b"", b"abcd"], &[b"abc"], "bytes.len"),
];

#[test]
fn every_bytes_rule_accepts_and_refuses() {
    for (field, good, bad, rule) in BYTES_CASES {
        for value in *good {
            let found = validate_at(&blobs(field, value), now());
            assert!(found.is_ok(), "{field} {value:?}: {found:?}");
        }
        for value in *bad {
            let found = validate_at(&blobs(field, value), now()).unwrap_err();
            assert_eq!(found.len(), 1, "{field} {value:?}: {found:?}");
            assert_eq!(
                (found[0].path.to_string().as_str(), found[0].rule),
                (*field, *rule)
            );
        }
    }
}

#[test]
fn bytes_show_as_escaped_strings() {
    let found = validate_at(&blobs("konst", b"a\x00\xff\""), now()).unwrap_err();
    assert_eq!(found[0].message, r#"must equal "\x01\x02""#);
    assert_eq!(found[0].value.as_deref(), Some(r#""a\x00\xff\"""#));
    let found = validate_at(&blobs("pattern", b"\xff"), now()).unwrap_err();
    assert_eq!(
        found[0].message,
        "must be valid UTF-8 to match the pattern ^[a-z]+$"
    );
    let found = validate_at(&blobs("ipv6", b"\x01"), now()).unwrap_err();
    assert_eq!(found[0].message, "must be an IPv6 address of 16 bytes");
}
