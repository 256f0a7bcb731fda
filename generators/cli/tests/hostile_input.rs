//! Hostile and broken input through the real `harness` binary: secrets stay out of every
//! message, deep or huge files are errors with positions instead of crashes, and protos
//! with deeply nested options exit 2 with a message.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn harness_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the harness binary runs")
}

fn harness(args: &[&str]) -> Output {
    harness_in(&fixtures(), args)
}

/// Everything the command printed.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

/// Values the YAML reader once quoted in its own errors (the part that must never be
/// printed, and a field of `db` the value is wrong for), and URLs with credentials.
const SECRETS: &[(&str, &str, &str)] = &[
    ("!Q9tag", "Q9tag", "password"),
    ("0731337924", "731337924", "password"),
    (
        "123456789012345678901234567890",
        "12345678901234",
        "password",
    ),
    ("!!int hunter2", "hunter2", "password"),
    ("!!float hunter2", "hunter2", "password"),
    ("!!bool hunter2", "hunter2", "password"),
    ("!!null hunter2", "hunter2", "password"),
    ("0opostgres://kirk:hunter2@db/kirk", "hunter2", "min_size"),
    (
        "postgres://kirk:hunter2@db:99999/kirk",
        "hunter2",
        "min_size",
    ),
];

/// `check` and `kube-gen` with a secret as `db.FIELD` in the merge file, in the patch
/// file, and in the configuration file.
fn secret_runs(secret: &str, field: &str) -> Vec<(String, Output)> {
    let config = fs::read_to_string(fixtures().join("kirk.yaml")).unwrap();
    let line = match field {
        "password" => "password: set-by-the-secret",
        _ => "min_size: 1",
    };
    assert!(config.contains(line));
    let in_config = config.replace(line, &format!("{field}: {secret}"));
    let dir = scratch(&[
        ("merge.yaml", &format!("db:\n  {field}: {secret}\n")),
        (
            "patch.yaml",
            &format!("- op: replace\n  path: /db/{field}\n  value: {secret}\n"),
        ),
        ("in-config.yaml", &in_config),
    ]);
    let proto = fixtures().join("kirk.proto").display().to_string();
    let config = fixtures().join("kirk.yaml").display().to_string();
    let (merge, patch) = (path_in(&dir, "merge.yaml"), path_in(&dir, "patch.yaml"));
    let in_config = path_in(&dir, "in-config.yaml");
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", &proto, &config, "--merge", &merge],
        vec!["check", &proto, &config, "--patch", &patch],
        vec!["check", &proto, &in_config],
        vec!["kube-gen", &proto, &config, "1.0", "--secret-merge", &merge],
        vec!["kube-gen", &proto, &config, "1.0", "--secret-patch", &patch],
        vec!["kube-gen", &proto, &in_config, "1.0"],
    ];
    runs.into_iter()
        .map(|args| (args.join(" "), harness(&args)))
        .collect()
}

#[test]
fn no_secret_is_printed_by_any_stage() {
    for (secret, hidden, field) in SECRETS {
        for (command, output) in secret_runs(secret, field) {
            let text = printed(&output);
            assert!(!text.contains(hidden), "{command}: {text}");
            assert_eq!(output.status.code(), Some(1), "{command}: {text}");
            assert!(text.contains("<redacted>"), "{command}: {text}");
        }
    }
}

#[test]
fn a_dsn_starting_with_0o_is_a_string() {
    let dir = scratch(&[("merge.yaml", "db:\n  username: 0okirk\n")]);
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--merge",
        &path_in(&dir, "merge.yaml"),
    ]);
    assert_eq!(printed(&output), "OK\n");
}

#[test]
fn deep_nesting_is_a_parse_error_at_every_stage() {
    let deep = format!("greeting:\n  {} 1\n", "- ".repeat(8_000));
    let patch = format!(
        "- op: add\n  path: /greeting\n  value:\n    {} 1\n",
        "- ".repeat(8_000)
    );
    let dir = scratch(&[("deep.yaml", &deep), ("patch.yaml", &patch)]);
    let (file, patch) = (path_in(&dir, "deep.yaml"), path_in(&dir, "patch.yaml"));
    for (args, at) in [
        (vec!["check", "kirk.proto", &file], format!("{file}:2:")),
        (
            vec!["check", "kirk.proto", "kirk.yaml", "--merge", &file],
            format!("{file}:2:"),
        ),
        (
            vec!["check", "kirk.proto", "kirk.yaml", "--patch", &patch],
            format!("{patch}:4:"),
        ),
        (
            vec![
                "kube-gen",
                "kirk.proto",
                "kirk.yaml",
                "1.0",
                "--secret-merge",
                &file,
            ],
            format!("{file}:2:"),
        ),
    ] {
        let output = harness(&args);
        let text = printed(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.starts_with(&format!("Parse error: {at}")), "{text}");
        assert!(text.contains("nested more than 100 levels deep"), "{text}");
    }
}

