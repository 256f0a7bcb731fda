//! Regular expressions for JSON Schema's `pattern`, which is ECMA-262.
//!
//! A `(validate.rules).string.pattern` is checked by harness with the `regex` crate, its
//! `\d`, `\w` and `\s` made ASCII as in RE2. A pattern is translated only from the part of
//! that syntax whose meaning can be written the same way in ECMA-262 (and in Python's `re`,
//! which common validators use): literals, `.`, bracketed classes of literals, ranges and
//! ASCII classes, the Perl classes as explicit ASCII ranges, groups, alternation,
//! repetition, `^` and `$`. Anything else (Unicode classes, flags, word boundaries, class
//! set operations) makes the pattern untranslatable, and it is left out of the schema.

use regex_syntax::ast::{
    self, Ast, ClassAsciiKind, ClassPerl, ClassPerlKind, ClassSet, ClassSetItem, GroupKind,
    RepetitionKind, RepetitionRange,
};

/// `pattern` in ECMA-262 syntax with the same meaning, or `None` when it cannot be said.
pub fn translate(pattern: &str) -> Option<String> {
    let ast = ast::parse::Parser::new().parse(pattern).ok()?;
    let mut out = String::with_capacity(pattern.len() + 8);
    write_ast(&ast, &mut out)?;
    Some(out)
}

/// `text` as a pattern that matches it literally.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_char(c, false, &mut out);
    }
    out
}

fn write_ast(ast: &Ast, out: &mut String) -> Option<()> {
    match ast {
        Ast::Empty(_) => {}
        Ast::Flags(_) | Ast::ClassUnicode(_) => return None,
        Ast::Literal(literal) => push_char(literal.c, false, out),
        // The `regex` crate's `.` (no `s` flag) is any character but a line feed.
        Ast::Dot(_) => out.push_str(r"[^\n]"),
        Ast::Assertion(assertion) => out.push_str(match assertion.kind {
            // Without the `m` flag, `^` and `$` are the start and end of the text.
            ast::AssertionKind::StartLine | ast::AssertionKind::StartText => "^",
            ast::AssertionKind::EndLine | ast::AssertionKind::EndText => "$",
            _ => return None,
        }),
        Ast::ClassPerl(perl) => {
            out.push('[');
            if perl.negated {
                out.push('^');
            }
            out.push_str(perl_ranges(perl));
            out.push(']');
        }
        Ast::ClassBracketed(class) => {
            out.push('[');
            if class.negated {
                out.push('^');
            }
            match &class.kind {
                ClassSet::Item(item) => write_class_item(item, out)?,
                ClassSet::BinaryOp(_) => return None,
            }
            out.push(']');
        }
        Ast::Repetition(repetition) => {
            write_group(&repetition.ast, out)?;
            match &repetition.op.kind {
                RepetitionKind::ZeroOrOne => out.push('?'),
                RepetitionKind::ZeroOrMore => out.push('*'),
                RepetitionKind::OneOrMore => out.push('+'),
                RepetitionKind::Range(RepetitionRange::Exactly(n)) => {
                    out.push_str(&format!("{{{n}}}"))
                }
                RepetitionKind::Range(RepetitionRange::AtLeast(n)) => {
                    out.push_str(&format!("{{{n},}}"))
                }
                RepetitionKind::Range(RepetitionRange::Bounded(m, n)) => {
                    out.push_str(&format!("{{{m},{n}}}"))
                }
            }
            if !repetition.greedy {
                out.push('?');
            }
        }
        Ast::Group(group) => {
            if let GroupKind::NonCapturing(flags) = &group.kind
                && !flags.items.is_empty()
            {
                return None;
            }
            write_group(&group.ast, out)?;
        }
        Ast::Alternation(alternation) => {
            for (i, branch) in alternation.asts.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                write_ast(branch, out)?;
            }
        }
        Ast::Concat(concat) => {
            for part in &concat.asts {
                write_ast(part, out)?;
            }
        }
    }
    Some(())
}

/// `ast` as one atom: in a non-capturing group unless it is one already.
fn write_group(ast: &Ast, out: &mut String) -> Option<()> {
    let atom = matches!(
        ast,
        Ast::Literal(_) | Ast::Dot(_) | Ast::ClassPerl(_) | Ast::ClassBracketed(_) | Ast::Group(_)
    );
    if !atom {
        out.push_str("(?:");
    }
    write_ast(ast, out)?;
    if !atom {
        out.push(')');
    }
    Some(())
}

