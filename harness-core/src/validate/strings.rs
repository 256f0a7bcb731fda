//! String and bytes rules, and the patterns they match.

use prost_reflect::{DynamicMessage, Value};
use regex::Regex;

use super::collections::{Sizes, Unit};
use super::formats::{Format, IpBytes};
use super::rule_fields::{count, flag, list, scalar};
use super::{Failure, quote, quote_bytes, render_list};

const CHARACTERS: Unit = Unit::long("character", "characters");
const BYTES: Unit = Unit::long("byte", "bytes");

/// The rules of a string field.
#[derive(Debug)]
pub struct StringRules {
    pub konst: Option<String>,
    pub chars: Sizes,
    pub bytes: Sizes,
    pub pattern: Option<Pattern>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub contains: Option<String>,
    pub not_contains: Option<String>,
    pub allowed: Vec<String>,
    pub refused: Vec<String>,
    pub format: Option<Format>,
    pub ignore_empty: bool,
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

impl StringRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        Self {
            konst: scalar(rules, "const", text),
            chars: Sizes::new(
                CHARACTERS,
                (count(rules, "len"), "string.len"),
                (count(rules, "min_len"), "string.min_len"),
                (count(rules, "max_len"), "string.max_len"),
            ),
            bytes: Sizes::new(
                BYTES,
                (count(rules, "len_bytes"), "string.len_bytes"),
                (count(rules, "min_bytes"), "string.min_bytes"),
                (count(rules, "max_bytes"), "string.max_bytes"),
            ),
            pattern: scalar(rules, "pattern", text).map(Pattern::compile),
            prefix: scalar(rules, "prefix", text),
            suffix: scalar(rules, "suffix", text),
            contains: scalar(rules, "contains", text),
            not_contains: scalar(rules, "not_contains", text),
            allowed: list(rules, "in", text),
            refused: list(rules, "not_in", text),
            format: Format::compile(rules),
            ignore_empty: flag(rules, "ignore_empty"),
        }
    }

    pub fn check(&self, value: &Value, out: &mut Vec<Failure>) {
        let Some(value) = value.as_str() else { return };
        if self.ignore_empty && value.is_empty() {
            return;
        }
        let fail = |rule, message| Failure::new(rule, message).with_value(quote(value));
        if let Some(konst) = &self.konst
            && value != konst
        {
            out.push(fail("string.const", format!("must equal {}", quote(konst))));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|allowed| allowed == value) {
            let allowed = render_list(&self.allowed, |text| quote(text));
            out.push(fail("string.in", format!("must be one of {allowed}")));
        }
        if self.refused.iter().any(|refused| refused == value) {
            let refused = render_list(&self.refused, |text| quote(text));
            out.push(fail(
                "string.not_in",
                format!("must not be one of {refused}"),
            ));
        }
        if !self.chars.is_empty()
            && let Some((rule, message)) = self.chars.check(value.chars().count())
        {
            out.push(fail(rule, message));
        }
        if let Some((rule, message)) = self.bytes.check(value.len()) {
            out.push(fail(rule, message));
        }
        if let Some(prefix) = &self.prefix
            && !value.starts_with(prefix.as_str())
        {
            out.push(fail(
                "string.prefix",
                format!("must start with {}", quote(prefix)),
            ));
        }
        if let Some(suffix) = &self.suffix
            && !value.ends_with(suffix.as_str())
        {
            out.push(fail(
                "string.suffix",
                format!("must end with {}", quote(suffix)),
            ));
        }
        if let Some(contains) = &self.contains
            && !value.contains(contains.as_str())
        {
            out.push(fail(
                "string.contains",
                format!("must contain {}", quote(contains)),
            ));
        }
        if let Some(refused) = &self.not_contains
            && value.contains(refused.as_str())
        {
            let message = format!("must not contain {}", quote(refused));
            out.push(fail("string.not_contains", message));
        }
        if let Some(format) = &self.format
            && !format.accepts(value)
        {
            out.push(fail(format.rule(), format.expected().to_owned()));
        }
        if let Some(pattern) = &self.pattern
            && let Some(message) = pattern.check(value)
        {
            out.push(fail("string.pattern", message));
        }
    }
}

