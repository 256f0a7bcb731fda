//! One scalar resolved by the YAML 1.2 core schema (see the parent module's docs), and
//! what can be wrong with it.
//!
//! A problem keeps the scalar's text apart from its words, so that the caller decides
//! whether the text may be shown: a value from a secret file never is.

use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

use crate::config::redact::REDACTED;

/// Why a scalar is not a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScalarProblem {
    /// A tag other than the core schema's `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`.
    Tag(String),
    /// Tagged `!!int`, but not an integer.
    NotInteger(String),
    /// Tagged `!!float`, but not a number.
    NotNumber(String),
    /// Tagged `!!bool`, but not `true` or `false`.
    NotBoolean(String),
    /// Tagged `!!null`, but not empty, `~` or `null`.
    NotNull(String),
    /// An integer beyond 64 bits.
    TooBig(String),
    /// A plain integer with a leading zero, which YAML 1.1 reads otherwise.
    LeadingZero(String),
}

impl ScalarProblem {
    /// What is wrong, in words; `show` quotes the scalar's text, or `None` when it must not
    /// be shown (then neither it nor anything derived from it is part of the message).
    pub fn message(&self, show: Option<&dyn Fn(&str) -> String>) -> String {
        let quoted = |text: &str| show.map_or_else(|| REDACTED.to_owned(), |q| q(text));
        match self {
            ScalarProblem::Tag(tag) => format!(
                "unsupported tag {}; a plain value starting with `!` is a tag: quote it if it is a string",
                quoted(tag)
            ),
            ScalarProblem::NotInteger(text) => {
                format!("{} is tagged !!int but is not an integer", quoted(text))
            }
            ScalarProblem::NotNumber(text) => {
                format!("{} is tagged !!float but is not a number", quoted(text))
            }
            ScalarProblem::NotBoolean(text) => {
                format!("{} is tagged !!bool but is not true or false", quoted(text))
            }
            ScalarProblem::NotNull(text) => format!(
                "{} is tagged !!null but is not empty, ~ or null",
                quoted(text)
            ),
            ScalarProblem::TooBig(text) => format!(
                "{} does not fit in 64 bits; quote it if it is a string",
                quoted(text)
            ),
            ScalarProblem::LeadingZero(text) => match show {
                Some(quote) => leading_zero_hint(text, quote),
                None => format!(
                    "{} is ambiguous: YAML 1.1 reads an integer with a leading zero otherwise \
                     than YAML 1.2; write it without the leading zero, with 0o for octal, \
                     or quote it if it is a string",
                    REDACTED
                ),
            },
        }
    }
}

/// `0755` is octal 493 in YAML 1.1 and 755 in YAML 1.2; `09` is the string "09" in YAML 1.1
/// (not an octal number) and 9 in YAML 1.2.
fn leading_zero_hint(text: &str, quote: &dyn Fn(&str) -> String) -> String {
    let sign = if text.starts_with('-') { "-" } else { "" };
    let digits = text.trim_start_matches(['+', '-']).trim_start_matches('0');
    let decimal = format!("{sign}{}", if digits.is_empty() { "0" } else { digits });
    if digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        format!(
            "{} is ambiguous: YAML 1.1 reads a leading zero as octal, YAML 1.2 as decimal; \
             write {sign}0o{} for octal, {decimal} for decimal, or quote it if it is a string",
            quote(text),
            if digits.is_empty() { "0" } else { digits },
        )
    } else {
        format!(
            "{} is ambiguous: YAML 1.1 reads it as a string, YAML 1.2 as the number {decimal}; \
             write {decimal} for the number or quote it for the string",
            quote(text)
        )
    }
}

/// The tag as written: `!!int`, `!secret`.
pub fn tag_text(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Resolves one scalar by the YAML 1.2 core schema.
pub fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, ScalarProblem> {
    if let Some(tag) = tag {
        return tagged(text, tag);
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_owned()));
    }
    if is_null(text) {
        return Ok(Value::Null);
    }
    if let Some(value) = boolean(text) {
        return Ok(Value::Bool(value));
    }
    Ok(number(text)?.unwrap_or_else(|| Value::String(text.to_owned())))
}

