//! The twelve number families, and the `lt`/`lte`/`gt`/`gte` bounds they share with
//! durations and timestamps.

use std::fmt::Display;

use prost_reflect::{DynamicMessage, Value};

use super::rule_fields::{flag, list, scalar};
use super::{Failure, render_list};

/// The rule names of one family, e.g. `int32.lt`.
#[derive(Debug)]
pub(crate) struct Names {
    pub konst: &'static str,
    pub lt: &'static str,
    pub lte: &'static str,
    pub gt: &'static str,
    pub gte: &'static str,
    pub one_of: &'static str,
    pub not_in: &'static str,
}

macro_rules! names {
    ($family:literal) => {
        Names {
            konst: concat!($family, ".const"),
            lt: concat!($family, ".lt"),
            lte: concat!($family, ".lte"),
            gt: concat!($family, ".gt"),
            gte: concat!($family, ".gte"),
            one_of: concat!($family, ".in"),
            not_in: concat!($family, ".not_in"),
        }
    };
}
pub(crate) use names;

/// How the bounds read for one domain: "greater than" for numbers, "after" for times.
#[derive(Debug)]
pub(crate) struct Words {
    pub gt: &'static str,
    pub gte: &'static str,
    pub lt: &'static str,
    pub lte: &'static str,
}

const NUMBER_WORDS: Words = Words {
    gt: "greater than",
    gte: "at least",
    lt: "less than",
    lte: "at most",
};

#[derive(Debug, Clone, Copy)]
pub enum Lower<T> {
    Gt(T),
    Gte(T),
}

#[derive(Debug, Clone, Copy)]
pub enum Upper<T> {
    Lt(T),
    Lte(T),
}

/// `lt`/`lte` and `gt`/`gte`, with PGV's exclusive ranges: when the upper bound is not
/// above the lower one, the value must lie outside of them.
#[derive(Debug)]
pub struct Bounds<T> {
    pub lower: Option<Lower<T>>,
    pub upper: Option<Upper<T>>,
}

impl<T: PartialOrd + Copy> Bounds<T> {
    /// As in PGV, `lt` wins over `lte` and `gt` over `gte` when both are set.
    pub fn new(lt: Option<T>, lte: Option<T>, gt: Option<T>, gte: Option<T>) -> Self {
        Self {
            lower: gt.map(Lower::Gt).or(gte.map(Lower::Gte)),
            upper: lt.map(Upper::Lt).or(lte.map(Upper::Lte)),
        }
    }

    /// The rule broken by `value` and what is expected, or `None` when `value` is allowed.
    /// Comparisons are written as "allowed when …", so NaN is never allowed.
    pub(crate) fn check(
        &self,
        value: T,
        names: &Names,
        words: &Words,
        show: impl Fn(&T) -> String,
    ) -> Option<(&'static str, String)> {
        let lower = self.lower.map(|lower| match lower {
            Lower::Gt(bound) => (value > bound, names.gt, words.gt, bound),
            Lower::Gte(bound) => (value >= bound, names.gte, words.gte, bound),
        });
        let upper = self.upper.map(|upper| match upper {
            Upper::Lt(bound) => (value < bound, names.lt, words.lt, bound),
            Upper::Lte(bound) => (value <= bound, names.lte, words.lte, bound),
        });
        match (lower, upper) {
            (None, None) => None,
            (Some((ok, rule, word, bound)), None) | (None, Some((ok, rule, word, bound))) => {
                (!ok).then(|| (rule, format!("must be {word} {}", show(&bound))))
            }
            (Some((low_ok, low_rule, low_word, low)), Some((up_ok, up_rule, up_word, up))) => {
                if up > low {
                    let broken = if !low_ok {
                        low_rule
                    } else if !up_ok {
                        up_rule
                    } else {
                        return None;
                    };
                    let expected = format!(
                        "must be {low_word} {} and {up_word} {}",
                        show(&low),
                        show(&up)
                    );
                    Some((broken, expected))
                } else if low_ok || up_ok {
                    None
                } else {
                    let expected = format!(
                        "must be {up_word} {} or {low_word} {}",
                        show(&up),
                        show(&low)
                    );
                    Some((up_rule, expected))
                }
            }
        }
    }
}

/// The rules of one number family, over its widest Rust type.
#[derive(Debug)]
pub struct Rules<T> {
    names: &'static Names,
    pub konst: Option<T>,
    pub bounds: Bounds<T>,
    pub allowed: Vec<T>,
    pub not_in: Vec<T>,
    pub ignore_empty: bool,
}