#[test]
fn an_endless_or_huge_config_is_refused() {
    let huge = format!("greeting: x\nlist:\n{}", "  - 1\n".repeat(1_000_000));
    let dir = scratch(&[("huge.yaml", &huge)]);
    let mut runs = vec![path_in(&dir, "huge.yaml")];
    if Path::new("/dev/zero").exists() {
        runs.push("/dev/zero".to_owned());
    }
    for config in runs {
        let output = harness(&["check", "kirk.proto", &config]);
        let text = printed(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert_eq!(
            text,
            format!(
                "error: cannot read {config}: it is larger than 4 MiB, the most a configuration file may be\n"
            )
        );
    }
}

#[test]
fn aliases_cannot_multiply_a_document() {
    let mut laughs = "greeting: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
    for level in 1..9 {
        let items = vec![format!("*a{}", level - 1); 10].join(", ");
        laughs.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let dir = scratch(&[("laughs.yaml", &laughs)]);
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "laughs.yaml")]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("more than 1000000 values"), "{text}");
}

#[test]
fn ten_thousand_patch_operations_complete() {
    let patch = "- {op: test, path: /debug, value: false}\n".repeat(10_000);
    let dir = scratch(&[("patch.yaml", &patch)]);
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--patch",
        &path_in(&dir, "patch.yaml"),
    ]);
    assert_eq!(printed(&output), "OK\n");
}

#[test]
fn deeply_nested_option_values_exit_2() {
    for depth in [100, 5_000] {
        let proto = format!(
            "syntax = \"proto2\";\npackage d;\nimport \"google/protobuf/descriptor.proto\";\n\
             message O {{ optional O o = 1; }}\n\
             extend google.protobuf.FieldOptions {{ optional O deep = 50000; }}\n\
             message Configuration {{ optional int32 x = 1 [(deep) = {}{{}}{}]; }}\n",
            "{o: ".repeat(depth),
            "}".repeat(depth)
        );
        let dir = scratch(&[("deep.proto", &proto), ("c.yaml", "x: 1\n")]);
        let output = harness_in(dir.path(), &["check", "deep.proto", "c.yaml"]);
        let text = printed(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert_eq!(
            text,
            format!(
                "error: deep.proto:6:47: option `(deep)` nests {} levels deep; at most 32 are allowed\n",
                depth + 1
            )
        );
    }
}

#[test]
fn an_import_error_names_the_proto_as_given() {
    let dir = scratch(&[
        (
            "cases/c19/svc/svc.proto",
            "syntax = \"proto3\";\npackage svc;\n\n\nimport \"nope.proto\";\nmessage Configuration {}\n",
        ),
        ("c.yaml", "{}\n"),
    ]);
    let output = harness_in(dir.path(), &["check", "cases/c19/svc/svc.proto", "c.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        printed(&output),
        "error: cases/c19/svc/svc.proto:5:1: import 'nope.proto' not found\n"
    );
}

const SHAPES: &str = r#"
syntax = "proto3";
package shapes;
import "google/protobuf/any.proto";

message Configuration {
    oneof target {
        string host = 1;
        string socket = 2;
    }
    map<int32, string> codes = 3;
    google.protobuf.Any extra = 4;
    uint32 port = 5;
    string name = 6;
}
"#;

fn check_shapes(config: &str) -> (Option<i32>, String) {
    let dir = scratch(&[("shapes.proto", SHAPES), ("c.yaml", config)]);
    let output = harness_in(dir.path(), &["check", "shapes.proto", "c.yaml"]);
    (output.status.code(), printed(&output))
}

#[test]
fn oneof_and_map_key_errors_name_the_field() {
    assert_eq!(
        check_shapes("host: a\nsocket: /run/s\n"),
        (
            Some(1),
            "Parse error: c.yaml:2:9: socket: `host` and `socket` are both set, but they are members of oneof `target`: set only one\n"
                .to_owned()
        )
    );
    assert_eq!(
        check_shapes("codes:\n  200: ok\n  two: no\n"),
        (
            Some(1),
            "Parse error: c.yaml:3:8: codes[\"two\"]: invalid key: expected an integer from -2147483648 to 2147483647\n"
                .to_owned()
        )
    );
    let (code, text) = check_shapes("codes: {4294967296: big}\n");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("codes[\"4294967296\"]: invalid key"),
        "{text}"
    );
}

#[test]
fn the_empty_any_is_accepted() {
    assert_eq!(check_shapes("extra: {}\n"), (Some(0), "OK\n".to_owned()));
}

#[test]
fn smaller_findings() {
    // A float is not a uint, even when integral.
    let (code, text) = check_shapes("port: 8.0e0\n");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.starts_with(
            "Parse error: c.yaml:1:7: port: invalid value 8.0: expected an unsigned integer"
        ),
        "{text}"
    );
    // `!!null` takes no value.
    let (code, text) = check_shapes("name: !!null anything\n");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("is tagged !!null but is not empty"), "{text}");
    // `09` is not octal: no hint to write `0o9`.
    let (code, text) = check_shapes("port: 09\n");
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains("0o9") && text.contains("write 9"), "{text}");
    // A million digits are not echoed back.
    let (code, text) = check_shapes(&format!("name: {}\n", "1".repeat(1_000_000)));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.len() < 300, "{} bytes: {}", text.len(), &text[..300]);
}
