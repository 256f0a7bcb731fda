use serde_json::{Value, json};

use super::json_schema_of_proto;

/// The schema of a proto whose `Configuration` body is `body` (with `extra` definitions).
fn schema(body: &str, extra: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("svc.proto");
    let text = format!(
        "syntax = \"proto3\";\npackage svc;\n\
         import \"validate/validate.proto\";\nimport \"harness/wire.proto\";\n\
         import \"harness/net.proto\";\n\
         import \"google/protobuf/duration.proto\";\nimport \"google/protobuf/wrappers.proto\";\n\
         {extra}\n// The service's settings.\nmessage Configuration {{\n{body}\n}}\n"
    );
    std::fs::write(&proto, text).unwrap();
    json_schema_of_proto(&proto, &[]).unwrap_or_else(|err| panic!("{}", err.report()))
}

fn field(schema: &Value, name: &str) -> Value {
    schema["$defs"]["svc.Configuration"]["properties"][name].clone()
}

#[test]
fn the_root_refers_to_the_configuration_and_says_its_dialect() {
    let schema = schema("string a = 1;", "");
    assert_eq!(schema["$schema"], super::DRAFT);
    assert_eq!(schema["$ref"], "#/$defs/svc.Configuration");
    assert_eq!(schema["description"], "The service's settings.");
    let def = &schema["$defs"]["svc.Configuration"];
    assert_eq!(def["type"], "object");
    assert_eq!(def["additionalProperties"], false);
}

#[test]
fn fields_are_read_under_both_names_with_their_comments() {
    let schema = schema(
        "// How many, at most.\nuint32 max_conns = 1;\nstring name = 2;",
        "",
    );
    let json_name = field(&schema, "maxConns");
    assert_eq!(json_name["description"], "How many, at most.");
    assert_eq!(json_name["type"], json!(["integer", "string", "null"]));
    assert_eq!(json_name["maximum"], u32::MAX);
    let name = field(&schema, "max_conns");
    assert_eq!(name["description"], "Same as `maxConns`.");
    assert_eq!(name["type"], json_name["type"]);
    assert!(field(&schema, "name").is_object());
}

#[test]
fn a_field_is_required_when_its_default_breaks_a_rule() {
    let schema = schema(
        "uint32 port = 1 [(validate.rules).uint32.gt = 0];\n\
         uint32 mode = 2 [(validate.rules).uint32.lt = 10];\n\
         harness.net.Socket bind = 3 [(validate.rules).message.required = true];\n\
         string max_name = 4 [(validate.rules).string.min_len = 1];",
        "",
    );
    let def = &schema["$defs"]["svc.Configuration"];
    assert_eq!(def["required"], json!(["port", "bind"]));
    // Either name will do for a field that has two.
    assert_eq!(
        def["allOf"][0],
        json!({"anyOf": [{"required": ["max_name"]}, {"required": ["maxName"]}]})
    );
    // A required field is not null; the others may be (null is unset).
    assert_eq!(field(&schema, "port")["type"], json!(["integer", "string"]));
    assert_eq!(field(&schema, "port")["exclusiveMinimum"], 0);
    assert_eq!(
        field(&schema, "mode")["type"],
        json!(["integer", "string", "null"])
    );
    assert_eq!(field(&schema, "bind")["$ref"], "#/$defs/harness.net.Socket");
}

#[test]
fn bounds_follow_harness_lt_over_lte_and_outside_ranges() {
    let schema = schema(
        "int32 a = 1 [(validate.rules).int32 = {lt: 5, lte: 9, gte: -3}];\n\
         int32 b = 2 [(validate.rules).int32 = {lt: 0, gt: 10}];\n\
         double c = 3 [(validate.rules).double = {gt: 0.5}];\n\
         float d = 4 [(validate.rules).float = {lte: 0.1}];",
        "",
    );
    let a = field(&schema, "a");
    assert_eq!(a["exclusiveMaximum"], 5);
    assert_eq!(a["maximum"], i32::MAX, "lte is ignored when lt is set");
    assert_eq!(a["minimum"], -3);
    let b = field(&schema, "b");
    // Zero is inside (0, 10): the field is required, so not null.
    assert_eq!(
        b["anyOf"],
        json!([{"exclusiveMaximum": 0}, {"exclusiveMinimum": 10}])
    );
    assert_eq!(field(&schema, "c")["exclusiveMinimum"], 0.5);
    assert_eq!(
        field(&schema, "d")["maximum"],
        0.1,
        "the float's shortest decimal"
    );
}

#[test]
fn strings_say_lengths_patterns_and_lists() {
    let schema = schema(
        "string a = 1 [(validate.rules).string = {min_len: 2, max_len: 4, pattern: \"^\\\\d+$\"}];\n\
         string b = 2 [(validate.rules).string = {pattern: \"^\\\\pL+$\", ignore_empty: true}];\n\
         string c = 3 [(validate.rules).string = {in: [\"x\", \"y\"]}];\n\
         string d = 4 [(validate.rules).string = {not_in: [\"z\"], prefix: \"a.\"}];\n\
         string e = 5 [(validate.rules).string = {len_bytes: 8}];",
        "",
    );
    let a = field(&schema, "a");
    assert_eq!(
        (&a["minLength"], &a["maxLength"], &a["pattern"]),
        (&json!(2), &json!(4), &json!("^[0-9]+$"))
    );
    assert_eq!(
        field(&schema, "b"),
        json!({"type": ["string", "null"]}),
        "untranslatable"
    );
    assert_eq!(field(&schema, "c")["enum"], json!(["x", "y"]));
    let d = field(&schema, "d");
    assert_eq!(d["not"], json!({"enum": ["z"]}));
    assert_eq!(d["pattern"], r"^a\.");
    // Eight bytes are two to eight characters.
    let e = field(&schema, "e");
    assert_eq!((&e["minLength"], &e["maxLength"]), (&json!(2), &json!(8)));
}

