use serde_json::json;

use super::*;
use crate::config::limits::{MAX_DEPTH, MAX_VALUES};

fn shown(err: &YamlError) -> String {
    err.message(Some(&|text: &str| format!("`{text}`")))
}

#[test]
fn resolves_scalars_by_the_core_schema() {
    let value = to_json(
        "a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: true\nf: ~\ng: yes\nh: '7'\ni: 0x1F\nj: 0o17\n\
         k: 18446744073709551615\nl: .inf\nm: \"on\"\nn: 1_000\no: !!str 12\np:\n",
    )
    .unwrap();
    assert_eq!(
        value,
        json!({
            "a": 1, "b": -2, "c": 1.5, "d": 1000.0, "e": true, "f": null, "g": "yes", "h": "7",
            "i": 31, "j": 15, "k": 18446744073709551615u64, "l": "Infinity", "m": "on",
            "n": "1_000", "o": "12", "p": null,
        })
    );
}

#[test]
fn leading_zero_integers_are_ambiguous() {
    let err = to_json("pipe:\n  mode: 0755\n").unwrap_err();
    assert_eq!(err.position, Some(Position { line: 2, column: 9 }));
    assert_eq!(
        err.steps,
        vec![
            Step::Key(vec!["pipe".into()]),
            Step::Key(vec!["mode".into()])
        ]
    );
    let text = shown(&err);
    assert!(
        text.contains("write 0o755 for octal, 755 for decimal"),
        "{text}"
    );
    assert_eq!(to_json("mode: '0755'").unwrap(), json!({"mode": "0755"}));
    assert_eq!(to_json("n: 0").unwrap(), json!({"n": 0}));
}

#[test]
fn malformed_yaml_has_a_position() {
    let err = to_json("a: [1, 2\nb: 3\n").unwrap_err();
    assert!(err.position.is_some());
    assert!(matches!(err.problem, Problem::Syntax(_)), "{err:?}");
}

