//! `harness schema` against `harness check`: a standard JSON Schema validator (the PyPI
//! `jsonschema` package, installed by scripts/validate-manifests/setup.sh) runs the
//! schema over every configuration of the repository and over a corpus of broken ones.
//! Wherever the schema can say a rule, both give the same verdict; the cases it cannot
//! say (docs/schema.md lists them) are checked to be what the page says: accepted by the
//! schema, refused by `harness check`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use harness_core::config::{Sources, merged_value};
use harness_core::spec::ConfigSpec;
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = root().join("scripts/validate-manifests/.venv/bin/python");
    assert!(
        python.exists(),
        "the JSON Schema validator is not installed ({} missing): \
         run scripts/validate-manifests/setup.sh",
        python.display()
    );
    python
}

/// `harness schema PROTO`, written to a file in `dir`.
fn schema_file(proto: &Path, dir: &Path) -> PathBuf {
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(root())
        .arg("schema")
        .arg(proto)
        .output()
        .expect("harness runs");
    assert!(
        output.status.success(),
        "harness schema {}: {}",
        proto.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let name = proto.file_stem().unwrap().to_string_lossy();
    let path = dir.join(format!("{name}.schema.json"));
    fs::write(&path, &output.stdout).unwrap();
    path
}

/// One configuration: its files, relative to the repository's root.
#[derive(Debug, Clone)]
struct Config {
    proto: PathBuf,
    config: PathBuf,
    merge: Option<PathBuf>,
    patch: Option<PathBuf>,
}

impl Config {
    /// `harness check`'s verdict: true for OK, false for a parse or validation error.
    fn check(&self) -> (bool, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command
            .current_dir(root())
            .arg("check")
            .arg(&self.proto)
            .arg(&self.config);
        if let Some(merge) = &self.merge {
            command.arg("--merge").arg(merge);
        }
        if let Some(patch) = &self.patch {
            command.arg("--patch").arg(patch);
        }
        let output = command.output().expect("harness runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        match output.status.code() {
            Some(0) => (true, text),
            Some(1) => (false, text),
            _ => panic!("harness check {self:?} failed to run: {text}"),
        }
    }

    /// The JSON value the schema describes: the YAML merged and patched, read by harness.
    fn value(&self) -> Value {
        let at = |path: &Path| root().join(path);
        let compiled = harness_core::protos::compile(&at(&self.proto), &[]).unwrap();
        let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();
        let sources = Sources::read(
            &at(&self.config),
            self.merge.as_deref().map(at).as_deref(),
            self.patch.as_deref().map(at).as_deref(),
        )
        .unwrap();
        merged_value(&spec.message, &sources).unwrap_or_else(|err| panic!("{self:?}: {err}"))
    }
}

/// The verdict of the JSON Schema validator on each of `instances`, with its errors.
fn validate(schema: &Path, instances: &[Value], dir: &Path) -> Vec<(bool, Vec<String>)> {
    let path = dir.join("instances.json");
    fs::write(&path, serde_json::to_vec(instances).unwrap()).unwrap();
    let output = Command::new(python())
        .arg(root().join("scripts/validate-manifests/validate_json_schema.py"))
        .arg(schema)
        .arg(&path)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "validate_json_schema.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    verdicts
        .iter()
        .map(|verdict| {
            let errors = verdict["errors"].as_array().unwrap();
            (
                verdict["valid"].as_bool().unwrap(),
                errors
                    .iter()
                    .map(|e| e.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// yaml-language-server (scripts/validate-manifests/editor), as an editor runs it.
fn editor(args: &[&str]) -> String {
    let dir = root().join("scripts/validate-manifests/editor");
    assert!(
        dir.join("node_modules/yaml-language-server/package.json")
            .exists(),
        "yaml-language-server is not installed under {}: run scripts/validate-manifests/setup.sh",
        dir.display()
    );
    let output = Command::new("node")
        .arg(dir.join("check_editor.mjs"))
        .args(args)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "check_editor.mjs {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The lines an editor marks in each of `files`, which name their schema in a modeline.
fn editor_marks(files: &[PathBuf]) -> Vec<Vec<u64>> {
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|file| file.to_str().unwrap()));
    editor(&args)
        .lines()
        .map(|line| {
            let report: Value = serde_json::from_str(line).unwrap();
            let diagnostics = report["diagnostics"].as_array().unwrap();
            diagnostics
                .iter()
                .map(|d| d["line"].as_u64().unwrap())
                .collect()
        })
        .collect()
}

/// The modeline that names `schema`, in the same directory, for yaml-language-server.
fn modeline(schema: &Path) -> String {
    let name = schema.file_name().unwrap().to_string_lossy();
    format!("# yaml-language-server: $schema=./{name}\n")
}

fn config(proto: &str, config: &str, merge: Option<&str>, patch: Option<&str>) -> Config {
    Config {
        proto: proto.into(),
        config: config.into(),
        merge: merge.map(Into::into),
        patch: patch.map(Into::into),
    }
}

/// Every configuration of the repository, alone and with the secrets it ships with.
fn repository_configs() -> Vec<Config> {
    let example = |name: &str, file: &str, merge: Option<&str>| {
        config(
            &format!("examples/{name}/proto/{name}.proto"),
            &format!("examples/{name}/{file}"),
            merge
                .map(|merge| format!("examples/{name}/{merge}"))
                .as_deref(),
            None,
        )
    };
    let golden = |name: &str, merge: Option<&str>, patch: Option<&str>| {
        let at = |file: &str| format!("generators/cli/tests/golden/inputs/{file}");
        config(
            &at(&format!("{name}.proto")),
            &at(&format!("{name}.yaml")),
            merge.map(at).as_deref(),
            patch.map(at).as_deref(),
        )
    };
    let fixture = |merge: Option<&str>, patch: Option<&str>| {
        let at = |file: &str| format!("generators/cli/tests/fixtures/{file}");
        config(
            &at("kirk.proto"),
            &at("kirk.yaml"),
            merge.map(at).as_deref(),
            patch.map(at).as_deref(),
        )
    };
    vec![
        example("chekov", "chekov.yaml", None),
        example("hello", "hello.yaml", None),
        example("hello", "hello-db.yaml", None),
        example("kirk", "kirk.yaml", None),
        example("kirk", "kirk.yaml", Some("kirk-secrets.yaml")),
        example("kirk", "kirk.prod.yaml", None),
        example("kirk", "kirk.prod.yaml", Some("kirk.prod-secrets.yaml")),
        example("kirk", "kirk.prod.yaml", Some("kirk.local.yaml")),
        example("scotty", "scotty.yaml", None),
        example("scotty", "scotty.prod.yaml", None),
        example(
            "scotty",
            "scotty.prod.yaml",
            Some("scotty.prod-secrets.yaml"),
        ),
        example("scotty", "scotty.prod.yaml", Some("scotty.local.yaml")),
        example("uhura", "uhura.yaml", None),
        example("uhura", "uhura.prod.yaml", None),
        fixture(None, None),
        fixture(Some("secret-merge.yaml"), None),
        fixture(None, Some("secret-patch.yaml")),
        fixture(Some("secret-merge.yaml"), Some("secret-patch.yaml")),
        golden("kirk", None, None),
        golden("kirk", Some("kirk-merge.yaml"), Some("kirk-patch.yaml")),
        golden("scotty", None, None),
        golden("scotty", None, Some("scotty-patch.yaml")),
        golden("spock", None, None),
        golden("spock", Some("spock-merge.yaml"), None),
        golden("chapel", None, None),
        golden("mccoy", None, None),
        golden("rand", None, None),
        golden("riley", None, None),
        golden("riley", Some("riley-merge.yaml"), None),
    ]
}

#[test]
fn every_repository_config_is_listed() {
    let listed: Vec<PathBuf> = repository_configs()
        .into_iter()
        .flat_map(|c| [Some(c.config), c.merge, c.patch])
        .flatten()
        .collect();
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    dirs.push(root().join("generators/cli/tests/fixtures"));
    dirs.push(root().join("generators/cli/tests/golden/inputs"));
    for dir in dirs.iter().filter(|dir| dir.is_dir()) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "yaml") {
                let relative = path.strip_prefix(root()).unwrap().to_path_buf();
                assert!(
                    listed.contains(&relative),
                    "{} is not checked here",
                    relative.display()
                );
            }
        }
    }
}

#[test]
fn the_schema_and_check_agree_on_every_repository_config() {
    let dir = tempfile::tempdir().unwrap();
    let configs = repository_configs();
    let mut protos: Vec<&PathBuf> = configs.iter().map(|c| &c.proto).collect();
    protos.dedup();
    let mut accepted = 0;
    for proto in protos {
        let schema = schema_file(proto, dir.path());
        let mine: Vec<&Config> = configs.iter().filter(|c| &c.proto == proto).collect();
        let instances: Vec<Value> = mine.iter().map(|c| c.value()).collect();
        let verdicts = validate(&schema, &instances, dir.path());
        for (config, (valid, errors)) in mine.iter().zip(verdicts) {
            let (checked, report) = config.check();
            assert_eq!(
                valid, checked,
                "{config:?}: the schema says {valid} ({errors:?}), harness check says {report}"
            );
            accepted += usize::from(checked);
        }
    }
    // Most of them are valid: the agreement is not only on refusals.
    assert!(accepted >= 20, "only {accepted} configurations are valid");
}

/// How the schema treats a broken configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Said {
    /// The schema says the rule: it refuses what harness check refuses.
    Yes,
    /// The schema cannot say it (docs/schema.md): it accepts what check refuses.
    No,
}

/// A valid configuration of fixtures/schema/rules.proto.
fn base() -> Value {
    json!({
        "server": {"bind": {"host": "127.0.0.1", "port": 8080}},
        "name": "web-1",
        "color": "red",
        "replicas": 3,
        "ratio": 0.5,
        "outside": -5,
        "enabled": true,
        "fallback": "HIGH",
        "tags": ["a", "b"],
        "timeout": "1.5s",
        "pipe": "/run/rules.sock",
    })
}

/// Sets the field at `path` (dotted) to `value`, or removes it when `value` is `None`.
fn with(mut value: Value, path: &str, new: Option<Value>) -> Value {
    let mut node = &mut value;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .unwrap()
            .entry(part.to_string())
            .or_insert_with(|| json!({}));
    }
    let object = node.as_object_mut().unwrap();
    let last = parts[parts.len() - 1].to_owned();
    match new {
        Some(new) => {
            object.insert(last, new);
        }
        None => {
            object.remove(&last);
        }
    }
    value
}

