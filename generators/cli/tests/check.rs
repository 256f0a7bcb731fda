//! `harness check` as a user runs it: the real binary on real files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("the harness binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch directory holding `files`, for inputs that must not live in fixtures.
fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn kirk_yaml_with(from: &str, to: &str) -> String {
    let text = fs::read_to_string(fixtures().join("kirk.yaml")).unwrap();
    assert!(text.contains(from), "fixture has {from:?}");
    text.replacen(from, to, 1)
}

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn a_valid_configuration_is_ok() {
    let output = harness(&["check", "kirk.proto", "kirk.yaml"]);
    assert_eq!(stdout(&output), "OK\n", "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn merge_and_patch_files_apply() {
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--merge",
        "secret-merge.yaml",
        "--patch",
        "secret-patch.yaml",
    ]);
    assert_eq!(stdout(&output), "OK\n", "{}", stderr(&output));
}

#[test]
fn a_type_mismatch_is_a_parse_error() {
    let dir = scratch(&[("kirk.yaml", &kirk_yaml_with("port: 8000", "port: eighty"))]);
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "kirk.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "Parse error: {}:26:11: server.bind.port: invalid value \"eighty\": expected an unsigned integer up to 4294967295\n",
        path_in(&dir, "kirk.yaml")
    );
    assert_eq!(stdout(&output), expected);
}

#[test]
fn a_broken_rule_is_a_validation_error() {
    let dir = scratch(&[("kirk.yaml", &kirk_yaml_with("port: 8000", "port: 0"))]);
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "kirk.yaml")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.starts_with("Validation error: "), "{text}");
    assert!(
        text.contains(":26:11: server.bind.port: invalid value 0: must be greater than 0"),
        "{text}"
    );
}

#[test]
fn a_missing_required_wire_is_a_validation_error() {
    let dir = scratch(&[(
        "kirk.yaml",
        &kirk_yaml_with("console:\n  level: INFO\n", ""),
    )]);
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "kirk.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("Validation error: "), "{text}");
    assert!(text.contains("console: "), "{text}");
}