/// The rules of a bytes field.
#[derive(Debug)]
pub struct BytesRules {
    pub konst: Option<Vec<u8>>,
    pub sizes: Sizes,
    pub pattern: Option<Pattern>,
    pub prefix: Option<Vec<u8>>,
    pub suffix: Option<Vec<u8>>,
    pub contains: Option<Vec<u8>>,
    pub allowed: Vec<Vec<u8>>,
    pub refused: Vec<Vec<u8>>,
    pub ip: Option<IpBytes>,
    pub ignore_empty: bool,
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    value.as_bytes().map(|bytes| bytes.to_vec())
}

impl BytesRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        Self {
            konst: scalar(rules, "const", bytes),
            sizes: Sizes::new(
                BYTES,
                (count(rules, "len"), "bytes.len"),
                (count(rules, "min_len"), "bytes.min_len"),
                (count(rules, "max_len"), "bytes.max_len"),
            ),
            pattern: scalar(rules, "pattern", text).map(Pattern::compile),
            prefix: scalar(rules, "prefix", bytes),
            suffix: scalar(rules, "suffix", bytes),
            contains: scalar(rules, "contains", bytes),
            allowed: list(rules, "in", bytes),
            refused: list(rules, "not_in", bytes),
            ip: IpBytes::compile(rules),
            ignore_empty: flag(rules, "ignore_empty"),
        }
    }

    pub fn check(&self, value: &Value, out: &mut Vec<Failure>) {
        let Some(value) = value.as_bytes() else {
            return;
        };
        let value: &[u8] = value;
        if self.ignore_empty && value.is_empty() {
            return;
        }
        let fail = |rule, message| Failure::new(rule, message).with_value(quote_bytes(value));
        if let Some(konst) = &self.konst
            && value != konst.as_slice()
        {
            out.push(fail(
                "bytes.const",
                format!("must equal {}", quote_bytes(konst)),
            ));
        }
        if !self.allowed.is_empty() && !self.allowed.iter().any(|allowed| allowed == value) {
            let allowed = render_list(&self.allowed, |bytes| quote_bytes(bytes));
            out.push(fail("bytes.in", format!("must be one of {allowed}")));
        }
        if self.refused.iter().any(|refused| refused == value) {
            let refused = render_list(&self.refused, |bytes| quote_bytes(bytes));
            out.push(fail(
                "bytes.not_in",
                format!("must not be one of {refused}"),
            ));
        }
        if let Some((rule, message)) = self.sizes.check(value.len()) {
            out.push(fail(rule, message));
        }
        if let Some(prefix) = &self.prefix
            && !value.starts_with(prefix)
        {
            let message = format!("must start with {}", quote_bytes(prefix));
            out.push(fail("bytes.prefix", message));
        }
        if let Some(suffix) = &self.suffix
            && !value.ends_with(suffix)
        {
            out.push(fail(
                "bytes.suffix",
                format!("must end with {}", quote_bytes(suffix)),
            ));
        }
        if let Some(contains) = &self.contains
            && !contains.is_empty()
            && !value
                .windows(contains.len())
                .any(|window| window == contains.as_slice())
        {
            let message = format!("must contain {}", quote_bytes(contains));
            out.push(fail("bytes.contains", message));
        }
        if let Some(ip) = &self.ip
            && !ip.accepts(value)
        {
            out.push(fail(ip.rule(), ip.expected().to_owned()));
        }
        if let Some(pattern) = &self.pattern {
            let message = match std::str::from_utf8(value) {
                Ok(text) => pattern.check(text),
                Err(_) => Some(format!(
                    "must be valid UTF-8 to match the pattern {}",
                    pattern.source
                )),
            };
            if let Some(message) = message {
                out.push(fail("bytes.pattern", message));
            }
        }
    }
}