#[test]
fn enums_by_name_and_number() {
    let schema = schema(
        "Level any = 1;\nLevel known = 2 [(validate.rules).enum.defined_only = true];\n\
         Level not_low = 3 [(validate.rules).enum = {not_in: [1]}];",
        "enum Level { NONE = 0; LOW = 1; HIGH = 2; }",
    );
    let any = field(&schema, "any");
    assert_eq!(
        any["anyOf"][1]["anyOf"][0]["enum"],
        json!(["NONE", "LOW", "HIGH"])
    );
    assert_eq!(any["anyOf"][1]["anyOf"][1]["type"], "integer");
    let known = field(&schema, "known");
    assert_eq!(
        known["anyOf"][1]["enum"],
        json!(["NONE", 0, "LOW", 1, "HIGH", 2])
    );
    let not_low = field(&schema, "not_low");
    assert_eq!(not_low["anyOf"][1]["not"], json!({"enum": ["LOW", 1]}));
}

#[test]
fn well_known_types_have_their_json_forms() {
    let schema = schema(
        "google.protobuf.Duration timeout = 1;\n\
         google.protobuf.UInt32Value limit = 2 [(validate.rules).uint32.lte = 9];\n\
         bytes key = 3;\nrepeated string tags = 4 [(validate.rules).repeated = {max_items: 2, unique: true}];\n\
         map<int32, string> names = 5 [(validate.rules).map.min_pairs = 1];",
        "",
    );
    let timeout = field(&schema, "timeout");
    assert_eq!(timeout["type"], json!(["string", "null"]));
    assert_eq!(timeout["pattern"], super::values::DURATION);
    let limit = field(&schema, "limit");
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(0), &json!(9))
    );
    assert_eq!(field(&schema, "key")["contentEncoding"], "base64");
    let tags = field(&schema, "tags");
    assert_eq!(
        (&tags["maxItems"], &tags["uniqueItems"]),
        (&json!(2), &json!(true))
    );
    assert_eq!(tags["items"], json!({"type": "string"}));
    let names = field(&schema, "names");
    assert_eq!(
        names["propertyNames"]["pattern"],
        super::values::SIGNED_TEXT
    );
    assert_eq!(names["minProperties"], 1);
    assert_eq!(names["additionalProperties"], json!({"type": "string"}));
}

#[test]
fn oneofs_allow_one_member_and_required_ones_need_one() {
    let schema = schema(
        "oneof target {\noption (validate.required) = true;\nstring pipe = 1;\nharness.net.Socket socket = 2;\n}",
        "",
    );
    let all_of = &schema["$defs"]["svc.Configuration"]["allOf"];
    let not_null = json!({"not": {"type": "null"}});
    assert_eq!(
        all_of[0],
        json!({"not": {"anyOf": [{
            "required": ["pipe", "socket"],
            "properties": {"pipe": not_null, "socket": not_null},
        }]}})
    );
    assert_eq!(
        all_of[1]["anyOf"][0],
        json!({"required": ["pipe"], "properties": {"pipe": not_null}})
    );
}

#[test]
fn recursive_and_unvalidated_messages_are_definitions() {
    let schema = schema(
        "Node root = 1;\nNode skipped = 2 [(validate.rules).message.skip = true];",
        "message Node {\nstring name = 1 [(validate.rules).string.min_len = 1];\nrepeated Node children = 2;\n}",
    );
    let defs = &schema["$defs"];
    let node = &defs["svc.Node"];
    assert_eq!(node["required"], json!(["name"]));
    assert_eq!(
        node["properties"]["children"]["items"]["$ref"],
        "#/$defs/svc.Node"
    );
    let unvalidated = &defs["svc.Node-unvalidated"];
    assert!(unvalidated["required"].is_null(), "{unvalidated}");
    assert_eq!(
        unvalidated["properties"]["name"],
        json!({"type": ["string", "null"]})
    );
    assert_eq!(
        unvalidated["properties"]["children"]["items"]["$ref"],
        "#/$defs/svc.Node-unvalidated"
    );
}

#[test]
fn credentials_are_write_only_and_bundled_types_keep_their_comments() {
    let schema = schema(
        "string password = 1;\nstring token = 2 [(harness.mark).secret = true];\nstring user = 3;\n\
         harness.net.Socket bind = 4;",
        "",
    );
    assert_eq!(field(&schema, "password")["writeOnly"], true);
    assert_eq!(field(&schema, "token")["writeOnly"], true);
    assert!(field(&schema, "user")["writeOnly"].is_null());
    let socket = &schema["$defs"]["harness.net.Socket"];
    assert_eq!(socket["description"], "A TCP endpoint.");
    assert_eq!(
        socket["properties"]["port"]["description"],
        "Port number, 1 to 65535."
    );
}