#[test]
fn a_secret_from_the_merge_file_is_never_printed() {
    let dir = scratch(&[(
        "merge.yaml",
        "db:\n  password: 31337\n  username: [hunter2]\n",
    )]);
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--merge",
        &path_in(&dir, "merge.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output) + &stderr(&output);
    assert!(text.starts_with("Parse error: "), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(
        !text.contains("31337") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn a_failing_patch_test_is_a_parse_error_without_values() {
    let dir = scratch(&[(
        "patch.yaml",
        "- op: test\n  path: /db/password\n  value: my-guess\n",
    )]);
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--patch",
        &path_in(&dir, "patch.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("operation 0 (test /db/password) failed: the value does not match"),
        "{text}"
    );
    assert!(
        !text.contains("my-guess") && !text.contains("set-by-the-secret"),
        "{text}"
    );
}

#[test]
fn a_merge_file_that_is_not_a_mapping() {
    let dir = scratch(&[("merge.yaml", "- a\n- b\n")]);
    let output = harness(&[
        "check",
        "kirk.proto",
        "kirk.yaml",
        "--merge",
        &path_in(&dir, "merge.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("a merge file must be a mapping, found a list"));
}

#[test]
fn malformed_yaml_and_non_mapping_documents() {
    for (text, expected) in [
        ("db: [unclosed\n", "Parse error: "),
        (
            "- just\n- a list\n",
            "the configuration must be a mapping, found a list",
        ),
        (
            "plain text\n",
            "the configuration must be a mapping, found a string",
        ),
        ("mode: 0755\n", "is ambiguous"),
    ] {
        let dir = scratch(&[("c.yaml", text)]);
        let output = harness(&["check", "kirk.proto", &path_in(&dir, "c.yaml")]);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(
            stdout(&output).contains(expected),
            "{text}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn an_unknown_field_and_a_wrong_enum_name() {
    let dir = scratch(&[
        (
            "a.yaml",
            &kirk_yaml_with("debug: false", "debug: false\ndebgu: true"),
        ),
        ("b.yaml", &kirk_yaml_with("level: INFO", "level: LOUD")),
    ]);
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "a.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(":2:8: debgu: unknown field; expected one of: debug, db,"),
        "{}",
        stdout(&output)
    );
    let output = harness(&["check", "kirk.proto", &path_in(&dir, "b.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("console.level: invalid value \"LOUD\": expected one of NOTSET,")
    );
}

#[test]
fn a_missing_file_exits_2() {
    let output = harness(&["check", "kirk.proto", "nowhere.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: cannot read nowhere.yaml: "),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_proto_with_a_syntax_error_exits_2_with_the_diagnostic() {
    let dir = scratch(&[(
        "bad.proto",
        "syntax = \"proto3\";\nmessage Configuration {\n  bool debug = ;\n}\n",
    )]);
    let output = harness(&["check", &path_in(&dir, "bad.proto"), "kirk.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.starts_with("error: "), "{text}");
    assert!(text.contains("bad.proto:3:16"), "{text}");
}

#[test]
fn a_proto_without_configuration_exits_2() {
    let dir = scratch(&[("svc.proto", "syntax = \"proto3\";\nmessage Settings {}\n")]);
    let output = harness(&["check", &path_in(&dir, "svc.proto"), "kirk.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("svc.proto: no message named `Configuration`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_wire_on_a_scalar_field_exits_2() {
    let proto = "syntax = \"proto3\";\nimport \"harness/wire.proto\";\n\
                 message Configuration { string db = 1 [(harness.wire).input.type = \"x::Db\"]; }\n";
    let dir = scratch(&[("svc.proto", proto), ("svc.yaml", "db: x\n")]);
    let output = harness(&[
        "check",
        &path_in(&dir, "svc.proto"),
        &path_in(&dir, "svc.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("Configuration.db: (harness.wire) is set on a field of type string")
    );
}

#[test]
fn a_dsn_that_is_not_a_url_is_a_validation_error_without_its_value() {
    let proto = "syntax = \"proto3\";\nimport \"harness/wire.proto\";\nimport \"harness/postgres.proto\";\n\
                 message Configuration { harness.postgres.DSN db = 1 [(harness.wire).input.type = \"x::Db\"]; }\n";
    let dir = scratch(&[
        ("svc.proto", proto),
        ("svc.yaml", "db:\n  value: admin pa55word at db\n"),
    ]);
    let output = harness(&[
        "check",
        &path_in(&dir, "svc.proto"),
        &path_in(&dir, "svc.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("Validation error: "), "{text}");
    assert!(
        text.contains(":2:10: db.value: invalid value <redacted>:"),
        "{text}"
    );
    assert!(!text.contains("pa55word"), "{text}");
}

#[test]
fn imports_resolve_through_include_dirs() {
    let dir = scratch(&[]);
    fs::create_dir_all(dir.path().join("shared/acme")).unwrap();
    fs::create_dir_all(dir.path().join("svc")).unwrap();
    fs::write(
        dir.path().join("shared/acme/limits.proto"),
        "syntax = \"proto3\";\npackage acme;\nimport \"validate/validate.proto\";\n\
         message Limits { uint32 rps = 1 [(validate.rules).uint32.lte = 100]; }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("svc/svc.proto"),
        "syntax = \"proto3\";\nimport \"acme/limits.proto\";\n\
         message Configuration { acme.Limits limits = 1; }\n",
    )
    .unwrap();
    fs::write(dir.path().join("svc/svc.yaml"), "limits: {rps: 500}\n").unwrap();
    let proto = path_in(&dir, "svc/svc.proto");
    let config = path_in(&dir, "svc/svc.yaml");

    let output = harness(&["check", &proto, &config]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "the import is not found without -I"
    );
    assert!(
        stderr(&output).contains("import 'acme/limits.proto' not found"),
        "{}",
        stderr(&output)
    );

    let include = path_in(&dir, "shared");
    let output = harness(&["check", "-I", &include, &proto, &config]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("limits.rps: invalid value 500: must be at most 100"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn usage_errors_exit_2() {
    let output = harness(&["check", "kirk.proto"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Usage: harness check"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn proto_path_writes_importable_protos() {
    let dir = tempfile::tempdir().unwrap();
    let output = harness(&["proto-path", &dir.path().display().to_string()]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output).trim(), dir.path().display().to_string());
    assert!(dir.path().join("harness/wire.proto").is_file());
    assert!(dir.path().join("validate/validate.proto").is_file());
}