/// A `pattern` rule, compiled once.
#[derive(Debug)]
pub struct Pattern {
    pub source: String,
    regex: Result<Regex, String>,
}

impl Pattern {
    pub fn compile(source: String) -> Self {
        let regex = Regex::new(&ascii_classes(&source)).map_err(|error| {
            // A syntax error spans lines, pointing at the pattern; keep its last words.
            let error = error.to_string();
            let reason = error
                .lines()
                .rev()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or(&error);
            reason.to_owned()
        });
        Self { source, regex }
    }

    /// Whether the pattern is a valid regular expression (a broken one fails every value).
    pub fn compiles(&self) -> bool {
        self.regex.is_ok()
    }

    /// What is expected when `text` does not match (or when the pattern is broken).
    fn check(&self, text: &str) -> Option<String> {
        match &self.regex {
            Ok(regex) if regex.is_match(text) => None,
            Ok(_) => Some(format!("must match the pattern {}", self.source)),
            Err(reason) => Some(format!(
                "cannot be checked: the pattern {} in the proto is not a valid regular expression ({reason})",
                self.source
            )),
        }
    }
}

/// Rewrites RE2's Perl classes to their RE2 meaning: the `regex` crate makes `\d`, `\w`,
/// `\s` and `\b` Unicode-aware, RE2 keeps them ASCII.
fn ascii_classes(pattern: &str) -> String {
    let mut rewritten = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            rewritten.push(c);
            continue;
        }
        let Some(escaped) = chars.next() else {
            rewritten.push(c);
            break;
        };
        let replacement = match escaped {
            'd' => "[0-9]",
            'D' => "[^0-9]",
            'w' => "[0-9A-Za-z_]",
            'W' => "[^0-9A-Za-z_]",
            's' => r"[\t\n\x0C\r ]",
            'S' => r"[^\t\n\x0C\r ]",
            'b' => r"(?-u:\b)",
            'B' => r"(?-u:\B)",
            _ => {
                rewritten.push(c);
                rewritten.push(escaped);
                continue;
            }
        };
        rewritten.push_str(replacement);
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        let digits = Pattern::compile(r"^\d+$".into());
        assert_eq!(digits.check("123"), None);
        assert!(
            digits.check("١٢٣").is_some(),
            "Arabic-Indic digits are no \\d in RE2"
        );
        let word = Pattern::compile(r"^\w+\b".into());
        assert_eq!(word.check("ab_1 x"), None);
        assert!(word.check("é").is_some());
        let classes = Pattern::compile(r"^[\d\s]+\S$".into());
        assert_eq!(classes.check("1 2x"), None);
        assert!(
            classes.check("1\u{a0}2x").is_some(),
            "no-break space is no \\s in RE2"
        );
        let escaped = Pattern::compile(r"^\\d\.$".into());
        assert_eq!(escaped.check(r"\d."), None);
    }

    #[test]
    fn a_broken_pattern_says_why() {
        let broken = Pattern::compile("^[a-".into());
        let message = broken.check("a").unwrap();
        assert!(
            message.starts_with("cannot be checked: the pattern ^[a- in the proto is not a valid regular expression ("),
            "{message}"
        );
    }

    #[test]
    fn sizes_count_code_points_and_bytes() {
        let rules = StringRules {
            konst: None,
            chars: Sizes::new(
                CHARACTERS,
                (None, "len"),
                (Some(2), "min"),
                (Some(2), "max"),
            ),
            bytes: Sizes::new(BYTES, (None, "len"), (None, "min"), (Some(3), "max")),
            pattern: None,
            prefix: None,
            suffix: None,
            contains: None,
            not_contains: None,
            allowed: Vec::new(),
            refused: Vec::new(),
            format: None,
            ignore_empty: false,
        };
        let mut out = Vec::new();
        rules.check(&Value::String("éé".into()), &mut out);
        let rules_broken: Vec<_> = out.iter().map(|failure| failure.rule).collect();
        assert_eq!(rules_broken, ["max"], "two code points, four bytes");
        assert_eq!(out[0].message, "must be at most 3 bytes long");
    }
}