/// Valid variations of the base: the forms harness accepts beyond the plain one.
fn valid_cases() -> Vec<(&'static str, Value)> {
    let set = |path, value| with(base(), path, Some(value));
    vec![
        ("base", base()),
        (
            "json name",
            with(set("retryCount", json!(3)), "retry_count", None),
        ),
        (
            "both names",
            set("retry_count", json!(2)).pipe_set("retryCount", json!(3)),
        ),
        ("32-bit integer as a string", set("replicas", json!("+5"))),
        ("64-bit integer as a string", set("big", json!("100"))),
        ("float as a string", set("ratio", json!("0.25"))),
        ("enum by number", set("priority", json!(2))),
        ("null is unset", set("host", Value::Null)),
        ("ignore_empty", set("tag", json!(""))),
        ("prefix, suffix, contains", set("tag", json!("v1.0"))),
        ("hostname", set("host", json!("db.example.com."))),
        ("ipv4", set("ip", json!("10.0.0.255"))),
        (
            "uuid",
            set("id", json!("123e4567-e89b-12d3-a456-426614174000")),
        ),
        (
            "two-byte characters within max_bytes",
            set("short", json!("éé")),
        ),
        (
            "map keys",
            set("ports", json!({"80": "http", "+443": "https"})),
        ),
        ("labels", set("labels", json!({"ab": "x", "cd": "y"}))),
        ("wrapper", set("limit", json!(100))),
        (
            "timestamp",
            set("started", json!("2025-01-31T12:00:00.5+01:00")),
        ),
        (
            "struct",
            set("extra", json!({"any": [1, null, {"x": "y"}]})),
        ),
        ("bytes", set("data", json!("aGk_-w"))),
        (
            "socket instead of pipe",
            with(base(), "pipe", None).pipe_set("socket", json!({"host": "h", "port": 1})),
        ),
        ("both oneof members, one null", set("socket", Value::Null)),
        (
            "recursion",
            set(
                "children",
                json!([{"name": "a", "children": [{"name": "b"}]}]),
            ),
        ),
        (
            "skipped message is not validated",
            set("skipped", json!({"name": ""})),
        ),
        (
            "disabled message is not validated",
            set("loose", json!({"name": "a"})),
        ),
        ("exclusive range, above", set("outside", json!(11))),
    ]
}

