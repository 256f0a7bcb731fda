//! YAML documents to JSON values, and back from a path to a position in the text.
//!
//! Scalars are resolved by the YAML 1.2 core schema, as most current YAML libraries do,
//! with one guard: a plain scalar that YAML 1.1 (PyYAML, and so the Python harness) reads
//! as a *different* value of the same kind is an error, never a silent change of value.
//! That is a leading-zero integer such as `0755` (octal 493 in YAML 1.1, 755 in 1.2).
//! Words such as `yes`/`no`/`on`/`off` are strings in YAML 1.2; where a boolean is
//! expected the decoder says so and suggests `true`/`false`, so they cannot slip through.

use saphyr::{MarkedYaml, ScalarStyle, Tag, YamlData, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};

/// A line and column in a text, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A YAML text that is not a configuration document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub position: Option<Position>,
    pub message: String,
}

/// One step down a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A mapping key; the first of the names that is present is taken (a field may be
    /// written by its proto name or its JSON name).
    Key(Vec<String>),
    Index(usize),
}

impl Step {
    /// Whether a JSON pointer token designates this step.
    pub fn matches(&self, token: &str) -> bool {
        match self {
            Step::Key(names) => names.iter().any(|name| name == token),
            Step::Index(index) => token == "-" || token.parse() == Ok(*index),
        }
    }
}

/// Parses one YAML document into a JSON value; an empty text is `null`.
pub fn to_json(text: &str) -> Result<Value, YamlError> {
    let documents = load(text)?;
    match documents.as_slice() {
        [] => Ok(Value::Null),
        [document] => node_to_json(document),
        [_, second, ..] => Err(YamlError {
            position: Some(position(second)),
            message: "expected one YAML document, found several".to_owned(),
        }),
    }
}

/// Where the value at `path` starts in `text`; `None` when the path is not in it.
///
/// Used on the error path only: the text is parsed again rather than keeping positions
/// for every value of every configuration that loads fine.
pub fn position_of(text: &str, path: &[Step]) -> Option<Position> {
    let documents = load(text).ok()?;
    let mut node = documents.first()?;
    for step in path {
        node = untagged(node);
        node = match (step, &node.data) {
            (Step::Key(names), YamlData::Mapping(mapping)) => names.iter().find_map(|name| {
                mapping
                    .iter()
                    .find(|(key, _)| scalar_text(key) == Some(name.as_str()))
                    .map(|(_, value)| value)
            })?,
            (Step::Index(index), YamlData::Sequence(items)) => items.get(*index)?,
            _ => return None,
        };
    }
    Some(position(node))
}

fn load(text: &str) -> Result<Vec<MarkedYaml<'_>>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let scan_error = |err: &saphyr::ScanError| YamlError {
        position: Some(Position {
            line: err.marker().line(),
            column: err.marker().col() + 1,
        }),
        message: err.info().to_owned(),
    };
    parser
        .load(&mut loader, true)
        .map_err(|err| scan_error(&err))?;
    if let Some(err) = loader.error() {
        return Err(scan_error(err));
    }
    let documents = loader.into_documents();
    // An empty text still yields one empty document.
    Ok(documents
        .into_iter()
        .filter(|document| !matches!(document.data, YamlData::BadValue))
        .collect())
}

fn position(node: &MarkedYaml<'_>) -> Position {
    Position {
        line: node.span.start.line(),
        column: node.span.start.col() + 1,
    }
}

fn untagged<'a, 'input>(node: &'a MarkedYaml<'input>) -> &'a MarkedYaml<'input> {
    match &node.data {
        YamlData::Tagged(_, inner) => untagged(inner),
        _ => node,
    }
}

fn scalar_text<'a>(node: &'a MarkedYaml<'_>) -> Option<&'a str> {
    match &node.data {
        YamlData::Representation(text, _, _) => Some(text),
        _ => None,
    }
}