#[test]
fn duplicated_keys_are_errors() {
    let err = to_json("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert!(shown(&err).contains("duplicated key"), "{err:?}");
    assert_eq!(err.position.map(|p| p.line), Some(3));
    let err = to_json("a: 1\n'a': 3\n").unwrap_err();
    assert_eq!(shown(&err), "duplicated key `a`");
}

#[test]
fn empty_and_multiple_documents() {
    assert_eq!(to_json("").unwrap(), Value::Null);
    assert_eq!(to_json("# only a comment\n").unwrap(), Value::Null);
    let err = to_json("a: 1\n---\nb: 2\n").unwrap_err();
    assert_eq!(err.problem, Problem::MultipleDocuments);
}

#[test]
fn anchors_and_aliases_expand() {
    let value = to_json("base: &b {host: h, port: 1}\ncopy: *b\n").unwrap();
    assert_eq!(value["copy"], json!({"host": "h", "port": 1}));
}

#[test]
fn finds_positions_of_paths() {
    let text = "server:\n  bind:\n    host: 0.0.0.0\n    port: 80a\nlist:\n  - x\n  - y\n";
    let key = |names: &[&str]| Step::Key(names.iter().map(|n| n.to_string()).collect());
    let port = position_of(text, &[key(&["server"]), key(&["bind"]), key(&["port"])]);
    assert_eq!(
        port,
        Some(Position {
            line: 4,
            column: 11
        })
    );
    let item = position_of(text, &[key(&["list"]), Step::Index(1)]);
    assert_eq!(item, Some(Position { line: 7, column: 5 }));
    let alternative = position_of(text, &[key(&["srv", "server"])]);
    assert_eq!(alternative, Some(Position { line: 2, column: 3 }));
    assert_eq!(position_of(text, &[key(&["nope"])]), None);
}

#[test]
fn deep_block_nesting_is_an_error_with_a_position() {
    // 8,000 levels once overflowed the stack; the limit stops long before.
    let deep = format!("x:\n  {} 1\n", "- ".repeat(8_000));
    let err = to_json(&deep).unwrap_err();
    assert_eq!(err.problem, Problem::TooDeep);
    assert_eq!(err.position.map(|p| p.line), Some(2));
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    assert!(to_json(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(
        to_json(&nested(MAX_DEPTH + 1)).unwrap_err().problem,
        Problem::TooDeep
    );
}

#[test]
fn aliases_count_expanded() {
    // "A billion laughs": each level repeats the one before ten times.
    let mut text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
    for level in 1..9 {
        let prev = level - 1;
        let items = vec![format!("*a{prev}"); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let err = to_json(&text).unwrap_err();
    assert_eq!(err.problem, Problem::TooManyValues);
    assert!(
        shown(&err).contains(&MAX_VALUES.to_string()),
        "{}",
        shown(&err)
    );
}

#[test]
fn an_alias_inside_its_own_anchor_is_an_error() {
    let err = to_json("a: &x [1, *x]\n");
    assert!(err.is_err(), "{err:?}");
}

#[test]
fn tags_on_collections() {
    assert_eq!(
        to_json("a: !!map {b: 1}\n").unwrap(),
        json!({"a": {"b": 1}})
    );
    let err = to_json("a: !thing {b: 1}\n").unwrap_err();
    assert_eq!(
        err.problem,
        Problem::Scalar(ScalarProblem::Tag("!thing".into()))
    );
}

#[test]
fn a_scalar_error_names_the_path_of_its_value() {
    let err = to_json("db:\n  password: !Q9tag\n").unwrap_err();
    assert_eq!(
        err.steps,
        vec![
            Step::Key(vec!["db".into()]),
            Step::Key(vec!["password".into()])
        ]
    );
    assert_eq!(
        err.position,
        Some(Position {
            line: 2,
            column: 13
        })
    );
    let hidden = err.message(None);
    assert!(!hidden.contains("Q9tag"), "{hidden}");
    let err = to_json("- a\n- [b, 99999999999999999999999]\n").unwrap_err();
    assert_eq!(err.steps, vec![Step::Index(1), Step::Index(1)]);
}

#[test]
fn finds_several_positions_in_one_reading() {
    let text = "a: &base {host: h, port: 1}\nb: *base\nlist: [x, {y: 2}]\n";
    let key = |name: &str| Step::Key(vec![name.to_owned()]);
    let paths: Vec<Vec<Step>> = vec![
        vec![key("list"), Step::Index(1), key("y")],
        vec![key("a"), key("port")],
        vec![key("b"), key("port")],
        vec![key("nope")],
        vec![],
    ];
    let paths: Vec<&[Step]> = paths.iter().map(Vec::as_slice).collect();
    let found = positions_of(text, &paths);
    assert_eq!(
        found[0],
        Some(Position {
            line: 3,
            column: 15
        })
    );
    assert_eq!(
        found[1],
        Some(Position {
            line: 1,
            column: 26
        })
    );
    // Through an alias: the alias itself.
    assert_eq!(found[2], Some(Position { line: 2, column: 4 }));
    assert_eq!(found[3], None);
    assert_eq!(found[4], Some(Position { line: 1, column: 1 }));
}

#[test]
fn steps_along_a_field_path_find_a_field_written_by_its_json_name() {
    let path = FieldPath(vec![
        Segment::Field {
            name: "min_size".into(),
            json_name: "minSize".into(),
        },
        Segment::Index(1),
        Segment::Key("bridge".into()),
    ]);
    let steps = Step::along(&path);
    assert_eq!(
        steps,
        vec![
            Step::Key(vec!["min_size".into(), "minSize".into()]),
            Step::Index(1),
            Step::Key(vec!["bridge".into()]),
        ]
    );
    let text = "minSize:\n  - {}\n  - bridge: 3\n";
    assert_eq!(
        position_of(text, &steps),
        Some(Position {
            line: 3,
            column: 13
        })
    );
}