trait PipeSet {
    fn pipe_set(self, path: &str, value: Value) -> Value;
}

impl PipeSet for Value {
    fn pipe_set(self, path: &str, value: Value) -> Value {
        with(self, path, Some(value))
    }
}

/// Broken configurations, each breaking one rule.
fn broken_cases() -> Vec<(&'static str, Said, Value)> {
    use Said::{No, Yes};
    let set = |path, value| with(base(), path, Some(value));
    let without = |path| with(base(), path, None);
    vec![
        (
            "wrong type: string for an integer",
            Yes,
            set("replicas", json!("three")),
        ),
        (
            "wrong type: number for a string",
            Yes,
            set("name", json!(5)),
        ),
        (
            "wrong type: list for a message",
            Yes,
            set("server", json!([])),
        ),
        (
            "out of the type's range",
            Yes,
            set("replicas", json!(3_000_000_000_i64)),
        ),
        ("negative unsigned", Yes, set("retry_count", json!(-1))),
        ("above lte", Yes, set("replicas", json!(11))),
        ("below gte", Yes, set("replicas", json!(0))),
        ("at an exclusive bound", Yes, set("ratio", json!(1))),
        (
            "inside an exclusive outside range",
            Yes,
            set("outside", json!(5)),
        ),
        ("not in", Yes, set("level", json!(3))),
        ("64-bit above lte", Yes, set("big", json!(101))),
        ("float above lte", Yes, set("tolerance", json!(1.75))),
        (
            "float beyond the float range",
            Yes,
            set("tolerance", json!(1e39)),
        ),
        ("unknown field", Yes, set("nmae", json!("x"))),
        (
            "unknown nested field",
            Yes,
            set("server.bind.extra", json!(1)),
        ),
        ("missing required message", Yes, without("server")),
        ("null required message", Yes, set("server", Value::Null)),
        (
            "missing scalar whose default breaks a rule",
            Yes,
            without("name"),
        ),
        ("missing required duration", Yes, without("timeout")),
        ("unknown enum name", Yes, set("priority", json!("URGENT"))),
        ("enum number not defined", Yes, set("priority", json!(7))),
        (
            "enum not in",
            Yes,
            set("fallback", json!("PRIORITY_UNSPECIFIED")),
        ),
        ("pattern", Yes, set("name", json!("9abc"))),
        ("too short", Yes, set("name", json!("a"))),
        ("too long", Yes, set("name", json!("abcdefghi"))),
        ("prefix", Yes, set("tag", json!("w1.0"))),
        ("suffix", Yes, set("tag", json!("v1.1"))),
        ("contains", Yes, set("tag", json!("v2.0"))),
        ("not_contains", Yes, set("tag", json!("vx1.0"))),
        ("string const", Yes, set("mode", json!("slow"))),
        ("bool const", Yes, set("enabled", json!(false))),
        ("string in", Yes, set("color", json!("blue"))),
        ("string not_in", Yes, set("user", json!("root"))),
        ("hostname", Yes, set("host", json!("-bad-.example"))),
        ("ipv4", Yes, set("ip", json!("1.2.3.256"))),
        ("uuid", Yes, set("id", json!("123e4567"))),
        ("max_bytes in ASCII", Yes, set("short", json!("abcde"))),
        (
            "both oneof members",
            Yes,
            set("socket", json!({"host": "h", "port": 1})),
        ),
        ("no member of a required oneof", Yes, without("pipe")),
        ("bad duration", Yes, set("timeout", json!("1m"))),
        ("duration as a number", Yes, set("timeout", json!(1.5))),
        (
            "bad timestamp",
            Yes,
            set("started", json!("2025-01-31 12:00:00Z")),
        ),
        ("too few items", Yes, set("tags", json!([]))),
        (
            "too many items",
            Yes,
            set("tags", json!(["a", "b", "c", "d"])),
        ),
        ("duplicate items", Yes, set("tags", json!(["a", "a"]))),
        ("item rule", Yes, set("tags", json!(["a", ""]))),
        ("null item", Yes, set("tags", json!(["a", null]))),
        (
            "too many pairs",
            Yes,
            set("labels", json!({"ab": "1", "cd": "2", "ef": "3"})),
        ),
        ("map key rule", Yes, set("labels", json!({"a": "1"}))),
        (
            "map value rule",
            Yes,
            set("labels", json!({"ab": "123456"})),
        ),
        (
            "map key not of the key type",
            Yes,
            set("ports", json!({"http": "x"})),
        ),
        ("wrapper rule", Yes, set("limit", json!(101))),
        ("bad base64", Yes, set("data", json!("!!!"))),
        (
            "rule deep in a recursive type",
            Yes,
            set(
                "children",
                json!([{"name": "a", "children": [{"name": ""}]}]),
            ),
        ),
        // What the schema cannot say.
        (
            "integral float for an integer",
            No,
            set("replicas", json!(5.0)),
        ),
        (
            "integer as a string, out of the rule's range",
            No,
            set("replicas", json!("11")),
        ),
        (
            "NaN against float bounds",
            No,
            set("tolerance", json!("NaN")),
        ),
        (
            "max_bytes with multi-byte characters",
            No,
            set("short", json!("ééé")),
        ),
        ("email", No, set("email", json!("not an email"))),
        (
            "pattern with a Unicode class",
            No,
            set("code", json!("abc")),
        ),
        ("duration bound", No, set("timeout", json!("0s"))),
    ]
}