fn node_to_json(node: &MarkedYaml<'_>) -> Result<Value, YamlError> {
    let fail = |message: String| YamlError {
        position: Some(position(node)),
        message,
    };
    match &node.data {
        YamlData::Representation(text, style, tag) => {
            scalar(text, *style, tag.as_deref()).map_err(fail)
        }
        YamlData::Sequence(items) => items
            .iter()
            .map(node_to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        YamlData::Mapping(mapping) => {
            let mut object = Map::with_capacity(mapping.len());
            for (key, value) in mapping {
                let Some(name) = scalar_text(key) else {
                    return Err(YamlError {
                        position: Some(position(key)),
                        message: "a mapping key must be a plain value, not a list or a mapping"
                            .to_owned(),
                    });
                };
                if object
                    .insert(name.to_owned(), node_to_json(value)?)
                    .is_some()
                {
                    return Err(YamlError {
                        position: Some(position(key)),
                        message: format!("duplicated key `{name}`"),
                    });
                }
            }
            Ok(Value::Object(object))
        }
        YamlData::Tagged(tag, _) => Err(fail(format!(
            "unsupported tag `{}{}`",
            tag.handle, tag.suffix
        ))),
        YamlData::Alias(_) | YamlData::BadValue | YamlData::Value(_) => {
            Err(fail("unreadable value".to_owned()))
        }
    }
}

/// Resolves one scalar by the YAML 1.2 core schema (see the module docs).
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        return tagged_scalar(text, tag);
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_owned()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => match number(text)? {
            Some(number) => number,
            None => Value::String(text.to_owned()),
        },
    })
}

fn tagged_scalar(text: &str, tag: &Tag) -> Result<Value, String> {
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    match (core, tag.suffix.as_str()) {
        (true, "str") => Ok(Value::String(text.to_owned())),
        (true, "int" | "float") => match number(text)? {
            Some(number) => Ok(number),
            None => Err(format!("`{text}` is not a number")),
        },
        (true, "bool") => match text {
            "true" | "True" | "TRUE" => Ok(Value::Bool(true)),
            "false" | "False" | "FALSE" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean")),
        },
        (true, "null") => Ok(Value::Null),
        _ => Err(format!("unsupported tag `{}{}`", tag.handle, tag.suffix)),
    }
}

/// A core-schema number, kept exact: integers beyond i64 stay u64, never f64. Special
/// floats become the strings the proto3 JSON mapping uses for them.
fn number(text: &str) -> Result<Option<Value>, String> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    let radix = |prefix: &str, radix: u32| -> Option<Result<Option<Value>, String>> {
        let digits = unsigned.strip_prefix(prefix)?;
        if digits.is_empty() || text.starts_with(['+', '-']) {
            return None;
        }
        Some(
            u64::from_str_radix(digits, radix)
                .map(|n| Some(Value::Number(n.into())))
                .map_err(|_| format!("`{text}` does not fit in 64 bits")),
        )
    };
    if let Some(result) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return result;
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Err(format!(
                "`{text}` is ambiguous: YAML 1.1 reads a leading zero as octal, YAML 1.2 as decimal; \
                 write 0o{} for octal or {} for decimal",
                unsigned.trim_start_matches('0'),
                unsigned.trim_start_matches('0'),
            ));
        }
        let number = if negative {
            text.parse::<i64>().map(Number::from).ok()
        } else {
            unsigned.parse::<u64>().map(Number::from).ok()
        };
        return number
            .map(|n| Some(Value::Number(n)))
            .ok_or_else(|| format!("`{text}` does not fit in 64 bits"));
    }
    let special = match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some("Infinity"),
        "-.inf" | "-.Inf" | "-.INF" => Some("-Infinity"),
        ".nan" | ".NaN" | ".NAN" => Some("NaN"),
        _ => None,
    };
    if let Some(special) = special {
        return Ok(Some(Value::String(special.to_owned())));
    }
    if is_core_float(unsigned)
        && let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Ok(Some(Value::Number(number)));
    }
    Ok(None)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float without sign.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (whole.is_empty() && digits(fraction))
                || (digits(whole) && (fraction.is_empty() || digits(fraction)))
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        assert!(
            err.message
                .contains("write 0o755 for octal or 755 for decimal"),
            "{}",
            err.message
        );
        assert_eq!(to_json("mode: '0755'").unwrap(), json!({"mode": "0755"}));
        assert_eq!(to_json("n: 0").unwrap(), json!({"n": 0}));
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        let err = to_json("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.position.is_some());
        assert!(!err.message.is_empty());
    }

    #[test]
    fn duplicated_keys_are_errors() {
        let err = to_json("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicated key"), "{}", err.message);
        assert_eq!(err.position.map(|p| p.line), Some(3));
        let err = to_json("a: 1\n'a': 3\n").unwrap_err();
        assert!(
            err.message.contains("duplicated key `a`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn empty_and_multiple_documents() {
        assert_eq!(to_json("").unwrap(), Value::Null);
        assert_eq!(to_json("# only a comment\n").unwrap(), Value::Null);
        let err = to_json("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("one YAML document"));
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
}