fn write_class_item(item: &ClassSetItem, out: &mut String) -> Option<()> {
    match item {
        ClassSetItem::Empty(_) => {}
        ClassSetItem::Literal(literal) => push_char(literal.c, true, out),
        ClassSetItem::Range(range) => {
            push_char(range.start.c, true, out);
            out.push('-');
            push_char(range.end.c, true, out);
        }
        ClassSetItem::Ascii(ascii) if !ascii.negated => out.push_str(ascii_ranges(&ascii.kind)),
        ClassSetItem::Perl(perl) if !perl.negated => out.push_str(perl_ranges(perl)),
        ClassSetItem::Union(union) => {
            for item in &union.items {
                write_class_item(item, out)?;
            }
        }
        ClassSetItem::Ascii(_)
        | ClassSetItem::Perl(_)
        | ClassSetItem::Unicode(_)
        | ClassSetItem::Bracketed(_) => return None,
    }
    Some(())
}

/// The ASCII meaning harness gives the Perl classes (as RE2 does).
fn perl_ranges(perl: &ClassPerl) -> &'static str {
    match perl.kind {
        ClassPerlKind::Digit => "0-9",
        ClassPerlKind::Word => "0-9A-Za-z_",
        ClassPerlKind::Space => r"\t\n\f\r ",
    }
}

fn ascii_ranges(kind: &ClassAsciiKind) -> &'static str {
    match kind {
        ClassAsciiKind::Alnum => "0-9A-Za-z",
        ClassAsciiKind::Alpha => "A-Za-z",
        ClassAsciiKind::Ascii => r"\u0000-\u007F",
        ClassAsciiKind::Blank => r"\t ",
        ClassAsciiKind::Cntrl => r"\u0000-\u001F\u007F",
        ClassAsciiKind::Digit => "0-9",
        ClassAsciiKind::Graph => "!-~",
        ClassAsciiKind::Lower => "a-z",
        ClassAsciiKind::Print => " -~",
        ClassAsciiKind::Punct => r"!-/:-@\[-`\{-~",
        ClassAsciiKind::Space => r"\t\n\u000B\f\r ",
        ClassAsciiKind::Upper => "A-Z",
        ClassAsciiKind::Word => "0-9A-Za-z_",
        ClassAsciiKind::Xdigit => "0-9A-Fa-f",
    }
}

/// Writes `c` so that it stands for itself, inside a class or outside one. Only syntax
/// characters (and `-` in a class) are escaped: ECMA-262's `u` mode refuses other escapes.
fn push_char(c: char, in_class: bool, out: &mut String) {
    match c {
        '\\' | '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => {
            out.push('\\');
            out.push(c);
        }
        '-' if in_class => out.push_str(r"\-"),
        '\n' => out.push_str(r"\n"),
        '\r' => out.push_str(r"\r"),
        '\t' => out.push_str(r"\t"),
        c if c.is_control() && (c as u32) <= 0xFFFF => {
            out.push_str(&format!(r"\u{:04X}", c as u32))
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_what_means_the_same() {
        assert_eq!(translate(r"^\d+$").as_deref(), Some("^[0-9]+$"));
        assert_eq!(
            translate(r"^[a-z][-a-z0-9]*\.svc$").as_deref(),
            Some(r"^[a-z][\-a-z0-9]*\.svc$")
        );
        assert_eq!(
            translate(r"^(ab|c){2,3}?x.$").as_deref(),
            Some(r"^(?:ab|c){2,3}?x[^\n]$")
        );
        assert_eq!(
            translate(r"\s\w").as_deref(),
            Some(r"[\t\n\f\r ][0-9A-Za-z_]")
        );
        assert_eq!(translate(r"[[:upper:]\d]").as_deref(), Some("[A-Z0-9]"));
        assert_eq!(translate(r"(?P<n>a)b").as_deref(), Some("ab"));
    }

    #[test]
    fn refuses_what_differs() {
        for pattern in [
            r"(?i)abc",
            r"\pL",
            r"\bword",
            r"[\w--_]",
            r"[^\D]",
            "a(",
            r"[[:^alpha:]]",
        ] {
            assert_eq!(translate(pattern), None, "{pattern}");
        }
    }

    #[test]
    fn literals_escape_syntax_only() {
        assert_eq!(literal("a.b-c/d{1}"), r"a\.b-c/d\{1\}");
        assert_eq!(literal("é\u{1}"), r"é\u0001");
    }
}