#[test]
fn the_schema_and_check_agree_on_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let proto = PathBuf::from("generators/cli/tests/fixtures/schema/rules.proto");
    let schema = schema_file(&proto, dir.path());
    let mut cases: Vec<(String, Option<Said>, Value)> = valid_cases()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), None, value))
        .collect();
    cases.extend(
        broken_cases()
            .into_iter()
            .map(|(name, said, value)| (name.to_owned(), Some(said), value)),
    );
    // JSON is YAML: each case is written as it is, and read back by harness.
    let configs: Vec<Config> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, _, value))| {
            let path = dir.path().join(format!("case-{i}.yaml"));
            let text = serde_json::to_string_pretty(value).unwrap();
            fs::write(&path, modeline(&schema) + &text).unwrap();
            Config {
                proto: proto.clone(),
                config: path,
                merge: None,
                patch: None,
            }
        })
        .collect();
    let instances: Vec<Value> = configs.iter().map(Config::value).collect();
    let verdicts = validate(&schema, &instances, dir.path());
    let files: Vec<PathBuf> = configs.iter().map(|c| c.config.clone()).collect();
    let marks = editor_marks(&files);
    for ((((name, said, _), config), (valid, errors)), marks) in
        cases.iter().zip(&configs).zip(verdicts).zip(marks)
    {
        // An editor reads the schema as the standard validator does.
        assert_eq!(
            marks.is_empty(),
            valid,
            "{name}: the editor marks lines {marks:?}, the validator says {errors:?}"
        );
        let (checked, report) = config.check();
        match said {
            None => {
                assert!(checked, "{name}: harness check refuses it: {report}");
                assert!(valid, "{name}: the schema refuses it: {errors:?}");
            }
            Some(said) => {
                assert!(!checked, "{name}: harness check accepts it");
                let expected = *said == Said::No;
                assert_eq!(
                    valid, expected,
                    "{name}: the schema says {valid} ({errors:?}); check: {report}"
                );
            }
        }
    }
}