impl<T: PartialOrd + Copy + Display + Default> Rules<T> {
    fn compile(
        names: &'static Names,
        rules: &DynamicMessage,
        convert: impl Fn(&Value) -> Option<T> + Copy,
    ) -> Self {
        Self {
            names,
            konst: scalar(rules, "const", convert),
            bounds: Bounds::new(
                scalar(rules, "lt", convert),
                scalar(rules, "lte", convert),
                scalar(rules, "gt", convert),
                scalar(rules, "gte", convert),
            ),
            allowed: list(rules, "in", convert),
            not_in: list(rules, "not_in", convert),
            ignore_empty: flag(rules, "ignore_empty"),
        }
    }

    fn check(&self, value: T, out: &mut Vec<Failure>) {
        if self.ignore_empty && value == T::default() {
            return;
        }
        let show = |value: &T| value.to_string();
        let fail = |rule, message| Failure::new(rule, message).with_value(show(&value));
        if let Some(konst) = self.konst
            && value != konst
        {
            out.push(fail(self.names.konst, format!("must equal {konst}")));
        }
        if let Some((rule, message)) = self.bounds.check(value, self.names, &NUMBER_WORDS, show) {
            out.push(fail(rule, message));
        }
        if !self.allowed.is_empty() && !self.allowed.contains(&value) {
            let allowed = render_list(&self.allowed, show);
            out.push(fail(self.names.one_of, format!("must be one of {allowed}")));
        }
        if self.not_in.contains(&value) {
            let refused = render_list(&self.not_in, show);
            out.push(fail(
                self.names.not_in,
                format!("must not be one of {refused}"),
            ));
        }
    }
}

/// The rules of any number family.
#[derive(Debug)]
pub enum NumberRules {
    Signed(Rules<i64>),
    Unsigned(Rules<u64>),
    Float(Rules<f32>),
    Double(Rules<f64>),
}

static FLOAT: Names = names!("float");
static DOUBLE: Names = names!("double");
static INT32: Names = names!("int32");
static INT64: Names = names!("int64");
static UINT32: Names = names!("uint32");
static UINT64: Names = names!("uint64");
static SINT32: Names = names!("sint32");
static SINT64: Names = names!("sint64");
static FIXED32: Names = names!("fixed32");
static FIXED64: Names = names!("fixed64");
static SFIXED32: Names = names!("sfixed32");
static SFIXED64: Names = names!("sfixed64");

fn signed(value: &Value) -> Option<i64> {
    match value {
        Value::I32(value) => Some(i64::from(*value)),
        Value::I64(value) => Some(*value),
        _ => None,
    }
}

fn unsigned(value: &Value) -> Option<u64> {
    match value {
        Value::U32(value) => Some(u64::from(*value)),
        Value::U64(value) => Some(*value),
        _ => None,
    }
}

impl NumberRules {
    /// The rules of `family` (`int32`, `double`, …), `None` for a family that is no number.
    pub fn compile(family: &str, rules: &DynamicMessage) -> Option<Self> {
        let signed_family = |names| NumberRules::Signed(Rules::compile(names, rules, signed));
        let unsigned_family = |names| NumberRules::Unsigned(Rules::compile(names, rules, unsigned));
        Some(match family {
            "float" => NumberRules::Float(Rules::compile(&FLOAT, rules, Value::as_f32)),
            "double" => NumberRules::Double(Rules::compile(&DOUBLE, rules, Value::as_f64)),
            "int32" => signed_family(&INT32),
            "int64" => signed_family(&INT64),
            "sint32" => signed_family(&SINT32),
            "sint64" => signed_family(&SINT64),
            "sfixed32" => signed_family(&SFIXED32),
            "sfixed64" => signed_family(&SFIXED64),
            "uint32" => unsigned_family(&UINT32),
            "uint64" => unsigned_family(&UINT64),
            "fixed32" => unsigned_family(&FIXED32),
            "fixed64" => unsigned_family(&FIXED64),
            _ => return None,
        })
    }

    pub fn check(&self, value: &Value, out: &mut Vec<Failure>) {
        match self {
            NumberRules::Signed(rules) => signed(value).map(|value| rules.check(value, out)),
            NumberRules::Unsigned(rules) => unsigned(value).map(|value| rules.check(value, out)),
            NumberRules::Float(rules) => value.as_f32().map(|value| rules.check(value, out)),
            NumberRules::Double(rules) => value.as_f64().map(|value| rules.check(value, out)),
        };
    }
}