fn tagged(text: &str, tag: &Tag) -> Result<Value, ScalarProblem> {
    if !tag.is_yaml_core_schema() {
        return Err(ScalarProblem::Tag(tag_text(tag)));
    }
    match tag.suffix.as_str() {
        "str" => Ok(Value::String(text.to_owned())),
        "int" => match number(text)? {
            Some(Value::Number(n)) if !n.is_f64() => Ok(Value::Number(n)),
            _ => Err(ScalarProblem::NotInteger(text.to_owned())),
        },
        "float" => match number(text)? {
            // `!!float 1` is the float 1.0, which no integer field takes.
            Some(Value::Number(n)) => Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
                .map(Value::Number)
                .ok_or_else(|| ScalarProblem::NotNumber(text.to_owned())),
            Some(special) => Ok(special),
            None => Err(ScalarProblem::NotNumber(text.to_owned())),
        },
        "bool" => boolean(text)
            .map(Value::Bool)
            .ok_or_else(|| ScalarProblem::NotBoolean(text.to_owned())),
        "null" if is_null(text) => Ok(Value::Null),
        "null" => Err(ScalarProblem::NotNull(text.to_owned())),
        _ => Err(ScalarProblem::Tag(tag_text(tag))),
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A core-schema number, kept exact: integers beyond i64 stay u64, never f64. Special
/// floats become the strings the proto3 JSON mapping uses for them. `None` for text that
/// is not a number (`0o9`, `0xZ`, `1_000` are strings).
fn number(text: &str) -> Result<Option<Value>, ScalarProblem> {
    let signed = text.starts_with(['+', '-']);
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    for (prefix, radix) in [("0x", 16), ("0o", 8)] {
        let Some(digits) = unsigned.strip_prefix(prefix) else {
            continue;
        };
        if signed || digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return Ok(None);
        }
        return u64::from_str_radix(digits, radix)
            .map(|n| Some(Value::Number(n.into())))
            .map_err(|_| ScalarProblem::TooBig(text.to_owned()));
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Err(ScalarProblem::LeadingZero(text.to_owned()));
        }
        let number = if text.starts_with('-') {
            text.parse::<i64>().map(Number::from).ok()
        } else {
            unsigned.parse::<u64>().map(Number::from).ok()
        };
        return number
            .map(|n| Some(Value::Number(n)))
            .ok_or_else(|| ScalarProblem::TooBig(text.to_owned()));
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

    fn plain(text: &str) -> Result<Value, ScalarProblem> {
        resolve(text, ScalarStyle::Plain, None)
    }

    fn core(suffix: &str) -> Tag {
        Tag {
            handle: "tag:yaml.org,2002:".to_owned(),
            suffix: suffix.to_owned(),
        }
    }

    fn shown(problem: &ScalarProblem) -> String {
        problem.message(Some(&|text: &str| format!("`{text}`")))
    }

    #[test]
    fn o_and_x_prefixes_that_are_not_numbers_are_strings() {
        for text in [
            "0o9",
            "0opostgres://u:p@h/db",
            "0o",
            "0xZZ",
            "0x",
            "-0o7",
            "+0x1",
        ] {
            assert_eq!(plain(text), Ok(json!(text)), "{text}");
        }
        assert_eq!(plain("0o17"), Ok(json!(15)));
        assert_eq!(plain("0x1F"), Ok(json!(31)));
        assert_eq!(
            plain("0o7777777777777777777777777"),
            Err(ScalarProblem::TooBig("0o7777777777777777777777777".into()))
        );
    }

    #[test]
    fn the_hint_for_a_leading_zero_is_right_for_the_digits() {
        let octal = shown(&plain("0755").unwrap_err());
        assert!(
            octal.contains("write 0o755 for octal, 755 for decimal"),
            "{octal}"
        );
        let not_octal = shown(&plain("09").unwrap_err());
        assert!(!not_octal.contains("0o9"), "{not_octal}");
        assert!(not_octal.contains("as the number 9"), "{not_octal}");
        let zeros = shown(&plain("000").unwrap_err());
        assert!(
            zeros.contains("write 0o0 for octal, 0 for decimal"),
            "{zeros}"
        );
        let negative = shown(&plain("-012").unwrap_err());
        assert!(
            negative.contains("write -0o12 for octal, -12"),
            "{negative}"
        );
    }

    #[test]
    fn a_hidden_value_leaves_no_trace_in_the_message() {
        let problems = [
            plain("0731337924").unwrap_err(),
            plain("123456789012345678901234567890").unwrap_err(),
            resolve("hunter2", ScalarStyle::Plain, Some(&core("int"))).unwrap_err(),
            resolve("hunter2", ScalarStyle::Plain, Some(&core("float"))).unwrap_err(),
            resolve("hunter2", ScalarStyle::Plain, Some(&core("bool"))).unwrap_err(),
            resolve("hunter2", ScalarStyle::Plain, Some(&core("null"))).unwrap_err(),
            resolve(
                "x",
                ScalarStyle::Plain,
                Some(&Tag {
                    handle: "!".into(),
                    suffix: "hunter2".into(),
                }),
            )
            .unwrap_err(),
        ];
        for problem in problems {
            let text = problem.message(None);
            assert!(text.contains(REDACTED), "{text}");
            for secret in ["hunter2", "731337924", "12345678901"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn core_tags_check_their_value() {
        let int = core("int");
        assert_eq!(resolve("12", ScalarStyle::Plain, Some(&int)), Ok(json!(12)));
        assert!(resolve("1.5", ScalarStyle::Plain, Some(&int)).is_err());
        let float = resolve("1", ScalarStyle::Plain, Some(&core("float"))).unwrap();
        assert!(float.as_f64().is_some() && !float.is_u64(), "{float}");
        let null = core("null");
        assert_eq!(
            resolve("~", ScalarStyle::Plain, Some(&null)),
            Ok(Value::Null)
        );
        assert_eq!(
            resolve("anything", ScalarStyle::Plain, Some(&null)),
            Err(ScalarProblem::NotNull("anything".into()))
        );
        assert_eq!(
            resolve("12", ScalarStyle::Plain, Some(&core("str"))),
            Ok(json!("12"))
        );
    }
}