#[test]
fn a_proto_that_does_not_compile_is_an_error_with_nothing_printed() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("broken.proto");
    fs::write(
        &proto,
        "syntax = \"proto3\";\nmessage Configuration {\n  strin x = 1;\n}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("schema")
        .arg(&proto)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.proto:3:"), "{stderr}");
}

#[test]
fn an_editor_checks_completes_and_explains_with_the_schema_of_its_modeline() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(Path::new("examples/hello/proto/hello.proto"), dir.path());
    let hello = fs::read_to_string(root().join("examples/hello/hello.yaml")).unwrap();
    let good = dir.path().join("good.yaml");
    fs::write(&good, modeline(&schema) + &hello).unwrap();
    let bad = dir.path().join("bad.yaml");
    let broken = "greeting: 5\nserver:\n  bind:\n    host: 127.0.0.1\n    port: 0\n    porte: 1\n";
    fs::write(&bad, modeline(&schema) + broken).unwrap();
    let marks = editor_marks(&[good.clone(), bad]);
    assert_eq!(marks[0], Vec::<u64>::new(), "examples/hello/hello.yaml");
    assert_eq!(
        marks[1],
        [2, 6, 7],
        "the wrong type, the port, the unknown field"
    );
    // On an empty line at the top: the fields not written yet.
    fs::write(&good, modeline(&schema) + &hello + "\n").unwrap();
    let lines = (modeline(&schema) + &hello).lines().count() + 1;
    let completed = editor(&["complete", good.to_str().unwrap(), &lines.to_string(), "0"]);
    assert_eq!(completed.trim(), r#"["db"]"#);
    // On `port`: its comment in the proto.
    let port = (modeline(&schema) + &hello)
        .lines()
        .position(|line| line.trim_start().starts_with("port:"))
        .unwrap()
        + 1;
    let hover = editor(&["hover", good.to_str().unwrap(), &port.to_string(), "6"]);
    assert!(hover.contains("Port number, 1 to 65535"), "{hover}");
    // After an enum field's key: its values, by name and number.
    let schema = schema_file(
        Path::new("generators/cli/tests/fixtures/schema/rules.proto"),
        dir.path(),
    );
    let partial = dir.path().join("partial.yaml");
    fs::write(&partial, modeline(&schema) + "priority: \n").unwrap();
    let completed = editor(&["complete", partial.to_str().unwrap(), "2", "10"]);
    let labels: Vec<String> = serde_json::from_str(&completed).unwrap();
    for label in ["PRIORITY_UNSPECIFIED", "LOW", "HIGH", "2"] {
        assert!(labels.iter().any(|l| l == label), "{label} in {labels:?}");
    }
}
